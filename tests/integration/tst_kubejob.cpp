// KubeJob against the sandbox's Kubernetes API stand-in, whose Job pods run their command as a local process: a Job
// created as the manifest says (never retried), its stderr followed as it comes and its stdout apart (the wrapper's
// markers), exit codes 0 and not 0, a stop that SIGTERMs the command and waits until the pod is gone, a fresh KubeJob
// that re-attaches to a running Job and reads it whole, and a Job whose pod or whole self vanished. The cluster is the
// sandbox inventory's fg-staging (KubeTarget::resolve); each test deletes its Jobs.
#include "Sandbox.h"
#include "config/InventoryLoader.h"
#include "kube/KubeJob.h"
#include "kube/KubeTarget.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUrlQuery>

#include <functional>
#include <memory>

using namespace opsdeck;
using namespace opsdeck::test;
using namespace Qt::StringLiterals;

namespace {

const QString kNs = u"fg-staging"_s;

} // namespace

class TestKubeJob : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void runsOnceWithStdoutApart();
    void nonZeroExitIsNotRetried();
    void followsTheLogAsItComes();
    void stopSigtermsTheCommandAndThePodGoes();
    void freshObjectReattaches();
    void deletedPodVanishes();
    void deletedJobIsGone();
    void refusedCreateSaysWhy();

private:
    KubeJob::Spec spec(const QString& script) const;
    // Creates Job `name` running `script` under /bin/sh; remembered for cleanup().
    std::unique_ptr<KubeJob> start(const QString& name, const QString& script);
    // Inspects until `done` holds (or 30 s), reading the log meanwhile into *output.
    KubeJob::State follow(
        KubeJob& job, KubeJob::Output* output, const std::function<bool(const KubeJob::State&)>& done);
    QList<QJsonObject> podsOf(const QString& job);

    Sandbox m_sandbox;
    QTemporaryDir m_dir;
    std::optional<KubeTarget> m_target;
    std::unique_ptr<KubeClient> m_client;
    QStringList m_created;
};

void TestKubeJob::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_dir.isValid());
    const InventoryLoadResult loaded = InventoryLoader::loadFile(m_sandbox.inventoryPath());
    QVERIFY(loaded.ok());
    KubeTarget::Problem problem = KubeTarget::Problem::None;
    QString error;
    m_target = KubeTarget::resolve(*loaded.inventory, u"fg-staging"_s, kNs, &problem, &error);
    QVERIFY2(m_target, qPrintable(error));
    QVERIFY(!m_target->needsToken());
    m_client = std::make_unique<KubeClient>(m_target->kube);
    QVERIFY(m_client->ready(&error));
}

void TestKubeJob::cleanup()
{
    for (const QString& name : std::as_const(m_created)) {
        KubeJob job(*m_client, kNs, name);
        QString error;
        QVERIFY2(job.stop(30000, &error), qPrintable(error));
    }
    m_created.clear();
}

KubeJob::Spec TestKubeJob::spec(const QString& script) const
{
    KubeJob::Spec spec;
    spec.image = u"registry.example.org/tools:1"_s;
    spec.argv = { u"/bin/sh"_s, u"-c"_s, script };
    spec.mountPath = m_dir.path();
    spec.stdoutFile = m_dir.filePath(u"%1/stdout"_s.arg(QString::number(m_created.size())));
    spec.labels = { { u"opsdeck.io/run"_s, u"tst-kubejob"_s }, { u"opsdeck.io/step"_s, u"step"_s } };
    return spec;
}

std::unique_ptr<KubeJob> TestKubeJob::start(const QString& name, const QString& script)
{
    auto job = std::make_unique<KubeJob>(*m_client, kNs, name);
    QString error;
    const KubeJob::Spec s = spec(script);
    m_created << name;
    if (!job->create(s, &error))
        qWarning("%s", qPrintable(error));
    return job;
}

