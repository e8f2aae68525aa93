// The RAFT reset through the CLI against the sandbox's Kubernetes stand-in: whole resets of the 3- and the 5-replica
// StatefulSets, bad input that writes nothing (the stand-in's request log), each fault switch, and the console
// SIGKILLed in each phase followed by `opsdeck recover`. Every case ends with the StatefulSet at its replicas and
// its trigger annotation byte for byte, or a report that says what is left.
#include "Sandbox.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <signal.h>

using namespace opsdeck::test;

namespace {

const QString kDrImage = QStringLiteral("image-registry.openshift-image-registry.svc:5000/fg/jerriedr@sha256:"
                                        "b2aa3a1c40889a69abc3964dc1f3fea20d061ff2f1af40c0fa512b302bb314b1");
const QString kTriggerKey = QStringLiteral("image.openshift.io/triggers");

struct Place
{
    QString cluster;
    QString ns;
    QString statefulSet;
    int replicas = 0;
};

const Place kStaging { QStringLiteral("fg-staging"), QStringLiteral("fg-staging"), QStringLiteral("permie"), 3 };
const Place kLedger { QStringLiteral("fg-prod"), QStringLiteral("fg"), QStringLiteral("permie-ledger"), 5 };

} // namespace

Q_DECLARE_METATYPE(Place)

class TestRaftReset : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void resetEndsWithEveryNodeServingLatest_data();
    void resetEndsWithEveryNodeServingLatest();
    void badInputWritesNothing_data();
    void badInputWritesNothing();
    void anUnknownContextIsRefused();
    void aNodeAlreadyResetIsAccepted();
    void aReadOnlyClusterIsRefused();
    void aConflictIsReadAgainAndRetried_data();
    void aConflictIsReadAgainAndRetried();
    void aForbiddenPatchIsRefusedByThePlan();
    void v4OnlyServerStillResets();
    void aPodThatNeverGetsReadyIsRolledBack();
    void faultsLeaveTheRunOpenUntilRecovered_data();
    void faultsLeaveTheRunOpenUntilRecovered();
    void aCancelRecoversInTheSameRun();
    void killedConsoleIsRecovered_data();
    void killedConsoleIsRecovered();

private:
    QJsonObject statefulSet(const Place& place);
    QJsonArray pods(const Place& place);
    QJsonObject volumes();
    void control(const QJsonObject& switches);
    // The StatefulSet at its replicas, its annotation as the seed has it, every pod Ready on the template's image.
    void checkServing(const Place& place);
    QStringList runArguments(const Place& place, const QString& confirm) const;
    QJsonObject report(const QString& file) const;
    QString unfinishedRun(const Place& place);
    CliRun recover(const QString& runId, const QString& confirm, const QString& reportFile);
    QStringList writesSince(qsizetype from) const;
    QString holdFile() const { return m_temp.filePath(QStringLiteral("hold")); }
    // Starts a reset of kStaging that holds once `step` has started, and waits until it does.
    void startHeld(QProcess* console, const QString& step, const QStringList& extra);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QMap<QString, QString> m_annotations; // "ns/sts" -> the seed's annotation
};

void TestRaftReset::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    for (const Place& place : { kStaging, kLedger }) {
        const QJsonObject sts = statefulSet(place);
        QVERIFY2(!sts.isEmpty(), qPrintable(place.ns + u'/' + place.statefulSet));
        m_annotations.insert(place.ns + u'/' + place.statefulSet,
            sts.value(QStringLiteral("metadata"))
                .toObject()
                .value(QStringLiteral("annotations"))
                .toObject()
                .value(kTriggerKey)
                .toString());
    }
}

