// The Packit wipe end to end, as an admin runs it: the opsdeck executable against the sandbox's Packit world.
#include "PackitSandbox.h"
#include "Sandbox.h"
#include "runbook/Journal.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <signal.h>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
// step id -> state, from a JSON report.
QMap<QString, QString> stepStates(const QJsonObject& report)
{
    QMap<QString, QString> states;
    for (const QJsonValue& value : report.value(QStringLiteral("steps")).toArray())
        states.insert(value.toObject().value(QStringLiteral("id")).toString(),
            value.toObject().value(QStringLiteral("state")).toString());
    return states;
}
// The delete's COMMIT, sleeping in the test's deferred trigger.
const QString kCommitSleeping
    = QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE query = 'COMMIT' AND wait_event = 'PgSleep'");
} // namespace

class TestPackitWipe : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void instancesAndPacketsAreListed();
    void planNamesEveryCount();
    void badInputIsRefusedAndTouchesNothing_data();
    void badInputIsRefusedAndTouchesNothing();
    void wrongConfirmationReadOnlyAndLockAreRefused();
    void wipeTrainingLeavesEverythingElse();
    void droppedConnectionAfterStopRecovers();
    void cancelStopsTheDeleteInFlightAndRecovers();
    void journalVerifyDetectsAnEditedEntry();
    void failedStartIsRecoveredAndReported();
    // Recovery decides from what it reads back (all three on reside-dev, in this order: the last one wipes it).
    void lostMoveAnswerPutsTheRootBack();
    void unitStuckDeactivatingIsNotStopped();
    void terminateAndHangupCancelLikeCtrlC_data();
    void terminateAndHangupCancelLikeCtrlC();
    void lostCommitStillRunningIsRolledBack();
    void lostCommitAnswerFinishesTheWipe();

private:
    QString inventoryWith(const QString& name, const std::function<QString(QString)>& edit);
    // Replaces the host's <root>/bin/NAME (first on its PATH) with a shell script until the guard ends.
    struct HostBinary
    {
        QString path;
        QString savedLink; // the symlink it replaced, if any
        ~HostBinary();
    };
    std::unique_ptr<HostBinary> replaceHostBinary(const QString& host, const QString& name, const QString& script);
    // Starts `run packit-wipe` of reside-dev on wpia-packit-dev with a JSON report.
    void startDevWipe(QProcess* cli, const QString& reportPath);
    // Waits until its progress says both units were stopped.
    bool waitUntilStopped(QProcess* cli);
    QJsonObject readReport(const QString& path);
    QJsonObject wipeLosingTheCommit(int commitSeconds, int downSeconds);

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QProcessEnvironment m_environment;
};

void TestPackitWipe::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_environment = m_sandbox.environment();
}

void TestPackitWipe::cleanupTestCase()
{
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

QString TestPackitWipe::inventoryWith(const QString& name, const std::function<QString(QString)>& edit)
{
    QFile source(m_sandbox.inventoryPath());
    if (!source.open(QIODevice::ReadOnly))
        return {};
    const QString path = m_temp.filePath(name);
    QFile target(path);
    if (!target.open(QIODevice::WriteOnly))
        return {};
    target.write(edit(QString::fromUtf8(source.readAll())).toUtf8());
    return path;
}

void TestPackitWipe::instancesAndPacketsAreListed()
{
    const CliRun instances = runCli({ QStringLiteral("packit"), QStringLiteral("instances"), QStringLiteral("--host"),
                                        QStringLiteral("wpia-packit"), QStringLiteral("--json") },
        m_environment);
    QCOMPARE(instances.exitCode, 0);
    const QJsonArray array = QJsonDocument::fromJson(instances.out).array();
    QCOMPARE(array.size(), 4);
    for (const QJsonValue& value : array) {
        const QJsonObject object = value.toObject();
        const QString name = object.value(QStringLiteral("instance")).toString();
        QVERIFY2(object.value(QStringLiteral("error")).isNull(),
            qPrintable(object.value(QStringLiteral("error")).toString()));
        QCOMPARE(object.value(QStringLiteral("outpackState")).toString(), QStringLiteral("active"));
        QCOMPARE(object.value(QStringLiteral("apiState")).toString(), QStringLiteral("active"));
        QCOMPARE(object.value(QStringLiteral("packets")).toInteger(),
            m_packit.seeded(name).value(QStringLiteral("packets")).toInteger());
        QCOMPARE(object.value(QStringLiteral("groups")).toInteger(),
            m_packit.seeded(name).value(QStringLiteral("groups")).toInteger());
        QCOMPARE(object.value(QStringLiteral("rootFiles")).toInteger(),
            m_packit.seeded(name).value(QStringLiteral("rootFiles")).toInteger());
    }

    // The text table has the Packit pane's column names, and the outpack root's size as the pane says it (--json keeps
    // the bytes).
    const CliRun table = runCli({ QStringLiteral("packit"), QStringLiteral("instances"), QStringLiteral("--host"),
                                    QStringLiteral("wpia-packit") },
        m_environment);
    QCOMPARE(table.exitCode, 0);
    const QStringList lines = QString::fromUtf8(table.out).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 5);
    QCOMPARE(lines[0].simplified(), QStringLiteral("INSTANCE OUTPACK PACKIT-API PACKETS GROUPS OUTPACK ROOT ERROR"));
    for (const QJsonValue& value : array) {
        const QJsonObject object = value.toObject();
        const QString root
            = QStringLiteral("%1 file%2, %3")
                  .arg(QLocale(QLocale::English).toString(object.value(QStringLiteral("rootFiles")).toInteger()))
                  .arg(object.value(QStringLiteral("rootFiles")).toInteger() == 1 ? QString() : QStringLiteral("s"))
                  .arg(QLocale().formattedDataSize(object.value(QStringLiteral("rootBytes")).toInteger()));
        QVERIFY2(std::any_of(lines.cbegin(), lines.cend(),
                     [&](const QString& line) {
                         return line.startsWith(object.value(QStringLiteral("instance")).toString() + u' ')
                             && line.contains(root);
                     }),
            qPrintable(root + u'\n' + lines.join(u'\n')));
    }

    const CliRun packets = runCli(
        { QStringLiteral("packit"), QStringLiteral("packets"), QStringLiteral("--host"), QStringLiteral("wpia-packit"),
            QStringLiteral("--instance"), QStringLiteral("reside"), QStringLiteral("--json") },
        m_environment);
    QCOMPARE(packets.exitCode, 0);
    const QJsonArray list = QJsonDocument::fromJson(packets.out).array();
    QCOMPARE(list.size(), m_packit.seeded(QStringLiteral("reside")).value(QStringLiteral("packets")).toInteger());
    static const QRegularExpression id(QStringLiteral("^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$"));
    QVERIFY(id.match(list.first().toObject().value(QStringLiteral("id")).toString()).hasMatch());
    QVERIFY(!list.first().toObject().value(QStringLiteral("name")).toString().isEmpty());
}