KubeJob::State TestKubeJob::follow(
    KubeJob& job, KubeJob::Output* output, const std::function<bool(const KubeJob::State&)>& done)
{
    KubeJob::State state;
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        QString error;
        const auto now = job.inspect(&error);
        if (!now) {
            qWarning("%s", qPrintable(error));
            return {};
        }
        state = *now;
        const auto log = job.readLog(state, &error);
        if (!log) {
            qWarning("%s", qPrintable(error));
            return {};
        }
        output->err += log->err;
        output->out += log->out;
        output->outComplete = output->outComplete || log->outComplete;
        if (done(state))
            return state;
        QThread::msleep(100);
    }
    return state;
}

QList<QJsonObject> TestKubeJob::podsOf(const QString& job)
{
    const KubeResponse listed
        = m_client->get(KubeClient::podsPath(kNs), QUrlQuery { { u"labelSelector"_s, u"job-name="_s + job } });
    QList<QJsonObject> pods;
    for (const QJsonValue& item : listed.object.value(u"items"_s).toArray())
        pods << item.toObject();
    return pods;
}

void TestKubeJob::runsOnceWithStdoutApart()
{
    // stdout and stderr interleaved, a last stdout line without its newline, a line that looks like a marker, and
    // the environment given.
    auto job = start(u"tst-kubejob-stdout"_s,
        u"echo progress 1 >&2; echo 'result: 1'; echo \"env $KJ_VALUE\" >&2; echo 'result: 2'; "
        "echo 'opsdeck-stdout-0000000000000000 end' >&2; printf 'last'"_s);
    KubeJob::Output output;
    const KubeJob::State state = follow(*job, &output, [](const KubeJob::State& s) { return s.ended(); });
    QCOMPARE(state.exitCode, std::optional<int>(0));
    QCOMPARE(state.reason, u"Completed"_s);
    QVERIFY(!state.vanished());
    QVERIFY(output.outComplete);
    QCOMPARE(output.out, QByteArray("result: 1\nresult: 2\nlast"));
    QCOMPARE(output.err, QByteArray("progress 1\nenv \nopsdeck-stdout-0000000000000000 end\n"));

    // The Job as created: one pod, never retried, labelled for the console that looks for it.
    const KubeResponse created = m_client->get(KubeClient::jobPath(kNs, u"tst-kubejob-stdout"_s));
    QVERIFY2(created.ok(), qPrintable(created.message));
    QCOMPARE(created.object.value(u"spec"_s).toObject().value(u"backoffLimit"_s).toInt(-1), 0);
    QCOMPARE(created.object.value(u"metadata"_s).toObject().value(u"labels"_s).toObject().value(u"opsdeck.io/run"_s),
        QJsonValue(u"tst-kubejob"_s));
    const QList<QJsonObject> pods = podsOf(u"tst-kubejob-stdout"_s);
    QCOMPARE(pods.size(), 1);
    QCOMPARE(pods.first().value(u"metadata"_s).toObject().value(u"labels"_s).toObject().value(u"opsdeck.io/step"_s),
        QJsonValue(u"step"_s));
    QCOMPARE(pods.first().value(u"spec"_s).toObject().value(u"restartPolicy"_s).toString(), u"Never"_s);

    // The environment reaches the command.
    auto withEnv = std::make_unique<KubeJob>(*m_client, kNs, u"tst-kubejob-env"_s);
    KubeJob::Spec envSpec = spec(u"echo \"env $KJ_VALUE\" >&2"_s);
    envSpec.env = { { u"KJ_VALUE"_s, u"a b;c"_s } };
    m_created << u"tst-kubejob-env"_s;
    QString error;
    QVERIFY2(withEnv->create(envSpec, &error), qPrintable(error));
    KubeJob::Output envOutput;
    QCOMPARE(follow(*withEnv, &envOutput, [](const KubeJob::State& s) { return s.ended(); }).exitCode,
        std::optional<int>(0));
    QCOMPARE(envOutput.err, QByteArray("env a b;c\n"));
}

