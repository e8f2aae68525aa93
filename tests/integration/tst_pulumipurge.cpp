// `opsdeck pulumi orgs`, `plan pulumi-purge` and `run pulumi-purge` against the sandbox's MariaDB (through the
// bastion's SSH tunnel, as the runbook's create-db-tunnel does): counts, bad input, a purge killed with SIGKILL
// and resumed, and a two-organisation purge, each ending exactly where the seed's summary says; then a tunnel
// dropped mid-purge and a stack undeleted mid-purge, each ending exactly where the database said before the run.
#include "DroppedConnections.h"
#include "Sandbox.h"

#include <QDir>
#include <QElapsedTimer>
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

#include <algorithm>
#include <csignal>
#include <functional>
#include <optional>
#include <utility>

#include <sys/types.h>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

namespace {

// SELECT COUNT(*) `from` (one ? for the login) on the check connection; -1 when it fails.
qint64 countOf(const QString& from, const QString& login)
{
    QSqlQuery query(QSqlDatabase::database(u"check"_s));
    query.prepare(u"SELECT COUNT(*) "_s + from);
    query.addBindValue(login);
    return query.exec() && query.next() ? query.value(0).toLongLong() : -1;
}

// The report's purged stacks, organisation -> stack ids: one "deleted" kind per organisation, "stacks of <login>",
// each item {id, name}.
QMap<QString, QStringList> purgedStacks(const QJsonObject& record)
{
    QMap<QString, QStringList> byOrg;
    const QJsonObject deleted = record[u"deleted"_s].toObject();
    for (auto it = deleted.begin(); it != deleted.end(); ++it) {
        if (!it.key().startsWith(u"stacks of "_s))
            continue;
        for (const QJsonValue& s : it.value().toArray())
            byOrg[it.key().mid(10)] << s[u"id"_s].toString();
    }
    return byOrg;
}

// Every purged stack id, sorted.
QStringList purgedStackIds(const QJsonObject& record)
{
    QStringList ids;
    for (const QStringList& org : purgedStacks(record))
        ids += org;
    ids.sort();
    return ids;
}

} // namespace

class TestPulumiPurge : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void organizationsMatchTheSeed();
    void planCountsEveryCascadedRow();
    void badInputIsRefusedAndNothingIsTouched_data();
    void badInputIsRefusedAndNothingIsTouched();
    void killedPurgeResumesToTheSameEndState();
    void databaseRestartedMidPurge();
    void twoOrganisationsExactly();
    // These two soft-delete some of initech's live stacks first, so they come last: expectPurged compares every
    // organisation's live stacks with the seed's summary.
    void droppedTunnelMidPurgeResumes();
    void stackUndeletedSinceThePlanIsSkipped();
    void cancelKillsTheStatementInFlight();
    void stackNamedByALiveProgramIsKept();
    void dataKeysAreSyncedBeforeTheFirstDelete();
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments, int timeoutMs = 120000);
    // Starts `opsdeck run pulumi-purge` of one organisation, a stack a batch with a pause after each, so that it
    // can be interrupted between batches.
    void startSlowPurge(QProcess& process, const QString& org, int throttleMs, const QString& report);
    QMap<QString, qint64> tableCounts();
    QJsonObject org(const QString& login) const;
    QMap<QString, qint64> softDeletedRows(const QStringList& logins) const;
    QString checksum(const QString& table);
    void expectPurged(const QMap<QString, qint64>& before, const QStringList& logins);
    qint64 softDeletedLeft(const QString& login);
    // The organisation's soft-deleted stacks that still have their Stacks row: the purge's first phase counts
    // them down.
    qint64 stacksLeft(const QString& login);
    QStringList topUpSoftDeleted(const QString& login, qint64 count);
    QMap<QString, QString> fingerprints(const QStringList& excludedStacks);
    void expectFingerprints(const QMap<QString, QString>& expected);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QJsonObject m_summary;
    QMap<QString, qint64> m_initial;
};

void TestPulumiPurge::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QFile summary(m_sandbox.json().value(u"pulumi"_s)[u"summary"_s].toString());
    QVERIFY(summary.open(QIODevice::ReadOnly));
    m_summary = QJsonDocument::fromJson(summary.readAll()).object();
    QSqlDatabase db = m_sandbox.mariadb().addMysqlConnection(u"check"_s, u"pulumi"_s);
    QVERIFY2(db.open(), qPrintable(db.lastError().text()));
    m_initial = tableCounts();
    const QJsonObject tables = m_summary[u"tables"_s].toObject();
    for (auto it = tables.begin(); it != tables.end(); ++it)
        QCOMPARE(m_initial.value(it.key()), it.value().toInteger());
}

void TestPulumiPurge::cleanupTestCase()
{
    QSqlDatabase::database(u"check"_s).close();
    QSqlDatabase::removeDatabase(u"check"_s);
}

CliRun TestPulumiPurge::cli(const QStringList& arguments, int timeoutMs)
{
    return runCli(arguments, m_sandbox.environment(), timeoutMs);
}

QMap<QString, qint64> TestPulumiPurge::tableCounts()
{
    QMap<QString, qint64> counts;
    for (const QString& table : m_summary[u"tables"_s].toObject().keys()) {
        QSqlQuery query(QSqlDatabase::database(u"check"_s));
        if (query.exec(u"SELECT COUNT(*) FROM `%1`"_s.arg(table)) && query.next())
            counts.insert(table, query.value(0).toLongLong());
    }
    return counts;
}

