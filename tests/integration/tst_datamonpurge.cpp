// `opsdeck plan|run datamon-purge`: with --dry-run-only the index built and datamon's dry run counted, then without
// it the unused blobs deleted on those counts, as an admin runs it, against the sandbox's datamon2 and GCS stand-ins.
// dm-prod has a blob bucket of its own (the counts are the seed's: summary.json); dm-dev and dm-shared share one. The
// GCS stand-in's SQLite file is read here directly.
#include "Sandbox.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

class TestDatamonPurge : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void dryRunCountsExactlyTheUnusedBlobs();
    void secondDryRunDropsTheStaleIndexFirst();
    void heldLockRefusesAndForceOverridesIt();
    void aSharingContextsLockRefuses();
    void killedDatamonLeavesNoLockBehind();
    void killedConsoleReattachesAndFinishes();
    void droppedConnectionIsFollowedThrough();
    void badInputRunsNothing_data();
    void badInputRunsNothing();
    void tooLittleSpaceRunsNothing();
    void purgeDeletesExactlyTheUnusedOldBlobs();
    void deleteRefusesWithoutAnIndex();
    void silentDeleteFailuresAreCaughtByTheVerification();
    void killedConsoleDuringDeleteReattachesAndFinishes();
    void droppedConnectionDuringDeleteIsFollowedThrough();
    void purgesOfASharedBlobBucketAreSerialised();
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments, const QString& inventory = {}) const;
    QStringList run(const QString& context) const;
    QJsonObject readJson(const QString& path) const;
    qsizetype invocations() const;
    // gcloud storage on the bastion, as root.
    int gcloud(const QStringList& arguments, QByteArray* out = nullptr) const;
    void putLock(const QString& bucket, const QString& lockedAt) const;
    QString switchFile(const QString& name) const { return m_sandbox.dir() + u"/datamon/switches/"_s + name; }
    void slowDatamon(int msPerKey) const;
    // Puts back the dm-prod blobs a purge deleted, from the copy initTestCase made (new updated times: older than
    // any index built afterwards, so a purge deletes them again).
    void restoreProdBlobs() const;
    // The purge steps datamon2 ran since log line `from`: "delete-unused --dry-run", "build-reverse-lookup", ...
    QStringList purgeInvocations(qsizetype from) const;
    QString unfinishedRun() const;
    // A datamon2 of dm-prod whose command line has `words` runs (the sandbox's hosts share this machine).
    bool datamonRunning(const QString& words) const;
    // The pgrep/pkill pattern of such a datamon2 of this sandbox.
    QString datamonPattern(const QString& words) const;
    void prepareProd() const;
    QStringList deleteRun() const
    {
        return { u"run"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--confirm"_s, u"dm-prod"_s };
    }

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QJsonObject m_summary;
    QString m_prodBlobs; // a copy of dm-prod-blob as seeded
};

void TestDatamonPurge::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    m_summary = readJson(m_sandbox.dir() + u"/datamon/summary.json"_s);
    QVERIFY(!m_summary.isEmpty());
    m_prodBlobs = m_temp.filePath(u"dm-prod-blob"_s);
    QVERIFY(QDir().mkpath(m_prodBlobs));
    QCOMPARE(gcloud({ u"cp"_s, u"gs://dm-prod-blob/*"_s, m_prodBlobs + u'/' }), 0);
    QCOMPARE(QDir(m_prodBlobs).count() - 2, uint(m_sandbox.gcsObjectCount(u"dm-prod-blob"_s)));
}

void TestDatamonPurge::init()
{
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
}

void TestDatamonPurge::cleanupTestCase()
{
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
    m_sandbox.gcsStandin(u"/_standin/faults"_s, QJsonObject { { u"rules"_s, QJsonArray() } });
    restoreProdBlobs();
    // The indexes this test built go, so that the sandbox is as `up` made it for the tests after.
    for (const QString& bucket : { u"dm-prod-meta"_s, u"dm-dev-meta"_s }) {
        if (m_sandbox.gcsObjectCount(bucket, u"reverse-index/"_s) > 0)
            gcloud({ u"rm"_s, u"gs://%1/reverse-index/**"_s.arg(bucket) });
    }
}