void TestRaftReset::init()
{
    control({ { QStringLiteral("conflictNextWrite"), false }, { QStringLiteral("execDrop"), false },
        { QStringLiteral("execInternalError"), false }, { QStringLiteral("v4Only"), false },
        { QStringLiteral("expiredUsers"), QJsonArray() }, { QStringLiteral("forbidden"), QJsonArray() },
        { QStringLiteral("neverReady"), QJsonArray() } });
    // A node whose RAFT was reset and that took no proposal since keeps index 1, and a reset must change it: each
    // case starts from indexes a running service would have.
    // (The stand-in replaces a pod's files as a whole.)
    const QJsonObject current = volumes();
    QJsonObject stores;
    for (const Place& place : { kStaging, kLedger }) {
        for (int i = 0; i < place.replicas; ++i) {
            const QString pod = QStringLiteral("%1-%2").arg(place.statefulSet).arg(i);
            QJsonObject files = current.value(place.ns + u'/' + pod).toObject();
            files.insert(QStringLiteral("/var/data/single/%1/data/store-0.db").arg(pod),
                QStringLiteral("raftIndex=%1\n").arg(52000 + i));
            stores.insert(place.ns + u'/' + pod, files);
        }
    }
    QVERIFY(!m_sandbox.kubernetesStandin(QStringLiteral("/_standin/volumes"), stores).isEmpty());
}

void TestRaftReset::cleanup()
{
    init();
}

QJsonObject TestRaftReset::statefulSet(const Place& place)
{
    const QJsonObject state = m_sandbox.kubernetesStandin(QStringLiteral("/_standin/state"));
    return state.value(QStringLiteral("namespaces"))
        .toObject()
        .value(place.ns)
        .toObject()
        .value(QStringLiteral("statefulsets"))
        .toObject()
        .value(place.statefulSet)
        .toObject();
}

QJsonArray TestRaftReset::pods(const Place& place)
{
    const QJsonObject all = m_sandbox.kubernetesStandin(QStringLiteral("/_standin/state"))
                                .value(QStringLiteral("namespaces"))
                                .toObject()
                                .value(place.ns)
                                .toObject()
                                .value(QStringLiteral("pods"))
                                .toObject();
    QJsonArray mine;
    for (const QJsonValue& pod : all) {
        const QString name
            = pod.toObject().value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString();
        if (name.startsWith(place.statefulSet + u'-') && name.mid(place.statefulSet.size() + 1).toInt() >= 0
            && !name.mid(place.statefulSet.size() + 1).contains(u'-'))
            mine << pod;
    }
    return mine;
}

QJsonObject TestRaftReset::volumes()
{
    return m_sandbox.kubernetesStandin(QStringLiteral("/_standin/state")).value(QStringLiteral("volumes")).toObject();
}

void TestRaftReset::control(const QJsonObject& switches)
{
    const QJsonObject answer = m_sandbox.kubernetesStandin(QStringLiteral("/_standin/control"), switches);
    QVERIFY2(!answer.isEmpty(), "the Kubernetes stand-in's control endpoint did not answer");
}

void TestRaftReset::checkServing(const Place& place)
{
    // The controllers settle within a second or two after a run; give them ten.
    QElapsedTimer timer;
    timer.start();
    QString problem;
    do {
        problem.clear();
        const QJsonObject sts = statefulSet(place);
        const QJsonObject spec = sts.value(QStringLiteral("spec")).toObject();
        const QString annotation = sts.value(QStringLiteral("metadata"))
                                       .toObject()
                                       .value(QStringLiteral("annotations"))
                                       .toObject()
                                       .value(kTriggerKey)
                                       .toString();
        const QString image = spec.value(QStringLiteral("template"))
                                  .toObject()
                                  .value(QStringLiteral("spec"))
                                  .toObject()
                                  .value(QStringLiteral("containers"))
                                  .toArray()
                                  .first()
                                  .toObject()
                                  .value(QStringLiteral("image"))
                                  .toString();
        if (spec.value(QStringLiteral("replicas")).toInt() != place.replicas)
            problem = QStringLiteral("replicas %1").arg(spec.value(QStringLiteral("replicas")).toInt());
        else if (annotation != m_annotations.value(place.ns + u'/' + place.statefulSet))
            problem = QStringLiteral("annotation %1").arg(annotation);
        else if (image.contains(QStringLiteral("jerriedr")))
            problem = QStringLiteral("image %1").arg(image);
        int ready = 0;
        for (const QJsonValue& value : pods(place)) {
            const QJsonObject pod = value.toObject();
            const QJsonObject status = pod.value(QStringLiteral("status")).toObject();
            bool isReady = false;
            for (const QJsonValue& condition : status.value(QStringLiteral("conditions")).toArray()) {
                isReady = isReady
                    || (condition.toObject().value(QStringLiteral("type")).toString() == QStringLiteral("Ready")
                        && condition.toObject().value(QStringLiteral("status")).toString() == QStringLiteral("True"));
            }
            const QString podImage = pod.value(QStringLiteral("spec"))
                                         .toObject()
                                         .value(QStringLiteral("containers"))
                                         .toArray()
                                         .first()
                                         .toObject()
                                         .value(QStringLiteral("image"))
                                         .toString();
            ready += isReady && podImage == image
                    && !pod.value(QStringLiteral("metadata")).toObject().contains(QStringLiteral("deletionTimestamp"))
                ? 1
                : 0;
        }
        if (problem.isEmpty() && ready != place.replicas)
            problem = QStringLiteral("%1 of %2 pods Ready on %3").arg(ready).arg(place.replicas).arg(image);
        if (!problem.isEmpty())
            QThread::msleep(200);
    } while (!problem.isEmpty() && timer.elapsed() < 10000);
    QVERIFY2(problem.isEmpty(), qPrintable(place.ns + u'/' + place.statefulSet + QStringLiteral(": ") + problem));
}

