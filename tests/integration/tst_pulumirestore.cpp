// The Pulumi purge's undo window against the sandbox's MariaDB (through the bastion's tunnel): a purge of two
// organisations and `opsdeck restore` give back every table exactly (CHECKSUM TABLE of each, as the seed had them);
// stacks created and keys taken again since are kept and named, never overwritten; a changed restore file is refused
// with nothing touched; a restore killed midway (SIGKILL) and one whose tunnel drops end as if whole, after recovery;
// a purge killed midway and recovered keeps both runs' rows in one window; and a trash purge and an expired window
// end it. Every case leaves the database as the seed made it, which tst_pulumipurge then checks.
#include "CliRuns.h"
#include "DroppedConnections.h"
#include "Sandbox.h"
#include "pulumi/PulumiRowFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {

const QStringList kTables { u"Organizations"_s, u"Programs"_s, u"ProgramUpdates"_s, u"Resources"_s, u"Stacks"_s,
    u"StackTags"_s, u"Updates"_s, u"UpdateCheckpointInfo"_s, u"UpdateLogs"_s, u"UpdateEvents"_s };

QSqlQuery check()
{
    return QSqlQuery(QSqlDatabase::database(u"check"_s));
}

// One value of the check connection; an empty QVariant if the statement fails.
QVariant scalar(const QString& sql, const QVariantList& values = {})
{
    QSqlQuery query = check();
    query.prepare(sql);
    for (const QVariant& value : values)
        query.addBindValue(value);
    if (!query.exec() || !query.next()) {
        qWarning() << sql << query.lastError().text();
        return {};
    }
    return query.value(0);
}

bool exec(const QString& sql, const QVariantList& values = {})
{
    QSqlQuery query = check();
    query.prepare(sql);
    for (const QVariant& value : values)
        query.addBindValue(value);
    if (!query.exec())
        qWarning() << sql << query.lastError().text();
    return query.isActive();
}

} // namespace

class TestPulumiRestore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void roundTripOfTwoOrganisations();
    void newDataSinceIsKeptAndNamed();
    void changedFileIsRefused();
    void killedRestoreIsRecovered();
    void droppedTunnelMidRestoreFinishes();
    void killedPurgeRecoveredKeepsOneWindow();
    void trashPurgeAndExpiryEndTheWindow();
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments, const QProcessEnvironment& environment = {});
    // CHECKSUM TABLE of every table: "Table checksum" lines.
    QStringList checksums();
    // Runs the purge of `orgs` (comma-separated) with batches of `batch` stacks; its record.
    QJsonObject purge(const QString& orgs, int batch, const QStringList& extra = {});
    QString windowDir(const QString& runId);
    // The first row of table `table` in the last Programs restore file of `dir`, as column -> value.
    QMap<QString, QString> lastProgramsRow(const QString& dir);
    // Starts the restore of `runId` in the background, holds it on a Programs row the test inserted (uncommitted) on a
    // second connection, and returns once its INSERT waits on that row's lock.
    bool holdRestore(const QString& runId, const QString& orgs, std::unique_ptr<BackgroundCli>* restore);
    void releaseHold();
    QString unfinished(const QString& operation);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QStringList m_seed;
};

void TestPulumiRestore::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    for (const QString& name : { u"check"_s, u"hold"_s }) {
        QSqlDatabase db = m_sandbox.mariadb().addMysqlConnection(name, u"pulumi"_s);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
    }
    m_seed = checksums();
    QCOMPARE(m_seed.size(), kTables.size());
}

void TestPulumiRestore::cleanupTestCase()
{
    // Whatever happened above, the seed is what the next test expects.
    QCOMPARE(checksums(), m_seed);
    for (const QString& name : { u"check"_s, u"hold"_s }) {
        QSqlDatabase::database(name).close();
        QSqlDatabase::removeDatabase(name);
    }
}

CliRun TestPulumiRestore::cli(const QStringList& arguments, const QProcessEnvironment& environment)
{
    return runCli(arguments, environment.isEmpty() ? m_sandbox.environment() : environment, 180000);
}

