// The datamon purge on dm-jobs, the sandbox context whose purge steps run as Kubernetes Jobs (its inventory entry's
// `jobs:`: the stand-in's fg-staging, whose Job pods run the bastion's datamon2 as local processes). The count's
// numbers are the seed's (summary.json) and each step ran as a Job of its own (the stand-in's state). A console killed
// during build-index, or during delete-unused, leaves its Job running, which `opsdeck recover` re-attaches to and
// follows to its end instead of starting it again (datamon2's invocation log); the delete is planned from the dry-run
// Job's summary and deletes exactly the seed's unreferenced old blobs. Ctrl-C deletes the Job; a dropped SSH
// connection does not touch it; a volume with too little space is refused before datamon2 starts. dm-jobs has its
// own buckets: nothing here touches another context's store.
#include "Sandbox.h"
#include "kube/KubeJob.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

class TestDatamonJobMode : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void dryRunRunsEachStepAsAJob();
    void killedConsoleReattachesToTheJob();
    void cancelDeletesTheJob();
    void droppedSshDuringAJobIsFollowedThrough();
    void droppedApiConnectionDuringAJobIsFollowedThrough();
    void attachFollowsEveryStepOfALiveRun();
    // Last: it purges dm-jobs, whose counts the others compare with the seed's.
    void purgeKilledDuringDeleteReattaches();
    void tooLittleSpaceOnTheJobsVolume();

private:
    QStringList run() const;
    CliRun cli(const QStringList& arguments) const;
    QJsonObject readJson(const QString& path) const;
    // The Jobs in the stand-in's fg-staging, by name.
    QJsonObject standinJobs() const;
    // The names of the stand-in's Jobs for `step` (of any run) that run now.
    QStringList activeJobs(const QString& step) const;
    // The stand-in's Jobs of run `runId` by their step label.
    QHash<QString, QJsonObject> jobsOf(const QString& runId) const;
    // The ids of the journal's runs without an outcome (`opsdeck journal unfinished`).
    QStringList unfinishedRuns() const;
    // The one run without an outcome that is not in `before`; empty if there is none, or more than one.
    QString newUnfinishedRun(const QStringList& before) const;
    // datamon2's invocations of `purge <step>` for dm-jobs so far; `realDeletes`: only those without --dry-run.
    int purgeInvocations(const QString& step, bool realDeletes = false) const;
    void setSlow(int msPerKey) const;
    void expectTheSeedsCounts(const QJsonObject& report) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QJsonObject m_summary;
};

void TestDatamonJobMode::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    m_summary = readJson(m_sandbox.dir() + u"/datamon/summary.json"_s);
    QVERIFY(m_summary.value(u"blobBuckets"_s).toObject().contains(u"dm-jobs-blob"_s));
}

void TestDatamonJobMode::init()
{
    setSlow(0);
    m_sandbox.kubernetesStandin(u"/_standin/control"_s, { { u"apiDown"_s, false } }); // a failed test may leave it
}

void TestDatamonJobMode::cleanupTestCase()
{
    setSlow(0);
}

QStringList TestDatamonJobMode::run() const
{
    return { u"run"_s, u"datamon-purge"_s, u"--context"_s, u"dm-jobs"_s, u"--dry-run-only"_s, u"--confirm"_s,
        u"dm-jobs"_s };
}

CliRun TestDatamonJobMode::cli(const QStringList& arguments) const
{
    return runCli(arguments, m_sandbox.environment(), 180000);
}

