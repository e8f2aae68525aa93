// A deploy whose console is SIGKILLed, at each point of a deploy of the staging machine: held before the deploy
// command starts, while nix builds, while the machine activates, and held before the check. Then `opsdeck recover`:
// the machine ends running the revision the killed run pinned (the runbook's end), no two activations overlap, and
// the journal and the report say what happened. Each case deploys a new commit of main; runs after the other deploy
// tests, since it moves main and the staging machine. Then a restore of a deploy, killed and recovered.
#include "Sandbox.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>

using namespace opsdeck::test;

namespace {
const QString kMachine = QStringLiteral("wpia-packit-dev");
constexpr int kActivationSeconds = 6;
} // namespace

class TestDeployFaults : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void killedDeployIsResumed_data();
    void killedDeployIsResumed();
    void aSilentCommandEndsWithItsConsole();
    void killedRestoreEndsBeforeOrAfter_data();
    void killedRestoreEndsBeforeOrAfter();

private:
    QByteArray promFile() const;
    QString holdFile() const { return m_temp.filePath(QStringLiteral("hold")); }
    QString nixControlFile() const { return m_sandbox.dir() + QStringLiteral("/nix-control.json"); }
    // Whether a deploy of `revision` runs (other sandboxes on this machine may be deploying other commits).
    bool nixRunning(const QString& revision) const;
    QJsonObject unfinishedDeploy();

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestDeployFaults::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
}

void TestDeployFaults::cleanupTestCase()
{
    QFile::remove(nixControlFile());
}