QStringList TestRaftReset::runArguments(const Place& place, const QString& confirm) const
{
    return { QStringLiteral("run"), QStringLiteral("raft-reset"), QStringLiteral("--cluster"), place.cluster,
        QStringLiteral("--namespace"), place.ns, QStringLiteral("--statefulset"), place.statefulSet,
        QStringLiteral("--dr-image"), kDrImage, QStringLiteral("--pod-timeout"), QStringLiteral("5"),
        QStringLiteral("--confirm"), confirm };
}

QJsonObject TestRaftReset::report(const QString& file) const
{
    QFile f(file);
    return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
}

QString TestRaftReset::unfinishedRun(const Place& place)
{
    const CliRun list = runCli(
        { QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") }, m_sandbox.environment());
    for (const QJsonValue& run : QJsonDocument::fromJson(list.out).array()) {
        if (run.toObject().value(QStringLiteral("operation")).toString() == QStringLiteral("raft-reset")
            && run.toObject().value(QStringLiteral("target")).toString()
                == QStringLiteral("%1/%2/%3").arg(place.cluster, place.ns, place.statefulSet))
            return run.toObject().value(QStringLiteral("id")).toString();
    }
    return {};
}

CliRun TestRaftReset::recover(const QString& runId, const QString& confirm, const QString& reportFile)
{
    return runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), confirm, QStringLiteral("--report"),
                      reportFile },
        m_sandbox.environment(), 120000);
}

QStringList TestRaftReset::writesSince(qsizetype from) const
{
    QStringList writes;
    for (const QJsonObject& request : m_sandbox.kubernetesRequests(from)) {
        const QString method = request.value(QStringLiteral("method")).toString();
        const QString query = request.value(QStringLiteral("query")).toString();
        if ((method == QStringLiteral("PATCH") || method == QStringLiteral("PUT") || method == QStringLiteral("DELETE"))
            && !query.contains(QStringLiteral("dryRun=All")))
            writes << method + u' ' + request.value(QStringLiteral("path")).toString();
        if (request.value(QStringLiteral("path")).toString().endsWith(QStringLiteral("/exec")))
            writes << QStringLiteral("exec ") + request.value(QStringLiteral("path")).toString() + u'?' + query;
    }
    return writes;
}

void TestRaftReset::startHeld(QProcess* console, const QString& step, const QStringList& extra)
{
    QFile hold(holdFile());
    QVERIFY(hold.open(QIODevice::WriteOnly));
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), step);
    environment.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), holdFile());
    console->setProcessEnvironment(environment);
    console->start(QStringLiteral(OPSDECK_BINARY), runArguments(kStaging, kStaging.statefulSet) + extra);
    QByteArray output;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += console->readAllStandardError();
                     return output.contains("holding before the action of step")
                         || console->state() == QProcess::NotRunning;
                 },
                 60000),
        output.constData());
    QVERIFY2(console->state() == QProcess::Running, output.constData());
}

void TestRaftReset::resetEndsWithEveryNodeServingLatest_data()
{
    QTest::addColumn<Place>("place");
    QTest::newRow("3 replicas") << kStaging;
    QTest::newRow("5 replicas, production") << kLedger;
}

