// Faults during a Packit wipe, one at every step: the console SIGKILLed (then `opsdeck recover`), and the SSH
// connection killed (the run's own recovery). Every time the instance ends untouched or wiped as the runbook leaves
// it, with both units active, and the journal and the report say which. All on reside-dev, reseeded after a wipe.
// The console holds at the step (OPSDECK_HOLD_AT_STEP, after its start is journaled and before its action) so that
// the fault lands in that step every time, fast steps too.
#include "HeldRun.h"
#include "PackitSandbox.h"
#include "Sandbox.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
const QString kHost = QStringLiteral("wpia-packit-dev");
const QString kInstance = QStringLiteral("reside-dev");
const QString kTarget = QStringLiteral("wpia-packit-dev/reside-dev");
} // namespace

class TestWipeFaults : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void killedConsoleIsRecovered_data();
    void killedConsoleIsRecovered();
    void killedConnectionIsRecovered_data();
    void killedConnectionIsRecovered();
    void rowsWithoutAnyRootAreLeftStoppedAndNotSafe();

private:
    void addSteps();
    // Starts the wipe held at `step` and returns once the journal shows it started (false if the run ended first).
    // Removing holdFile() lets the held run go on.
    bool startWipeHeldAt(QProcess* cli, const QString& step, const QString& reportPath);
    QString holdFile() const { return m_temp.filePath(QStringLiteral("hold")); }
    // "untouched" or "wiped" if the instance is exactly one of them with both units active, else what is wrong.
    QString endState();
    // The seeded state again, if the last case wiped it.
    void restoreSeed();
    void restoreWindowOf(const QString& runId);
    QJsonArray unfinished();
    // The id of the unfinished run on kTarget, or empty.
    QString unfinishedRunId();

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QProcessEnvironment m_environment;
    QString m_seeded; // the fingerprint of reside-dev as (re)seeded before the case
};

void TestWipeFaults::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_environment = m_sandbox.environment();
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    m_seeded = m_packit.fingerprint(kHost, kInstance);
}

void TestWipeFaults::cleanupTestCase()
{
    restoreSeed(); // as the other tests expect it
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

void TestWipeFaults::addSteps()
{
    QTest::addColumn<QString>("step");
    for (const char* step : { "stop-units", "check-stopped", "move-root", "export-rows", "delete-rows", "start-units",
             "check-started", "keep-old-root" })
        QTest::newRow(step) << QString::fromLatin1(step);
}

bool TestWipeFaults::startWipeHeldAt(QProcess* cli, const QString& step, const QString& reportPath)
{
    return startHeldAtStep(cli, m_environment,
        { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), kHost,
            QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"), kInstance, QStringLiteral("--report"),
            reportPath },
        { .step = step,
            .holdFile = holdFile(),
            .journalPath = m_sandbox.dir() + QStringLiteral("/journal.sqlite"),
            .target = kTarget,
            .operation = {}, // any operation on kTarget
            .timeoutMs = 120000 });
}

QString TestWipeFaults::endState()
{
    QStringList problems;
    for (const QString& unit : { QStringLiteral("outpack-reside-dev"), QStringLiteral("packit-api-reside-dev") }) {
        if (const QString state = m_packit.unitState(kHost, unit); state != QStringLiteral("active"))
            problems << QStringLiteral("%1 is %2").arg(unit, state);
    }
    // Untouched leaves nothing beside the root; wiped leaves exactly the undo window's kept root and its bundle.
    const QString base = m_packit.outpackBase(kHost);
    const QStringList left
        = QDir(base).entryList({ QStringLiteral(".opsdeck-wipe-*") }, QDir::AllEntries | QDir::Hidden, QDir::Name);
    const bool keptPair = left.size() == 2 && left[1] == left[0] + QStringLiteral(".restore");
    if (!problems.isEmpty())
        return problems.join(QStringLiteral("; "));
    if (m_packit.fingerprint(kHost, kInstance) == m_seeded)
        return left.isEmpty() ? QStringLiteral("untouched")
                              : QStringLiteral("untouched, but left behind: ") + left.join(u' ');
    if (!keptPair)
        return QStringLiteral("left behind: ") + left.join(u' ');
    int files = 0;
    QDirIterator it(m_packit.instanceRoot(kHost, kInstance), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        ++files;
    }
    const qint64 packets = m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet"));
    const qint64 groups = m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet_group"));
    if (packets == 0 && groups == 0 && files == 1)
        return QStringLiteral("wiped");
    return QStringLiteral("in between: %1 packets, %2 groups, %3 files in the root")
        .arg(packets)
        .arg(groups)
        .arg(files);
}