void TestKubeJob::nonZeroExitIsNotRetried()
{
    auto job = start(u"tst-kubejob-exit3"_s, u"echo partial; echo 'ERROR: boom' >&2; exit 3"_s);
    KubeJob::Output output;
    KubeJob::State state = follow(*job, &output, [](const KubeJob::State& s) { return s.condition == u"Failed"_s; });
    QCOMPARE(state.exitCode, std::optional<int>(3));
    QCOMPARE(state.reason, u"Error"_s);
    QCOMPARE(state.conditionReason, u"BackoffLimitExceeded"_s);
    QCOMPARE(state.describe(), u"its container exited with code 3 (Error)"_s);
    QCOMPARE(output.out, QByteArray("partial\n"));
    QCOMPARE(output.err, QByteArray("ERROR: boom\n"));
    // The stand-in waits jobBackoffSeconds (0.5 s) before a retry: there is none.
    QTest::qWait(1500);
    QString error;
    state = *job->inspect(&error);
    QCOMPARE(state.failed, 1);
    QCOMPARE(podsOf(u"tst-kubejob-exit3"_s).size(), 1);
}

void TestKubeJob::followsTheLogAsItComes()
{
    // Lines within one second and across seconds: each read from the last line's second (sinceTime), none lost
    // and none twice.
    auto job = start(u"tst-kubejob-follow"_s,
        u"i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo line-$i >&2; sleep 0.05; done; echo done"_s);
    KubeJob::Output output;
    int reads = 0;
    const KubeJob::State state = follow(*job, &output, [&](const KubeJob::State& s) {
        ++reads;
        return s.ended();
    });
    QCOMPARE(state.exitCode, std::optional<int>(0));
    QByteArray expected;
    for (int i = 1; i <= 40; ++i)
        expected += "line-" + QByteArray::number(i) + '\n';
    QCOMPARE(output.err, expected);
    QCOMPARE(output.out, QByteArray("done\n"));
    QVERIFY2(reads > 5, QByteArray::number(reads).constData());
    // The stand-in got sinceTime on the later reads.
    bool since = false;
    for (const QJsonObject& request : m_sandbox.kubernetesRequests()) {
        if (request.value(u"path"_s).toString().endsWith(u"/log"_s)
            && request.value(u"query"_s).toString().contains(u"sinceTime"_s))
            since = true;
    }
    QVERIFY(since);
}

void TestKubeJob::stopSigtermsTheCommandAndThePodGoes()
{
    const QString term = m_dir.filePath(u"term"_s);
    auto job = start(u"tst-kubejob-stop"_s,
        u"trap 'echo TERM > %1; exit 143' TERM; echo started >&2; while :; do sleep 0.1; done"_s.arg(term));
    KubeJob::Output output;
    KubeJob::State state = follow(*job, &output, [&](const KubeJob::State&) { return !output.err.isEmpty(); });
    QCOMPARE(output.err, QByteArray("started\n"));
    QVERIFY(!state.ended());
    QString error;
    QVERIFY2(job->stop(30000, &error), qPrintable(error));
    QFile signalled(term);
    QVERIFY(signalled.open(QIODevice::ReadOnly));
    QCOMPARE(signalled.readAll(), QByteArray("TERM\n"));
    // Gone, read from the API: the Job and its pod.
    state = *job->inspect(&error);
    QVERIFY(!state.exists);
    QVERIFY(state.pod.isEmpty());
    QVERIFY(podsOf(u"tst-kubejob-stop"_s).isEmpty());
    // A second stop of what is gone succeeds at once.
    QVERIFY2(job->stop(5000, &error), qPrintable(error));
}