void TestRaftReset::resetEndsWithEveryNodeServingLatest()
{
    QFETCH(Place, place);
    const CliRun plan
        = runCli({ QStringLiteral("plan"), QStringLiteral("raft-reset"), QStringLiteral("--cluster"), place.cluster,
                     QStringLiteral("--namespace"), place.ns, QStringLiteral("--statefulset"), place.statefulSet,
                     QStringLiteral("--dr-image"), kDrImage, QStringLiteral("--json") },
            m_sandbox.environment());
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    const QJsonObject planned = QJsonDocument::fromJson(plan.out).object();
    const QJsonObject parameters = planned.value(QStringLiteral("parameters")).toObject();
    QCOMPARE(parameters.value(QStringLiteral("annotation")).toString(),
        m_annotations.value(place.ns + u'/' + place.statefulSet));
    QCOMPARE(parameters.value(QStringLiteral("replicas")).toInt(), place.replicas);
    QCOMPARE(parameters.value(QStringLiteral("pods")).toArray().size(), place.replicas);
    // Each pod's own data directory, never the runbook's one.
    for (const QJsonValue& pod : parameters.value(QStringLiteral("pods")).toArray()) {
        QCOMPARE(pod.toObject().value(QStringLiteral("dir")).toString(),
            QStringLiteral("/var/data/single/") + pod.toObject().value(QStringLiteral("pod")).toString());
    }
    QCOMPARE(planned.value(QStringLiteral("steps")).toArray().size(), 7 + place.replicas);

    const QString reportFile = m_temp.filePath(place.statefulSet + QStringLiteral("-report.json"));
    const qsizetype logStart = m_sandbox.kubernetesRequests().size();
    const CliRun run = runCli(runArguments(place, place.statefulSet) << QStringLiteral("--report") << reportFile,
        m_sandbox.environment(), 120000);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    checkServing(place);
    const QJsonObject record = report(reportFile);
    QCOMPARE(record.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QJsonArray nodes
        = record.value(QStringLiteral("deleted")).toObject().value(QStringLiteral("raftDirectories")).toArray();
    QCOMPARE(nodes.size(), place.replicas);
    const QJsonObject vols = volumes();
    for (const QJsonValue& value : nodes) {
        const QJsonObject node = value.toObject();
        QVERIFY2(node.value(QStringLiteral("indexBefore")).toInteger()
                != node.value(QStringLiteral("indexAfterReset")).toInteger(),
            qPrintable(node.value(QStringLiteral("pod")).toString()));
        QCOMPARE(node.value(QStringLiteral("indexAfterReset")).toInteger(), 1);
        QCOMPARE(node.value(QStringLiteral("raftAfterRestart")).toString(), QStringLiteral("recreated"));
        const QString pod = node.value(QStringLiteral("pod")).toString();
        const QJsonObject files = vols.value(place.ns + u'/' + pod).toObject();
        QCOMPARE(files.value(QStringLiteral("/var/data/single/%1/data/store-0.db").arg(pod)).toString(),
            QStringLiteral("raftIndex=1\n"));
    }
    QVERIFY(record.value(QStringLiteral("summary")).toString().contains(QStringLiteral("restored byte for byte")));
    for (const QJsonValue& step : record.value(QStringLiteral("steps")).toArray())
        QCOMPARE(step.toObject().value(QStringLiteral("state")).toString(), QStringLiteral("succeeded"));
    // The writes: one patch to the DR image, the execs, two scales, the annotation back. No DELETE, no PUT.
    const QStringList writes = writesSince(logStart);
    QCOMPARE(writes.filter(QStringLiteral("DELETE")).size(), 0);
    QCOMPARE(writes.filter(QRegularExpression(QStringLiteral("^PATCH .*/scale$"))).size(), 2);
    QCOMPARE(writes.filter(QRegularExpression(QStringLiteral("^PATCH .*statefulsets/[a-z-]+$"))).size(), 2);
    QVERIFY(runCli({ QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") },
                m_sandbox.environment())
                .out.trimmed()
            == "[]"
        || unfinishedRun(place).isEmpty());
}

void TestRaftReset::badInputWritesNothing_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const auto args = [](const QString& cluster, const QString& ns, const QString& sts, const QString& image,
                          const QString& confirm) {
        return QStringList { QStringLiteral("run"), QStringLiteral("raft-reset"), QStringLiteral("--cluster"), cluster,
            QStringLiteral("--namespace"), ns, QStringLiteral("--statefulset"), sts, QStringLiteral("--dr-image"),
            image, QStringLiteral("--confirm"), confirm };
    };
    const QString s = kStaging.statefulSet;
    const QString n = kStaging.ns;
    const QString c = kStaging.cluster;
    QTest::newRow("metacharacters") << args(c, n, QStringLiteral("permie;rm -rf /"), kDrImage, s) << 2
                                    << "--statefulset";
    QTest::newRow("dot-dot") << args(c, n, QStringLiteral(".."), kDrImage, s) << 2 << "--statefulset";
    QTest::newRow("empty") << args(c, n, QString(), kDrImage, s) << 2 << "statefulset";
    QTest::newRow("too long") << args(c, n, QString(64, u'a'), kDrImage, s) << 2 << "--statefulset";
    QTest::newRow("upper case") << args(c, n, QStringLiteral("Permie"), kDrImage, s) << 2 << "--statefulset";
    QTest::newRow("namespace") << args(c, QStringLiteral("fg$(id)"), s, kDrImage, s) << 2 << "namespace";
    QTest::newRow("image without digest or tag")
        << args(c, n, s, QStringLiteral("image-registry.openshift-image-registry.svc:5000/fg/jerriedr"), s) << 2
        << "--dr-image";
    QTest::newRow("image short digest") << args(c, n, s, kDrImage.chopped(1), s) << 2 << "--dr-image";
    QTest::newRow("image with a space") << args(c, n, s, kDrImage + QStringLiteral(" x"), s) << 2 << "--dr-image";
    QTest::newRow("unknown cluster") << args(QStringLiteral("nowhere"), n, s, kDrImage, s) << 2 << "nowhere";
    QTest::newRow("wrong confirmation") << args(c, n, s, kDrImage, QStringLiteral("permie-ledger")) << 3 << "permie";
    QTest::newRow("production without its name") << args(kLedger.cluster, kLedger.ns, kLedger.statefulSet, kDrImage,
        QStringLiteral("yes")) << 3 << "permie-ledger";
    QTest::newRow("no such statefulset") << args(
        c, n, QStringLiteral("permie-nope"), kDrImage, QStringLiteral("permie-nope"))
                                         << 1 << "not found";
}

void TestRaftReset::badInputWritesNothing()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const qsizetype logStart = m_sandbox.kubernetesRequests().size();
    const CliRun run = runCli(arguments, m_sandbox.environment());
    QCOMPARE(run.exitCode, exitCode);
    QVERIFY2(QString::fromUtf8(run.err).contains(message), run.err.constData());
    const QStringList writes = writesSince(logStart);
    QVERIFY2(writes.filter(QRegularExpression(QStringLiteral("^(PATCH|PUT|DELETE)"))).isEmpty(),
        qPrintable(writes.join(u'\n')));
    checkServing(kStaging);
}