QStringList TestPulumiRestore::checksums()
{
    QStringList lines;
    for (const QString& table : kTables) {
        QSqlQuery query = check();
        lines << (query.exec(u"CHECKSUM TABLE `%1`"_s.arg(table)) && query.next()
                ? table + u' ' + query.value(1).toString()
                : table + u" error: "_s + query.lastError().text());
    }
    return lines;
}

QJsonObject TestPulumiRestore::purge(const QString& orgs, int batch, const QStringList& extra)
{
    const QString report = m_temp.filePath(u"purge-%1.json"_s.arg(QDateTime::currentMSecsSinceEpoch()));
    const CliRun run = cli(QStringList { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, orgs, u"--confirm"_s, orgs,
                               u"--batch"_s, QString::number(batch), u"--report"_s, report }
        + extra);
    if (run.exitCode != 0) {
        qWarning("%s", qPrintable(cliRunText(run)));
        return {};
    }
    QFile file(report);
    return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
}

QString TestPulumiRestore::windowDir(const QString& runId)
{
    const QString where = trashWindow(m_sandbox.environment(), runId, true)[u"where"_s].toString();
    return where.mid(where.indexOf(u':') + 1);
}

QMap<QString, QString> TestPulumiRestore::lastProgramsRow(const QString& dir)
{
    const QStringList files = QDir(dir).entryList({ u"programs-*.rows"_s }, QDir::Files, QDir::Name);
    QFile file(QDir(dir).filePath(files.value(files.size() - 1)));
    QString error;
    const auto tables = file.open(QIODevice::ReadOnly) ? PulumiRowFile::decode(file.readAll(), &error) : std::nullopt;
    QMap<QString, QString> row;
    for (const PulumiRowFile::Table& table : tables.value_or(QList<PulumiRowFile::Table>())) {
        if (table.name != u"Programs"_s || table.rows.isEmpty())
            continue;
        for (qsizetype c = 0; c < table.columns.size(); ++c)
            row.insert(table.columns[c], table.rows.first()[c].value_or(QString()));
    }
    return row;
}

bool TestPulumiRestore::holdRestore(const QString& runId, const QString& orgs, std::unique_ptr<BackgroundCli>* restore)
{
    // The last file's first Programs row, inserted by hand and not committed: the restore's INSERT of that key waits
    // for this transaction, with every file before it committed.
    const QMap<QString, QString> row = lastProgramsRow(windowDir(runId));
    if (row.isEmpty())
        return false;
    QSqlDatabase hold = QSqlDatabase::database(u"hold"_s);
    QSqlQuery timeout(hold);
    if (!timeout.exec(u"SET SESSION innodb_lock_wait_timeout = 300"_s) || !hold.transaction())
        return false;
    QSqlQuery insert(hold);
    QStringList marks;
    marks.fill(u"?"_s, row.size());
    insert.prepare(u"INSERT INTO Programs (%1) VALUES (%2)"_s.arg(row.keys().join(u", "_s), marks.join(u", "_s)));
    for (const QString& value : row)
        insert.addBindValue(value);
    if (!insert.exec()) {
        qWarning() << "holding row" << insert.lastError().text();
        hold.rollback();
        return false;
    }
    *restore = std::make_unique<BackgroundCli>(
        QStringList { u"restore"_s, runId, u"--confirm"_s, orgs }, m_sandbox.environment());
    return (*restore)->runsUntil(
        [] {
            return scalar(
                       u"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `Programs`%' "
                       "AND STATE LIKE '%update%'"_s)
                       .toLongLong()
                > 0;
        },
        120000);
}

void TestPulumiRestore::releaseHold()
{
    QSqlDatabase::database(u"hold"_s).rollback();
}

QString TestPulumiRestore::unfinished(const QString& operation)
{
    for (const QJsonValue& run :
        QJsonDocument::fromJson(cli({ u"journal"_s, u"unfinished"_s, u"--json"_s }).out).array()) {
        if (run[u"operation"_s].toString() == operation)
            return run[u"id"_s].toString();
    }
    return {};
}