void TestPackitWipe::planNamesEveryCount()
{
    const QString before = m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("priority-pathogens"));
    const CliRun plan = runCli({ QStringLiteral("plan"), QStringLiteral("packit-wipe"), QStringLiteral("--host"),
                                   QStringLiteral("wpia-packit"), QStringLiteral("--instance"),
                                   QStringLiteral("priority-pathogens"), QStringLiteral("--json") },
        m_environment);
    QCOMPARE(plan.exitCode, 0);
    const QJsonObject json = QJsonDocument::fromJson(plan.out).object();
    const QJsonObject expected = m_packit.seeded(QStringLiteral("priority-pathogens"));
    QCOMPARE(json.value(QStringLiteral("packets")).toInteger(), expected.value(QStringLiteral("packets")).toInteger());
    QCOMPARE(json.value(QStringLiteral("groups")).toInteger(), expected.value(QStringLiteral("groups")).toInteger());
    QCOMPARE(json.value(QStringLiteral("files")).toInteger(), expected.value(QStringLiteral("rootFiles")).toInteger());
    QCOMPARE(json.value(QStringLiteral("bytes")).toInteger(), expected.value(QStringLiteral("rootBytes")).toInteger());
    QCOMPARE(json.value(QStringLiteral("scopedGrants")).toInteger(),
        expected.value(QStringLiteral("scopedPacketGrants")).toInteger()
            + expected.value(QStringLiteral("scopedGroupGrants")).toInteger());
    QCOMPARE(json.value(QStringLiteral("pins")).toInteger(), expected.value(QStringLiteral("pins")).toInteger());
    QCOMPARE(
        json.value(QStringLiteral("packetTags")).toInteger(), expected.value(QStringLiteral("packetTags")).toInteger());
    QCOMPARE(json.value(QStringLiteral("oneTimeTokens")).toInteger(),
        expected.value(QStringLiteral("oneTimeTokens")).toInteger());
    QCOMPARE(json.value(QStringLiteral("runInfoLeft")).toInteger(),
        expected.value(QStringLiteral("runInfoWithPacket")).toInteger());
    QCOMPARE(json.value(QStringLiteral("details")).toObject().value(QStringLiteral("scopedGrants")).toArray().size(),
        json.value(QStringLiteral("scopedGrants")).toInteger());
    QCOMPARE(json.value(QStringLiteral("environment")).toString(), QStringLiteral("production"));
    // The export and the kept root are steps of their own (the undo window on), remove-old-root the other way.
    QCOMPARE(json.value(QStringLiteral("steps")).toArray().size(), 11);
    QCOMPARE(m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("priority-pathogens")),
        before); // a plan changes nothing
}

void TestPackitWipe::badInputIsRefusedAndTouchesNothing_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("instance");
    QTest::newRow("semicolon") << QStringLiteral("wpia-packit") << QStringLiteral("training;rm -rf /");
    QTest::newRow("command substitution") << QStringLiteral("wpia-packit") << QStringLiteral("$(touch x)");
    QTest::newRow("dotdot") << QStringLiteral("wpia-packit") << QStringLiteral("..");
    QTest::newRow("slash") << QStringLiteral("wpia-packit") << QStringLiteral("training/../reside");
    QTest::newRow("upper case") << QStringLiteral("wpia-packit") << QStringLiteral("Training");
    QTest::newRow("empty") << QStringLiteral("wpia-packit") << QString();
    QTest::newRow("unknown instance") << QStringLiteral("wpia-packit") << QStringLiteral("kipling");
    QTest::newRow("unknown host") << QStringLiteral("nowhere") << QStringLiteral("training");
    QTest::newRow("bad host") << QStringLiteral("wpia packit") << QStringLiteral("training");
}