void TestRaftReset::anUnknownContextIsRefused()
{
    // The inventory names a context the kubeconfig does not have: refused before any request.
    QFile inventory(m_sandbox.inventoryPath());
    QVERIFY(inventory.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(inventory.readAll());
    const QRegularExpression context(QStringLiteral("context: fg-staging/[^\n]*"));
    QVERIFY(text.contains(context));
    text.replace(context, QStringLiteral("context: fg-staging/nowhere/opsdeck-admin"));
    QFile copy(m_temp.filePath(QStringLiteral("unknown-context.yaml")));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(text.toUtf8());
    copy.close();
    const qsizetype logStart = m_sandbox.kubernetesRequests().size();
    const CliRun run
        = runCli(runArguments(kStaging, kStaging.statefulSet) << QStringLiteral("--inventory") << copy.fileName(),
            m_sandbox.environment());
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("fg-staging/nowhere/opsdeck-admin"), run.err.constData());
    QCOMPARE(m_sandbox.kubernetesRequests(logStart).size(), 0);
}

void TestRaftReset::aNodeAlreadyResetIsAccepted()
{
    // permie-1 was reset before and took no proposal since: its index is already what raftIndexSet writes. It is
    // accepted because the other nodes are set to that same index, and the report says it did not change.
    QJsonObject files = volumes().value(kStaging.ns + QStringLiteral("/permie-1")).toObject();
    files.insert(QStringLiteral("/var/data/single/permie-1/data/store-0.db"), QStringLiteral("raftIndex=1\n"));
    QVERIFY(!m_sandbox
                 .kubernetesStandin(
                     QStringLiteral("/_standin/volumes"), { { kStaging.ns + QStringLiteral("/permie-1"), files } })
                 .isEmpty());
    const QString reportFile = m_temp.filePath(QStringLiteral("already-reset.json"));
    const CliRun run = runCli(runArguments(kStaging, kStaging.statefulSet) << QStringLiteral("--report") << reportFile,
        m_sandbox.environment(), 120000);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    checkServing(kStaging);
    QStringList unchanged;
    for (const QJsonValue& node : report(reportFile)
                                      .value(QStringLiteral("deleted"))
                                      .toObject()
                                      .value(QStringLiteral("raftDirectories"))
                                      .toArray()) {
        if (node.toObject().value(QStringLiteral("unchanged")).toBool())
            unchanged << node.toObject().value(QStringLiteral("pod")).toString();
    }
    QCOMPARE(unchanged, QStringList { QStringLiteral("permie-1") });
}