QByteArray TestDeployFaults::promFile() const
{
    QFile file(m_sandbox.machine(kMachine).value(QStringLiteral("root")).toString()
        + QStringLiteral("/etc/metrics/configuration-info.prom"));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool TestDeployFaults::nixRunning(const QString& revision) const
{
    QProcess pgrep;
    pgrep.start(
        QStringLiteral("pgrep"), { QStringLiteral("-f"), QStringLiteral("standins/nix run .*rev=") + revision });
    pgrep.waitForFinished();
    return pgrep.exitCode() == 0;
}

QJsonObject TestDeployFaults::unfinishedDeploy()
{
    const CliRun list = runCli(
        { QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") }, m_sandbox.environment());
    for (const QJsonValue& run : QJsonDocument::fromJson(list.out).array()) {
        if (run[QStringLiteral("target")].toString() == kMachine)
            return run.toObject();
    }
    return {};
}

void TestDeployFaults::killedDeployIsResumed_data()
{
    QTest::addColumn<QString>("holdAt"); // a step to hold the console at, or empty
    QTest::addColumn<QByteArray>("killOn"); // else: a line of the deploy command's output to kill it on
    QTest::addColumn<bool>("activated"); // whether the killed run's command activated the machine after all
    QTest::newRow("before the command") << QStringLiteral("deploy:wpia-packit-dev") << QByteArray() << false;
    QTest::newRow("while nix builds") << QString() << QByteArray("building '") << false;
    QTest::newRow("while the machine activates") << QString() << QByteArray("activating the configuration") << true;
    QTest::newRow("before the check") << QStringLiteral("verify:wpia-packit-dev") << QByteArray() << true;
}

void TestDeployFaults::killedDeployIsResumed()
{
    QFETCH(QString, holdAt);
    QFETCH(QByteArray, killOn);
    QFETCH(bool, activated);
    const QJsonObject pushed = m_sandbox.postToGithubStandin(QStringLiteral("/_standin/push"),
        { { QStringLiteral("message"),
              QStringLiteral("Fault test: %1").arg(QString::fromUtf8(QTest::currentDataTag())) },
            { QStringLiteral("config"), true } });
    const QString revision = pushed.value(QStringLiteral("sha")).toString();
    QCOMPARE(revision.size(), 40);
    const QByteArray before = promFile();
    QVERIFY(!before.contains(revision.toUtf8()));
    {
        // A real switch restarts services for seconds: long enough that the recovery starts while it still runs.
        QFile control(nixControlFile());
        QVERIFY(control.open(QIODevice::WriteOnly));
        control.write(QStringLiteral("{\"activationSeconds\": %1}").arg(kActivationSeconds).toUtf8());
    }

    QProcessEnvironment environment = m_sandbox.environment();
    if (!holdAt.isEmpty()) {
        QFile hold(holdFile());
        QVERIFY(hold.open(QIODevice::WriteOnly));
        environment.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), holdAt);
        environment.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), holdFile());
    }
    QProcess cli;
    cli.setProcessEnvironment(environment);
    cli.start(QStringLiteral(OPSDECK_BINARY),
        { QStringLiteral("deploy"), QStringLiteral("run"), QStringLiteral("--machine"), kMachine,
            QStringLiteral("--ref"), QStringLiteral("main"), QStringLiteral("--confirm"), kMachine });
    QByteArray output;
    const QByteArray waitFor = holdAt.isEmpty() ? killOn : QByteArray("holding before the action of step");
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += cli.readAllStandardError();
                     return output.contains(waitFor) || cli.state() == QProcess::NotRunning;
                 },
                 60000),
        output.constData());
    QVERIFY2(cli.state() == QProcess::Running && cli.processId() > 0, output.constData());
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGKILL), 0);
    QVERIFY(cli.waitForFinished(10000));
    QFile::remove(holdFile());

    if (activated && holdAt.isEmpty()) {
        // The activation goes on without its console; the recovery starts while it runs, and must wait for it.
        QVERIFY(nixRunning(revision));
        QVERIFY(!promFile().contains(revision.toUtf8()));
    } else {
        // A build stops (its command gets SIGTERM when the console dies); a finished command left its machine as
        // it was or switched.
        QTRY_VERIFY_WITH_TIMEOUT(!nixRunning(revision), 10000);
        QCOMPARE(promFile().contains(revision.toUtf8()), activated);
    }

    const QJsonObject killed = unfinishedDeploy();
    const QString runId = killed.value(QStringLiteral("id")).toString();
    QVERIFY2(!runId.isEmpty(), "the killed deploy is not listed as unfinished");
    QCOMPARE(killed.value(QStringLiteral("operation")).toString(), QStringLiteral("deploy"));
    // The recovery checks the run's own confirmation.
    QCOMPARE(runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), QStringLiteral("wpia-packit") },
                 m_sandbox.environment())
                 .exitCode,
        3);

    const QString reportPath = m_temp.filePath(QStringLiteral("recovered.json"));
    const CliRun recover = runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kMachine,
                                      QStringLiteral("--report"), reportPath },
        m_sandbox.environment(), 120000);
    QVERIFY2(recover.exitCode == 0, recover.err.constData());
    QVERIFY2(promFile().contains(revision.toUtf8()), promFile().constData());
    QVERIFY(!nixRunning(revision));
    QVERIFY2(unfinishedDeploy().isEmpty(), "the killed run is still unfinished after its recovery");

    QFile file(reportPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("operation")).toString(), QStringLiteral("deploy"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(report.value(QStringLiteral("after")).toObject().value(kMachine).toString(), revision);
    QVERIFY2(report.value(QStringLiteral("summary")).toString().contains(runId),
        qPrintable(report.value(QStringLiteral("summary")).toString()));
    const QJsonArray steps = report.value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps.size(), 3);
    QStringList ids;
    for (const QJsonValue& step : steps) {
        ids << step[QStringLiteral("id")].toString();
        QCOMPARE(step[QStringLiteral("state")].toString(), QStringLiteral("succeeded"));
    }
    QCOMPARE(ids,
        QStringList({ QStringLiteral("wait-commands"), QStringLiteral("deploy:wpia-packit-dev"),
            QStringLiteral("verify:wpia-packit-dev") }));
    const QString waited = steps[0][QStringLiteral("output")].toString();
    QCOMPARE(waited.contains(QStringLiteral("waited until it ended")), activated && holdAt.isEmpty());
    // A machine the killed run switched is only verified; the others are deployed now.
    const QString deployed = steps[1][QStringLiteral("output")].toString();
    QVERIFY2(deployed.contains(
                 activated ? QStringLiteral("not deployed again") : QStringLiteral("activating the configuration")),
        qPrintable(deployed));
}