void TestPackitWipe::badInputIsRefusedAndTouchesNothing()
{
    QFETCH(QString, host);
    QFETCH(QString, instance);
    const QString before = m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("reside"));
    for (const QString& verb : { QStringLiteral("plan"), QStringLiteral("run") }) {
        const CliRun run = runCli({ verb, QStringLiteral("packit-wipe"), QStringLiteral("--host"), host,
                                      QStringLiteral("--instance"), instance, QStringLiteral("--confirm"), instance },
            m_environment);
        QVERIFY2(run.exitCode == 2,
            qPrintable(verb + QStringLiteral(": exit %1: ").arg(run.exitCode) + QString::fromUtf8(run.err)));
        QVERIFY(!run.err.isEmpty());
    }
    QCOMPARE(m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("reside")), before);
    QCOMPARE(
        m_packit.unitState(QStringLiteral("wpia-packit"), QStringLiteral("outpack-reside")), QStringLiteral("active"));
}

void TestPackitWipe::wrongConfirmationReadOnlyAndLockAreRefused()
{
    const QString before = m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("reside"));
    const QStringList wipe = { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"),
        QStringLiteral("wpia-packit"), QStringLiteral("--instance"), QStringLiteral("reside") };
    for (const QString& wrong :
        { QStringLiteral("training"), QStringLiteral("Reside"), QStringLiteral("reside "), QString() }) {
        const CliRun run = runCli(wipe + QStringList { QStringLiteral("--confirm"), wrong }, m_environment);
        QVERIFY2(run.exitCode == 3,
            qPrintable(
                QStringLiteral("\"%1\": exit %2 %3").arg(wrong).arg(run.exitCode).arg(QString::fromUtf8(run.err))));
    }
    QCOMPARE(runCli(wipe, m_environment).exitCode, 3); // no --confirm at all

    // wpia-packit tagged readOnly.
    const QString readOnly = inventoryWith(QStringLiteral("readonly.yaml"), [](QString text) {
        return text.replace(QStringLiteral("tags: [production]"), QStringLiteral("tags: [production, readOnly]"));
    });
    const CliRun refused = runCli(wipe
            + QStringList { QStringLiteral("--confirm"), QStringLiteral("reside"), QStringLiteral("--inventory"),
                readOnly },
        m_environment);
    QVERIFY2(refused.exitCode == 3, refused.err.constData());
    QVERIFY(refused.err.contains("readOnly"));

    // Another console holds the lock on the instance.
    Journal journal(m_sandbox.dir() + QStringLiteral("/journal.sqlite"));
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    Journal::LockHolder holder;
    QCOMPARE(
        journal.acquireLock(QStringLiteral("wpia-packit/reside"), QStringLiteral("other-console"), &holder, &error),
        Journal::LockResult::Acquired);
    const CliRun locked
        = runCli(wipe + QStringList { QStringLiteral("--confirm"), QStringLiteral("reside") }, m_environment);
    journal.releaseLock(QStringLiteral("wpia-packit/reside"), QStringLiteral("other-console"));
    QVERIFY2(locked.exitCode == 3, locked.err.constData());
    QVERIFY2(locked.err.contains("locked by"), locked.err.constData());

    QCOMPARE(m_packit.fingerprint(QStringLiteral("wpia-packit"), QStringLiteral("reside")), before);
    QCOMPARE(m_packit.unitState(QStringLiteral("wpia-packit"), QStringLiteral("packit-api-reside")),
        QStringLiteral("active"));
}