void TestRaftReset::aReadOnlyClusterIsRefused()
{
    const qsizetype logStart = m_sandbox.kubernetesRequests().size();
    const CliRun run
        = runCli(runArguments({ QStringLiteral("fg-viewer"), QStringLiteral("fg"), QStringLiteral("permie"), 3 },
                     QStringLiteral("permie")),
            m_sandbox.environment());
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains("read-only"), run.err.constData());
    QVERIFY(writesSince(logStart).filter(QRegularExpression(QStringLiteral("^(PATCH|PUT|DELETE)"))).isEmpty());
}

void TestRaftReset::aConflictIsReadAgainAndRetried_data()
{
    QTest::addColumn<QString>("holdAt"); // where the switch is set; empty: before the plan
    QTest::newRow("the plan's dry run") << QString();
    QTest::newRow("the DR patch") << QStringLiteral("dr-image");
}

void TestRaftReset::aConflictIsReadAgainAndRetried()
{
    // The stand-in answers the next write with 409: the patch reads the StatefulSet again, finds it as planned and
    // applies again with the new resourceVersion.
    QFETCH(QString, holdAt);
    const QString reportFile = m_temp.filePath(QStringLiteral("conflict.json"));
    if (holdAt.isEmpty()) {
        control({ { QStringLiteral("conflictNextWrite"), true } });
        const CliRun run
            = runCli(runArguments(kStaging, kStaging.statefulSet) << QStringLiteral("--report") << reportFile,
                m_sandbox.environment(), 120000);
        QVERIFY2(run.exitCode == 0, run.err.constData());
    } else {
        QProcess console;
        startHeld(&console, holdAt, { QStringLiteral("--report"), reportFile });
        control({ { QStringLiteral("conflictNextWrite"), true } });
        QFile::remove(holdFile());
        QVERIFY(console.waitForFinished(120000));
        QVERIFY2(console.exitCode() == 0, console.readAllStandardError().constData());
    }
    QCOMPARE(m_sandbox.kubernetesStandin(QStringLiteral("/_standin/control"))
                 .value(QStringLiteral("conflictNextWrite"))
                 .toBool(),
        false);
    QCOMPARE(report(reportFile).value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    checkServing(kStaging);
}

void TestRaftReset::aForbiddenPatchIsRefusedByThePlan()
{
    // The plan's dry run of the DR patch needs the same RBAC verb as the patch: refused before anything is written.
    control({ { QStringLiteral("forbidden"), QJsonArray { QStringLiteral("patch statefulsets") } } });
    const qsizetype logStart = m_sandbox.kubernetesRequests().size();
    const CliRun run = runCli(runArguments(kStaging, kStaging.statefulSet), m_sandbox.environment());
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("patch") && run.err.contains("statefulsets"), run.err.constData());
    QVERIFY(writesSince(logStart).filter(QRegularExpression(QStringLiteral("^(PATCH|PUT|DELETE)"))).isEmpty());
    QVERIFY(unfinishedRun(kStaging).isEmpty());
}

