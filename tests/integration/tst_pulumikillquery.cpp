// `opsdeck plan|run pulumi-kill-query` against the sandbox's MariaDB (through the bastion's tunnel): a long
// SELECT SLEEP(60) on a second connection is planned, killed, journaled and reported; a wrong confirmation and a
// process that is gone touch nothing; and a process that runs another statement since the plan is left alone.
#include "Sandbox.h"
#include "SqlSleeper.h"

#include "config/InventoryLoader.h"
#include "pulumi/PulumiKillQueryOperation.h"
#include "runbook/OperationRunner.h"
#include "secrets/CredentialStore.h"
#include "sql/DatabaseTarget.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestPulumiKillQuery : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void killsTheRunningStatement();
    void wrongConfirmationTouchesNothing();
    void badOrGoneProcessFailsClearly();
    void anotherStatementSinceThePlanIsLeftAlone();
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments) { return runCli(arguments, m_sandbox.environment(), 120000); }
    // The statement the check connection sees process `id` run; empty once it runs none (or is gone).
    QString statementOf(qint64 id);
    // Waits until `sleeper` runs `statement`.
    bool waitForStatement(const SqlSleeper& sleeper, const QString& statement);
    void killOnCheck(qint64 id);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestPulumiKillQuery::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QSqlDatabase db = m_sandbox.mariadb().addMysqlConnection(u"check"_s, u"pulumi"_s);
    QVERIFY2(db.open(), qPrintable(db.lastError().text()));
}

void TestPulumiKillQuery::cleanupTestCase()
{
    QSqlDatabase::database(u"check"_s).close();
    QSqlDatabase::removeDatabase(u"check"_s);
}

QString TestPulumiKillQuery::statementOf(qint64 id)
{
    QSqlQuery query(QSqlDatabase::database(u"check"_s));
    query.prepare(u"SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?"_s);
    query.addBindValue(id);
    return query.exec() && query.next() ? query.value(0).toString() : QString();
}

bool TestPulumiKillQuery::waitForStatement(const SqlSleeper& sleeper, const QString& statement)
{
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        if (sleeper.id() > 0 && statementOf(sleeper.id()) == statement)
            return true;
        QTest::qWait(50);
    }
    return false;
}

void TestPulumiKillQuery::killOnCheck(qint64 id)
{
    QSqlQuery(QSqlDatabase::database(u"check"_s)).exec(u"KILL QUERY %1"_s.arg(id));
}

void TestPulumiKillQuery::killsTheRunningStatement()
{
    const QString statement = u"SELECT SLEEP(60), 'opsdeck-kill-1'"_s;
    SqlSleeper sleeper(m_sandbox.mariadb(), { statement });
    QVERIFY(waitForStatement(sleeper, statement));
    const QString id = QString::number(sleeper.id());

    const CliRun plan = cli({ u"plan"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--json"_s });
    QCOMPARE(plan.exitCode, 0);
    const QJsonObject planned = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planned[u"operation"_s].toString(), u"pulumi-kill-query"_s);
    QCOMPARE(planned[u"confirmWith"_s].toString(), id);
    QCOMPARE(planned[u"parameters"_s][u"processId"_s].toInteger(), sleeper.id());
    QCOMPARE(planned[u"parameters"_s][u"statement"_s].toString(), statement);
    QCOMPARE(planned[u"parameters"_s][u"user"_s].toString(), m_sandbox.mariadb().user);
    QCOMPARE(planned[u"parameters"_s][u"schema"_s].toString(), u"pulumi"_s);
    QVERIFY(!sleeper.done()); // planning changed nothing

    const QString report = m_temp.filePath(u"kill.json"_s);
    QElapsedTimer clock;
    clock.start();
    const CliRun run
        = cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QTRY_VERIFY_WITH_TIMEOUT(sleeper.done(), 10000);
    QVERIFY2(clock.elapsed() < 30000, "the SLEEP(60) ran on: it was not killed");

    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"operation"_s].toString(), u"pulumi-kill-query"_s);
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    QVERIFY2(
        record[u"summary"_s].toString().contains(u"process %1"_s.arg(id)), qPrintable(record[u"summary"_s].toString()));
    const QJsonArray killed = record[u"deleted"_s][u"killed queries"_s].toArray();
    QCOMPARE(killed.size(), 1);
    QCOMPARE(killed[0][u"process"_s].toInteger(), sleeper.id());
    QCOMPARE(killed[0][u"statement"_s].toString(), statement);

    const CliRun journal = cli({ u"journal"_s, u"list"_s, u"--json"_s });
    QCOMPARE(journal.exitCode, 0);
    bool journaled = false;
    for (const QJsonValue& r : QJsonDocument::fromJson(journal.out).array())
        journaled |= r[u"id"_s].toString() == record[u"id"_s].toString()
            && r[u"operation"_s].toString() == u"pulumi-kill-query"_s && r[u"outcome"_s].toString() == u"succeeded"_s;
    QVERIFY(journaled);
    QCOMPARE(m_sandbox.secretLeaks({ report }, { run.out, run.err, journal.out }), QStringList());
}