// Purge two organisations, restore: every table as it was. The window is on by default, held in a 0700 folder of
// this console, and closed by the restore.
void TestPulumiRestore::roundTripOfTwoOrganisations()
{
    const QJsonObject purged = purge(u"pulumi,sean-gillespie"_s, 5);
    QCOMPARE(purged[u"outcome"_s].toString(), u"succeeded"_s);
    QVERIFY(checksums() != m_seed);
    const QString runId = purged[u"id"_s].toString();
    const QJsonObject window = trashWindow(m_sandbox.environment(), runId, false);
    QCOMPARE(window[u"state"_s].toString(), u"open"_s);
    QVERIFY(window[u"bytes"_s].toInteger() > 0);
    const QString dir = windowDir(runId);
    QCOMPARE(QFileInfo(dir).permissions() & 0x0077, QFileDevice::Permissions());
    const QStringList files = QDir(dir).entryList({ u"*.rows"_s }, QDir::Files);
    // A Stacks file and a Programs file per batch of 5 (19 stacks), each named by the run's tag, the batch's first
    // stack and the attempt.
    QCOMPARE(files.size(), 8);
    QVERIFY2(QRegularExpression(u"^stacks-[0-9a-f]{8}-0000000-1\\.rows$"_s).match(files.value(4)).hasMatch(),
        qPrintable(files.join(u' ')));
    for (const QString& name : files)
        QCOMPARE(QFileInfo(QDir(dir).filePath(name)).permissions() & 0x0077, QFileDevice::Permissions());

    // The plan counts what comes back; a wrong confirmation is refused with nothing touched.
    const CliRun plan = cli({ u"restore"_s, runId, u"--plan"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, qPrintable(cliRunText(plan)));
    const QJsonObject planJson = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planJson[u"counts"_s][u"stacks"_s].toInteger(), 19);
    QCOMPARE(planJson[u"counts"_s][u"existing"_s].toInteger(), 0);
    const QStringList purgedState = checksums();
    const CliRun wrong = cli({ u"restore"_s, runId, u"--confirm"_s, u"pulumi"_s });
    QCOMPARE(wrong.exitCode, 3);
    QCOMPARE(checksums(), purgedState);

    const CliRun restored = cli({ u"restore"_s, runId, u"--confirm"_s, u"pulumi,sean-gillespie"_s });
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    QVERIFY(restored.out.contains("are back, soft-deleted as they were"));
    QCOMPARE(checksums(), m_seed);
    QCOMPARE(trashWindow(m_sandbox.environment(), runId, true)[u"state"_s].toString(), u"restored"_s);
    QCOMPARE(cli({ u"restore"_s, runId, u"--confirm"_s, u"pulumi,sean-gillespie"_s }).exitCode, 2);
}