// The window a recovered wipe kept restores the instance exactly as it was before the wipe.
void TestWipeFaults::restoreWindowOf(const QString& runId)
{
    const CliRun restore
        = runCli({ QStringLiteral("restore"), runId, QStringLiteral("--confirm"), kInstance }, m_environment, 180000);
    QVERIFY2(restore.exitCode == 0, restore.err.constData());
    QCOMPARE(m_packit.fingerprint(kHost, kInstance), m_seeded);
    QVERIFY(QDir(m_packit.hostRoot(kHost) + QStringLiteral("/var/lib/outpack"))
                .entryList({ QStringLiteral(".opsdeck-*") }, QDir::AllEntries | QDir::Hidden)
                .isEmpty());
}

void TestWipeFaults::restoreSeed()
{
    if (m_packit.fingerprint(kHost, kInstance) == m_seeded)
        return;
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    // Packit's migrations give the SERVICE user a random id (gen_random_uuid()), so a reloaded database differs from
    // the one before in that id alone: "untouched" means as it was just before the case.
    m_seeded = m_packit.fingerprint(kHost, kInstance);
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")),
        m_packit.seeded(kInstance).value(QStringLiteral("packets")).toInteger());
}

QJsonArray TestWipeFaults::unfinished()
{
    const CliRun list
        = runCli({ QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") }, m_environment);
    return QJsonDocument::fromJson(list.out).array();
}

QString TestWipeFaults::unfinishedRunId()
{
    for (const QJsonValue& value : unfinished()) {
        if (value.toObject().value(QStringLiteral("target")).toString() == kTarget)
            return value.toObject().value(QStringLiteral("id")).toString();
    }
    return {};
}

void TestWipeFaults::killedConsoleIsRecovered_data()
{
    addSteps();
}

// SIGKILL: nothing in the console runs any more. The run stays without an outcome until `opsdeck recover`.
void TestWipeFaults::killedConsoleIsRecovered()
{
    QFETCH(QString, step);
    restoreSeed();
    QProcess cli;
    QVERIFY2(startWipeHeldAt(&cli, step, m_temp.filePath(QStringLiteral("killed.json"))),
        cli.readAllStandardError().constData());
    // processId() is 0 once the process ended, and kill(0, ...) would signal this test's own process group.
    QVERIFY(cli.processId() > 0);
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGKILL), 0);
    QVERIFY(cli.waitForFinished(10000));

    const QString runId = unfinishedRunId();
    QVERIFY2(!runId.isEmpty(), "the killed run is not listed as unfinished");
    // Every command says so.
    const CliRun hosts = runCli({ QStringLiteral("check") }, m_environment);
    QVERIFY2(hosts.err.contains(runId.toUtf8()) && hosts.err.contains("opsdeck recover"), hosts.err.constData());
    // The service checks the confirmation, as for the wipe.
    QCOMPARE(runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), QStringLiteral("reside") },
                 m_environment)
                 .exitCode,
        3);

    const QString reportPath = m_temp.filePath(QStringLiteral("recovered.json"));
    const CliRun recover = runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kInstance,
                                      QStringLiteral("--report"), reportPath },
        m_environment, 180000);
    QVERIFY2(recover.exitCode == 0, recover.err.constData());
    QFile file(reportPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-wipe-recover"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QString state = endState();
    qInfo("killed at %s, recovered: %s", qPrintable(step), qPrintable(state));
    QVERIFY2(state == QStringLiteral("untouched") || state == QStringLiteral("wiped"), qPrintable(state));
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: ") + state), qPrintable(summary));
    // Neither end is for good: a wipe it finishes keeps the old root and every row for its undo window.
    QSqlQuery planned(QSqlDatabase::database(QStringLiteral("journal")));
    planned.prepare(QStringLiteral("SELECT data FROM entries WHERE run_id = ? AND kind = 'plan'"));
    planned.addBindValue(report.value(QStringLiteral("id")).toString());
    QVERIFY(planned.exec() && planned.next());
    QCOMPARE(
        QJsonDocument::fromJson(planned.value(0).toByteArray()).object().value(QStringLiteral("irreversible")).toBool(),
        false);
    planned.finish();
    if (state == QStringLiteral("wiped"))
        restoreWindowOf(report.value(QStringLiteral("id")).toString());
    // The killed run is closed in the journal, by the recovery that made it safe.
    for (const QJsonValue& value : unfinished())
        QVERIFY(value.toObject().value(QStringLiteral("id")).toString() != runId);
}