QJsonObject TestDatamonJobMode::readJson(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QJsonObject TestDatamonJobMode::standinJobs() const
{
    return m_sandbox.kubernetesStandin(u"/_standin/state"_s)
        .value(u"namespaces"_s)
        .toObject()
        .value(u"fg-staging"_s)
        .toObject()
        .value(u"jobs"_s)
        .toObject();
}

QStringList TestDatamonJobMode::activeJobs(const QString& step) const
{
    QStringList active;
    const QJsonObject jobs = standinJobs();
    for (auto it = jobs.begin(); it != jobs.end(); ++it) {
        const QJsonObject job = it.value().toObject();
        if (job.value(u"metadata"_s).toObject().value(u"labels"_s).toObject().value(u"opsdeck.io/step"_s) == step
            && job.value(u"status"_s).toObject().value(u"active"_s).toInt() > 0)
            active << it.key();
    }
    return active;
}

QHash<QString, QJsonObject> TestDatamonJobMode::jobsOf(const QString& runId) const
{
    QHash<QString, QJsonObject> byStep;
    for (const QJsonValue& value : standinJobs()) {
        const QJsonObject labels = value.toObject().value(u"metadata"_s).toObject().value(u"labels"_s).toObject();
        if (labels.value(u"opsdeck.io/run"_s).toString() == runId)
            byStep.insert(labels.value(u"opsdeck.io/step"_s).toString(), value.toObject());
    }
    return byStep;
}

QStringList TestDatamonJobMode::unfinishedRuns() const
{
    QStringList ids;
    const CliRun unfinished = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    for (const QJsonValue& run : QJsonDocument::fromJson(unfinished.out).array())
        ids << run.toObject().value(u"id"_s).toString();
    return ids;
}

QString TestDatamonJobMode::newUnfinishedRun(const QStringList& before) const
{
    QStringList added = unfinishedRuns();
    for (const QString& id : before)
        added.removeAll(id);
    return added.size() == 1 ? added.first() : QString();
}

int TestDatamonJobMode::purgeInvocations(const QString& step, bool realDeletes) const
{
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    if (!log.open(QIODevice::ReadOnly))
        return -1;
    int count = 0;
    for (const QByteArray& line : log.readAll().split('\n')) {
        const QJsonArray argv = QJsonDocument::fromJson(line).object().value(u"argv"_s).toArray();
        if (argv.size() > 2 && argv.at(1).toString() == u"purge"_s && argv.at(2).toString() == step
            && argv.contains(u"dm-jobs"_s) && !(realDeletes && argv.contains(u"--dry-run"_s)))
            ++count;
    }
    return count;
}

void TestDatamonJobMode::setSlow(int msPerKey) const
{
    const QString path = m_sandbox.dir() + u"/datamon/switches/delay-per-key-ms"_s;
    if (msPerKey == 0) {
        QFile::remove(path);
        return;
    }
    QFile slow(path);
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write(QByteArray::number(msPerKey) + '\n');
}

void TestDatamonJobMode::expectTheSeedsCounts(const QJsonObject& report) const
{
    const QJsonObject after = report.value(u"after"_s).toObject();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-jobs-blob"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(after.value(u"bytesToDelete"_s).toInteger(), bucket.value(u"unreferencedOldBytes"_s).toInteger());
    QCOMPARE(after.value(u"keysInUse"_s).toInteger(), bucket.value(u"referencedKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysNewerThanIndex"_s).toInteger(), bucket.value(u"newerKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysScanned"_s).toInteger(), bucket.value(u"keys"_s).toInteger());
}

void TestDatamonJobMode::dryRunRunsEachStepAsAJob()
{
    const qint64 blobsBefore = m_sandbox.gcsObjectCount(u"dm-jobs-blob"_s);
    const int buildsBefore = purgeInvocations(u"build-reverse-lookup"_s);
    const QString reportFile = m_temp.filePath(u"dry.json"_s);
    const CliRun dry = cli(run() << u"--report"_s << reportFile);
    QVERIFY2(dry.exitCode == 0, (dry.out + dry.err).constData());
    const QJsonObject report = readJson(reportFile);
    expectTheSeedsCounts(report);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-blob"_s), blobsBefore);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
    QCOMPARE(purgeInvocations(u"build-reverse-lookup"_s), buildsBefore + 1);

    // Each datamon2 step was a Job of its own, labelled with the run and the step, run once, ended Complete; its
    // command is datamon2's argv under the wrapper, with the context and config spelt out.
    const QString runId = report.value(u"id"_s).toString();
    const QHash<QString, QJsonObject> jobs = jobsOf(runId);
    QVERIFY2(jobs.contains(u"build-index"_s) && jobs.contains(u"dry-run"_s),
        qPrintable(QStringList(jobs.keys()).join(u", "_s)));
    for (const QString& step : { u"build-index"_s, u"dry-run"_s }) {
        const QJsonObject job = jobs.value(step);
        QCOMPARE(job.value(u"spec"_s).toObject().value(u"backoffLimit"_s).toInt(-1), 0);
        const QJsonObject status = job.value(u"status"_s).toObject();
        QCOMPARE(status.value(u"succeeded"_s).toInt(), 1);
        QCOMPARE(status.value(u"failed"_s).toInt(), 0);
        const QStringList argv = opsdeck::KubeJob::commandOf(job);
        QCOMPARE(argv.mid(0, 3),
            (QStringList { u"datamon2"_s, u"purge"_s,
                step == u"build-index"_s ? u"build-reverse-lookup"_s : u"delete-unused"_s }));
        QVERIFY(argv.contains(u"--context"_s) && argv.contains(u"dm-jobs"_s) && argv.contains(u"--metrics=false"_s));
    }
}

// The console is SIGKILLed while build-reverse-lookup runs (slowed) in its Job: the Job runs on in the cluster.
// `opsdeck recover` re-attaches to it (the Job's pod log from its start), follows it to its end, runs the dry run the
// dead console never started, and reports the seed's counts; build-reverse-lookup ran once.
void TestDatamonJobMode::killedConsoleReattachesToTheJob()
{
    // A second a key: the build takes some ten seconds (the seed gives dm-jobs a few bundles).
    setSlow(1000);
    const int buildsBefore = purgeInvocations(u"build-reverse-lookup"_s);
    const QStringList unfinishedBefore = unfinishedRuns();
    BackgroundCli console(run(), m_sandbox.environment());
    // Its build-index Job runs and holds datamon's lock (a stale index's drop, a Job of its own, may come first).
    QVERIFY2(console.runsUntil([&] {
        return activeJobs(u"build-index"_s).size() == 1
            && m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s) == 1;
    }),
        console.output().constData());
    console.kill();

    const QString runId = newUnfinishedRun(unfinishedBefore);
    QVERIFY(!runId.isEmpty());
    const QJsonObject running = jobsOf(runId).value(u"build-index"_s);
    QVERIFY2(!running.isEmpty(), qPrintable(runId));
    QCOMPARE(running.value(u"status"_s).toObject().value(u"active"_s).toInt(), 1);
    setSlow(0);

    const QString reportFile = m_temp.filePath(u"recovered.json"_s);
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-jobs"_s, u"--report"_s, reportFile });
    QVERIFY2(recovered.exitCode == 0, (recovered.out + recovered.err).constData());
    expectTheSeedsCounts(readJson(reportFile));
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
    // Re-attached: the build ran once, in the Job the dead console created; the dry run got a Job of its own.
    QCOMPARE(purgeInvocations(u"build-reverse-lookup"_s), buildsBefore + 1);
    const QHash<QString, QJsonObject> jobs = jobsOf(runId);
    QCOMPARE(jobs.value(u"build-index"_s).value(u"metadata"_s).toObject().value(u"uid"_s),
        running.value(u"metadata"_s).toObject().value(u"uid"_s));
    QCOMPARE(jobs.value(u"build-index"_s).value(u"status"_s).toObject().value(u"succeeded"_s).toInt(), 1);
    QVERIFY(jobs.contains(u"dry-run"_s));
    QVERIFY(!unfinishedRuns().contains(runId));
}