QString TestPulumiPurge::checksum(const QString& table)
{
    QSqlQuery query(QSqlDatabase::database(u"check"_s));
    return query.exec(u"CHECKSUM TABLE `%1`"_s.arg(table)) && query.next() ? query.value(1).toString() : QString();
}

QJsonObject TestPulumiPurge::org(const QString& login) const
{
    for (const QJsonValue& o : m_summary[u"organizations"_s].toArray()) {
        if (o[u"github_login"_s].toString() == login)
            return o.toObject();
    }
    return {};
}

QMap<QString, qint64> TestPulumiPurge::softDeletedRows(const QStringList& logins) const
{
    QMap<QString, qint64> rows;
    for (const QString& login : logins) {
        const QJsonObject r = org(login)[u"softDeletedRows"_s].toObject();
        for (auto it = r.begin(); it != r.end(); ++it)
            rows[it.key()] += it.value().toInteger();
    }
    return rows;
}

// Every table lost exactly the purged organisations' soft-deleted rows; every other organisation is as it was.
void TestPulumiPurge::startSlowPurge(QProcess& process, const QString& org, int throttleMs, const QString& report)
{
    process.setProcessEnvironment(m_sandbox.environment());
    process.start(QStringLiteral(OPSDECK_BINARY),
        { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, org, u"--confirm"_s, org, u"--batch"_s, u"1"_s, u"--throttle"_s,
            QString::number(throttleMs), u"--report"_s, report });
}

void TestPulumiPurge::expectPurged(const QMap<QString, qint64>& before, const QStringList& logins)
{
    const QMap<QString, qint64> gone = softDeletedRows(logins);
    const QMap<QString, qint64> after = tableCounts();
    for (auto it = before.cbegin(); it != before.cend(); ++it)
        QCOMPARE(it.key() + u' ' + QString::number(after.value(it.key())),
            it.key() + u' ' + QString::number(*it - gone.value(it.key())));
    const QJsonArray orgs = QJsonDocument::fromJson(cli({ u"pulumi"_s, u"orgs"_s, u"--json"_s }).out).array();
    QCOMPARE(orgs.size(), m_summary[u"organizations"_s].toArray().size());
    for (const QJsonValue& o : orgs) {
        const QString login = o[u"githubLogin"_s].toString();
        QCOMPARE(o[u"live"_s].toInteger(), org(login)[u"live"_s].toInteger());
        if (logins.contains(login))
            QCOMPARE(o[u"softDeleted"_s].toInteger(), 0);
    }
}

qint64 TestPulumiPurge::softDeletedLeft(const QString& login)
{
    return countOf(u"FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id WHERE o.github_login = ? AND "
                   "p.deleted_at > 0"_s,
        login);
}

qint64 TestPulumiPurge::stacksLeft(const QString& login)
{
    return countOf(u"FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id JOIN Stacks AS s ON s.id = "
                   "p.stack_id WHERE o.github_login = ? AND p.deleted_at > 0"_s,
        login);
}

// The organisation's soft-deleted stacks (Programs.stack_id, in the purge's order), made `count` by soft-deleting
// some of its live ones as the service would. initech, the one organisation no other test purges, has a single
// soft-deleted stack in the seed: too few for a run to be caught between two batches.
QStringList TestPulumiPurge::topUpSoftDeleted(const QString& login, qint64 count)
{
    QSqlQuery query(QSqlDatabase::database(u"check"_s));
    if (const qint64 missing = count - softDeletedLeft(login); missing > 0) {
        query.prepare(
            u"UPDATE Programs SET deleted_at = UNIX_TIMESTAMP() WHERE org_id = (SELECT id FROM "
            "Organizations WHERE github_login = ?) AND deleted_at = 0 ORDER BY stack_id LIMIT %1"_s.arg(missing));
        query.addBindValue(login);
        if (!query.exec())
            qWarning() << "soft-deleting stacks of" << login << "failed:" << query.lastError().text();
    }
    query.prepare(u"SELECT p.stack_id FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id "
                  "WHERE o.github_login = ? AND p.deleted_at > 0 ORDER BY p.stack_id"_s);
    query.addBindValue(login);
    QStringList stacks;
    if (query.exec()) {
        while (query.next())
            stacks << query.value(0).toString();
    }
    return stacks;
}