// Since the purge: a live stack created under a purged stack's name, and a purged Stacks row's key taken again (with
// another name). The plan names both; the restore keeps both as they are and puts back everything else.
void TestPulumiRestore::newDataSinceIsKeptAndNamed()
{
    QSqlQuery victim = check();
    QVERIFY(victim.exec(u"SELECT p.org_id, p.project_name, p.stack_name, s.id, s.name, s.org_id, s.active_update_id, "
                        "s.created_at FROM Programs AS p JOIN Organizations AS o ON o.id = p.org_id JOIN Stacks AS s "
                        "ON s.id = p.stack_id WHERE o.github_login = 'acme-corp' AND p.deleted_at > 0 ORDER BY s.id "
                        "LIMIT 1"_s)
        && victim.next());
    const QString orgId = victim.value(0).toString(), project = victim.value(1).toString(),
                  stackName = victim.value(2).toString(), stackId = victim.value(3).toString(),
                  stacksName = victim.value(4).toString(), stacksOrg = victim.value(5).toString(),
                  activeUpdate = victim.value(6).toString();
    const qint64 created = victim.value(7).toLongLong();

    const QJsonObject purged = purge(u"acme-corp"_s, 50);
    QCOMPARE(purged[u"outcome"_s].toString(), u"succeeded"_s);
    const QString runId = purged[u"id"_s].toString();
    QVERIFY(exec(u"INSERT INTO Programs (id, org_id, stack_id, project_name, stack_name, created_at, deleted_at) "
                 "VALUES ('feedfacefeedfacefeedfacefeedface', ?, 'feedfacefeedfacefeedfacefeedfac0', ?, ?, 1, 0)"_s,
        { orgId, project, stackName }));
    QVERIFY(exec(u"INSERT INTO Stacks (id, org_id, name, active_update_id, created_at) VALUES (?, ?, 'taken-again', "
                 "NULL, ?)"_s,
        { stackId, stacksOrg, created }));

    const CliRun plan = cli({ u"restore"_s, runId, u"--plan"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, qPrintable(cliRunText(plan)));
    const QJsonObject planJson = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planJson[u"counts"_s][u"existing"_s].toInteger(), 1);
    QCOMPARE(planJson[u"counts"_s][u"liveSameName"_s].toInteger(), 1);
    const QString warnings = QString::fromUtf8(QJsonDocument(planJson[u"warnings"_s].toArray()).toJson());
    QVERIFY2(warnings.contains(u"acme-corp/%1/%2"_s.arg(project, stackName)), qPrintable(warnings));

    const QString report = m_temp.filePath(u"restore-new-data.json"_s);
    const CliRun restored = cli({ u"restore"_s, runId, u"--confirm"_s, u"acme-corp"_s, u"--report"_s, report });
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    QVERIFY(restored.out.contains("1 rows whose key was taken again were left as they are"));
    QCOMPARE(scalar(u"SELECT name FROM Stacks WHERE id = ?"_s, { stackId }).toString(), u"taken-again"_s);
    QCOMPARE(
        scalar(u"SELECT deleted_at FROM Programs WHERE id = 'feedfacefeedfacefeedfacefeedface'"_s).toLongLong(), 0);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"after"_s][u"existingKeys"_s].toArray(), QJsonArray { u"Stacks "_s + stackId });

    // Undo the test's own rows: then everything else is exactly the seed.
    QVERIFY(exec(u"DELETE FROM Programs WHERE id = 'feedfacefeedfacefeedfacefeedface'"_s));
    QVERIFY(exec(
        u"UPDATE Stacks SET name = ?, active_update_id = ? WHERE id = ?"_s, { stacksName, activeUpdate, stackId }));
    QCOMPARE(checksums(), m_seed);
}

// One byte of a restore file changed: the plan and the run refuse it, naming the file, and nothing changes. Put back,
// the same window restores.
void TestPulumiRestore::changedFileIsRefused()
{
    const QJsonObject purged = purge(u"globex"_s, 1);
    QCOMPARE(purged[u"outcome"_s].toString(), u"succeeded"_s);
    const QString runId = purged[u"id"_s].toString();
    const QString name = QDir(windowDir(runId)).entryList({ u"stacks-*.rows"_s }, QDir::Files, QDir::Name).value(0);
    const QString path = QDir(windowDir(runId)).filePath(name);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadWrite));
    const QByteArray original = file.readAll();
    QByteArray changed = original;
    const qsizetype at = changed.indexOf("\nR\t") + 3;
    changed[at] = changed[at] == 'a' ? 'b' : 'a';
    QVERIFY(file.seek(0) && file.write(changed) == changed.size());
    file.close();
    const QStringList purgedState = checksums();
    for (const QStringList& arguments : { QStringList { u"--plan"_s }, QStringList { u"--confirm"_s, u"globex"_s } }) {
        const CliRun refused = cli(QStringList { u"restore"_s, runId } + arguments);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains((name + u" has sha256"_s).toUtf8()), qPrintable(cliRunText(refused)));
        QVERIFY(refused.err.contains("it is not what the purge wrote"));
    }
    QCOMPARE(checksums(), purgedState);
    QVERIFY(file.open(QIODevice::WriteOnly) && file.write(original) == original.size());
    file.close();
    const CliRun restored = cli({ u"restore"_s, runId, u"--confirm"_s, u"globex"_s });
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    QCOMPARE(checksums(), m_seed);
}