void TestPulumiKillQuery::wrongConfirmationTouchesNothing()
{
    const QString statement = u"SELECT SLEEP(60), 'opsdeck-kill-2'"_s;
    SqlSleeper sleeper(m_sandbox.mariadb(), { statement });
    QVERIFY(waitForStatement(sleeper, statement));
    const QString id = QString::number(sleeper.id());

    const CliRun wrong = cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id + u'0' });
    QCOMPARE(wrong.exitCode, 3);
    QVERIFY2(wrong.err.contains("does not name the target"), wrong.err.constData());
    const CliRun missing = cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id });
    QCOMPARE(missing.exitCode, 3);
    QCOMPARE(statementOf(sleeper.id()), statement);
    QVERIFY(!sleeper.done());
    killOnCheck(sleeper.id());
    QTRY_VERIFY_WITH_TIMEOUT(sleeper.done(), 10000);
}

void TestPulumiKillQuery::badOrGoneProcessFailsClearly()
{
    for (const QString& bad : { u"0"_s, u"-4"_s, u"abc"_s, u"12x"_s }) {
        const CliRun run = cli({ u"plan"_s, u"pulumi-kill-query"_s, u"--process"_s, bad });
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("positive integer"), run.err.constData());
    }
    // A session that has ended: its id is not reused while the server runs.
    qint64 gone = 0;
    {
        SqlSleeper ended(m_sandbox.mariadb(), {});
        QTRY_VERIFY_WITH_TIMEOUT(ended.done(), 10000);
        gone = ended.id();
    }
    QVERIFY(gone > 0);
    const QString id = QString::number(gone);
    const CliRun plan = cli({ u"plan"_s, u"pulumi-kill-query"_s, u"--process"_s, id });
    QCOMPARE(plan.exitCode, 1);
    QVERIFY2(plan.err.contains(u"has no process %1"_s.arg(id).toUtf8()), plan.err.constData());
    const CliRun run = cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id });
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("nothing was changed"), run.err.constData());
}

// Planned on one statement; by the time it runs, the session has moved on to another: the re-check refuses and
// the other statement runs on.
void TestPulumiKillQuery::anotherStatementSinceThePlanIsLeftAlone()
{
    const QString first = u"SELECT SLEEP(60), 'opsdeck-kill-3a'"_s;
    const QString second = u"SELECT SLEEP(60), 'opsdeck-kill-3b'"_s;
    SqlSleeper sleeper(m_sandbox.mariadb(), { first, second });
    QVERIFY(waitForStatement(sleeper, first));

    m_sandbox.exportToThisProcess();
    const InventoryLoadResult loaded = InventoryLoader::loadFile(m_sandbox.inventoryPath());
    QVERIFY(loaded.ok());
    QString error;
    QString mysql;
    for (const Database& d : loaded.inventory->databases) {
        if (d.kind == DatabaseKind::Mysql)
            mysql = d.name;
    }
    const auto unresolved = DatabaseTarget::resolve(*loaded.inventory, mysql, &error);
    QVERIFY2(unresolved, qPrintable(error));
    CredentialStore store;
    std::optional<DatabaseTarget> target;
    QEventLoop secrets;
    resolveDatabaseSecrets(&store, *unresolved, this, [&](std::optional<DatabaseTarget> resolved, const QString& why) {
        target = resolved;
        error = why;
        secrets.quit();
    });
    secrets.exec();
    QVERIFY2(target, qPrintable(error));

    OperationRunner runner(
        std::make_unique<PulumiKillQueryOperation>(*target, sleeper.id()), m_temp.filePath(u"journal.sqlite"_s));
    std::optional<Plan> plan;
    QEventLoop planning;
    connect(&runner, &OperationRunner::planned, &planning, [&](const Plan& p) {
        plan = p;
        planning.quit();
    });
    connect(&runner, &OperationRunner::planFailed, &planning, [&](const QString& why) {
        error = why;
        planning.quit();
    });
    runner.plan();
    planning.exec();
    QVERIFY2(plan, qPrintable(error));
    QCOMPARE(plan->parameters[u"statement"_s].toString(), first);

    killOnCheck(sleeper.id());
    QVERIFY(waitForStatement(sleeper, second));

    std::optional<RunRecord> record;
    QEventLoop running;
    connect(&runner, &OperationRunner::finished, &running, [&](const RunRecord& r) {
        record = r;
        running.quit();
    });
    runner.run(*plan, plan->targetName);
    running.exec();
    QVERIFY(record);
    QCOMPARE(record->outcome, RunRecord::Outcome::Failed);
    QCOMPARE(record->steps.first().state, StepRecord::State::Failed);
    QVERIFY2(
        record->steps.first().error.contains(u"now runs something else"_s), qPrintable(record->steps.first().error));
    QCOMPARE(record->steps.last().state, StepRecord::State::Skipped);
    QVERIFY(record->deleted.isEmpty());
    QCOMPARE(statementOf(sleeper.id()), second);
    killOnCheck(sleeper.id());
    QTRY_VERIFY_WITH_TIMEOUT(sleeper.done(), 10000);
}

QTEST_MAIN(TestPulumiKillQuery)
#include "tst_pulumikillquery.moc"