QJsonObject TestDatamonPurge::readJson(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

CliRun TestDatamonPurge::cli(const QStringList& arguments, const QString& inventory) const
{
    QStringList all = arguments;
    if (!inventory.isEmpty())
        all << u"--inventory"_s << inventory;
    return runCli(all, m_sandbox.environment(), 180000);
}

QStringList TestDatamonPurge::run(const QString& context) const
{
    return { u"run"_s, u"datamon-purge"_s, u"--context"_s, context, u"--dry-run-only"_s, u"--confirm"_s, context };
}

qsizetype TestDatamonPurge::invocations() const
{
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    if (!log.open(QIODevice::ReadOnly))
        return -1;
    return log.readAll().count('\n');
}

int TestDatamonPurge::gcloud(const QStringList& arguments, QByteArray* out) const
{
    const QJsonObject bastion = m_sandbox.host(u"bastion"_s);
    QProcess ssh;
    ssh.start(u"ssh"_s,
        QStringList { u"-i"_s, m_sandbox.dir() + u"/keys/id_ed25519"_s, u"-o"_s,
            u"UserKnownHostsFile="_s + m_sandbox.dir() + u"/known_hosts"_s, u"-o"_s, u"BatchMode=yes"_s, u"-p"_s,
            QString::number(bastion.value(u"port"_s).toInt()), u"root@"_s + bastion.value(u"address"_s).toString(),
            u"gcloud"_s, u"storage"_s }
            + arguments);
    if (!ssh.waitForFinished(120000))
        return -1;
    if (out)
        *out = ssh.readAllStandardOutput();
    return ssh.exitCode();
}

void TestDatamonPurge::putLock(const QString& bucket, const QString& lockedAt) const
{
    const QJsonObject bastion = m_sandbox.host(u"bastion"_s);
    QProcess ssh;
    ssh.start(u"ssh"_s,
        { u"-i"_s, m_sandbox.dir() + u"/keys/id_ed25519"_s, u"-o"_s,
            u"UserKnownHostsFile="_s + m_sandbox.dir() + u"/known_hosts"_s, u"-o"_s, u"BatchMode=yes"_s, u"-p"_s,
            QString::number(bastion.value(u"port"_s).toInt()), u"root@"_s + bastion.value(u"address"_s).toString(),
            u"gcloud storage cp - gs://%1/purge.lock"_s.arg(bucket) });
    ssh.waitForStarted();
    ssh.write(u"locked_at: \"%1\"\n"_s.arg(lockedAt).toUtf8());
    ssh.closeWriteChannel();
    QVERIFY(ssh.waitForFinished(120000));
    QCOMPARE(ssh.exitCode(), 0);
}

void TestDatamonPurge::dryRunCountsExactlyTheUnusedBlobs()
{
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    const qint64 blobsBefore = m_sandbox.gcsObjectCount(u"dm-prod-blob"_s);
    const QString reportFile = m_temp.filePath(u"dry.json"_s);
    const CliRun dry = cli(run(u"dm-prod"_s) << u"--report"_s << reportFile);
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(after.value(u"bytesToDelete"_s).toInteger(), bucket.value(u"unreferencedOldBytes"_s).toInteger());
    QCOMPARE(after.value(u"keysInUse"_s).toInteger(), bucket.value(u"referencedKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysNewerThanIndex"_s).toInteger(), bucket.value(u"newerKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysScanned"_s).toInteger(), bucket.value(u"keys"_s).toInteger());
    // Nothing deleted; the index is there for the purge; the lock is free.
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-blob"_s), blobsBefore);
    QVERIFY(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/chunk-1.yaml"_s) == 1);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    QVERIFY2(dry.out.contains("Nothing was deleted") || dry.err.contains("Nothing was deleted"), dry.out.constData());
}

void TestDatamonPurge::secondDryRunDropsTheStaleIndexFirst()
{
    QVERIFY(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/"_s) > 0);
    const CliRun plan
        = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QStringList steps;
    for (const QJsonValue& step : QJsonDocument::fromJson(plan.out).object().value(u"steps"_s).toArray())
        steps << step.toObject().value(u"id"_s).toString();
    QCOMPARE(steps, (QStringList { u"check"_s, u"drop-stale-index"_s, u"build-index"_s, u"dry-run"_s }));
    const CliRun dry = cli(run(u"dm-prod"_s));
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

void TestDatamonPurge::heldLockRefusesAndForceOverridesIt()
{
    putLock(u"dm-prod-meta"_s, u"2026-12-01 08:00:00.5 +0000 UTC"_s);
    const qsizetype logStart = invocations();
    const CliRun refused = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(
        refused.err.contains("the purge lock is held: gs://dm-prod-meta/purge.lock, taken 2026-12-01 08:00:00 UTC"),
        refused.err.constData());
    QVERIFY2(refused.err.contains("--force-stale-lock"), refused.err.constData());
    const CliRun plan = cli(
        { u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s, u"--force-stale-lock"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QVERIFY2(plan.out.contains("overrides gs://dm-prod-meta/purge.lock, taken 2026-12-01 08:00:00 UTC ("),
        plan.out.constData());
    const CliRun forced = cli(run(u"dm-prod"_s) << u"--force-stale-lock"_s);
    QVERIFY2(forced.exitCode == 0, forced.err.constData());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    // datamon2 got --force on its first purge step only.
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = log.readAll().split('\n').mid(logStart);
    QStringList purgeSteps;
    for (const QByteArray& line : lines) {
        const QJsonArray argv = QJsonDocument::fromJson(line).object().value(u"argv"_s).toArray();
        if (argv.size() > 2 && argv.at(1).toString() == u"purge"_s)
            purgeSteps << argv.at(2).toString() + (argv.contains(u"--force"_s) ? u" --force"_s : QString());
    }
    QCOMPARE(purgeSteps,
        (QStringList { u"delete-reverse-lookup --force"_s, u"build-reverse-lookup"_s, u"delete-unused"_s }));
}

void TestDatamonPurge::aSharingContextsLockRefuses()
{
    putLock(u"dm-shared-meta"_s, u"2026-12-05 07:00:00 +0000 UTC"_s);
    const CliRun refused = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-dev"_s, u"--dry-run-only"_s });
    gcloud({ u"rm"_s, u"gs://dm-shared-meta/purge.lock"_s });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(
        refused.err.contains("context dm-shared shares blob bucket gs://dm-shared-blob/ and its purge lock is held"),
        refused.err.constData());
}

// datamon2 killed by a signal mid-build (it has no handler: its lock stays): the step fails and recovery removes the
// lock this run's job took, and only that one.
void TestDatamonPurge::killedDatamonLeavesNoLockBehind()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("200\n");
    slow.close();
    BackgroundCli console(run(u"dm-prod"_s), m_sandbox.environment());
    // The job's datamon2, found by its command line on the bastion (the sandbox's hosts share this machine), once
    // it holds its lock (a stale index's drop may come first).
    const QString build = datamonPattern(u"purge build-reverse-lookup"_s);
    QVERIFY2(console.runsUntil([&] {
        return datamonRunning(u"purge build-reverse-lookup"_s)
            && m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s) == 1;
    }),
        console.output().constData());
    QProcess pkill;
    pkill.start(u"pkill"_s, { u"-TERM"_s, u"-f"_s, build });
    QVERIFY(pkill.waitForFinished(10000));
    QCOMPARE(pkill.exitCode(), 0);
    QCOMPARE(console.wait(120000), 1);
    QVERIFY2(console.out().contains("datamon left its lock behind; this run's job had ended, so the lock was removed"),
        console.output().constData());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

// The console is SIGKILLed while build-reverse-lookup runs (slowed): the job goes on, detached. `opsdeck recover`
// re-attaches to it, follows it to its end, starts the dry run the dead console never started, and reports its
// counts: the same as a run that was never interrupted. `opsdeck datamon attach` shows the job meanwhile.
void TestDatamonPurge::killedConsoleReattachesAndFinishes()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("50\n");
    slow.close();
    BackgroundCli console(run(u"dm-prod"_s), m_sandbox.environment());
    // The build's datamon2 holds its lock (a stale index's drop may come first, with a lock of its own).
    QVERIFY2(console.runsUntil([&] {
        return datamonRunning(u"purge build-reverse-lookup"_s)
            && m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s) == 1;
    }),
        console.output().constData());
    console.kill();
    QVERIFY(datamonRunning(u"purge build-reverse-lookup"_s));
    QFile::remove(switchFile(u"delay-per-key-ms"_s));

    const CliRun unfinished = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QString runId;
    for (const QJsonValue& r : QJsonDocument::fromJson(unfinished.out).array()) {
        if (r.toObject().value(u"operation"_s).toString() == u"datamon-purge"_s)
            runId = r.toObject().value(u"id"_s).toString();
    }
    QVERIFY2(!runId.isEmpty(), unfinished.out.constData());
    // Any console can look at the run's jobs, read only: the build the dead console started, followed to its end.
    const CliRun attached = cli({ u"datamon"_s, u"attach"_s, runId, u"--context"_s, u"dm-prod"_s });
    QVERIFY2(attached.exitCode == 0, attached.err.constData());
    QVERIFY2(
        attached.out.contains("build-index") && attached.out.contains("exit 0") && !attached.out.contains("dry-run"),
        attached.out.constData());
    QCOMPARE(cli({ u"datamon"_s, u"attach"_s, u"../x"_s, u"--context"_s, u"dm-prod"_s }).exitCode, 2);
    const QString reportFile = m_temp.filePath(u"recovered.json"_s);
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-prod"_s, u"--report"_s, reportFile });
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    const CliRun left = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QVERIFY2(!left.out.contains(runId.toUtf8()), left.out.constData());
}

// The SSH connection to the bastion drops (its sshd killed with its sessions) while build-reverse-lookup runs: the
// job goes on, the run's polls wait for the host, and the run finishes when it is back.
void TestDatamonPurge::droppedConnectionIsFollowedThrough()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("30\n");
    slow.close();
    const QString reportFile = m_temp.filePath(u"dropped.json"_s);
    BackgroundCli console(run(u"dm-prod"_s) << u"--report"_s << reportFile, m_sandbox.environment());
    QVERIFY2(console.runsUntil([&] { return datamonRunning(u"purge build-reverse-lookup"_s); }),
        console.output().constData());
    QCOMPARE(m_sandbox.script(u"kill-host"_s, { u"bastion"_s }), 0);
    QTest::qWait(2000);
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"bastion"_s }), 0);
    QVERIFY2(console.wait(300000) == 0, console.output().constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
}