// SIGKILL while the restore waits inside its last file: the files before it are committed, that one is rolled back.
// `opsdeck recover` inserts what is missing, and the tables are the seed's.
void TestPulumiRestore::killedRestoreIsRecovered()
{
    const QJsonObject purged = purge(u"moolumi"_s, 40);
    QCOMPARE(purged[u"outcome"_s].toString(), u"succeeded"_s);
    const QString runId = purged[u"id"_s].toString();
    std::unique_ptr<BackgroundCli> restore;
    QVERIFY(holdRestore(runId, u"moolumi"_s, &restore));
    // Midway: every Stacks row is back, not every Programs row.
    QCOMPARE(scalar(u"SELECT COUNT(*) FROM Stacks"_s).toLongLong(), 400);
    QVERIFY(scalar(u"SELECT COUNT(*) FROM Programs"_s).toLongLong() < 400);
    restore->kill();
    releaseHold();
    const QString killed = unfinished(u"pulumi-restore"_s);
    QVERIFY(!killed.isEmpty());
    const CliRun recovered = cli({ u"recover"_s, killed, u"--confirm"_s, u"moolumi"_s });
    QVERIFY2(recovered.exitCode == 0, qPrintable(cliRunText(recovered)));
    QVERIFY(unfinished(u"pulumi-restore"_s).isEmpty());
    QCOMPARE(checksums(), m_seed);
    QCOMPARE(trashWindow(m_sandbox.environment(), runId, true)[u"state"_s].toString(), u"restored"_s);
}

// The tunnel to the database drops while the restore waits inside its last file: that file's transaction is lost
// with its connection, and the restore connects again and finishes on its own.
void TestPulumiRestore::droppedTunnelMidRestoreFinishes()
{
    const QJsonObject purged = purge(u"moolumi"_s, 40);
    QCOMPARE(purged[u"outcome"_s].toString(), u"succeeded"_s);
    const QString runId = purged[u"id"_s].toString();
    std::unique_ptr<BackgroundCli> restore;
    QVERIFY(holdRestore(runId, u"moolumi"_s, &restore));
    QVERIFY(!dropConnections(m_sandbox, u"bastion"_s).isEmpty());
    releaseHold();
    QCOMPARE(restore->wait(120000), 0);
    QVERIFY2(restore->output().contains("trying again on a new connection"), restore->output().constData());
    QCOMPARE(checksums(), m_seed);
}

// A purge killed midway and recovered: the window the recovery opens holds the rows of both runs, and restoring it
// gives back the seed.
void TestPulumiRestore::killedPurgeRecoveredKeepsOneWindow()
{
    BackgroundCli purging({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"moolumi"_s, u"--confirm"_s, u"moolumi"_s,
                              u"--batch"_s, u"1"_s, u"--throttle"_s, u"20"_s },
        m_sandbox.environment());
    QVERIFY(purging.runsUntil([] { return scalar(u"SELECT COUNT(*) FROM Stacks"_s).toLongLong() < 390; }));
    purging.kill();
    const QString killed = unfinished(u"pulumi-purge"_s);
    QVERIFY(!killed.isEmpty());
    const QString report = m_temp.filePath(u"recovered-purge.json"_s);
    const CliRun recovered = cli({ u"recover"_s, killed, u"--confirm"_s, u"moolumi"_s, u"--report"_s, report });
    QVERIFY2(recovered.exitCode == 0, qPrintable(cliRunText(recovered)));
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString runId = QJsonDocument::fromJson(file.readAll()).object()[u"id"_s].toString();
    const QString dir = windowDir(runId);
    QVERIFY(!dir.isEmpty());
    const CliRun restored = cli({ u"restore"_s, runId, u"--confirm"_s, u"moolumi"_s });
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    // Each row once: the file of a batch the killed console never committed was removed by the recovery.
    QVERIFY2(!restored.out.contains("taken again"), restored.out.constData());
    QCOMPARE(checksums(), m_seed);
}