// Ctrl-C during build-reverse-lookup: the run deletes the step's Job (its pod gets SIGTERM, and datamon, which has
// no signal handling, leaves its lock), waits until the pod is gone, and removes the lock the killed step left.
void TestDatamonJobMode::cancelDeletesTheJob()
{
    setSlow(1000);
    BackgroundCli console(run(), m_sandbox.environment());
    QStringList building;
    QVERIFY2(console.runsUntil([&] {
        building = activeJobs(u"build-index"_s);
        return building.size() == 1 && m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s) == 1;
    }),
        console.output().constData());
    QVERIFY(console.interrupt());
    const int exitCode = console.wait(120000);
    setSlow(0);
    QCOMPARE(exitCode, 1);
    const QByteArray out = console.out();
    QVERIFY2(out.contains("cancelled: datamon2 was stopped"), console.output().constData());
    QVERIFY2(out.contains("datamon left its lock behind; this run's job had ended, so the lock was removed"),
        console.output().constData());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
    // The Job and its pod are gone, read from the stand-in.
    QVERIFY(!standinJobs().contains(building.first()));
    const QJsonObject pods = m_sandbox.kubernetesStandin(u"/_standin/state"_s)
                                 .value(u"namespaces"_s)
                                 .toObject()
                                 .value(u"fg-staging"_s)
                                 .toObject()
                                 .value(u"pods"_s)
                                 .toObject();
    for (auto it = pods.begin(); it != pods.end(); ++it)
        QVERIFY2(!it.key().startsWith(building.first()), qPrintable(it.key()));
}