void TestDatamonPurge::badInputRunsNothing_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    QTest::newRow("context with shell characters")
        << QStringList { u"--context"_s, u"dm-prod;id"_s, u"--dry-run-only"_s } << u"is not allowed"_s;
    QTest::newRow("unknown context") << QStringList { u"--context"_s, u"dm-test"_s, u"--dry-run-only"_s }
                                     << u"is not in the inventory"_s;
    QTest::newRow("no context") << QStringList { u"--dry-run-only"_s } << u"--context is required"_s;
    QTest::newRow("empty context") << QStringList { u"--context"_s, u""_s } << u"--context is required"_s;
    QTest::newRow("context with ..") << QStringList { u"--context"_s, u"../dm-prod"_s } << u"is not allowed"_s;
}

void TestDatamonPurge::badInputRunsNothing()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const qsizetype logStart = invocations();
    const CliRun plan = cli(QStringList { u"plan"_s, u"datamon-purge"_s } + arguments);
    QCOMPARE(plan.exitCode, 2);
    QVERIFY2(QString::fromUtf8(plan.err).contains(message), plan.err.constData());
    QCOMPARE(invocations(), logStart);
}

void TestDatamonPurge::tooLittleSpaceRunsNothing()
{
    const QString inventory = m_temp.filePath(u"space.yaml"_s);
    QVERIFY(m_sandbox.writeInventoryWith(inventory, u"dm-prod"_s, u"minFreeGiB: 100000"_s));
    const CliRun plan
        = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s }, inventory);
    QCOMPARE(plan.exitCode, 1);
    QVERIFY2(plan.err.contains("the context's minFreeGiB is 100000"), plan.err.constData());
}