// An organisation of the test's own (so that the seed keeps its rows): a trash purge deletes the window's folder and
// ends it; with a retention of 3 s, a window expires, a restore is refused, and the next purge on the database ends it.
void TestPulumiRestore::trashPurgeAndExpiryEndTheWindow()
{
    const auto addStack = [](const QString& n) {
        return exec(u"INSERT INTO Stacks (id, org_id, name, active_update_id, created_at) VALUES (?, "
                    "'0123456789abcdef0123456789abcdef', ?, NULL, 1)"_s,
                   { u"5%1"_s.arg(n, 31, u'0'), u"trash-%1"_s.arg(n) })
            && exec(u"INSERT INTO Programs (id, org_id, stack_id, project_name, stack_name, created_at, deleted_at) "
                    "VALUES (?, '0123456789abcdef0123456789abcdef', ?, 'p', ?, 1, 2)"_s,
                { u"6%1"_s.arg(n, 31, u'0'), u"5%1"_s.arg(n, 31, u'0'), u"trash-%1"_s.arg(n) });
    };
    QVERIFY(exec(u"INSERT INTO Organizations (id, name, github_login, created_at) VALUES "
                 "('0123456789abcdef0123456789abcdef', 'Trash Test', 'trash-test', 1)"_s));
    QVERIFY(addStack(u"1"_s));
    const QJsonObject first = purge(u"trash-test"_s, 10);
    QCOMPARE(first[u"outcome"_s].toString(), u"succeeded"_s);
    const QString runId = first[u"id"_s].toString();
    const QString dir = windowDir(runId);
    QVERIFY(QFileInfo::exists(dir));
    QCOMPARE(cli({ u"trash"_s, u"purge"_s, runId, u"--confirm"_s, u"trash-test"_s }).exitCode, 2); // no reason
    QCOMPARE(cli({ u"trash"_s, u"purge"_s, runId, u"--reason"_s, u"test"_s, u"--confirm"_s, u"nope"_s }).exitCode, 3);
    QVERIFY(QFileInfo::exists(dir));
    const CliRun ended
        = cli({ u"trash"_s, u"purge"_s, runId, u"--reason"_s, u"test"_s, u"--confirm"_s, u"trash-test"_s });
    QVERIFY2(ended.exitCode == 0, qPrintable(cliRunText(ended)));
    QVERIFY(!QFileInfo::exists(dir));
    QCOMPARE(trashWindow(m_sandbox.environment(), runId, true)[u"state"_s].toString(), u"ended"_s);
    QCOMPARE(cli({ u"restore"_s, runId, u"--confirm"_s, u"trash-test"_s }).exitCode, 2);

    // A short retention: the window expires, its files stay until the next purge on the database ends it.
    const QString shortRetention = m_temp.filePath(u"retention-3s.yaml"_s);
    QFile source(m_sandbox.inventoryPath()), copy(shortRetention);
    QVERIFY(source.open(QIODevice::ReadOnly) && copy.open(QIODevice::WriteOnly));
    copy.write("undo: {retention: 3s}\n" + source.readAll());
    copy.close();
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_INVENTORY"_s, shortRetention);
    QVERIFY(addStack(u"2"_s));
    const CliRun second = cli(
        { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"trash-test"_s, u"--confirm"_s, u"trash-test"_s }, environment);
    QVERIFY2(second.exitCode == 0, qPrintable(cliRunText(second)));
    const QString expiring = QString::fromLatin1(second.out.mid(second.out.lastIndexOf("run ") + 4, 36));
    const QString expiringDir = windowDir(expiring);
    QVERIFY(QFileInfo::exists(expiringDir));
    QTest::qWait(3500);
    QVERIFY(trashWindow(environment, expiring, true)[u"state"_s].toString().startsWith(u"expired"_s));
    QCOMPARE(cli({ u"restore"_s, expiring, u"--confirm"_s, u"trash-test"_s }, environment).exitCode, 2);
    QVERIFY(QFileInfo::exists(expiringDir));
    QVERIFY(addStack(u"3"_s));
    // Any purge on the database ends it: the plan of one of another organisation lists it first.
    const CliRun plan = cli({ u"plan"_s, u"pulumi-purge"_s, u"--orgs"_s, u"initech"_s }, environment);
    QVERIFY2(plan.out.contains("1. End the 1 expired undo window of") && plan.out.contains(expiring.toUtf8()),
        plan.out.constData());
    const CliRun third = cli({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"trash-test"_s, u"--confirm"_s,
                                 u"trash-test"_s, u"--no-undo"_s, u"--reason"_s, u"test cleanup"_s },
        environment);
    QVERIFY2(third.exitCode == 0, qPrintable(cliRunText(third)));
    QVERIFY(!QFileInfo::exists(expiringDir));
    QCOMPARE(trashWindow(environment, expiring, true)[u"state"_s].toString(), u"ended"_s);
    QVERIFY(exec(u"DELETE FROM Organizations WHERE id = '0123456789abcdef0123456789abcdef'"_s));
}

QTEST_GUILESS_MAIN(TestPulumiRestore)
#include "tst_pulumirestore.moc"