void TestRaftReset::v4OnlyServerStillResets()
{
    control({ { QStringLiteral("v4Only"), true } });
    const CliRun run = runCli(runArguments(kStaging, kStaging.statefulSet), m_sandbox.environment(), 120000);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    checkServing(kStaging);
}

void TestRaftReset::aPodThatNeverGetsReadyIsRolledBack()
{
    // The DR image never gets Ready: the rollout stops at the highest ordinal. Recovery restores the annotation,
    // deletes the stuck pod (kubernetes#67250) and ends with every pod back on latest; no RAFT was touched.
    control({ { QStringLiteral("neverReady"), QJsonArray { kDrImage } } });
    const QJsonObject before = volumes();
    const QString reportFile = m_temp.filePath(QStringLiteral("never-ready.json"));
    const CliRun run = runCli(runArguments(kStaging, kStaging.statefulSet) << QStringLiteral("--report") << reportFile,
        m_sandbox.environment(), 120000);
    QCOMPARE(run.exitCode, 1);
    checkServing(kStaging);
    const QJsonObject record = report(reportFile);
    // The pods never all ran the DR image, so no RAFT was read (or touched).
    QVERIFY2(record.value(QStringLiteral("summary")).toString().contains(QStringLiteral("Recovered: ")),
        qPrintable(record.value(QStringLiteral("summary")).toString()));
    bool deletedStuck = false;
    for (const QJsonValue& step : record.value(QStringLiteral("steps")).toArray())
        deletedStuck = deletedStuck
            || step.toObject().value(QStringLiteral("output")).toString().contains(QStringLiteral("kubernetes#67250"));
    QVERIFY(deletedStuck);
    const QJsonObject after = volumes();
    for (int i = 0; i < kStaging.replicas; ++i) {
        const QString key = QStringLiteral("%1/permie-%2").arg(kStaging.ns).arg(i);
        const QString store = QStringLiteral("/var/data/single/permie-%1/data/store-0.db").arg(i);
        QCOMPARE(after.value(key).toObject().value(store), before.value(key).toObject().value(store));
    }
    QVERIFY(unfinishedRun(kStaging).isEmpty());
}

void TestRaftReset::faultsLeaveTheRunOpenUntilRecovered_data()
{
    QTest::addColumn<QJsonObject>("switches");
    QTest::addColumn<QString>("expectedRecovery");
    // The exec's status is lost after the command ran (pod 0's raftIndexGet, which changes nothing): nothing can
    // be read while every exec drops, so the run is left open; once exec works the RAFT is read, still there.
    QTest::newRow("exec dropped") << QJsonObject { { QStringLiteral("execDrop"), true } } << "Recovered back";
    // The exec never ran: nothing was touched.
    QTest::newRow("exec InternalError") << QJsonObject { { QStringLiteral("execInternalError"), true } }
                                        << "Recovered back";
    // The token expires mid-run: nothing can be read, so nothing is decided until the admin logs in again.
    QTest::newRow("expired token") << QJsonObject {
        { QStringLiteral("expiredUsers"), QJsonArray { QStringLiteral("opsdeck-admin") } }
    } << "Recovered back";
    // RBAC taken away mid-run: the RAFT cannot be read, and the service stays down on the DR image.
    QTest::newRow("exec forbidden") << QJsonObject {
        { QStringLiteral("forbidden"), QJsonArray { QStringLiteral("create pods/exec") } }
    } << "Recovered back";
}