void TestDatamonPurge::slowDatamon(int msPerKey) const
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write(QByteArray::number(msPerKey) + '\n');
}

void TestDatamonPurge::restoreProdBlobs() const
{
    if (m_sandbox.gcsObjectCount(u"dm-prod-blob"_s) < qint64(QDir(m_prodBlobs).count() - 2))
        QCOMPARE(gcloud({ u"cp"_s, u"--no-clobber"_s, m_prodBlobs + u"/*"_s, u"gs://dm-prod-blob/"_s }), 0);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-blob"_s), qint64(QDir(m_prodBlobs).count() - 2));
}

QStringList TestDatamonPurge::purgeInvocations(qsizetype from) const
{
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    if (!log.open(QIODevice::ReadOnly))
        return { u"(no invocation log)"_s };
    QStringList steps;
    for (const QByteArray& line : log.readAll().split('\n').mid(from)) {
        const QJsonArray argv = QJsonDocument::fromJson(line).object().value(u"argv"_s).toArray();
        if (argv.size() > 2 && argv.at(1).toString() == u"purge"_s)
            steps << argv.at(2).toString() + (argv.contains(u"--dry-run"_s) ? u" --dry-run"_s : QString());
    }
    return steps;
}

QString TestDatamonPurge::datamonPattern(const QString& words) const
{
    // This sandbox's only (its work dir is in the command line): another sandbox on the machine runs the same test.
    return u"datamon2 .*%1 .*%2/.*--context dm-prod"_s.arg(words, QRegularExpression::escape(m_sandbox.dir()));
}