void TestPackitWipe::wipeTrainingLeavesEverythingElse()
{
    const QString host = QStringLiteral("wpia-packit");
    QMap<QString, QString> others;
    for (const QString& instance :
        { QStringLiteral("priority-pathogens"), QStringLiteral("reside"), QStringLiteral("malariaverse-sitefiles") })
        others.insert(instance, m_packit.fingerprint(host, instance));
    const QString keptBefore
        = QStringLiteral("%1/%2/%3")
              .arg(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM \"user\"")))
              .arg(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM role")))
              .arg(m_packit.count(QStringLiteral("training"),
                  QStringLiteral("SELECT count(*) FROM role_permission WHERE packet_id IS NULL "
                                 "AND packet_group_id IS NULL")));
    const QJsonObject expected = m_packit.seeded(QStringLiteral("training"));
    const QString reportPath = m_temp.filePath(QStringLiteral("training-report.json"));

    const CliRun run = runCli({ QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), host,
                                  QStringLiteral("--instance"), QStringLiteral("training"), QStringLiteral("--confirm"),
                                  QStringLiteral("training"), QStringLiteral("--report"), reportPath },
        m_environment, 180000);
    QVERIFY2(run.exitCode == 0, qPrintable(QString::fromUtf8(run.out + run.err)));

    QCOMPARE(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM packet")), 0);
    QCOMPARE(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM packet_group")), 0);
    QCOMPARE(m_packit.count(QStringLiteral("training"),
                 QStringLiteral("SELECT count(*) FROM role_permission WHERE packet_id IS NOT NULL "
                                "OR packet_group_id IS NOT NULL")),
        0);
    QCOMPARE(QStringLiteral("%1/%2/%3")
                 .arg(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM \"user\"")))
                 .arg(m_packit.count(QStringLiteral("training"), QStringLiteral("SELECT count(*) FROM role")))
                 .arg(m_packit.count(QStringLiteral("training"),
                     QStringLiteral(
                         "SELECT count(*) FROM role_permission WHERE packet_id IS NULL AND packet_group_id IS NULL"))),
        keptBefore);
    // run_info rows stay, as with the runbook.
    QCOMPARE(m_packit.count(QStringLiteral("training"),
                 QStringLiteral("SELECT count(*) FROM run_info WHERE packet_id IS NOT NULL")),
        expected.value(QStringLiteral("runInfoWithPacket")).toInteger());

    // The root is re-created empty, as outpack init leaves it; beside it, only the undo window's kept root and bundle.
    const QString root = m_packit.instanceRoot(host, QStringLiteral("training"));
    QVERIFY(QFile::exists(root + QStringLiteral("/.outpack/config.json")));
    QVERIFY(QDir(root + QStringLiteral("/.outpack/metadata")).isEmpty());
    QDirIterator files(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    int fileCount = 0;
    while (files.hasNext()) {
        files.next();
        ++fileCount;
    }
    QCOMPARE(fileCount, 1);
    const QStringList base = QDir(m_packit.hostRoot(host) + QStringLiteral("/var/lib/outpack"))
                                 .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
    QCOMPARE(base.size(), 6);
    QCOMPARE(
        base.filter(QRegularExpression(QStringLiteral("^\\.opsdeck-wipe-training-[0-9a-f]{8}(\\.restore)?$"))).size(),
        2);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-training")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-training")), QStringLiteral("active"));
    for (auto it = others.cbegin(); it != others.cend(); ++it)
        QVERIFY2(m_packit.fingerprint(host, it.key()) == it.value(), qPrintable(it.key()));

    QFile reportFile(reportPath);
    QVERIFY(reportFile.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(reportFile.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("schemaVersion")).toInt(), 2);
    // The wipe keeps an undo window by default: the report says until when it can be undone.
    QCOMPARE(report.value(QStringLiteral("undo")).toObject().value(QStringLiteral("available")).toBool(), true);
    QCOMPARE(report.value(QStringLiteral("undo")).toObject().value(QStringLiteral("opened")).toBool(), true);
    QCOMPARE(report.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-wipe"));
    QCOMPARE(report.value(QStringLiteral("target")).toString(), QStringLiteral("wpia-packit/training"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QJsonObject before = report.value(QStringLiteral("before")).toObject();
    QCOMPARE(
        before.value(QStringLiteral("packets")).toInteger(), expected.value(QStringLiteral("packets")).toInteger());
    QCOMPARE(before.value(QStringLiteral("groups")).toInteger(), expected.value(QStringLiteral("groups")).toInteger());
    QCOMPARE(
        before.value(QStringLiteral("files")).toInteger(), expected.value(QStringLiteral("rootFiles")).toInteger());
    QCOMPARE(report.value(QStringLiteral("after")).toObject().value(QStringLiteral("packets")).toInteger(), 0);
    const QJsonObject deleted = report.value(QStringLiteral("deleted")).toObject();
    QCOMPARE(deleted.value(QStringLiteral("packets")).toArray().size(),
        expected.value(QStringLiteral("packets")).toInteger());
    QCOMPARE(deleted.value(QStringLiteral("scopedGrants")).toArray().size(),
        expected.value(QStringLiteral("scopedPacketGrants")).toInteger()
            + expected.value(QStringLiteral("scopedGroupGrants")).toInteger());
    for (const QJsonValue& step : report.value(QStringLiteral("steps")).toArray())
        QCOMPARE(step.toObject().value(QStringLiteral("state")).toString(),
            step.toObject().value(QStringLiteral("id")).toString() == QStringLiteral("remove-old-root")
                ? QStringLiteral("skipped")
                : QStringLiteral("succeeded"));

    // The run is in the journal, and its report exports in every format.
    const QString runId = report.value(QStringLiteral("id")).toString();
    for (const QString& format :
        { QStringLiteral("json"), QStringLiteral("csv"), QStringLiteral("html"), QStringLiteral("pdf") }) {
        const QString path = m_temp.filePath(QStringLiteral("export.") + format);
        const CliRun exported = runCli({ QStringLiteral("report"), QStringLiteral("export"), runId,
                                           QStringLiteral("--format"), format, QStringLiteral("-o"), path },
            m_environment);
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QVERIFY(QFileInfo(path).size() > 100);
    }
    const CliRun list
        = runCli({ QStringLiteral("journal"), QStringLiteral("list"), QStringLiteral("--json") }, m_environment);
    QVERIFY(list.out.contains(runId.toUtf8()));
    // None of the secrets the run resolved (the database password) is in the journal, a report or the output.
    QStringList written = { reportPath };
    for (const QString& format : { QStringLiteral("json"), QStringLiteral("csv"), QStringLiteral("html") })
        written << m_temp.filePath(QStringLiteral("export.") + format);
    QCOMPARE(m_sandbox.secretLeaks(written, { run.out, run.err, list.out }), QStringList());
}

void TestPackitWipe::droppedConnectionAfterStopRecovers()
{
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString before = m_packit.fingerprint(host, QStringLiteral("reside-dev"));
    const QString reportPath = m_temp.filePath(QStringLiteral("dropped-report.json"));
    QProcess cli;
    startDevWipe(&cli, reportPath);
    QVERIFY(waitUntilStopped(&cli));
    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { host }), 0);
    QTest::qWait(3000);
    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { host }), 0);
    QVERIFY(cli.waitForFinished(180000));
    QCOMPARE(cli.exitCode(), 1);

    QFile reportFile(reportPath);
    QVERIFY(reportFile.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(reportFile.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
    const QMap<QString, QString> states = stepStates(report);
    QCOMPARE(states.value(QStringLiteral("stop-units")), QStringLiteral("succeeded"));
    QCOMPARE(states.value(QStringLiteral("delete-rows")), QStringLiteral("skipped"));
    QCOMPARE(states.value(QStringLiteral("recover-start-units")), QStringLiteral("succeeded"));
    QVERIFY(report.value(QStringLiteral("summary")).toString().contains(QStringLiteral("started again")));
    // Nothing was deleted, and the instance runs again.
    QCOMPARE(m_packit.fingerprint(host, QStringLiteral("reside-dev")), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

// Ctrl-C while the delete waits for a lock another session holds on packet: the cancel hook stops that statement
// from a second connection at once (PostgreSQL would wait forever), the transaction rolls back, and recovery puts
// the root back and starts the units.
void TestPackitWipe::cancelStopsTheDeleteInFlightAndRecovers()
{
    // Not kipling: the pane test finds its own wipe of that instance in the journal.
    const QString host = QStringLiteral("wpia-packit");
    const QString instance = QStringLiteral("malariaverse-sitefiles");
    const QString before = m_packit.fingerprint(host, instance);
    const QString reportPath = m_temp.filePath(QStringLiteral("cancelled-report.json"));
    const auto deleteWaits = [this, &instance] {
        return m_packit.count(instance,
                   QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE (query = 'DELETE FROM packet' OR "
                                  "query LIKE 'LOCK TABLE packet,%') AND wait_event_type = 'Lock'"))
            > 0;
    };
    {
        QSqlDatabase lock = QSqlDatabase::cloneDatabase(m_packit.database(instance), QStringLiteral("wipe-lock"));
        QVERIFY2(lock.open(), qPrintable(lock.lastError().text()));
        QVERIFY(lock.transaction());
        QSqlQuery hold(lock);
        // Reads go on (the plan and the record step count), writes to packet wait.
        QVERIFY2(hold.exec(QStringLiteral("LOCK TABLE packet IN SHARE MODE")), qPrintable(hold.lastError().text()));

        QProcess cli;
        cli.setProcessEnvironment(m_environment);
        cli.start(QStringLiteral(OPSDECK_BINARY),
            { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), host,
                QStringLiteral("--instance"), instance, QStringLiteral("--confirm"), instance,
                QStringLiteral("--report"), reportPath });
        QTRY_VERIFY2_WITH_TIMEOUT(deleteWaits(), cli.readAllStandardError().constData(), 60000);
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), SIGINT), 0);
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(clock.elapsed() < 20000, "the cancel waited for the lock instead of stopping the statement");
        QCOMPARE(cli.exitCode(), 1);
        QVERIFY(!deleteWaits());
        lock.rollback();
        lock.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("wipe-lock"));

    QFile reportFile(reportPath);
    QVERIFY(reportFile.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(reportFile.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("cancelled"));
    const QMap<QString, QString> states = stepStates(report);
    // The undo window's export locks the tables first: that is where the cancel finds it waiting.
    QCOMPARE(states.value(QStringLiteral("export-rows")), QStringLiteral("cancelled"));
    QCOMPARE(states.value(QStringLiteral("restore-root")), QStringLiteral("succeeded"));
    QCOMPARE(states.value(QStringLiteral("recover-start-units")), QStringLiteral("succeeded"));
    QCOMPARE(m_packit.fingerprint(host, instance), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-") + instance), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-") + instance), QStringLiteral("active"));
}