void TestKubeJob::freshObjectReattaches()
{
    const QString go = m_dir.filePath(u"go"_s);
    auto job = start(u"tst-kubejob-reattach"_s,
        u"echo before >&2; while [ ! -e %1 ]; do sleep 0.05; done; echo after >&2; echo summary"_s.arg(go));
    KubeJob::Output first;
    follow(*job, &first, [&](const KubeJob::State&) { return !first.err.isEmpty(); });
    QCOMPARE(first.err, QByteArray("before\n"));
    job.reset(); // the console that started it is gone

    KubeJob again(*m_client, kNs, u"tst-kubejob-reattach"_s);
    QString error;
    const auto running = again.inspect(&error);
    QVERIFY2(running, qPrintable(error));
    QVERIFY(running->exists);
    QVERIFY(!running->ended());
    QFile flag(go);
    QVERIFY(flag.open(QIODevice::WriteOnly));
    KubeJob::Output whole;
    const KubeJob::State state = follow(again, &whole, [](const KubeJob::State& s) { return s.ended(); });
    QCOMPARE(state.exitCode, std::optional<int>(0));
    QCOMPARE(whole.err, QByteArray("before\nafter\n"));
    QCOMPARE(whole.out, QByteArray("summary\n"));
    QVERIFY(whole.outComplete);
    // rewindLog(): the same object reads it all again.
    again.rewindLog();
    const auto reread = again.readLog(state, &error);
    QVERIFY2(reread, qPrintable(error));
    QCOMPARE(reread->err, whole.err);
    QCOMPARE(reread->out, whole.out);
}

void TestKubeJob::deletedPodVanishes()
{
    auto job = start(u"tst-kubejob-podgone"_s, u"echo started >&2; while :; do sleep 0.1; done"_s);
    KubeJob::Output output;
    KubeJob::State state = follow(*job, &output, [&](const KubeJob::State&) { return !output.err.isEmpty(); });
    QVERIFY(!state.pod.isEmpty());
    const KubeResponse deleted = m_client->remove(KubeClient::podPath(kNs, state.pod));
    QVERIFY2(deleted.ok(), qPrintable(deleted.message));
    KubeJob fresh(*m_client, kNs, u"tst-kubejob-podgone"_s);
    state = follow(fresh, &output, [](const KubeJob::State& s) { return s.pod.isEmpty() && s.ended(); });
    QVERIFY(state.exists);
    QVERIFY(state.vanished());
    QCOMPARE(state.condition, u"Failed"_s);
    QVERIFY2(
        state.describe().startsWith(u"its pod was deleted before its container ended"_s), qPrintable(state.describe()));
    // Never a second pod.
    QVERIFY(podsOf(u"tst-kubejob-podgone"_s).isEmpty());
}

void TestKubeJob::deletedJobIsGone()
{
    auto job = start(u"tst-kubejob-jobgone"_s, u"echo started >&2; while :; do sleep 0.1; done"_s);
    KubeJob::Output output;
    follow(*job, &output, [&](const KubeJob::State&) { return !output.err.isEmpty(); });
    // Deleted behind the console's back (kubectl delete job --cascade=background).
    const KubeResponse deleted = m_client->send("DELETE", KubeClient::jobPath(kNs, u"tst-kubejob-jobgone"_s),
        QUrlQuery { { u"propagationPolicy"_s, u"Background"_s } }, {}, {}, 30000);
    QVERIFY2(deleted.ok(), qPrintable(deleted.message));
    KubeJob fresh(*m_client, kNs, u"tst-kubejob-jobgone"_s);
    const KubeJob::State state
        = follow(fresh, &output, [](const KubeJob::State& s) { return !s.exists && s.pod.isEmpty(); });
    QVERIFY(!state.exists);
    QVERIFY(state.pod.isEmpty());
    QVERIFY(!state.ended());
    QCOMPARE(state.describe(), u"the Job does not exist"_s);
}

void TestKubeJob::refusedCreateSaysWhy()
{
    // A name the API server refuses (422), and one that exists already (409): one sentence each.
    KubeJob bad(*m_client, kNs, u"Not_A_Name"_s);
    QString error;
    QVERIFY(!bad.create(spec(u"true"_s), &error));
    QVERIFY2(error.contains(u"create jobs in fg-staging"_s) && error.contains(u"metadata.name"_s), qPrintable(error));
    auto job = start(u"tst-kubejob-twice"_s, u"true"_s);
    KubeJob twice(*m_client, kNs, u"tst-kubejob-twice"_s);
    QVERIFY(!twice.create(spec(u"true"_s), &error));
    QVERIFY2(error.contains(u"already exists"_s), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestKubeJob)
#include "tst_kubejob.moc"