bool TestDatamonPurge::datamonRunning(const QString& words) const
{
    QProcess pgrep;
    pgrep.start(u"pgrep"_s, { u"-f"_s, datamonPattern(words) });
    pgrep.waitForFinished(10000);
    return pgrep.exitCode() == 0;
}

QString TestDatamonPurge::unfinishedRun() const
{
    const CliRun unfinished = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    for (const QJsonValue& r : QJsonDocument::fromJson(unfinished.out).array()) {
        if (r.toObject().value(u"operation"_s).toString() == u"datamon-purge"_s)
            return r.toObject().value(u"id"_s).toString();
    }
    return {};
}

void TestDatamonPurge::prepareProd() const
{
    const CliRun dry = cli(run(u"dm-prod"_s));
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
}

// Acceptance 1: the dry run's counts are the plan's; a production context needs its name typed; the purge deletes
// exactly the seed's unreferenced old blobs (the GCS stand-in's object list before and after), verifies, drops the
// index, and reports the counts.
void TestDatamonPurge::purgeDeletesExactlyTheUnusedOldBlobs()
{
    restoreProdBlobs();
    prepareProd();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    const CliRun plan = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    const QJsonObject planned = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planned.value(u"counts"_s).toObject().value(u"keysToDelete"_s).toInteger(),
        bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(planned.value(u"irreversible"_s).toBool(), true);
    QStringList steps;
    for (const QJsonValue& step : planned.value(u"steps"_s).toArray())
        steps << step.toObject().value(u"id"_s).toString();
    QCOMPARE(steps, (QStringList { u"check"_s, u"delete-unused"_s, u"verify"_s, u"writes"_s, u"drop-index"_s }));

    const QSet<QString> before = m_sandbox.gcsObjectNames(u"dm-prod-blob"_s);
    const qsizetype logStart = invocations();
    const CliRun wrong
        = cli({ u"run"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--confirm"_s, u"dm-dev"_s });
    QCOMPARE(wrong.exitCode, 3);
    QCOMPARE(purgeInvocations(logStart), QStringList());

    const QString reportFile = m_temp.filePath(u"purge.json"_s);
    const CliRun purge = cli(deleteRun() << u"--report"_s << reportFile);
    QVERIFY2(purge.exitCode == 0, (purge.out + purge.err).constData());
    QCOMPARE(purgeInvocations(logStart),
        (QStringList { u"delete-unused"_s, u"delete-unused --dry-run"_s, u"delete-reverse-lookup"_s }));
    const QSet<QString> after = m_sandbox.gcsObjectNames(u"dm-prod-blob"_s);
    QCOMPARE(before - after, m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s));
    QVERIFY(after.size() < before.size());
    const QJsonObject report = readJson(reportFile);
    QCOMPARE(report.value(u"deleted"_s).toObject().value(u"keys"_s).toInteger(),
        bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(report.value(u"deleted"_s).toObject().value(u"bytes"_s).toInteger(),
        bucket.value(u"unreferencedOldBytes"_s).toInteger());
    QCOMPARE(report.value(u"after"_s).toObject().value(u"keysLeftToDelete"_s).toInteger(), 0);
    QCOMPARE(report.value(u"after"_s).toObject().value(u"bundlesSinceIndex"_s).toInteger(), 0);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/"_s), 0);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

// Without an index datamon2 v2.6.9 panics and leaves its lock: the plan refuses before datamon runs a purge step.
void TestDatamonPurge::deleteRefusesWithoutAnIndex()
{
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/"_s), 0);
    const qsizetype logStart = invocations();
    const CliRun plan = cli(deleteRun());
    QCOMPARE(plan.exitCode, 1);
    QVERIFY2(plan.err.contains("reverse-index/ does not exist, and datamon2 delete-unused would panic"),
        plan.err.constData());
    QCOMPARE(purgeInvocations(logStart), QStringList());
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

// v2.6.9 counts a failed delete as deleted and exits 0: the verification dry run finds what is left, the run fails
// with it, the index stays, and the next purge is planned from the verification's counts and finishes the job. A
// bundle committed since the index was built refuses the purge.
void TestDatamonPurge::silentDeleteFailuresAreCaughtByTheVerification()
{
    restoreProdBlobs();
    const QSet<QString> before = m_sandbox.gcsObjectNames(u"dm-prod-blob"_s);
    prepareProd();

    const QString bundle = u"gs://dm-prod-meta/bundles/prod-census-00000/2AbCdEfGhIjKlMnOpQrStUvWxYz/bundle.yaml"_s;
    QByteArray ignored;
    QCOMPARE(gcloud({ u"cp"_s, u"/etc/hostname"_s, bundle }, &ignored), 0);
    const CliRun written = cli(deleteRun());
    QCOMPARE(gcloud({ u"rm"_s, bundle }), 0);
    QCOMPARE(written.exitCode, 1);
    QVERIFY2(written.err.contains("1 bundle was committed since the index was built")
            && written.err.contains("dm-prod: prod-census-00000/2AbCdEfGhIjKlMnOpQrStUvWxYz"),
        written.err.constData());

    const QJsonObject rules { { u"rules"_s,
        QJsonArray { QJsonObject { { u"op"_s, u"delete"_s }, { u"bucket"_s, u"dm-prod-blob"_s }, { u"prefix"_s, u""_s },
            { u"status"_s, 503 }, { u"count"_s, 5 } } } } };
    QVERIFY(!m_sandbox.gcsStandin(u"/_standin/faults"_s, rules).isEmpty());
    const QString reportFile = m_temp.filePath(u"silent.json"_s);
    const CliRun failed = cli(deleteRun() << u"--report"_s << reportFile);
    m_sandbox.gcsStandin(u"/_standin/faults"_s, QJsonObject { { u"rules"_s, QJsonArray() } });
    QCOMPARE(failed.exitCode, 1);
    QVERIFY2(failed.out.contains("but the verification dry run finds 5 of them still in gs://dm-prod-blob/"),
        failed.out.constData());
    const QJsonObject report = readJson(reportFile);
    QCOMPARE(report.value(u"deleted"_s).toObject().value(u"keys"_s).toInteger(),
        qint64(m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s).size()));
    QCOMPARE(report.value(u"after"_s).toObject().value(u"keysLeftToDelete"_s).toInteger(), 5);
    QCOMPARE(qsizetype(before.size() - m_sandbox.gcsObjectNames(u"dm-prod-blob"_s).size()),
        m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s).size() - 5);
    QVERIFY(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/"_s) > 0);

    const CliRun plan = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QCOMPARE(
        QJsonDocument::fromJson(plan.out).object().value(u"counts"_s).toObject().value(u"keysToDelete"_s).toInteger(),
        5);
    const CliRun again = cli(deleteRun());
    QVERIFY2(again.exitCode == 0, (again.out + again.err).constData());
    QCOMPARE(before - m_sandbox.gcsObjectNames(u"dm-prod-blob"_s), m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s));
}

// Acceptance 2 for delete-unused: the console is SIGKILLed while datamon2 deletes (slowed); the job goes on;
// `opsdeck recover` re-attaches, follows it to its end, verifies and drops the index.
void TestDatamonPurge::killedConsoleDuringDeleteReattachesAndFinishes()
{
    restoreProdBlobs();
    const QSet<QString> before = m_sandbox.gcsObjectNames(u"dm-prod-blob"_s);
    prepareProd();
    slowDatamon(100);
    BackgroundCli console(deleteRun(), m_sandbox.environment());
    const auto deleting = [this] { return datamonRunning(u"purge delete-unused --local-work-dir"_s); };
    QVERIFY2(console.runsUntil(deleting), console.output().constData());
    QVERIFY2(console.runsUntil([&] { return m_sandbox.gcsObjectNames(u"dm-prod-blob"_s).size() < before.size(); }),
        console.output().constData());
    console.kill();
    QVERIFY(deleting());
    QFile::remove(switchFile(u"delay-per-key-ms"_s));

    const QString runId = unfinishedRun();
    QVERIFY(!runId.isEmpty());
    const QString reportFile = m_temp.filePath(u"recovered-delete.json"_s);
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-prod"_s, u"--report"_s, reportFile });
    QVERIFY2(recovered.exitCode == 0, (recovered.out + recovered.err).constData());
    const QJsonObject report = readJson(reportFile);
    QCOMPARE(report.value(u"deleted"_s).toObject().value(u"keys"_s).toInteger(),
        qint64(m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s).size()));
    QCOMPARE(report.value(u"after"_s).toObject().value(u"keysLeftToDelete"_s).toInteger(), 0);
    QCOMPARE(before - m_sandbox.gcsObjectNames(u"dm-prod-blob"_s), m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s));
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"reverse-index/"_s), 0);
    QCOMPARE(m_sandbox.gcsObjectCount(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    QVERIFY(unfinishedRun().isEmpty());
}

// Acceptance 2 for delete-unused: the bastion's sshd is killed with its sessions while datamon2 deletes; the job
// goes on, the run waits for the host and finishes.
void TestDatamonPurge::droppedConnectionDuringDeleteIsFollowedThrough()
{
    restoreProdBlobs();
    const QSet<QString> before = m_sandbox.gcsObjectNames(u"dm-prod-blob"_s);
    prepareProd();
    slowDatamon(50);
    BackgroundCli console(deleteRun(), m_sandbox.environment());
    QVERIFY2(console.runsUntil([&] { return m_sandbox.gcsObjectNames(u"dm-prod-blob"_s).size() < before.size(); }),
        console.output().constData());
    QCOMPARE(m_sandbox.script(u"kill-host"_s, { u"bastion"_s }), 0);
    QTest::qWait(2000);
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"bastion"_s }), 0);
    QVERIFY2(console.wait(300000) == 0, console.output().constData());
    QVERIFY2(console.out().contains("the verification dry run finds none left"), console.output().constData());
    QCOMPARE(before - m_sandbox.gcsObjectNames(u"dm-prod-blob"_s), m_sandbox.datamonUnreferencedOld(u"dm-prod-blob"_s));
}