void TestPackitWipe::journalVerifyDetectsAnEditedEntry()
{
    QCOMPARE(runCli({ QStringLiteral("journal"), QStringLiteral("verify") }, m_environment).exitCode, 0);
    const QString copy = m_temp.filePath(QStringLiteral("edited.sqlite"));
    QVERIFY(QFile::copy(m_sandbox.dir() + QStringLiteral("/journal.sqlite"), copy));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("edit"));
        db.setDatabaseName(copy);
        QVERIFY(db.open());
        QSqlQuery edit(db);
        // The triggers that stop accidental edits do not stop someone with the file: drop them, as they could.
        QVERIFY(edit.exec(QStringLiteral("DROP TRIGGER entries_no_update")));
        QVERIFY2(edit.exec(QStringLiteral("UPDATE entries SET data = replace(data, 'training', 'trainin9') "
                                          "WHERE seq = (SELECT min(seq) FROM entries WHERE data LIKE '%training%')")),
            qPrintable(edit.lastError().text()));
        QCOMPARE(edit.numRowsAffected(), 1);
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("edit"));
    const QString inventory = inventoryWith(QStringLiteral("edited.yaml"), [&](QString text) {
        return text.replace(
            QRegularExpression(QStringLiteral("path: .*journal.sqlite")), QStringLiteral("path: ") + copy);
    });
    const CliRun verify
        = runCli({ QStringLiteral("journal"), QStringLiteral("verify"), QStringLiteral("--inventory"), inventory },
            m_environment);
    QCOMPARE(verify.exitCode, 1);
    QVERIFY2(verify.err.contains("entry "), verify.err.constData());
}