// The purge's delete half in Job mode: planned from the count's dry-run Job (its summary read back from the pod's
// log), the console SIGKILLed while delete-unused runs (slowed) in its Job. `opsdeck recover` re-attaches to that Job
// and never starts a second delete-unused, then verifies and drops the index: exactly the seed's unreferenced blobs
// older than the index are gone (the GCS stand-in's store before and after).
void TestDatamonJobMode::purgeKilledDuringDeleteReattaches()
{
    const CliRun count = cli(run());
    QVERIFY2(count.exitCode == 0, (count.out + count.err).constData());
    const QSet<QString> before = m_sandbox.gcsObjectNames(u"dm-jobs-blob"_s);
    const QSet<QString> unused = m_sandbox.datamonUnreferencedOld(u"dm-jobs-blob"_s);
    QVERIFY(!unused.isEmpty());
    QVERIFY(before.contains(unused));
    const int deletesBefore = purgeInvocations(u"delete-unused"_s, true);
    setSlow(100); // some 200 keys: twenty seconds
    const QStringList unfinishedBefore = unfinishedRuns();
    BackgroundCli console({ u"run"_s, u"datamon-purge"_s, u"--context"_s, u"dm-jobs"_s, u"--confirm"_s, u"dm-jobs"_s },
        m_sandbox.environment());
    QVERIFY2(console.runsUntil([&] {
        return activeJobs(u"delete-unused"_s).size() == 1
            && m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s) == 1;
    }),
        console.output().constData());
    console.kill();
    const QString runId = newUnfinishedRun(unfinishedBefore);
    QVERIFY(!runId.isEmpty());
    const QJsonObject deleting = jobsOf(runId).value(u"delete-unused"_s);
    QCOMPARE(deleting.value(u"status"_s).toObject().value(u"active"_s).toInt(), 1);
    setSlow(0);

    const QString reportFile = m_temp.filePath(u"purge-recovered.json"_s);
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-jobs"_s, u"--report"_s, reportFile });
    QVERIFY2(recovered.exitCode == 0, (recovered.out + recovered.err).constData());
    const QJsonObject report = readJson(reportFile);
    QCOMPARE(report.value(u"deleted"_s).toObject().value(u"keys"_s).toInteger(), qint64(unused.size()));
    QCOMPARE(before - m_sandbox.gcsObjectNames(u"dm-jobs-blob"_s), unused);
    QCOMPARE(purgeInvocations(u"delete-unused"_s, true), deletesBefore + 1);
    const QHash<QString, QJsonObject> jobs = jobsOf(runId);
    QCOMPARE(jobs.value(u"delete-unused"_s).value(u"metadata"_s).toObject().value(u"uid"_s),
        deleting.value(u"metadata"_s).toObject().value(u"uid"_s));
    QVERIFY(jobs.contains(u"verify"_s));
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"reverse-index/"_s), 0);
    QVERIFY(!unfinishedRuns().contains(runId));
}

// The Jobs' volume cannot be read from the console: each Job's wrapper checks the context's minFreeGiB there before
// datamon2 starts. With more asked for than any disk has, the first step's Job refuses, datamon2 never runs (its
// invocation log), no lock is taken, and the run says what to do.
void TestDatamonJobMode::tooLittleSpaceOnTheJobsVolume()
{
    const QString inventory = m_temp.filePath(u"space.yaml"_s);
    QVERIFY(m_sandbox.writeInventoryWith(inventory, u"dm-jobs"_s, u"minFreeGiB: 100000"_s));
    const int buildsBefore = purgeInvocations(u"build-reverse-lookup"_s);
    const int dropsBefore = purgeInvocations(u"delete-reverse-lookup"_s);
    const CliRun refused = cli(run() << u"--inventory"_s << inventory);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.out.contains("did not start datamon2: ") && refused.out.contains("KiB needed")
            && refused.out.contains("Give the Jobs' volume"),
        (refused.out + refused.err).constData());
    QCOMPARE(purgeInvocations(u"build-reverse-lookup"_s), buildsBefore);
    QCOMPARE(purgeInvocations(u"delete-reverse-lookup"_s), dropsBefore);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
}