// dm-dev and dm-shared share a blob bucket: while one's purge runs (held between its datamon steps, when datamon's
// own lock is free), the other's is refused by the journal's lock on the blob bucket, and runs nothing.
void TestDatamonPurge::purgesOfASharedBlobBucketAreSerialised()
{
    const QString hold = m_temp.filePath(u"hold"_s);
    QFile holdFile(hold);
    QVERIFY(holdFile.open(QIODevice::WriteOnly));
    holdFile.close();
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_HOLD_AT_STEP"_s, u"dry-run"_s);
    environment.insert(u"OPSDECK_HOLD_WHILE"_s, hold);
    QProcess first;
    first.setProcessEnvironment(environment);
    first.start(QStringLiteral(OPSDECK_BINARY), run(u"dm-dev"_s));
    QByteArray err;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     err += first.readAllStandardError();
                     return err.contains("holding before the action of step") || first.state() == QProcess::NotRunning;
                 },
                 120000),
        err.constData());
    const qsizetype logStart = invocations();
    const CliRun second = cli(run(u"dm-shared"_s));
    const QStringList ranMeanwhile = purgeInvocations(logStart);
    QFile::remove(hold);
    QVERIFY(first.waitForFinished(180000));
    QCOMPARE(second.exitCode, 3);
    QVERIFY2(second.err.contains("datamon-blob:gs://dm-shared-blob/"), second.err.constData());
    QCOMPARE(ranMeanwhile, QStringList());
    QVERIFY2(first.exitCode() == 0, (err + first.readAllStandardError()).constData());
}

QTEST_GUILESS_MAIN(TestDatamonPurge)
#include "tst_datamonpurge.moc"