// Per table, "ROWS HASH": how many rows, and the XOR of a 64-bit hash of each row's key (a Stacks row's with its
// active_update_id), leaving out the rows of `excludedStacks` (their Programs and Stacks rows and all that hangs off
// them). The same before the run leaving out what is to be purged, and after it leaving out nothing, means those rows
// and only those went: no other row deleted, no other stack's active update cleared. Counts alone would miss a
// wrong row deleted in place of a right one.
QMap<QString, QString> TestPulumiPurge::fingerprints(const QStringList& excludedStacks)
{
    struct Table
    {
        QString name, from, key, stack;
    };
    // The stack a row belongs to: through a LEFT JOIN, so that a row whose owner is gone still counts.
    const QList<Table> tables {
        { u"Organizations"_s, u"Organizations AS x"_s, u"x.id"_s, u"NULL"_s },
        { u"Programs"_s, u"Programs AS x"_s, u"x.id"_s, u"x.stack_id"_s },
        { u"ProgramUpdates"_s, u"ProgramUpdates AS x LEFT JOIN Programs AS p ON p.id = x.program_id"_s, u"x.id"_s,
            u"p.stack_id"_s },
        { u"Resources"_s, u"Resources AS x LEFT JOIN Programs AS p ON p.id = x.program_id"_s, u"x.id"_s,
            u"p.stack_id"_s },
        { u"Stacks"_s, u"Stacks AS x"_s, u"CONCAT_WS('/', x.id, x.active_update_id)"_s, u"x.id"_s },
        { u"StackTags"_s, u"StackTags AS x"_s, u"CONCAT_WS('/', x.stack_id, x.name)"_s, u"x.stack_id"_s },
        { u"Updates"_s, u"Updates AS x"_s, u"x.id"_s, u"x.stack_id"_s },
        { u"UpdateCheckpointInfo"_s, u"UpdateCheckpointInfo AS x LEFT JOIN Updates AS u ON u.id = x.update_id"_s,
            u"x.id"_s, u"u.stack_id"_s },
        { u"UpdateLogs"_s, u"UpdateLogs AS x LEFT JOIN Updates AS u ON u.id = x.update_id"_s, u"x.id"_s,
            u"u.stack_id"_s },
        { u"UpdateEvents"_s, u"UpdateEvents AS x LEFT JOIN Updates AS u ON u.id = x.update_id"_s, u"x.id"_s,
            u"u.stack_id"_s },
    };
    QMap<QString, QString> result;
    QStringList marks;
    marks.fill(u"?"_s, excludedStacks.size());
    for (const Table& t : tables) {
        QString sql = u"SELECT COUNT(*), BIT_XOR(CAST(CONV(LEFT(MD5(%1), 16), 16, 10) AS UNSIGNED)) FROM %2"_s.arg(
            t.key, t.from);
        if (!excludedStacks.isEmpty())
            sql += u" WHERE %1 IS NULL OR %1 NOT IN (%2)"_s.arg(t.stack, marks.join(u','));
        QSqlQuery query(QSqlDatabase::database(u"check"_s));
        query.prepare(sql);
        for (const QString& stack : excludedStacks)
            query.addBindValue(stack);
        result.insert(t.name,
            query.exec() && query.next() ? query.value(0).toString() + u' ' + query.value(1).toString()
                                         : u"error: "_s + query.lastError().text());
    }
    return result;
}

void TestPulumiPurge::expectFingerprints(const QMap<QString, QString>& expected)
{
    // Every table of the seed is covered: a new one needs its way to a stack above.
    QCOMPARE(expected.keys(), m_summary[u"tables"_s].toObject().keys());
    const QMap<QString, QString> after = fingerprints({});
    for (auto it = expected.cbegin(); it != expected.cend(); ++it)
        QCOMPARE(it.key() + u' ' + after.value(it.key()), it.key() + u' ' + *it);
}