// In Job mode the console reaches the bastion over SSH only for gcloud's reads (the lock, the index, the bundles): the
// bastion's sshd killed with its sessions while build-reverse-lookup runs in its Job does not touch the Job, and the
// run reconnects once the host is back and finishes with the seed's counts.
void TestDatamonJobMode::droppedSshDuringAJobIsFollowedThrough()
{
    setSlow(300);
    const QString reportFile = m_temp.filePath(u"dropped-ssh.json"_s);
    BackgroundCli console(run() << u"--report"_s << reportFile, m_sandbox.environment());
    QVERIFY2(console.runsUntil([&] { return activeJobs(u"build-index"_s).size() == 1; }), console.output().constData());
    QCOMPARE(m_sandbox.script(u"kill-host"_s, { u"bastion"_s }), 0);
    QTest::qWait(2000);
    setSlow(0);
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"bastion"_s }), 0);
    QVERIFY2(console.wait(300000) == 0, console.output().constData());
    expectTheSeedsCounts(readJson(reportFile));
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
}

// The console follows a Job through the Kubernetes API. The API resets every connection for a while (a VPN, the control
// plane's load balancer): the Job runs on in the cluster, the console's reads retry, and the run finishes.
void TestDatamonJobMode::droppedApiConnectionDuringAJobIsFollowedThrough()
{
    setSlow(300);
    const QString reportFile = m_temp.filePath(u"dropped-api.json"_s);
    BackgroundCli console(run() << u"--report"_s << reportFile, m_sandbox.environment());
    QVERIFY2(console.runsUntil([&] { return activeJobs(u"build-index"_s).size() == 1; }), console.output().constData());
    const qsizetype from = m_sandbox.kubernetesRequests().size();
    QVERIFY(
        m_sandbox.kubernetesStandin(u"/_standin/control"_s, { { u"apiDown"_s, true } }).value(u"apiDown"_s).toBool());
    QTest::qWait(4000);
    setSlow(0);
    QVERIFY(
        !m_sandbox.kubernetesStandin(u"/_standin/control"_s, { { u"apiDown"_s, false } }).value(u"apiDown"_s).toBool());
    QVERIFY2(console.wait(300000) == 0, console.output().constData());
    const QList<QJsonObject> requests = m_sandbox.kubernetesRequests(from);
    const auto reset = std::count_if(requests.cbegin(), requests.cend(),
        [](const QJsonObject& request) { return request.value(u"status"_s).toInt() == 0; });
    QVERIFY2(reset > 0, "the console sent no request while the API was down");
    expectTheSeedsCounts(readJson(reportFile));
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-jobs-meta"_s, u"purge.lock"_s), 0);
}

// `opsdeck datamon attach` beside a live console: it finds the run's Jobs through the API, follows build-index to its
// end, waits for the console to start the dry run, follows that too, and stops once the run has its outcome.
void TestDatamonJobMode::attachFollowsEveryStepOfALiveRun()
{
    setSlow(100);
    BackgroundCli console(run(), m_sandbox.environment());
    QString runId;
    QVERIFY2(console.runsUntil([&] {
        const QStringList active = activeJobs(u"build-index"_s);
        if (active.size() == 1)
            runId = standinJobs()
                        .value(active.first())
                        .toObject()
                        .value(u"metadata"_s)
                        .toObject()
                        .value(u"labels"_s)
                        .toObject()
                        .value(u"opsdeck.io/run"_s)
                        .toString();
        return !runId.isEmpty();
    }),
        console.output().constData());
    const CliRun attached = cli({ u"datamon"_s, u"attach"_s, runId, u"--context"_s, u"dm-jobs"_s });
    setSlow(0);
    QVERIFY2(attached.exitCode == 0, (attached.out + attached.err).constData());
    QVERIFY2(attached.err.contains("following build-index") && attached.err.contains("following dry-run"),
        attached.err.constData());
    for (const QByteArray& step : { QByteArray("build-index"), QByteArray("dry-run") }) {
        const qsizetype row = attached.out.indexOf("\n" + step + ' ');
        QVERIFY2(row >= 0, attached.out.constData());
        QVERIFY2(attached.out.mid(row, attached.out.indexOf('\n', row + 1) - row).contains("exit 0"),
            attached.out.constData());
    }
    QCOMPARE(console.wait(120000), 0);
}

QTEST_GUILESS_MAIN(TestDatamonJobMode)
#include "tst_datamonjobmode.moc"