void TestRaftReset::faultsLeaveTheRunOpenUntilRecovered()
{
    QFETCH(QJsonObject, switches);
    QFETCH(QString, expectedRecovery);
    // Held before the first reset, so the fault hits the run's execs, not the plan's.
    const QString reportFile = m_temp.filePath(QStringLiteral("fault.json"));
    QProcess console;
    startHeld(&console, QStringLiteral("reset-permie-0"), { QStringLiteral("--report"), reportFile });
    control(switches);
    QFile::remove(holdFile());
    QVERIFY(console.waitForFinished(120000));
    QCOMPARE(console.exitCode(), 1);
    const QJsonObject record = report(reportFile);
    QVERIFY2(record.value(QStringLiteral("summary")).toString().contains(QStringLiteral("opsdeck recover")),
        qPrintable(record.value(QStringLiteral("summary")).toString()));
    const QString runId = unfinishedRun(kStaging);
    QVERIFY2(!runId.isEmpty(), "a run left open is listed as unfinished");
    init();
    QCOMPARE(recover(runId, QStringLiteral("wrong"), m_temp.filePath(QStringLiteral("r0.json"))).exitCode, 3);
    const QString recoveryReport = m_temp.filePath(QStringLiteral("recovery.json"));
    const CliRun recovered = recover(runId, kStaging.statefulSet, recoveryReport);
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    checkServing(kStaging);
    QVERIFY2(report(recoveryReport).value(QStringLiteral("summary")).toString().contains(expectedRecovery),
        qPrintable(report(recoveryReport).value(QStringLiteral("summary")).toString()));
    QVERIFY(unfinishedRun(kStaging).isEmpty());
}

void TestRaftReset::aCancelRecoversInTheSameRun()
{
    // Ctrl-C while pod 1's reset is about to start: pod 0's RAFT is gone, so the run's own recovery finishes the
    // reset on every node and brings the service back, through new clients (the cancel aborted the old ones).
    const QString reportFile = m_temp.filePath(QStringLiteral("cancelled.json"));
    QProcess console;
    startHeld(&console, QStringLiteral("reset-permie-1"), { QStringLiteral("--report"), reportFile });
    QCOMPARE(::kill(pid_t(console.processId()), SIGINT), 0);
    QVERIFY(console.waitForFinished(120000));
    QFile::remove(holdFile());
    const QJsonObject record = report(reportFile);
    QCOMPARE(record.value(QStringLiteral("outcome")).toString(), QStringLiteral("cancelled"));
    QVERIFY2(record.value(QStringLiteral("summary")).toString().contains(QStringLiteral("Recovered forward")),
        qPrintable(record.value(QStringLiteral("summary")).toString()));
    checkServing(kStaging);
    QVERIFY(unfinishedRun(kStaging).isEmpty());
}

void TestRaftReset::killedConsoleIsRecovered_data()
{
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("expectedRecovery");
    // Before the DR rollout is complete the RAFT is not read; once every pod runs the DR image it is, and a node
    // found reset means the reset is finished on all of them.
    QTest::newRow("check") << "check"
                           << "Recovered: ";
    QTest::newRow("dr-image") << "dr-image"
                              << "Recovered: ";
    QTest::newRow("rollout-dr") << "rollout-dr"
                                << "Recovered";
    QTest::newRow("reset-permie-1") << "reset-permie-1"
                                    << "Recovered forward";
    QTest::newRow("scale-down") << "scale-down"
                                << "Recovered forward";
    QTest::newRow("restore-trigger") << "restore-trigger"
                                     << "Recovered: ";
    QTest::newRow("scale-up") << "scale-up"
                              << "Recovered: ";
    QTest::newRow("verify") << "verify"
                            << "Recovered: ";
}

void TestRaftReset::killedConsoleIsRecovered()
{
    QFETCH(QString, step);
    QFETCH(QString, expectedRecovery);
    QProcess console;
    startHeld(&console, step, {});
    ::kill(pid_t(console.processId()), SIGKILL);
    QVERIFY(console.waitForFinished(10000));
    QFile::remove(holdFile());
    const QString runId = unfinishedRun(kStaging);
    QVERIFY(!runId.isEmpty());
    const QString recoveryReport = m_temp.filePath(QStringLiteral("recovery-%1.json").arg(step));
    const CliRun recovered = recover(runId, kStaging.statefulSet, recoveryReport);
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    checkServing(kStaging);
    QVERIFY2(report(recoveryReport).value(QStringLiteral("summary")).toString().contains(expectedRecovery),
        qPrintable(report(recoveryReport).value(QStringLiteral("summary")).toString()));
    QVERIFY(unfinishedRun(kStaging).isEmpty());
}

QTEST_GUILESS_MAIN(TestRaftReset)
#include "tst_raftreset.moc"
