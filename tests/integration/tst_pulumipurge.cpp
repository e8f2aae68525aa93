// `opsdeck pulumi orgs`, `plan pulumi-purge` and `run pulumi-purge` against the sandbox's MariaDB (through the
// bastion's SSH tunnel, as the runbook's create-db-tunnel does): counts, bad input, a purge killed with SIGKILL
// and resumed, and a two-organisation purge, each ending exactly where the seed's summary says.
#include "Sandbox.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

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
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments, int timeoutMs = 120000);
    QMap<QString, qint64> tableCounts();
    QJsonObject org(const QString& login) const;
    QMap<QString, qint64> softDeletedRows(const QStringList& logins) const;
    QString checksum(const QString& table);
    void expectPurged(const QMap<QString, qint64>& before, const QStringList& logins);

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
    const Sandbox::Server my = m_sandbox.mariadb();
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QMYSQL"_s, u"check"_s);
    db.setHostName(my.host);
    db.setPort(my.port);
    db.setUserName(my.user);
    db.setPassword(my.password);
    db.setDatabaseName(u"pulumi"_s);
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
    // SIGKILL once some stacks are gone, mid-way.
    const auto remaining = [this] {
        QSqlQuery q(QSqlDatabase::database(u"check"_s));
        q.exec(u"SELECT COUNT(*) FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id "
               "WHERE o.github_login = 'moolumi' AND p.deleted_at > 0"_s);
        return q.next() ? q.value(0).toLongLong() : -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(remaining() < planned - 5, 60000);
    ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
    QVERIFY(process.waitForFinished(10000));
    const qint64 left = remaining();
    QVERIFY2(left > 0 && left < planned, qPrintable(QString::number(left)));
    // Every stack is wholly purged or untouched: no Stacks row without its program, no Programs row of moolumi's
    // soft-deleted stacks without its Stacks row.
    QSqlQuery orphans(QSqlDatabase::database(u"check"_s));
    QVERIFY(orphans.exec(
        u"SELECT COUNT(*) FROM Programs AS p LEFT JOIN Stacks AS s ON s.id = p.stack_id WHERE s.id IS NULL"_s));
    QVERIFY(orphans.next());
    QCOMPARE(orphans.value(0).toLongLong(), 0);

    // The same command again finishes it.
    const QString report = m_temp.filePath(u"resumed.json"_s);
    const CliRun run = cli({ u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"moolumi"_s, u"--confirm"_s, u"moolumi"_s,
        u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    expectPurged(before, { u"moolumi"_s });
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"deleted"_s][u"stacks"_s].toArray().size(), left);
}

// MariaDB crashes and comes back while the purge runs: the batch in flight rolls back, the run says so and
// reconnects, and finishes.
void TestPulumiPurge::databaseRestartedMidPurge()
{
    const QMap<QString, qint64> before = tableCounts();
    const qint64 planned = org(u"pulumi"_s)[u"softDeleted"_s].toInteger();
    const QString report = m_temp.filePath(u"restarted.json"_s);
    QProcess process;
    process.setProcessEnvironment(m_sandbox.environment());
    process.start(QStringLiteral(OPSDECK_BINARY),
        { u"run"_s, u"pulumi-purge"_s, u"--orgs"_s, u"pulumi"_s, u"--confirm"_s, u"pulumi"_s, u"--batch"_s, u"1"_s,
            u"--throttle"_s, u"300"_s, u"--report"_s, report });
    const auto remaining = [] {
        QSqlQuery q(QSqlDatabase::database(u"check"_s));
        q.exec(u"SELECT COUNT(*) FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id "
               "WHERE o.github_login = 'pulumi' AND p.deleted_at > 0"_s);
        return q.next() ? q.value(0).toLongLong() : -1;
    };
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
    bool reported = false;
    for (const QJsonValue& step : record[u"steps"_s].toArray())
        reported = reported || step[u"output"_s].toString().contains(u"reconnecting"_s);
    QVERIFY2(reported, "the run did not report the outage");
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
    QMap<QString, int> perOrg;
    for (const QJsonValue& s : record[u"deleted"_s][u"stacks"_s].toArray())
        ++perOrg[s[u"org"_s].toString()];
    QCOMPARE(perOrg.value(u"acme-corp"_s), org(u"acme-corp"_s)[u"softDeleted"_s].toInt());
    QCOMPARE(perOrg.value(u"sean-gillespie"_s), org(u"sean-gillespie"_s)[u"softDeleted"_s].toInt());
    // The data keys were exported beside the report before anything was deleted.
    QFile keys(record[u"after"_s][u"dataKeysFile"_s].toString());
    QVERIFY(keys.fileName().startsWith(m_temp.path()));
    QVERIFY(keys.open(QIODevice::ReadOnly));
    QCOMPARE(keys.readAll().count('\n'),
        org(u"acme-corp"_s)[u"softDeletedDataKeys"_s].toInteger()
            + org(u"sean-gillespie"_s)[u"softDeletedDataKeys"_s].toInteger());
    QVERIFY(record[u"after"_s][u"tableRows"_s].toObject().contains(u"Stacks"_s));
}

QTEST_GUILESS_MAIN(TestPulumiPurge)
#include "tst_pulumipurge.moc"