void TestWipeFaults::killedConnectionIsRecovered_data()
{
    addSteps();
}

// The SSH connection (and the database tunnel on it) dies mid-step: the run's own recovery reconnects and decides.
void TestWipeFaults::killedConnectionIsRecovered()
{
    QFETCH(QString, step);
    restoreSeed();
    const QString reportPath = m_temp.filePath(QStringLiteral("dropped.json"));
    QFile::remove(reportPath);
    QProcess cli;
    QVERIFY2(startWipeHeldAt(&cli, step, reportPath), cli.readAllStandardError().constData());
    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { kHost }), 0);
    // The step's action meets the dead connection; the host comes back while the recovery retries.
    QVERIFY(QFile::remove(holdFile()));
    QTest::qWait(1500);
    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { kHost }), 0);
    QVERIFY(cli.waitForFinished(180000));
    QFile file(reportPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    const QString state = endState();
    qInfo("connection dropped at %s, %s: %s", qPrintable(step),
        qPrintable(report.value(QStringLiteral("outcome")).toString()), qPrintable(state));
    QVERIFY2(state == QStringLiteral("untouched") || state == QStringLiteral("wiped"),
        qPrintable(state + QStringLiteral(" -- ") + report.value(QStringLiteral("summary")).toString()));
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: ") + state), qPrintable(summary));
    if (state == QStringLiteral("wiped"))
        restoreWindowOf(report.value(QStringLiteral("id")).toString());
}

// Neither end state can be reached when the rows are there and no outpack root is, neither in place nor moved aside
// (someone removed it while the console was dead): starting outpack would create an empty root under the rows.
// The recovery leaves the units stopped, fails, and says NOT SAFE with what to do; once the root is back, the same
// run recovers to untouched.
void TestWipeFaults::rowsWithoutAnyRootAreLeftStoppedAndNotSafe()
{
    restoreSeed();
    QProcess cli;
    QVERIFY2(startWipeHeldAt(&cli, QStringLiteral("move-root"), m_temp.filePath(QStringLiteral("killed.json"))),
        cli.readAllStandardError().constData());
    QVERIFY(cli.processId() > 0);
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGKILL), 0);
    QVERIFY(cli.waitForFinished(10000));
    const QString root = m_packit.instanceRoot(kHost, kInstance);
    const QString elsewhere = m_temp.filePath(QStringLiteral("root-taken-away"));
    QVERIFY(QDir().rename(root, elsewhere));
    const QString runId = unfinishedRunId();
    QVERIFY(!runId.isEmpty());

    const QString reportPath = m_temp.filePath(QStringLiteral("not-safe.json"));
    CliRun recover = runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kInstance,
                                QStringLiteral("--report"), reportPath },
        m_environment, 180000);
    QCOMPARE(recover.exitCode, 1);
    QFile file(reportPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString summary
        = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: NOT SAFE")) && summary.contains(QStringLiteral("missing"))
            && summary.contains(QStringLiteral("NOT running")),
        qPrintable(summary));
    for (const QString& unit : { QStringLiteral("outpack-reside-dev"), QStringLiteral("packit-api-reside-dev") })
        QVERIFY2(m_packit.unitState(kHost, unit) != QStringLiteral("active"), qPrintable(unit));
    QVERIFY(!QFileInfo::exists(root));
    QVERIFY(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")) > 0);

    // The admin puts the root back; the run is still unfinished, and its recovery now ends untouched.
    QVERIFY(QDir().rename(elsewhere, root));
    QCOMPARE(unfinishedRunId(), runId);
    recover
        = runCli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kInstance }, m_environment, 180000);
    QVERIFY2(recover.exitCode == 0, recover.err.constData());
    QCOMPARE(endState(), QStringLiteral("untouched"));
    QVERIFY(unfinishedRunId().isEmpty());
}

QTEST_GUILESS_MAIN(TestWipeFaults)
#include "tst_wipefaults.moc"