void TestPulumiPurge::organizationsMatchTheSeed()
{
    const CliRun run = cli({ u"pulumi"_s, u"orgs"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray orgs = QJsonDocument::fromJson(run.out).array();
    QCOMPARE(orgs.size(), m_summary[u"organizations"_s].toArray().size());
    for (const QJsonValue& o : orgs) {
        const QJsonObject seeded = org(o[u"githubLogin"_s].toString());
        QCOMPARE(o[u"name"_s].toString(), seeded[u"name"_s].toString());
        QCOMPARE(o[u"softDeleted"_s].toInteger(), seeded[u"softDeleted"_s].toInteger());
        QCOMPARE(o[u"live"_s].toInteger(), seeded[u"live"_s].toInteger());
    }
}

void TestPulumiPurge::planCountsEveryCascadedRow()
{
    const CliRun run = cli({ u"plan"_s, u"pulumi-purge"_s, u"--orgs"_s, u"moolumi,pulumi"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonObject plan = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(plan[u"environment"_s].toString(), u"production"_s);
    QCOMPARE(plan[u"confirmWith"_s].toString(), u"moolumi,pulumi"_s);
    const QMap<QString, qint64> expected = softDeletedRows({ u"moolumi"_s, u"pulumi"_s });
    const QJsonObject rows = plan[u"details"_s][u"rows"_s].toObject();
    // Every table but Organizations is reached through the schema's own cascades, StackTags and UpdateEvents
    // (which the runbook does not name) included.
    QCOMPARE(rows.size(), expected.size() - 1);
    for (auto it = rows.begin(); it != rows.end(); ++it)
        QCOMPARE(it.key() + u' ' + QString::number(it.value().toInteger()),
            it.key() + u' ' + QString::number(expected.value(it.key())));
    QCOMPARE(plan[u"dataKeys"_s].toInteger(),
        org(u"moolumi"_s)[u"softDeletedDataKeys"_s].toInteger()
            + org(u"pulumi"_s)[u"softDeletedDataKeys"_s].toInteger());
    QVERIFY(plan[u"details"_s][u"tableRowsBefore"_s].toObject().contains(u"UpdateLogs"_s));
    // The restore files' size is estimated from average row lengths, and the plan says so.
    QVERIFY(plan[u"undo"_s][u"bytesHeld"_s].toInteger() > 0);
    QVERIFY(plan[u"undo"_s][u"bytesEstimated"_s].toBool());
    QCOMPARE(tableCounts(), m_initial);
}

void TestPulumiPurge::badInputIsRefusedAndNothingIsTouched_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const QStringList run { u"run"_s, u"pulumi-purge"_s };
    QTest::newRow("unknown organisation")
        << run + QStringList { u"--orgs"_s, u"nope"_s, u"--confirm"_s, u"nope"_s } << 2 << u"is not in"_s;
    QTest::newRow("SQL in a name") << run + QStringList { u"--orgs"_s, u"x') OR ('1'='1"_s, u"--confirm"_s, u"x"_s }
                                   << 2 << u"is not allowed"_s;
    QTest::newRow("quote and comment") << run + QStringList { u"--orgs"_s, u"pulumi\"--"_s, u"--confirm"_s, u"x"_s }
                                       << 2 << u"is not allowed"_s;
    QTest::newRow("empty list") << run + QStringList { u"--orgs"_s, u","_s, u"--confirm"_s, u""_s } << 2
                                << u"orgs is empty"_s;
    QTest::newRow("wrong confirmation") << run
            + QStringList { u"--orgs"_s, u"moolumi,pulumi"_s, u"--confirm"_s, u"moolumi"_s }
                                        << 3 << u"does not name the target"_s;
    QTest::newRow("no confirmation") << run + QStringList { u"--orgs"_s, u"moolumi"_s } << 3
                                     << u"--confirm is required"_s;
    QTest::newRow("batch not a number") << run
            + QStringList { u"--orgs"_s, u"moolumi"_s, u"--confirm"_s, u"moolumi"_s, u"--batch"_s, u"5;1"_s }
                                        << 2 << u"--batch: \"5;1\" is not allowed: use 1 to 5000"_s;
    QTest::newRow("too many connections")
        << run + QStringList { u"--orgs"_s, u"moolumi"_s, u"--confirm"_s, u"moolumi"_s, u"--parallel"_s, u"9"_s } << 2
        << u"--parallel: \"9\" is not allowed: use 1 to 4"_s;
    QTest::newRow("plan, unknown organisation")
        << QStringList { u"plan"_s, u"pulumi-purge"_s, u"--orgs"_s, u"moolumi,nope"_s } << 2 << u"is not in"_s;
}

void TestPulumiPurge::badInputIsRefusedAndNothingIsTouched()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const QMap<QString, qint64> before = tableCounts();
    const QString stacks = checksum(u"Stacks"_s);
    const CliRun run = cli(arguments);
    QCOMPARE(run.exitCode, exitCode);
    QVERIFY2(run.err.contains(message.toUtf8()), run.err.constData());
    QCOMPARE(tableCounts(), before);
    QCOMPARE(checksum(u"Stacks"_s), stacks);
}

void TestPulumiPurge::killedPurgeResumesToTheSameEndState()
{
    const QMap<QString, qint64> before = tableCounts();
    const qint64 planned = org(u"moolumi"_s)[u"softDeleted"_s].toInteger();
    QProcess process;
    process.setProcessEnvironment(m_sandbox.environment());
    process.start(QStringLiteral(OPSDECK_BINARY),
        { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"moolumi"_s, u"--confirm"_s, u"moolumi"_s, u"--batch"_s, u"1"_s });
    // SIGKILL mid-way through the first phase, once some Stacks rows are gone.
    QTRY_VERIFY_WITH_TIMEOUT(stacksLeft(u"moolumi"_s) < planned - 5, 60000);
    ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
    QVERIFY(process.waitForFinished(10000));
    // A COMMIT the killed console had already sent still completes on the server: count once the number holds.
    qint64 left = stacksLeft(u"moolumi"_s);
    for (qint64 previous = -1; left != previous;) {
        QTest::qWait(1500);
        previous = std::exchange(left, stacksLeft(u"moolumi"_s));
    }
    QVERIFY2(left > 0 && left < planned, qPrintable(QString::number(left)));
    // Each batch is whole or not at all, and nothing outside the plan went: no live program lost its Stacks row,
    // no Stacks row lost its program, every Stacks row that went has its Updates gone too (the cascade), and no
    // Programs row is gone yet (the second phase had not started).
    QSqlQuery orphans(QSqlDatabase::database(u"check"_s));
    QVERIFY(orphans.exec(u"SELECT (SELECT COUNT(*) FROM Programs AS p LEFT JOIN Stacks AS s ON s.id = p.stack_id "
                         "WHERE s.id IS NULL AND p.deleted_at = 0), (SELECT COUNT(*) FROM Stacks AS s LEFT JOIN "
                         "Programs AS p ON p.stack_id = s.id WHERE p.id IS NULL), (SELECT COUNT(*) FROM Updates AS u "
                         "LEFT JOIN Stacks AS s ON s.id = u.stack_id WHERE s.id IS NULL)"_s));
    QVERIFY(orphans.next());
    QCOMPARE(orphans.value(0).toLongLong(), 0);
    QCOMPARE(orphans.value(1).toLongLong(), 0);
    QCOMPARE(orphans.value(2).toLongLong(), 0);
    QCOMPARE(softDeletedLeft(u"moolumi"_s), planned);

    // The killed run has no outcome: `opsdeck recover` finds it and plans the same purge again, which finishes it.
    const auto unfinished = [this] {
        QString id;
        for (const QJsonValue& run :
            QJsonDocument::fromJson(cli({ u"journal"_s, u"unfinished"_s, u"--json"_s }).out).array()) {
            if (run[u"operation"_s].toString() == u"pulumi-purge"_s)
                id = run[u"id"_s].toString();
        }
        return id;
    };
    const QString killed = unfinished();
    QVERIFY(!killed.isEmpty());
    const QString report = m_temp.filePath(u"resumed.json"_s);
    const CliRun run = cli({ u"recover"_s, killed, u"--confirm"_s, u"moolumi"_s, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    QVERIFY(unfinished().isEmpty());
    expectPurged(before, { u"moolumi"_s });
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    // It planned every soft-deleted program again, those whose Stacks rows the first run deleted too.
    QCOMPARE(purgedStackIds(record).size(), planned);
    QCOMPARE(record[u"planCounts"_s][u"rows.Stacks"_s].toInteger(), left);
}

// MariaDB crashes and comes back while the purge runs: the batch in flight rolls back, the run says so and
// reconnects, and finishes.
void TestPulumiPurge::databaseRestartedMidPurge()
{
    const QMap<QString, qint64> before = tableCounts();
    const qint64 planned = org(u"pulumi"_s)[u"softDeleted"_s].toInteger();
    const QString report = m_temp.filePath(u"restarted.json"_s);
    QProcess process;
    startSlowPurge(process, u"pulumi"_s, 300, report);
    const auto remaining = [this] { return softDeletedLeft(u"pulumi"_s); };
    QTRY_VERIFY_WITH_TIMEOUT(remaining() >= 0 && remaining() < planned - 1, 60000);
    QCOMPARE(m_sandbox.script(u"restart-mariadb"_s, { u"1"_s }), 0);
    QVERIFY(process.waitForFinished(120000));
    const QByteArray out = process.readAllStandardOutput();
    QVERIFY2(process.exitCode() == 0, out + process.readAllStandardError());
    // Our check connection went down with the server.
    QSqlDatabase check = QSqlDatabase::database(u"check"_s, false);
    check.close();
    QVERIFY2(check.open(), qPrintable(check.lastError().text()));
    expectPurged(before, { u"pulumi"_s });
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QString outputs;
    for (const QJsonValue& step : record[u"steps"_s].toArray())
        outputs += step[u"output"_s].toString();
    QVERIFY2(outputs.contains(u"reconnecting"_s), qPrintable(u"the run did not report the outage: "_s + outputs));
}

void TestPulumiPurge::twoOrganisationsExactly()
{
    const QMap<QString, qint64> before = tableCounts();
    const QString organizations = checksum(u"Organizations"_s);
    const QString report = m_temp.filePath(u"two.json"_s);
    const CliRun run = cli({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"sean-gillespie,acme-corp"_s, u"--confirm"_s,
        u"sean-gillespie,acme-corp"_s, u"--batch"_s, u"2"_s, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    expectPurged(before, { u"sean-gillespie"_s, u"acme-corp"_s });
    QCOMPARE(checksum(u"Organizations"_s), organizations);

    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    const QMap<QString, QStringList> perOrg = purgedStacks(record);
    QCOMPARE(perOrg.keys(), QStringList({ u"acme-corp"_s, u"sean-gillespie"_s }));
    QCOMPARE(perOrg[u"acme-corp"_s].size(), org(u"acme-corp"_s)[u"softDeleted"_s].toInt());
    QCOMPARE(perOrg[u"sean-gillespie"_s].size(), org(u"sean-gillespie"_s)[u"softDeleted"_s].toInt());
    // The data keys were exported beside the report before anything was deleted.
    QFile keys(record[u"after"_s][u"dataKeysFile"_s].toString());
    QVERIFY(keys.fileName().startsWith(m_temp.path()));
    QVERIFY(keys.open(QIODevice::ReadOnly));
    QCOMPARE(keys.readAll().count('\n'),
        org(u"acme-corp"_s)[u"softDeletedDataKeys"_s].toInteger()
            + org(u"sean-gillespie"_s)[u"softDeletedDataKeys"_s].toInteger());
    QVERIFY(record[u"after"_s][u"tableRows"_s].toObject().contains(u"Stacks"_s));

    // The report in the other formats lists the purged stacks by name, per organisation.
    const QString id = record[u"id"_s].toString();
    for (const QString& format : { u"csv"_s, u"html"_s, u"pdf"_s }) {
        const CliRun exported = cli(
            { u"report"_s, u"export"_s, id, u"--format"_s, format, u"-o"_s, m_temp.filePath(u"two."_s + format) });
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
    }
    QFile csvFile(m_temp.filePath(u"two.csv"_s)), htmlFile(m_temp.filePath(u"two.html"_s)),
        pdfFile(m_temp.filePath(u"two.pdf"_s));
    QVERIFY(
        csvFile.open(QIODevice::ReadOnly) && htmlFile.open(QIODevice::ReadOnly) && pdfFile.open(QIODevice::ReadOnly));
    const QStringList csv = QString::fromUtf8(csvFile.readAll()).split(u"\r\n"_s, Qt::SkipEmptyParts);
    const QString html = QString::fromUtf8(htmlFile.readAll());
    QVERIFY(pdfFile.read(5) == "%PDF-");
    for (const QString& login : perOrg.keys()) {
        const QJsonArray stacks = record[u"deleted"_s][u"stacks of "_s + login].toArray();
        QVERIFY(html.contains(u"Stacks of %1 (%2)"_s.arg(login).arg(stacks.size())));
        for (const QJsonValue& stack : stacks) {
            const QString line
                = u"stacks of %1,%2,%3,"_s.arg(login, stack[u"id"_s].toString(), stack[u"name"_s].toString());
            QVERIFY2(csv.contains(line), qPrintable(line));
            QVERIFY(html.contains(stack[u"name"_s].toString()));
        }
    }
    QCOMPARE(csv.size(), 1 + perOrg[u"acme-corp"_s].size() + perOrg[u"sean-gillespie"_s].size());
    // None of the secrets the run resolved (the bastion's and the database's passwords) is kept or printed.
    QCOMPARE(m_sandbox.secretLeaks(
                 { report, csvFile.fileName(), htmlFile.fileName(), keys.fileName() }, { run.out, run.err }),
        QStringList());
}

// The SSH tunnel to the database drops between two batches (the bastion's connections are killed): the next batch
// finds the connection gone, the run says so, opens a new tunnel and finishes in the same run, exactly.
void TestPulumiPurge::droppedTunnelMidPurgeResumes()
{
    const QStringList planned = topUpSoftDeleted(u"initech"_s, 4);
    QCOMPARE(planned.size(), 4);
    const QMap<QString, QString> expected = fingerprints(planned);
    const QString organizations = checksum(u"Organizations"_s);
    const QString report = m_temp.filePath(u"tunnel.json"_s);
    QProcess process;
    // A stack a batch and a pause after each: batches are still to come when the tunnel drops.
    startSlowPurge(process, u"initech"_s, 700, report);
    // The first batch is in: the database knows as soon as it commits, before any line about it is printed.
    QTRY_VERIFY2_WITH_TIMEOUT(
        stacksLeft(u"initech"_s) < planned.size(), process.readAllStandardError().constData(), 60000);
    const QList<pid_t> killed = dropConnections(m_sandbox, u"bastion"_s);
    QVERIFY2(!killed.isEmpty(), "no connection to the bastion to drop");
    QTRY_VERIFY_WITH_TIMEOUT(std::none_of(killed.cbegin(), killed.cend(), isRunning), 5000);
    QVERIFY2(softDeletedLeft(u"initech"_s) > 0, "the purge was over before the tunnel dropped");

    QVERIFY(process.waitForFinished(60000));
    const QString output = QString::fromUtf8(process.readAllStandardOutput() + '\n' + process.readAllStandardError());
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0, qPrintable(output));
    expectFingerprints(expected);
    QCOMPARE(checksum(u"Organizations"_s), organizations);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    const QStringList deleted = purgedStackIds(record);
    QCOMPARE(deleted, planned);
    QCOMPARE(record[u"after"_s][u"skippedStacks"_s].toInteger(), 0);
    // The run noticed and said so, in its output or in the report (a step's streamed lines).
    bool reported = output.contains(u"reconnecting"_s);
    for (const QJsonValue& step : record[u"steps"_s].toArray())
        reported = reported || step[u"output"_s].toString().contains(u"reconnecting"_s);
    QVERIFY2(reported, qPrintable(u"the run did not report the dropped tunnel: "_s + output));
}

// One of the planned stacks is undeleted (deleted_at back to 0) while the purge runs: it is not purged, nor is
// anything of it touched, and the run says which and why; the rest of the plan is purged.
void TestPulumiPurge::stackUndeletedSinceThePlanIsSkipped()
{
    const QStringList planned = topUpSoftDeleted(u"initech"_s, 4);
    QCOMPARE(planned.size(), 4);
    // The purge goes in stack_id order: the last stack's batch is still to come when the first is done.
    const QString undeleted = planned.last();
    const QMap<QString, QString> expected = fingerprints(planned.first(planned.size() - 1));
    const QString organizations = checksum(u"Organizations"_s);
    QSqlQuery name(QSqlDatabase::database(u"check"_s));
    name.prepare(u"SELECT stack_name FROM Programs WHERE stack_id = ?"_s);
    name.addBindValue(undeleted);
    QVERIFY(name.exec() && name.next());
    const QString stackName = name.value(0).toString();
    const QString report = m_temp.filePath(u"undeleted.json"_s);
    QProcess process;
    startSlowPurge(process, u"initech"_s, 1000, report);
    // The first batch is in; the undeleted stack's comes a pause or more later.
    QTRY_VERIFY2_WITH_TIMEOUT(
        stacksLeft(u"initech"_s) < planned.size(), process.readAllStandardError().constData(), 60000);
    QSqlQuery undelete(QSqlDatabase::database(u"check"_s));
    undelete.prepare(u"UPDATE Programs SET deleted_at = 0 WHERE stack_id = ? AND deleted_at > 0"_s);
    undelete.addBindValue(undeleted);
    QVERIFY2(undelete.exec(), qPrintable(undelete.lastError().text()));
    // Still there to undelete: the purge had not reached it.
    QCOMPARE(undelete.numRowsAffected(), 1);

    QVERIFY(process.waitForFinished(60000));
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
        qPrintable(out + QString::fromUtf8(process.readAllStandardError())));
    // The undeleted stack's Programs and Stacks rows (with its active update) and every row below them are all
    // there; the other planned stacks' are gone; nothing else changed.
    expectFingerprints(expected);
    QCOMPARE(checksum(u"Organizations"_s), organizations);
    QCOMPARE(softDeletedLeft(u"initech"_s), 0);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    const QStringList deleted = purgedStackIds(record);
    QCOMPARE(deleted, planned.first(planned.size() - 1));
    QCOMPARE(record[u"after"_s][u"skippedStacks"_s].toInteger(), 1);
    // The summary tells of it: by name, or by count.
    const QString summary = record[u"summary"_s].toString();
    QVERIFY2(summary.contains(u"skipped"_s) && (summary.contains(stackName) || summary.contains(u"1 undeleted"_s)),
        qPrintable(summary));
    QVERIFY2(out.contains(summary), qPrintable(out));
    // Which stack, and why.
    const QJsonArray skipped = record[u"after"_s][u"skipped"_s].toArray();
    QCOMPARE(skipped.size(), 1);
    QCOMPARE(skipped[0][u"org"_s].toString(), u"initech"_s);
    QCOMPARE(skipped[0][u"name"_s].toString(), stackName);
    QCOMPARE(skipped[0][u"id"_s].toString(), undeleted);
    QVERIFY(!skipped[0][u"reason"_s].toString().trimmed().isEmpty());
}

// Ctrl-C while a batch's statement waits for a row lock (another session holds the first planned stack's Programs
// row): the cancel kills that statement from a second connection at once, not after MariaDB's 50 s lock wait; its
// batch rolls back and nothing is purged. The same command run again purges them all.
void TestPulumiPurge::cancelKillsTheStatementInFlight()
{
    // acme-corp: its soft-deleted stacks went in twoOrganisationsExactly; initech has too few live ones left.
    const QStringList planned = topUpSoftDeleted(u"acme-corp"_s, 4);
    QCOMPARE(planned.size(), 4);
    const QMap<QString, QString> untouched = fingerprints({});
    const QMap<QString, QString> purged = fingerprints(planned);
    const QString report = m_temp.filePath(u"cancelled.json"_s);
    const auto waiting = [] {
        QSqlQuery q(QSqlDatabase::database(u"check"_s));
        q.exec(u"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
               "'SELECT id, stack_id, deleted_at%'"_s);
        return q.next() && q.value(0).toInt() > 0;
    };
    {
        QSqlDatabase lock = QSqlDatabase::cloneDatabase(u"check"_s, u"lock"_s);
        QVERIFY2(lock.open(), qPrintable(lock.lastError().text()));
        QVERIFY(lock.transaction());
        QSqlQuery hold(lock);
        hold.prepare(u"SELECT id FROM Programs WHERE stack_id = ? FOR UPDATE"_s);
        hold.addBindValue(planned.first());
        QVERIFY(hold.exec() && hold.next());

        QProcess process;
        process.setProcessEnvironment(m_sandbox.environment());
        process.start(QStringLiteral(OPSDECK_BINARY),
            { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"acme-corp"_s, u"--confirm"_s, u"acme-corp"_s, u"--batch"_s,
                u"1"_s, u"--parallel"_s, u"1"_s, u"--report"_s, report });
        QTRY_VERIFY2_WITH_TIMEOUT(waiting(), process.readAllStandardError().constData(), 60000);
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(::kill(static_cast<pid_t>(process.processId()), SIGINT), 0);
        QVERIFY(process.waitForFinished(60000));
        QVERIFY2(clock.elapsed() < 20000, "the cancel waited for the lock instead of killing the statement");
        QCOMPARE(process.exitCode(), 1);
        QVERIFY(!waiting());
        lock.rollback();
        lock.close();
    }
    QSqlDatabase::removeDatabase(u"lock"_s);
    expectFingerprints(untouched);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(file.readAll()).object()[u"outcome"_s].toString(), u"cancelled"_s);

    const CliRun again
        = cli({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"acme-corp"_s, u"--confirm"_s, u"acme-corp"_s });
    QVERIFY2(again.exitCode == 0, again.err.constData() + again.out);
    expectFingerprints(purged);
}

// Programs.stack_id is not unique: a live program (deleted_at 0) names the Stacks row of a soft-deleted one. That
// Stacks row, and everything below it, stays, and so do both programs; the run says which stack and why; the other
// planned stack is purged.
void TestPulumiPurge::stackNamedByALiveProgramIsKept()
{
    // sean-gillespie: its soft-deleted stacks went in twoOrganisationsExactly, and it has live ones to spare.
    const QStringList planned = topUpSoftDeleted(u"sean-gillespie"_s, 2);
    QCOMPARE(planned.size(), 2);
    const QString shared = planned.first();
    QSqlQuery live(QSqlDatabase::database(u"check"_s));
    live.prepare(u"INSERT INTO Programs (id, org_id, stack_id, project_name, stack_name, created_at, deleted_at) "
                 "SELECT REPLACE(UUID(), '-', ''), org_id, stack_id, project_name, CONCAT(stack_name, '-live'), "
                 "UNIX_TIMESTAMP(), 0 FROM Programs WHERE stack_id = ? AND deleted_at > 0"_s);
    live.addBindValue(shared);
    QVERIFY2(live.exec(), qPrintable(live.lastError().text()));
    QCOMPARE(live.numRowsAffected(), 1);
    const QMap<QString, QString> expected = fingerprints({ planned.last() });
    const QString report = m_temp.filePath(u"shared.json"_s);
    const CliRun run = cli({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"sean-gillespie"_s, u"--confirm"_s,
        u"sean-gillespie"_s, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    expectFingerprints(expected);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    QCOMPARE(purgedStackIds(record), QStringList { planned.last() });
    const QJsonArray skipped = record[u"after"_s][u"skipped"_s].toArray();
    QCOMPARE(skipped.size(), 1);
    QCOMPARE(skipped[0][u"id"_s].toString(), shared);
    QVERIFY2(
        skipped[0][u"reason"_s].toString().contains(u"live program"_s), qPrintable(skipped[0][u"reason"_s].toString()));

    // The world as the seed would have it: the soft-deleted program and its stack wait for the next purge.
    QSqlQuery drop(QSqlDatabase::database(u"check"_s));
    drop.prepare(u"DELETE FROM Programs WHERE stack_id = ? AND deleted_at = 0"_s);
    drop.addBindValue(shared);
    QVERIFY2(drop.exec(), qPrintable(drop.lastError().text()));
}

// The data-key export is on disk, whole and under its name, before the purge's first destructive statement:
// traced (strace) through the system calls, in order: the keys' temporary file is fsynced, given the export's name
// (QSaveFile links an O_TMPFILE file, or renames a named temporary), the directory is fsynced, and only then does the
// first UPDATE or DELETE of Stacks leave for the database.
void TestPulumiPurge::dataKeysAreSyncedBeforeTheFirstDelete()
{
    const QStringList planned = topUpSoftDeleted(u"acme-corp"_s, 2);
    QCOMPARE(planned.size(), 2);
    QSqlQuery keys(QSqlDatabase::database(u"check"_s));
    keys.prepare(u"SELECT COUNT(*) FROM UpdateCheckpointInfo AS c JOIN Updates AS u ON c.update_id = u.id WHERE "
                 "u.stack_id IN (?, ?)"_s);
    keys.addBindValue(planned[0]);
    keys.addBindValue(planned[1]);
    QVERIFY(keys.exec() && keys.next());
    const qint64 expectedKeys = keys.value(0).toLongLong();
    QVERIFY(expectedKeys > 0);

    const QString exportDir = m_temp.filePath(u"synced"_s);
    const QString trace = m_temp.filePath(u"synced.trace"_s);
    QProcess process;
    process.setProcessEnvironment(m_sandbox.environment());
    process.start(u"strace"_s,
        { u"-f"_s, u"-qq"_s, u"-y"_s, u"-s"_s, u"96"_s, u"-e"_s, u"signal=none"_s, u"-e"_s,
            u"trace=fsync,fdatasync,rename,renameat,renameat2,linkat,write,writev,sendto,sendmsg"_s, u"-o"_s, trace,
            QStringLiteral(OPSDECK_BINARY), u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"acme-corp"_s, u"--confirm"_s,
            u"acme-corp"_s, u"--report"_s, exportDir + u"/report.json"_s });
    QVERIFY2(process.waitForFinished(120000), "strace or the purge did not finish");
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
        process.readAllStandardError().constData());
    QFile reportFile(exportDir + u"/report.json"_s);
    QVERIFY(reportFile.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(reportFile.readAll()).object();
    QCOMPARE(purgedStackIds(record).size(), planned.size());
    const QString exported = record[u"after"_s][u"dataKeysFile"_s].toString();
    QCOMPARE(QFileInfo(exported).absolutePath(), exportDir);
    QFile keysFile(exported);
    QVERIFY(keysFile.open(QIODevice::ReadOnly));
    QCOMPARE(keysFile.readAll().count('\n'), expectedKeys);

    QFile traceFile(trace);
    QVERIFY(traceFile.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(traceFile.readAll()).split(u'\n');
    // A call another thread interrupted is printed in two lines ("<unfinished ...>", then "<... NAME resumed>"
    // with the same pid): it has returned at the second.
    const auto returnedAt = [&lines](qsizetype i) {
        if (!lines[i].endsWith(u"<unfinished ...>"_s))
            return i;
        const QString pid = lines[i].section(u' ', 0, 0);
        for (qsizetype j = i + 1; j < lines.size(); ++j) {
            if (lines[j].startsWith(pid + u' ') && lines[j].contains(u" resumed>"_s))
                return j;
        }
        return lines.size();
    };
    const auto first = [&lines](qsizetype from, const std::function<bool(const QString&)>& matches) {
        for (qsizetype i = from; i < lines.size(); ++i) {
            if (matches(lines[i]))
                return i;
        }
        return lines.size();
    };
    const auto call = [](const QString& line, const QString& name) {
        return line.section(u' ', 1).trimmed().startsWith(name + u'(');
    };
    const qsizetype renamed = first(0, [&](const QString& line) {
        return (call(line, u"rename"_s) || call(line, u"renameat"_s) || call(line, u"renameat2"_s)
                   || call(line, u"linkat"_s))
            && line.contains(u'"' + exported + u'"');
    });
    QVERIFY2(renamed < lines.size(),
        "the export was not linked or renamed into place: it was not written through QSaveFile");
    const qsizetype fileSynced = first(0, [&](const QString& line) {
        return (call(line, u"fsync"_s) || call(line, u"fdatasync"_s)) && line.contains(u'<' + exportDir + u'/');
    });
    QVERIFY2(fileSynced < renamed && returnedAt(fileSynced) < renamed,
        "the keys were not synced before they got their name");
    // Under load strace may split the call: "fsync(7</dir> <unfinished ...>", then "<... fsync resumed>".
    const qsizetype dirSynced = first(renamed, [&](const QString& line) {
        return call(line, u"fsync"_s)
            && (line.contains(u'<' + exportDir + u">)"_s) || line.contains(u'<' + exportDir + u"> <unfinished"_s));
    });
    QVERIFY2(dirSynced < lines.size(), "the export's directory was not synced after it got its name");
    const qsizetype firstDelete = first(0, [](const QString& line) {
        // On a socket: the plan, as printed and journaled, names the same statements.
        return line.contains(u"<socket:["_s)
            && (line.contains(u"UPDATE Stacks SET"_s) || line.contains(u"DELETE FROM"_s));
    });
    QVERIFY2(firstDelete < lines.size(), "no destructive statement in the trace: the trace does not show the SQL");
    QVERIFY2(returnedAt(dirSynced) < firstDelete,
        qPrintable(u"a destructive statement went before the export was synced: "_s + lines[firstDelete]));
}

QTEST_GUILESS_MAIN(TestPulumiPurge)
#include "tst_pulumipurge.moc"