void TestDeployFaults::killedRestoreEndsBeforeOrAfter_data()
{
    QTest::addColumn<QString>("holdAt");
    QTest::addColumn<QByteArray>("killOn");
    QTest::addColumn<bool>("activated");
    QTest::newRow("before the command") << QStringLiteral("deploy:wpia-packit-dev") << QByteArray() << false;
    QTest::newRow("while the machine activates") << QString() << QByteArray("activating the configuration") << true;
}

// `opsdeck restore` of a deploy whose console is SIGKILLed midway: the machine runs either the deployed revision or
// the previous one, never anything else; the window stays open until `opsdeck recover` finishes the restore, which
// then closes it.
void TestDeployFaults::killedRestoreEndsBeforeOrAfter()
{
    QFETCH(QString, holdAt);
    QFETCH(QByteArray, killOn);
    QFETCH(bool, activated);
    const QJsonObject pushed = m_sandbox.postToGithubStandin(QStringLiteral("/_standin/push"),
        { { QStringLiteral("message"),
              QStringLiteral("Restore fault test: %1").arg(QString::fromUtf8(QTest::currentDataTag())) },
            { QStringLiteral("config"), true } });
    const QString revision = pushed.value(QStringLiteral("sha")).toString();
    QFile::remove(nixControlFile());
    const QByteArray previous = promFile();
    const CliRun deployed
        = runCli({ QStringLiteral("deploy"), QStringLiteral("run"), QStringLiteral("--machine"), kMachine,
                     QStringLiteral("--ref"), QStringLiteral("main"), QStringLiteral("--confirm"), kMachine },
            m_sandbox.environment(), 120000);
    QVERIFY2(deployed.exitCode == 0, deployed.err.constData());
    QVERIFY(promFile().contains(revision.toUtf8()));
    const QString deployRun = QString::fromUtf8(deployed.out).section(QStringLiteral("\nrun "), -1).left(36);
    QCOMPARE(deployRun.size(), 36);
    {
        QFile control(nixControlFile());
        QVERIFY(control.open(QIODevice::WriteOnly));
        control.write(QStringLiteral("{\"activationSeconds\": %1}").arg(kActivationSeconds).toUtf8());
    }

    QProcessEnvironment environment = m_sandbox.environment();
    if (!holdAt.isEmpty()) {
        QFile hold(holdFile());
        QVERIFY(hold.open(QIODevice::WriteOnly));
        environment.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), holdAt);
        environment.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), holdFile());
    }
    QProcess cli;
    cli.setProcessEnvironment(environment);
    cli.start(QStringLiteral(OPSDECK_BINARY),
        { QStringLiteral("restore"), deployRun, QStringLiteral("--confirm"), kMachine });
    QByteArray output;
    const QByteArray waitFor = holdAt.isEmpty() ? killOn : QByteArray("holding before the action of step");
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += cli.readAllStandardError();
                     return output.contains(waitFor) || cli.state() == QProcess::NotRunning;
                 },
                 60000),
        output.constData());
    QVERIFY2(cli.state() == QProcess::Running && cli.processId() > 0, output.constData());
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGKILL), 0);
    QVERIFY(cli.waitForFinished(10000));
    QFile::remove(holdFile());
    // Before or after: the deployed revision, or (its activation finished without its console) the previous one.
    QTRY_VERIFY_WITH_TIMEOUT(!nixRunning(revision) || activated, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(promFile() == previous || promFile().contains(revision.toUtf8()), 30000);
    if (!activated)
        QVERIFY(promFile().contains(revision.toUtf8()));

    // The window stays open while the restore is unfinished.
    QVERIFY(
        runCli({ QStringLiteral("trash"), QStringLiteral("list"), QStringLiteral("--json") }, m_sandbox.environment())
            .out.contains(deployRun.toUtf8()));
    const QJsonObject killed = unfinishedDeploy();
    const QString runId = killed.value(QStringLiteral("id")).toString();
    QVERIFY2(!runId.isEmpty(), "the killed restore is not listed as unfinished");
    QCOMPARE(killed.value(QStringLiteral("operation")).toString(), QStringLiteral("deploy-previous"));
    const CliRun recover = runCli(
        { QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kMachine }, m_sandbox.environment(), 120000);
    QVERIFY2(recover.exitCode == 0, recover.err.constData());
    QCOMPARE(promFile(), previous);
    QVERIFY(unfinishedDeploy().isEmpty());
    const CliRun again = runCli(
        { QStringLiteral("restore"), deployRun, QStringLiteral("--confirm"), kMachine }, m_sandbox.environment());
    QCOMPARE(again.exitCode, 2);
    QVERIFY2(again.err.contains("restored by run "), again.err.constData());
    QFile::remove(nixControlFile());
}