void TestPackitWipe::failedStartIsRecoveredAndReported()
{
    // The stand-in's switch makes packit-api fail to start, as a broken unit would.
    const QString host = QStringLiteral("wpia-packit");
    const QString failSwitch
        = m_packit.hostRoot(host) + QStringLiteral("/etc/opsdeck-sandbox/fail-start-packit-api-priority-pathogens");
    QFile flag(failSwitch);
    QVERIFY(flag.open(QIODevice::WriteOnly));
    flag.close();
    const QString reportPath = m_temp.filePath(QStringLiteral("failed-start.json"));
    const CliRun run
        = runCli({ QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), host,
                     QStringLiteral("--instance"), QStringLiteral("priority-pathogens"), QStringLiteral("--confirm"),
                     QStringLiteral("priority-pathogens"), QStringLiteral("--report"), reportPath },
            m_environment, 240000);
    QFile::remove(failSwitch);
    QCOMPARE(run.exitCode, 1);
    QFile reportFile(reportPath);
    QVERIFY(reportFile.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(reportFile.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
    const QMap<QString, QString> states = stepStates(report);
    QCOMPARE(states.value(QStringLiteral("delete-rows")), QStringLiteral("succeeded"));
    QCOMPARE(states.value(QStringLiteral("start-units")), QStringLiteral("failed"));
    QCOMPARE(states.value(QStringLiteral("recover-start-units")), QStringLiteral("failed"));
    QCOMPARE(states.value(QStringLiteral("remove-old-root")), QStringLiteral("skipped"));
    // The report says what to do next, and where the old root is.
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(
        summary.contains(QStringLiteral("Start")) || summary.contains(QStringLiteral("start")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral(".opsdeck-wipe-priority-pathogens-")), qPrintable(summary));
    // With the switch gone, the admin's retry of the units works.
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-priority-pathogens")), QStringLiteral("active"));
}

TestPackitWipe::HostBinary::~HostBinary()
{
    QFile::remove(path);
    if (!savedLink.isEmpty())
        QFile::link(savedLink, path);
}

std::unique_ptr<TestPackitWipe::HostBinary> TestPackitWipe::replaceHostBinary(
    const QString& host, const QString& name, const QString& script)
{
    auto guard = std::make_unique<HostBinary>();
    guard->path = m_packit.hostRoot(host) + QStringLiteral("/bin/") + name;
    guard->savedLink = QFileInfo(guard->path).symLinkTarget();
    QFile::remove(guard->path);
    QFile file(guard->path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(script.toUtf8());
    file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ExeGroup | QFile::ExeOther
        | QFile::ReadGroup | QFile::ReadOther);
    return guard;
}

void TestPackitWipe::startDevWipe(QProcess* cli, const QString& reportPath)
{
    cli->setProcessEnvironment(m_environment);
    cli->start(QStringLiteral(OPSDECK_BINARY),
        { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"),
            QStringLiteral("wpia-packit-dev"), QStringLiteral("--instance"), QStringLiteral("reside-dev"),
            QStringLiteral("--confirm"), QStringLiteral("reside-dev"), QStringLiteral("--report"), reportPath });
}

bool TestPackitWipe::waitUntilStopped(QProcess* cli)
{
    QByteArray progress;
    return QTest::qWaitFor(
        [&] {
            progress += cli->readAllStandardError();
            return progress.contains("Stop outpack-reside-dev and packit-api-reside-dev: succeeded");
        },
        60000);
}

QJsonObject TestPackitWipe::readReport(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// `mv` moves the root aside, then its answer is lost with the connection. The step failed, but the root did move:
// recovery reads that back and puts it back before the units start (which would re-create it empty).
void TestPackitWipe::lostMoveAnswerPutsTheRootBack()
{
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString before = m_packit.fingerprint(host, QStringLiteral("reside-dev"));
    const QString moved = m_temp.filePath(QStringLiteral("moved"));
    // Only the wipe's move of the root aside hangs after moving; the move back goes through.
    const auto mv = replaceHostBinary(host, QStringLiteral("mv"),
        QStringLiteral("#!/bin/sh\n/bin/mv \"$@\" || exit $?\nfor last; do :; done\n"
                       "case \"$last\" in */.opsdeck-wipe-*) touch %1; exec sleep 60;; esac\n")
            .arg(moved));
    QVERIFY(mv);
    const QString reportPath = m_temp.filePath(QStringLiteral("lost-move.json"));
    QProcess cli;
    startDevWipe(&cli, reportPath);
    QVERIFY2(QTest::qWaitFor([&] { return QFile::exists(moved); }, 60000), cli.readAllStandardError().constData());
    QVERIFY(!QFile::exists(m_packit.instanceRoot(host, QStringLiteral("reside-dev"))));
    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { host }), 0);
    QTest::qWait(3000);
    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { host }), 0);
    QVERIFY(cli.waitForFinished(180000));
    QCOMPARE(cli.exitCode(), 1);

    const QJsonObject report = readReport(reportPath);
    const QMap<QString, QString> states = stepStates(report);
    QCOMPARE(states.value(QStringLiteral("move-root")), QStringLiteral("failed"));
    QCOMPARE(states.value(QStringLiteral("delete-rows")), QStringLiteral("skipped"));
    QCOMPARE(states.value(QStringLiteral("restore-root")), QStringLiteral("succeeded"));
    QCOMPARE(states.value(QStringLiteral("recover-check-started")), QStringLiteral("succeeded"));
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: untouched")), qPrintable(summary));
    QVERIFY(report.value(QStringLiteral("deleted")).toObject().isEmpty());
    QCOMPARE(m_packit.fingerprint(host, QStringLiteral("reside-dev")), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

// A unit that never finishes stopping still runs: the wipe must not go on while systemd says "deactivating".
void TestPackitWipe::unitStuckDeactivatingIsNotStopped()
{
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString before = m_packit.fingerprint(host, QStringLiteral("reside-dev"));
    const QString standin = QFileInfo(m_packit.hostRoot(host) + QStringLiteral("/bin/systemctl")).symLinkTarget();
    QVERIFY(!standin.isEmpty());
    const auto systemctl = replaceHostBinary(host, QStringLiteral("systemctl"),
        QStringLiteral("#!/bin/sh\nif [ \"$1\" = show ]; then\n"
                       "  %1 \"$@\" | sed 's/^ActiveState=inactive$/ActiveState=deactivating/'; exit 0\nfi\n"
                       "exec %1 \"$@\"\n")
            .arg(standin));
    QVERIFY(systemctl);
    const QString reportPath = m_temp.filePath(QStringLiteral("deactivating.json"));
    QProcess cli;
    startDevWipe(&cli, reportPath);
    QVERIFY(cli.waitForFinished(180000));
    QCOMPARE(cli.exitCode(), 1);

    const QMap<QString, QString> states = stepStates(readReport(reportPath));
    QCOMPARE(states.value(QStringLiteral("check-stopped")), QStringLiteral("failed"));
    QCOMPARE(states.value(QStringLiteral("move-root")), QStringLiteral("skipped"));
    QCOMPARE(states.value(QStringLiteral("recover-start-units")), QStringLiteral("succeeded"));
    QCOMPARE(m_packit.fingerprint(host, QStringLiteral("reside-dev")), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

void TestPackitWipe::terminateAndHangupCancelLikeCtrlC_data()
{
    QTest::addColumn<int>("signal");
    QTest::newRow("SIGTERM") << int(SIGTERM);
    QTest::newRow("SIGHUP") << int(SIGHUP);
}

// A shutdown or a closed terminal must not leave the units stopped: the run cancels and recovers, as on Ctrl-C.
void TestPackitWipe::terminateAndHangupCancelLikeCtrlC()
{
    QFETCH(int, signal);
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString before = m_packit.fingerprint(host, QStringLiteral("reside-dev"));
    const QString reportPath = m_temp.filePath(QStringLiteral("signalled.json"));
    QFile::remove(reportPath);
    QProcess cli;
    startDevWipe(&cli, reportPath);
    QVERIFY(waitUntilStopped(&cli));
    QCOMPARE(::kill(static_cast<pid_t>(cli.processId()), signal), 0);
    QVERIFY(cli.waitForFinished(120000));
    QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
    QCOMPARE(cli.exitCode(), 1);
    const QJsonObject report = readReport(reportPath);
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("cancelled"));
    QCOMPARE(stepStates(report).value(QStringLiteral("recover-check-started")), QStringLiteral("succeeded"));
    QCOMPARE(m_packit.fingerprint(host, QStringLiteral("reside-dev")), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

// Wipes reside-dev with a COMMIT that takes commitSeconds (a deferred trigger sleeps in it) and drops the connection
// under it for downSeconds; returns the run's report.
QJsonObject TestPackitWipe::wipeLosingTheCommit(int commitSeconds, int downSeconds)
{
    const QString instance = QStringLiteral("reside-dev");
    QSqlDatabase db = m_packit.database(instance);
    QSqlQuery setup(db);
    const auto dropTrigger = qScopeGuard([&] {
        QSqlQuery drop(db);
        drop.exec(QStringLiteral("DROP TRIGGER IF EXISTS opsdeck_test_slow_commit ON packet_group"));
        drop.exec(QStringLiteral("DROP FUNCTION IF EXISTS opsdeck_test_slow_commit()"));
    });
    if (!setup.exec(QStringLiteral("CREATE FUNCTION opsdeck_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                                   "BEGIN IF current_setting('opsdeck_test.slept', true) IS DISTINCT FROM 'yes' THEN "
                                   "PERFORM set_config('opsdeck_test.slept', 'yes', true); PERFORM pg_sleep(%1); "
                                   "END IF; RETURN NULL; END $$")
                        .arg(commitSeconds))
        || !setup.exec(QStringLiteral("CREATE CONSTRAINT TRIGGER opsdeck_test_slow_commit AFTER DELETE ON "
                                      "packet_group DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                                      "opsdeck_test_slow_commit()"))) {
        qWarning("cannot install the slow commit: %s", qPrintable(setup.lastError().text()));
        return {};
    }
    const QString reportPath = m_temp.filePath(QStringLiteral("lost-commit.json"));
    QFile::remove(reportPath);
    QProcess cli;
    startDevWipe(&cli, reportPath);
    const bool committing = QTest::qWaitFor(
        [&] { return m_packit.count(instance, kCommitSleeping) > 0 || cli.state() == QProcess::NotRunning; }, 60000);
    if (!committing || cli.state() == QProcess::NotRunning) {
        qWarning("the wipe never reached its COMMIT: %s", cli.readAllStandardError().constData());
        return {};
    }
    m_sandbox.script(QStringLiteral("kill-host"), { QStringLiteral("wpia-packit-dev") });
    QTest::qWait(downSeconds * 1000);
    m_sandbox.script(QStringLiteral("start-host"), { QStringLiteral("wpia-packit-dev") });
    if (!cli.waitForFinished(180000))
        return {};
    return readReport(reportPath);
}

// The connection drops while COMMIT is still running on the server, and recovery gets back before it ends: it ends
// that session (the transaction rolls back) before it counts, so what it counts stays true; the instance is
// untouched. (Counting first would see every row, put the root back, and then the commit would land.)
void TestPackitWipe::lostCommitStillRunningIsRolledBack()
{
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString instance = QStringLiteral("reside-dev");
    const QString before = m_packit.fingerprint(host, instance);
    const QJsonObject report = wipeLosingTheCommit(20, 1);
    QVERIFY(!report.isEmpty());
    // Whatever the console did, the server's session is over before the instance is judged.
    QTRY_COMPARE_WITH_TIMEOUT(m_packit.count(instance, kCommitSleeping), 0, 40000);
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: untouched")), qPrintable(summary));
    QCOMPARE(stepStates(report).value(QStringLiteral("restore-root")), QStringLiteral("succeeded"));
    QCOMPARE(m_packit.fingerprint(host, instance), before);
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

// The connection drops while COMMIT's answer is pending; the server commits anyway. Recovery reads the rows back,
// sees them gone and finishes the runbook's end state (not: puts the old root back under an empty database).
void TestPackitWipe::lostCommitAnswerFinishesTheWipe()
{
    const QString host = QStringLiteral("wpia-packit-dev");
    const QString instance = QStringLiteral("reside-dev");
    const QJsonObject expected = m_packit.seeded(instance);
    // The commit ends (4 s) while the host is down (6 s): its answer is lost.
    const QJsonObject report = wipeLosingTheCommit(4, 6);
    QVERIFY(!report.isEmpty());
    const QMap<QString, QString> states = stepStates(report);
    QCOMPARE(states.value(QStringLiteral("delete-rows")), QStringLiteral("failed"));
    QCOMPARE(states.value(QStringLiteral("restore-root")), QString());
    QCOMPARE(states.value(QStringLiteral("recover-check-started")), QStringLiteral("succeeded"));
    QCOMPARE(states.value(QStringLiteral("keep-old-root")), QStringLiteral("succeeded"));
    const QString summary = report.value(QStringLiteral("summary")).toString();
    QVERIFY2(summary.contains(QStringLiteral("End state: wiped")), qPrintable(summary));
    // What is reported deleted is what the database no longer has.
    QCOMPARE(report.value(QStringLiteral("deleted")).toObject().value(QStringLiteral("packets")).toArray().size(),
        expected.value(QStringLiteral("packets")).toInteger());
    QCOMPARE(m_packit.count(instance, QStringLiteral("SELECT count(*) FROM packet")), 0);
    QCOMPARE(m_packit.count(instance, QStringLiteral("SELECT count(*) FROM packet_group")), 0);
    // The root is the one the unit re-created; the old one is kept, with every deleted row, for the undo window.
    const QString root = m_packit.instanceRoot(host, instance);
    QVERIFY(QFile::exists(root + QStringLiteral("/.outpack/config.json")));
    QVERIFY(QDir(root + QStringLiteral("/.outpack/metadata")).isEmpty());
    const QStringList base = QDir(m_packit.hostRoot(host) + QStringLiteral("/var/lib/outpack"))
                                 .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
    QCOMPARE(base.size(), 3);
    QVERIFY2(base[2] == instance && base[1] == base[0] + QStringLiteral(".restore"), qPrintable(base.join(u' ')));
    QVERIFY(report.value(QStringLiteral("undo")).toObject().value(QStringLiteral("opened")).toBool());
    QCOMPARE(m_packit.unitState(host, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(host, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
}

QTEST_GUILESS_MAIN(TestPackitWipe)
#include "tst_packitwipe.moc"