// The stand-in's nix dies of a broken pipe at its next line of output once its console is gone; a command that
// writes nothing for a long time (a build fetching a large closure) must not outlive its console either: it gets
// SIGTERM when the console dies. The run is then resumed with the sandbox's real deploy command.
void TestDeployFaults::aSilentCommandEndsWithItsConsole()
{
    const QString machine = QStringLiteral("wpia-packit-private");
    const QString inventory = m_sandbox.inventoryWithDeployCommand(m_temp.filePath(QStringLiteral("silent.yaml")),
        QStringLiteral("[sh, -c, 'exec sleep 41.5', \"github:{repository}?rev={rev}#deploy\", \"{machine}\"]"));
    QVERIFY(!inventory.isEmpty());
    const auto sleeping = [] {
        QProcess pgrep;
        pgrep.start(QStringLiteral("pgrep"), { QStringLiteral("-f"), QStringLiteral("sleep 41.5") });
        pgrep.waitForFinished();
        return pgrep.exitCode() == 0;
    };

    QProcess cli;
    cli.setProcessEnvironment(m_sandbox.environment());
    cli.start(QStringLiteral(OPSDECK_BINARY),
        { QStringLiteral("deploy"), QStringLiteral("run"), QStringLiteral("--inventory"), inventory,
            QStringLiteral("--machine"), machine, QStringLiteral("--ref"), QStringLiteral("main"),
            QStringLiteral("--confirm"), machine });
    QTRY_VERIFY_WITH_TIMEOUT(sleeping(), 30000);
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGKILL), 0);
    QVERIFY(cli.waitForFinished(10000));
    QTRY_VERIFY_WITH_TIMEOUT(!sleeping(), 5000);

    QString runId;
    const CliRun list = runCli(
        { QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") }, m_sandbox.environment());
    for (const QJsonValue& run : QJsonDocument::fromJson(list.out).array()) {
        if (run[QStringLiteral("target")].toString() == machine)
            runId = run[QStringLiteral("id")].toString();
    }
    QVERIFY2(!runId.isEmpty(), list.out.constData());
    const CliRun recover = runCli(
        { QStringLiteral("recover"), runId, QStringLiteral("--confirm"), machine }, m_sandbox.environment(), 120000);
    QVERIFY2(recover.exitCode == 0, recover.err.constData());
    QVERIFY2(recover.out.contains("is resumed"), recover.out.constData());
}

QTEST_GUILESS_MAIN(TestDeployFaults)
#include "tst_deployfaults.moc"
