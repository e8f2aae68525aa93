// The team journal on the sandbox's PostgreSQL: the schema made once by the database's owner and only used by the
// consoles, whose users may append entries but never change or remove them; the chain kept by consoles in several
// processes at once; locks, raced for by console processes (each with a HOME of its own, and a machine of its own
// where a lease must run out); a connection the server dropped, made again; TLS with the server's certificate
// checked. Each test gets a database of its own, but the last two, which drive the sandbox's own team inventory
// through the CLI.
#include "JournalWriters.h"
#include "KilledRun.h"
#include "Sandbox.h"
#include "TestRuns.h"
#include "runbook/Journal.h"
#include "runbook/JournalWatcher.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunContext.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <signal.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using opsdeck::test::Sandbox;

namespace {

// The group role the schema grants to, and the login role of a console that belongs to it.
const QString kConsoleRole = u"opsdeck_console"_s;
const QString kConsoleUser = u"tst_teamjournal_console"_s;
const QString kConsolePassword = u"console-%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128));

DatabaseTarget teamTarget(
    const Sandbox::Server& server, const QString& database, const QString& user, const QString& password)
{
    DatabaseTarget target;
    target.database.name = u"team-journal"_s;
    target.database.kind = DatabaseKind::Postgres;
    target.database.address = server.host;
    target.database.port = server.port;
    target.database.database = database;
    target.database.user = user;
    target.password = password;
    return target;
}

// Statements as the sandbox's superuser, on `database`: what an administrator (or someone tampering) does.
class Admin
{
public:
    Admin(const Sandbox::Server& server, const QString& database)
        : m_name(u"tst_teamjournal.admin.%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128)))
    {
        m_db = server.addPostgresConnection(m_name, database);
        m_db.open();
    }
    ~Admin()
    {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }
    Admin(const Admin&) = delete;
    Admin& operator=(const Admin&) = delete;

    bool isOpen() const { return m_db.isOpen(); }
    QString error() const { return m_db.lastError().text(); }
    bool exec(const QString& sql, QString* error = nullptr)
    {
        QSqlQuery query(m_db);
        const bool ok = query.exec(sql);
        if (!ok && error)
            *error = query.lastError().text();
        return ok;
    }
    QVariant value(const QString& sql)
    {
        QSqlQuery query(m_db);
        return query.exec(sql) && query.next() ? query.value(0) : QVariant();
    }

private:
    QString m_name;
    QSqlDatabase m_db;
};

} // namespace

class TestTeamJournal : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void theOwnerMakesTheSchemaAndConsolesUseIt();
    void aConsoleCannotMakeTheSchema();
    void consolesCannotChangeOrRemoveEntries();
    void refusesANewerSchema();
    void theOwnerMigratesASchema1Journal();
    void leasesAreJudgedByTheDatabasesClock();
    void consolesInSeveralProcessesKeepTheChain();
    void locksAreTheDatabasesAndStaleOnesAreTakenOver();
    void ofFourConsolesRacingExactlyOneRunsEachRound();
    void aKilledHoldersLockIsTakenOverOnlyOnceItsLeaseRanOut();
    void aJournalRestartStopsTheRunBeforeItsNextStep();
    void aDroppedConnectionIsMadeAgain();
    void aThreadsConnectionServesTheNextThread();
    void tlsChecksTheServersCertificate();
    void theSandboxsTeamInventory();
    void aLockIsBrokenThroughTheCli();
    void aWatcherHearsOfEachAppendAsItCommits();

private:
    // Opens each in turn (the owner first makes the schema); false, with the reason shown, at the first that fails.
    static bool opened(std::initializer_list<Journal*> journals);
    Journal ownerJournal() const
    {
        return Journal(JournalLocation(teamTarget(m_pg, m_database, m_pg.user, m_pg.password)));
    }
    // The console user's sessions on this test's database, as a condition on pg_stat_activity a.
    QString consoleSessions() const { return u"a.usename = '%1' AND a.datname = '%2'"_s.arg(kConsoleUser, m_database); }
    Journal consoleJournal() const
    {
        return Journal(JournalLocation(teamTarget(m_pg, m_database, kConsoleUser, kConsolePassword)));
    }
    // A console process (raceConsole) on this test's database, its HOME in `home`; on a machine of its own named
    // `machine` (a UTS namespace) unless that is empty; extra environment in `extra`.
    std::shared_ptr<QProcess> startConsole(
        const QString& home, const QString& machine = {}, const QProcessEnvironment& extra = {}) const;

    Sandbox m_sandbox;
    Sandbox::Server m_pg;
    QString m_database;
};

bool TestTeamJournal::opened(std::initializer_list<Journal*> journals)
{
    for (Journal* journal : journals) {
        QString error;
        if (!journal->open(&error)) {
            qWarning().noquote() << error;
            return false;
        }
    }
    return true;
}

void TestTeamJournal::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_pg = m_sandbox.postgres();
    Admin admin(m_pg, u"postgres"_s);
    QVERIFY2(admin.isOpen(), qPrintable(admin.error()));
    QString error;
    // Roles are the cluster's; a role left by an earlier run of this test is reused.
    QVERIFY2(
        admin.exec(u"DO $r$ BEGIN "
                   "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%1') THEN CREATE ROLE %1 NOLOGIN; END IF; "
                   "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%2') THEN CREATE ROLE %2 LOGIN; END IF; "
                   "END $r$"_s.arg(kConsoleRole, kConsoleUser),
            &error),
        qPrintable(error));
    QVERIFY2(
        admin.exec(u"ALTER ROLE %1 PASSWORD '%2'"_s.arg(kConsoleUser, kConsolePassword), &error), qPrintable(error));
    QVERIFY2(admin.exec(u"GRANT %1 TO %2"_s.arg(kConsoleRole, kConsoleUser), &error), qPrintable(error));
}

void TestTeamJournal::init()
{
    m_database = u"tst_teamjournal_%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128).left(12));
    Admin admin(m_pg, u"postgres"_s);
    QString error;
    QVERIFY2(admin.exec(u"CREATE DATABASE %1"_s.arg(m_database), &error), qPrintable(error));
    // As on a database made for the team: the consoles' users may connect and use the public schema, not create in
    // it (PostgreSQL 15's default for public).
    QVERIFY2(
        admin.exec(u"GRANT CONNECT ON DATABASE %1 TO %2"_s.arg(m_database, kConsoleRole), &error), qPrintable(error));
}

void TestTeamJournal::cleanup()
{
    Admin admin(m_pg, u"postgres"_s);
    QString error;
    if (!admin.exec(u"DROP DATABASE IF EXISTS %1 WITH (FORCE)"_s.arg(m_database), &error))
        qWarning().noquote() << "cannot drop" << m_database << ":" << error;
}

void TestTeamJournal::theOwnerMakesTheSchemaAndConsolesUseIt()
{
    QString error;
    Journal owner = ownerJournal();
    QVERIFY2(owner.open(&error), qPrintable(error));
    QVERIFY2(owner.open(&error), qPrintable(error)); // again: the schema is there, nothing to make
    Admin admin(m_pg, m_database);
    QCOMPARE(admin.value(u"SELECT version FROM journal_schema"_s).toInt(), 3);
    QCOMPARE(admin.value(u"SELECT count(*) FROM journal_schema"_s).toInt(), 1);

    Journal console = consoleJournal();
    QVERIFY2(console.open(&error), qPrintable(error));
    QVERIFY(console.describe().contains(kConsoleUser));
    QVERIFY2(console.append(u"run-1"_s, u"plan"_s, u"packit-wipe"_s, u"dev/alpha"_s,
                 { { u"confirmWith"_s, u"alpha"_s }, { u"password"_s, u"hunter2"_s } }, &error),
        qPrintable(error));
    QVERIFY2(console.append(u"run-1"_s, u"confirm"_s, u"packit-wipe"_s, u"dev/alpha"_s,
                 { { u"pid"_s, 999999 }, { u"host"_s, QSysInfo::machineHostName() } }, &error),
        qPrintable(error));
    RunRecord run;
    run.id = u"run-2"_s;
    run.operation = u"pulumi-purge"_s;
    run.target = u"pulumi"_s;
    run.outcome = RunRecord::Outcome::Succeeded;
    run.startedAt = QDateTime::currentDateTimeUtc();
    run.finishedAt = run.startedAt.addSecs(5);
    QVERIFY2(console.saveRun(run, &error), qPrintable(error));

    // Every console reads what the others wrote.
    const QList<JournalEntry> entries = owner.entries();
    QCOMPARE(entries.size(), 3);
    QCOMPARE(entries.at(0).seq, 1);
    QCOMPARE(entries.at(0).kind, u"plan"_s);
    QCOMPARE(entries.at(0).user, Journal::localUser()); // the column, not PostgreSQL's USER
    QVERIFY(!entries.at(0).data.contains(u"password"_s));
    QCOMPARE(entries.at(1).prevHash, entries.at(0).hash);
    QCOMPARE(owner.runs().size(), 1);
    QCOMPARE(owner.run(u"run-2"_s)->outcome, RunRecord::Outcome::Succeeded);
    const QList<Journal::UnfinishedRun> unfinished = console.unfinishedRuns(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(unfinished.size(), 1); // pid 999999 of this machine runs no opsdeck
    QCOMPARE(unfinished.first().runId, u"run-1"_s);
    const Journal::Verification check = console.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
    QCOMPARE(check.checked, 3);
}

void TestTeamJournal::aConsoleCannotMakeTheSchema()
{
    Journal console = consoleJournal();
    QString error;
    QVERIFY(!console.open(&error));
    QVERIFY2(
        error.contains(u"has no opsdeck schema yet"_s) && error.contains(kConsoleUser) && error.contains(u"owner"_s),
        qPrintable(error));
    QVERIFY(!console.append(u"run"_s, u"plan"_s, u"op"_s, u"t"_s, {}, &error));
    QVERIFY2(error.contains(u"not open"_s), qPrintable(error));
    Admin admin(m_pg, m_database);
    QVERIFY(admin.value(u"SELECT to_regclass('entries') IS NULL"_s).toBool());
}

void TestTeamJournal::consolesCannotChangeOrRemoveEntries()
{
    QString error;
    Journal owner = ownerJournal();
    Journal console = consoleJournal();
    QVERIFY(opened({ &owner, &console }));
    QVERIFY2(console.append(u"run-1"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, 1 } }, &error), qPrintable(error));

    // A console's user, with its own SQL: the grants refuse.
    {
        Sandbox::Server asConsole = m_pg;
        asConsole.user = kConsoleUser;
        asConsole.password = kConsolePassword;
        Admin raw(asConsole, m_database);
        QVERIFY2(raw.isOpen(), qPrintable(raw.error()));
        for (const QString& sql : { u"UPDATE entries SET data = '{}'"_s, u"DELETE FROM entries"_s,
                 u"TRUNCATE entries"_s, u"DROP TABLE entries"_s, u"DELETE FROM journal_schema"_s }) {
            QVERIFY2(!raw.exec(sql, &error), qPrintable(sql));
            QVERIFY2(error.contains(u"permission denied"_s) || error.contains(u"must be owner"_s), qPrintable(error));
        }
    }
    // The tables' owner: the trigger refuses.
    Admin admin(m_pg, m_database);
    for (const QString& sql :
        { u"UPDATE entries SET data = '{}'"_s, u"DELETE FROM entries"_s, u"TRUNCATE entries"_s }) {
        QVERIFY2(!admin.exec(sql, &error), qPrintable(sql));
        QVERIFY2(error.contains(u"the journal is append-only"_s), qPrintable(error));
    }
    QCOMPARE(owner.entries().size(), 1);
    QVERIFY(owner.verify().intact);
}

void TestTeamJournal::refusesANewerSchema()
{
    QString error;
    Journal owner = ownerJournal();
    QVERIFY2(owner.open(&error), qPrintable(error));
    Admin admin(m_pg, m_database);
    QVERIFY(admin.exec(u"UPDATE journal_schema SET version = 99"_s, &error));
    Journal console = consoleJournal();
    QVERIFY(!console.open(&error));
    QVERIFY2(error.contains(u"newer opsdeck (schema 99, this one knows 3)"_s), qPrintable(error));
}

// A team journal of schema 1 (locks without leases, entries without MACs): a console cannot migrate it and says who
// can; the owner does.
void TestTeamJournal::theOwnerMigratesASchema1Journal()
{
    QString error;
    Journal owner = ownerJournal();
    QVERIFY2(owner.open(&error), qPrintable(error));
    QVERIFY2(owner.append(u"old-run"_s, u"plan"_s, u"op"_s, u"t"_s, {}, &error), qPrintable(error));
    Admin admin(m_pg, m_database);
    QVERIFY2(admin.exec(u"ALTER TABLE locks DROP COLUMN lease_until"_s, &error), qPrintable(error));
    QVERIFY2(admin.exec(u"ALTER TABLE entries DROP COLUMN mac, DROP COLUMN key_id"_s, &error), qPrintable(error));
    QVERIFY2(admin.exec(u"UPDATE journal_schema SET version = 1"_s, &error), qPrintable(error));

    Journal console = consoleJournal();
    QVERIFY(!console.open(&error));
    QVERIFY2(
        error.contains(u"has schema 1, which this opsdeck must migrate to 3, and user %1 cannot"_s.arg(kConsoleUser)),
        qPrintable(error));
    Journal again = ownerJournal();
    QVERIFY2(again.open(&error), qPrintable(error));
    QCOMPARE(admin.value(u"SELECT version FROM journal_schema"_s).toInt(), 3);
    QVERIFY2(console.open(&error), qPrintable(error));
    Journal::LockHolder holder;
    QCOMPARE(console.acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QVERIFY(owner.verify().intact);
}

// Leases are judged by the database's clock: a lock whose lease ran out is taken over from another machine, one
// whose lease runs is not, and its holder's renewal keeps it.
void TestTeamJournal::leasesAreJudgedByTheDatabasesClock()
{
    QString error;
    Journal owner = ownerJournal();
    Journal console = consoleJournal();
    QVERIFY(opened({ &owner, &console }));
    Admin admin(m_pg, m_database);
    QVERIFY2(admin.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES "
                        "('host/one', 'gone-run', 'carol pid 7', 7, 'elsewhere.invalid', '2024-05-01T12:00:00.000Z', "
                        "to_char((clock_timestamp() - interval '1 second') AT TIME ZONE 'UTC', "
                        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')), "
                        "('host/two', 'live-run', 'dave pid 8', 8, 'elsewhere.invalid', '2024-05-01T12:00:00.000Z', "
                        "to_char((clock_timestamp() + interval '1 hour') AT TIME ZONE 'UTC', "
                        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"_s,
                 &error),
        qPrintable(error));
    Journal::LockHolder holder;
    QCOMPARE(console.acquireLock(u"host/two"_s, u"run-a"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QCOMPARE(holder.runId, u"live-run"_s);
    QCOMPARE(console.acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QVERIFY(owner.entries().first().data.value(u"reason"_s).toString().startsWith(u"its lease ran out at "_s));
    QVERIFY2(console.renewLock(u"host/one"_s, u"run-a"_s, &error), qPrintable(error));
    QVERIFY(!console.renewLock(u"host/two"_s, u"run-a"_s, &error));
    QVERIFY2(error.contains(u"no longer holds the lock on host/two"_s), qPrintable(error));
}

void TestTeamJournal::consolesInSeveralProcessesKeepTheChain()
{
    constexpr int kPerWriter = 150;
    QString error;
    Journal owner = ownerJournal();
    QVERIFY2(owner.open(&error), qPrintable(error));

    QList<std::shared_ptr<QProcess>> children;
    for (const QString& runId : { u"process-a"_s, u"process-b"_s, u"process-c"_s }) {
        auto child = std::make_shared<QProcess>();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(u"TST_TEAMJOURNAL_APPEND"_s,
            QStringList {
                m_pg.host, QString::number(m_pg.port), m_database, kConsoleUser, runId, QString::number(kPerWriter) }
                .join(u'|'));
        environment.insert(u"TST_TEAMJOURNAL_PASSWORD"_s, kConsolePassword);
        child->setProcessEnvironment(environment);
        child->setProcessChannelMode(QProcess::ForwardedChannels);
        child->start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child->waitForStarted());
        children.append(child);
    }
    // This process appends meanwhile from two threads, each with its own kept connection.
    const auto appendMany = [this](const QString& runId, QStringList* failures) {
        Journal console = consoleJournal();
        QString failure;
        if (!console.open(&failure))
            failures->append(failure);
        for (int i = 0; i < kPerWriter && failures->isEmpty(); ++i) {
            if (!console.append(runId, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }, &failure))
                failures->append(failure);
        }
    };
    const QStringList failures = test::appendOnThreads({ u"thread-a"_s, u"thread-b"_s }, appendMany);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(u'\n')));
    for (const auto& child : std::as_const(children)) {
        QVERIFY(child->waitForFinished(120000));
        QCOMPARE(child->exitStatus(), QProcess::NormalExit);
        QCOMPARE(child->exitCode(), 0);
    }
    for (const QString& runId : { u"process-a"_s, u"process-b"_s, u"process-c"_s, u"thread-a"_s, u"thread-b"_s }) {
        const QList<JournalEntry> entries = owner.entries(runId);
        QCOMPARE(entries.size(), kPerWriter);
        for (int i = 0; i < kPerWriter; ++i)
            QCOMPARE(entries.at(i).data.value(u"line"_s).toInt(), i);
    }
    const Journal::Verification check = owner.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
    QCOMPARE(check.checked, 5 * kPerWriter);
}

void TestTeamJournal::locksAreTheDatabasesAndStaleOnesAreTakenOver()
{
    QString error;
    Journal owner = ownerJournal();
    Journal console = consoleJournal();
    QVERIFY(opened({ &owner, &console }));

    Journal::LockHolder holder;
    QCOMPARE(console.acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QCOMPARE(owner.acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QCOMPARE(holder.runId, u"run-a"_s);
    QVERIFY(!owner.releaseLock(u"host/one"_s, u"run-b"_s));
    QVERIFY(console.releaseLock(u"host/one"_s, u"run-a"_s));

    // A lock row of a process of this machine that is gone: taken over, through the upsert, and journaled.
    const qint64 deadPid = test::goneProcessId();
    QVERIFY(deadPid > 0);
    Admin admin(m_pg, m_database);
    QVERIFY2(admin.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since) VALUES ('host/two', "
                        "'crashed-run', 'bob pid %1', %1, '%2', '2024-05-01T12:00:00.000Z')"_s.arg(
                            QString::number(deadPid), QSysInfo::machineHostName()),
                 &error),
        qPrintable(error));
    QCOMPARE(console.acquireLock(u"host/two"_s, u"run-c"_s, &holder, &error), Journal::LockResult::Acquired);
    QCOMPARE(admin.value(u"SELECT run_id FROM locks WHERE target = 'host/two'"_s).toString(), u"run-c"_s);
    QStringList actions;
    for (const JournalEntry& entry : owner.entries())
        actions << u"%1 %2 %3"_s.arg(entry.runId, entry.target, entry.data.value(u"action"_s).toString());
    QCOMPARE(actions,
        QStringList({ u"run-a host/one acquired"_s, u"run-a host/one released"_s, u"run-c host/two taken-over"_s,
            u"run-c host/two acquired"_s }));
}

std::shared_ptr<QProcess> TestTeamJournal::startConsole(
    const QString& home, const QString& machine, const QProcessEnvironment& extra) const
{
    auto child = std::make_shared<QProcess>();
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"TST_TEAMJOURNAL_CONSOLE"_s,
        QStringList { m_pg.host, QString::number(m_pg.port), m_database, kConsoleUser }.join(u'|'));
    environment.insert(u"TST_TEAMJOURNAL_PASSWORD"_s, kConsolePassword);
    environment.insert(u"HOME"_s, home);
    for (const QString& key : extra.keys())
        environment.insert(key, extra.value(key));
    child->setProcessEnvironment(environment);
    child->setProcessChannelMode(QProcess::SeparateChannels);
    child->setReadChannel(QProcess::StandardOutput);
    if (machine.isEmpty())
        child->start(QCoreApplication::applicationFilePath(), {});
    else
        child->start(u"unshare"_s,
            { u"--uts"_s, u"sh"_s, u"-c"_s, u"hostname \"$0\" && exec \"$1\""_s, machine,
                QCoreApplication::applicationFilePath() });
    return child;
}

namespace {

// The next line a console prints, without its newline; "" if none came within 60 s.
QString nextLine(QProcess& console)
{
    while (!console.canReadLine()) {
        if (!console.waitForReadyRead(60000))
            return {};
    }
    return QString::fromUtf8(console.readLine()).trimmed();
}

void tell(QProcess& console, const char* line)
{
    console.write(line);
    console.write("\n");
    console.waitForBytesWritten(5000);
}

} // namespace

// R3: four console processes, each with its own HOME, try one target at once, fifty times. Each round exactly one
// runs (its run holds the target until the others were all refused) and the others are told it is locked.
void TestTeamJournal::ofFourConsolesRacingExactlyOneRunsEachRound()
{
    constexpr int kConsoles = 4;
    constexpr int kRounds = 50;
    Journal owner = ownerJournal();
    QVERIFY(opened({ &owner }));
    QTemporaryDir homes;
    QList<std::shared_ptr<QProcess>> consoles;
    for (int i = 0; i < kConsoles; ++i) {
        QVERIFY(QDir(homes.path()).mkpath(u"home-%1"_s.arg(i)));
        consoles << startConsole(homes.filePath(u"home-%1"_s.arg(i)));
        QVERIFY(consoles.last()->waitForStarted());
    }
    QList<int> wins(kConsoles, 0);
    for (int round = 1; round <= kRounds; ++round) {
        for (const auto& console : std::as_const(consoles))
            tell(*console, "round");
        int winner = -1;
        for (int i = 0; i < kConsoles; ++i) {
            const QString answer = nextLine(*consoles[i]);
            if (answer == u"acquired"_s) {
                QVERIFY2(
                    winner < 0, qPrintable(u"round %1: consoles %2 and %3 both run"_s.arg(round).arg(winner).arg(i)));
                winner = i;
            } else {
                QVERIFY2(
                    answer == u"locked"_s, qPrintable(u"round %1, console %2: %3"_s.arg(round).arg(i).arg(answer)));
            }
        }
        QVERIFY2(winner >= 0, qPrintable(u"round %1: no console ran"_s.arg(round)));
        ++wins[winner];
        tell(*consoles[winner], "release");
        QCOMPARE(nextLine(*consoles[winner]), u"done succeeded"_s);
    }
    for (const auto& console : std::as_const(consoles)) {
        console->closeWriteChannel();
        QVERIFY(console->waitForFinished(30000));
        QCOMPARE(console->exitCode(), 0);
    }
    qInfo().noquote() << "runs per console:" << wins;
    // Every round's run, whole, in the chain: no two of them interleaved on the target.
    int runs = 0;
    QString holding;
    for (const JournalEntry& entry : owner.entries()) {
        if (entry.kind != u"lock"_s || entry.target != u"race/target"_s)
            continue;
        const QString action = entry.data.value(u"action"_s).toString();
        if (action == u"acquired"_s) {
            QVERIFY2(holding.isEmpty(), qPrintable(u"%1 acquired while %2 held it"_s.arg(entry.runId, holding)));
            holding = entry.runId;
            ++runs;
        } else if (action == u"released"_s) {
            QCOMPARE(entry.runId, holding);
            holding.clear();
        }
    }
    QCOMPARE(runs, kRounds);
    const Journal::Verification check = owner.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
}

// A console killed while it holds the lock: the other consoles (each on a machine of its own, which cannot see that
// process) are refused until its lease ran out by the database's clock, then exactly one takes the lock over, and the
// journal says whose lock it took and why.
void TestTeamJournal::aKilledHoldersLockIsTakenOverOnlyOnceItsLeaseRanOut()
{
    if (::geteuid() != 0)
        QSKIP("a machine of its own per console needs a UTS namespace (root)");
    Journal owner = ownerJournal();
    QVERIFY(opened({ &owner }));
    QTemporaryDir homes;
    QProcessEnvironment shortLease;
    shortLease.insert(u"OPSDECK_LOCK_LEASE_MS"_s, u"3000"_s);
    QList<std::shared_ptr<QProcess>> consoles;
    for (int i = 0; i < 4; ++i) {
        QVERIFY(QDir(homes.path()).mkpath(u"home-%1"_s.arg(i)));
        consoles << startConsole(homes.filePath(u"home-%1"_s.arg(i)), u"console-%1"_s.arg(i), shortLease);
        QVERIFY(consoles.last()->waitForStarted());
    }
    for (const auto& console : std::as_const(consoles))
        tell(*console, "round");
    std::shared_ptr<QProcess> killed;
    QList<std::shared_ptr<QProcess>> others;
    for (const auto& console : std::as_const(consoles)) {
        const QString answer = nextLine(*console);
        if (answer == u"acquired"_s && !killed)
            killed = console;
        else
            others << console;
        QVERIFY2(answer == u"acquired"_s || answer == u"locked"_s, qPrintable(answer));
    }
    QVERIFY(killed);
    QCOMPARE(others.size(), 3);
    Admin admin(m_pg, m_database);
    const QString heldBy = admin.value(u"SELECT run_id FROM locks WHERE target = 'race/target'"_s).toString();
    // The holder's heartbeat renews every 750 ms: let it, then kill it where it stands.
    QTest::qWait(1600);
    ::kill(pid_t(killed->processId()), SIGKILL);
    QVERIFY(killed->waitForFinished(10000));
    const QDateTime leaseAtKill = QDateTime::fromString(
        admin.value(u"SELECT lease_until FROM locks WHERE target = 'race/target'"_s).toString(), Qt::ISODateWithMs);
    QVERIFY(leaseAtKill.isValid());

    // The others try every 250 ms: refused while the lease runs, then exactly one gets it.
    std::shared_ptr<QProcess> next;
    int refusals = 0;
    QElapsedTimer clock;
    clock.start();
    while (!next && clock.elapsed() < 20000) {
        for (const auto& console : std::as_const(others))
            tell(*console, "round");
        for (const auto& console : std::as_const(others)) {
            const QString answer = nextLine(*console);
            if (answer == u"acquired"_s) {
                QVERIFY2(!next, "two consoles took the lock over in one round");
                next = console;
            } else {
                QVERIFY2(answer == u"locked"_s, qPrintable(answer));
                ++refusals;
            }
        }
        if (!next)
            QTest::qWait(250);
    }
    QVERIFY2(next, "no console took the lock over within 20 s");
    QVERIFY(refusals >= 3);
    const QString newRun = admin.value(u"SELECT run_id FROM locks WHERE target = 'race/target'"_s).toString();
    const QDateTime takenAt = QDateTime::fromString(
        admin.value(u"SELECT since FROM locks WHERE target = 'race/target'"_s).toString(), Qt::ISODateWithMs);
    QVERIFY2(takenAt > leaseAtKill,
        qPrintable(u"taken over at %1, before the lease ran out at %2"_s.arg(
            takenAt.toString(Qt::ISODateWithMs), leaseAtKill.toString(Qt::ISODateWithMs))));
    tell(*next, "release");
    QCOMPARE(nextLine(*next), u"done succeeded"_s);
    for (const auto& console : std::as_const(others)) {
        console->closeWriteChannel();
        QVERIFY(console->waitForFinished(30000));
    }
    const QList<JournalEntry> entries = owner.entries(newRun);
    const auto takeover = std::find_if(entries.cbegin(), entries.cend(),
        [](const JournalEntry& entry) { return entry.data.value(u"action"_s).toString() == u"taken-over"_s; });
    QVERIFY(takeover != entries.cend());
    QCOMPARE(takeover->data.value(u"staleRunId"_s).toString(), heldBy);
    QVERIFY2(takeover->data.value(u"reason"_s).toString().startsWith(u"its lease ran out at"_s),
        qPrintable(takeover->data.value(u"reason"_s).toString()));
    QVERIFY(owner.verify().intact);
}

// The journal's database restarts while a run waits in a step: its lock's renewal fails meanwhile, so the run stops
// before its next step, and once the server is back the journal holds the run exactly as it went (its outcome too).
void TestTeamJournal::aJournalRestartStopsTheRunBeforeItsNextStep()
{
    qputenv("OPSDECK_LOCK_LEASE_MS", "2000"); // renewed every 500 ms
    const auto resetLease = qScopeGuard([] { qunsetenv("OPSDECK_LOCK_LEASE_MS"); });
    Journal owner = ownerJournal();
    QVERIFY(opened({ &owner }));
    // Three steps; the second lasts until `released` (the restart meanwhile).
    std::atomic_bool released = false;
    OperationRunner runner(
        std::make_unique<test::StepsOperation>(u"three-steps"_s, u"restart/target"_s, u"restart"_s,
            QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s }, { u"two"_s, u"Two"_s, u"wait"_s },
                { u"three"_s, u"Three"_s, u"rm -rf the-data"_s } },
            [&released](const QString& step, RunContext& context) {
                context.begin(step);
                while (step == u"two"_s && !released.load())
                    QThread::msleep(20);
                context.succeed();
                return true;
            }),
        JournalLocation(teamTarget(m_pg, m_database, kConsoleUser, kConsolePassword)));
    int restarted = -1;
    connect(&runner, &OperationRunner::progressed, this, [&](const StepRecord& step, double, qint64) {
        if (step.id != u"two"_s || step.state != StepRecord::State::Running || restarted >= 0)
            return;
        restarted = m_sandbox.script(u"restart-postgres"_s, { u"2"_s });
        released = true;
    });
    const test::DrivenRun run = test::driveRun(runner, u"restart"_s, {}, 10000, 60000);
    QVERIFY2(run.record, qPrintable(run.planError + run.refusalText));
    const std::optional<RunRecord>& record = run.record;
    QCOMPARE(restarted, 0);
    QCOMPARE(record->outcome, RunRecord::Outcome::Failed);
    QVERIFY2(record->summary.startsWith(u"Stopped: "_s), qPrintable(record->summary));
    QCOMPARE(record->steps.at(1).state, StepRecord::State::Succeeded);
    QCOMPARE(record->steps.at(2).state, StepRecord::State::Skipped);

    QStringList kinds;
    for (const JournalEntry& entry : owner.entries(record->id))
        kinds << (entry.kind == u"step-start"_s ? u"start "_s + entry.data.value(u"step"_s).toString() : entry.kind);
    QCOMPARE(kinds.count(u"start one"_s), 1);
    QCOMPARE(kinds.count(u"start two"_s), 1);
    QCOMPARE(kinds.count(u"start three"_s), 0);
    QCOMPARE(kinds.count(u"outcome"_s), 1);
    QCOMPARE(kinds.count(u"report"_s), 1);
    QCOMPARE(owner.run(record->id)->outcome, RunRecord::Outcome::Failed);
    const Journal::Verification check = owner.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
}

// The server ends the console's kept connection (a restart, a failover, an idle timeout): the next call connects
// again instead of failing on the dead one.
void TestTeamJournal::aDroppedConnectionIsMadeAgain()
{
    QString error;
    Journal owner = ownerJournal();
    Journal console = consoleJournal();
    QVERIFY(opened({ &owner, &console }));
    QVERIFY2(console.append(u"run-1"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error), qPrintable(error));
    Admin admin(m_pg, m_database);
    QCOMPARE(
        admin.value(u"SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a WHERE "_s + consoleSessions())
            .toInt(),
        1);
    QVERIFY2(console.append(u"run-1"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error), qPrintable(error));
    QCOMPARE(owner.entries().size(), 2);
    QVERIFY(owner.verify().intact);
}

// A thread's connection to the team journal outlives the thread: the next thread that needs one takes it over, so that
// a command's run uses its notice's connection, with no second login, TLS handshake and SCRAM exchange.
void TestTeamJournal::aThreadsConnectionServesTheNextThread()
{
    Journal owner = ownerJournal();
    Journal console = consoleJournal();
    QVERIFY(opened({ &owner, &console })); // this thread's connection, kept while it lives
    Admin admin(m_pg, m_database);
    const QString sessions
        = u"SELECT string_agg(a.pid::text, ',' ORDER BY a.pid) FROM pg_stat_activity a WHERE "_s + consoleSessions();
    QStringList seen;
    for (int i = 0; i < 3; ++i) {
        QString error;
        bool appended = false;
        const std::unique_ptr<QThread> thread(
            QThread::create([&] { appended = console.append(u"run-1"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error); }));
        thread->start();
        QVERIFY(thread->wait(30000));
        QVERIFY2(appended, qPrintable(error));
        seen << admin.value(sessions).toString();
    }
    QCOMPARE(seen[0].split(u',').size(), 2); // this thread's and the first thread's
    QCOMPARE(seen[1], seen[0]);
    QCOMPARE(seen[2], seen[0]);
    QCOMPARE(owner.entries().size(), 3);
    QVERIFY(owner.verify().intact);
}

// The database entry's tls and caFile reach libpq: the journal's connection is encrypted and the server's certificate
// checked against the CA; a CA that did not sign it is refused before the password is sent.
void TestTeamJournal::tlsChecksTheServersCertificate()
{
    const QString sandboxCa = m_sandbox.json().value(u"postgres"_s).toObject().value(u"caFile"_s).toString();
    const QString otherCa = m_sandbox.json().value(u"gcs"_s).toObject().value(u"caFile"_s).toString();
    QVERIFY(QFile::exists(sandboxCa) && QFile::exists(otherCa));
    QString error;
    Journal owner = ownerJournal();
    QVERIFY2(owner.open(&error), qPrintable(error));

    DatabaseTarget target = teamTarget(m_pg, m_database, kConsoleUser, kConsolePassword);
    target.database.tls = u"verify-full"_s;
    target.database.caFile = sandboxCa;
    Journal console { JournalLocation(target) };
    QVERIFY2(console.open(&error), qPrintable(error));
    QVERIFY2(console.append(u"run-1"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error), qPrintable(error));
    Admin admin(m_pg, m_database);
    QCOMPARE(admin
                 .value(u"SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE "_s
                     + consoleSessions())
                 .toBool(),
        true);

    target.database.caFile = otherCa; // not the connection kept for the other CA: a new one, checked afresh
    Journal misled { JournalLocation(target) };
    QVERIFY(!misled.open(&error));
    QVERIFY2(error.contains(u"certificate verify failed"_s), qPrintable(error));
}

// The sandbox's inventory-team.yaml, through the CLI: the journal is the sandbox's journal database, reached as a
// console's user through the bastion's tunnel with TLS checked; the owner's variant makes the schema. A console that
// cannot reach the team journal refuses a destructive run after planning it, and touches nothing.
void TestTeamJournal::theSandboxsTeamInventory()
{
    const QProcessEnvironment environment = m_sandbox.environment();
    const QString owner = m_sandbox.dir() + u"/inventory-team-owner.yaml"_s;
    const QString team = m_sandbox.dir() + u"/inventory-team.yaml"_s;
    const test::CliRun made = test::runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, owner }, environment);
    QVERIFY2(made.exitCode == 0, made.err.constData());
    const test::CliRun verified = test::runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, team }, environment);
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
    QVERIFY2(verified.out.contains("team journal team-journal (database journal as journal_console via bastion): "
                                   "intact"),
        verified.out.constData());

    const QJsonObject instance = m_sandbox.json().value(u"packit"_s).toArray().first().toObject();
    const QString host = instance.value(u"host"_s).toString();
    const QString name = instance.value(u"name"_s).toString();
    // Other tests may have wiped it already: what matters is that this run changes nothing.
    Admin packit(m_pg, instance.value(u"database"_s).toString());
    const int packets = packit.value(u"SELECT count(*) FROM packet"_s).toInt();
    const bool rootBefore = QFileInfo::exists(instance.value(u"outpackRoot"_s).toString());
    QProcessEnvironment wrong = environment;
    wrong.insert(u"OPSDECK_SANDBOX_JOURNAL_PASSWORD"_s, u"not-the-password"_s);
    const test::CliRun refused = test::runCli({ u"run"_s, u"packit-wipe"_s, u"--host"_s, host, u"--instance"_s, name,
                                                  u"--confirm"_s, name, u"--inventory"_s, team },
        wrong);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("refused: cannot open the journal team journal team-journal")
            && refused.err.contains("password authentication failed")
            && refused.err.contains("Nothing was run: every run must be journaled"),
        refused.err.constData());
    QVERIFY2(!refused.err.contains("not-the-password"), refused.err.constData());
    QCOMPARE(QFileInfo::exists(instance.value(u"outpackRoot"_s).toString()), rootBefore);
    QCOMPARE(packit.value(u"SELECT count(*) FROM packet"_s).toInt(), packets);
}

// An admin breaks a lock that another machine's console holds, through the CLI on the sandbox's team inventory (the
// console user, through the bastion, with TLS verified, the chain keyed); then the keyed chain and an anchor.
void TestTeamJournal::aLockIsBrokenThroughTheCli()
{
    const QProcessEnvironment environment = m_sandbox.environment();
    const QString team = m_sandbox.dir() + u"/inventory-team.yaml"_s;
    const test::CliRun made = test::runCli(
        { u"journal"_s, u"verify"_s, u"--inventory"_s, m_sandbox.dir() + u"/inventory-team-owner.yaml"_s },
        environment);
    QVERIFY2(made.exitCode == 0, made.err.constData());
    const QString target = u"tst-teamjournal/%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128).left(8));
    Admin admin(m_pg, u"journal"_s);
    QString error;
    QVERIFY2(admin.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES "
                        "('%1', 'remote-run', 'carol@laptop pid 4242', 4242, 'laptop.invalid', "
                        "'2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')"_s.arg(target),
                 &error),
        qPrintable(error));

    const test::CliRun listed
        = test::runCli({ u"lock"_s, u"list"_s, u"--json"_s, u"--inventory"_s, team }, environment);
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    QVERIFY2(
        listed.out.contains(target.toUtf8()) && listed.out.contains("carol@laptop pid 4242"), listed.out.constData());
    const QStringList breakIt { u"lock"_s, u"break"_s, target, u"--reason"_s, u"carol's laptop died"_s,
        u"--inventory"_s, team };
    const test::CliRun planned = test::runCli(breakIt, environment);
    QCOMPARE(planned.exitCode, 3);
    QVERIFY2(planned.out.contains("run remote-run is probably still going"), planned.out.constData());
    QVERIFY2(planned.err.contains("--confirm is required"), planned.err.constData());
    QCOMPARE(admin.value(u"SELECT run_id FROM locks WHERE target = '%1'"_s.arg(target)).toString(), u"remote-run"_s);

    const test::CliRun broken = test::runCli(breakIt + QStringList { u"--confirm"_s, target }, environment);
    QVERIFY2(broken.exitCode == 0, broken.err.constData());
    QVERIFY(!admin.value(u"SELECT count(*) FROM locks WHERE target = '%1'"_s.arg(target)).toInt());
    QCOMPARE(admin
                 .value(u"SELECT count(*) FROM entries WHERE target = '%1' AND kind = 'lock' AND data LIKE "
                        "'%\"action\":\"broken\"%' AND data LIKE '%carol''s laptop died%'"_s.arg(target))
                 .toInt(),
        2);
    // The sandbox's team journal is keyed: its MACs check with the team's key, and an anchor holds.
    const test::CliRun anchor = test::runCli({ u"journal"_s, u"anchor"_s, u"--inventory"_s, team }, environment);
    QVERIFY2(anchor.exitCode == 0, anchor.err.constData());
    const QString head = QString::fromUtf8(anchor.out).trimmed();
    const test::CliRun verified
        = test::runCli({ u"journal"_s, u"verify"_s, u"--anchor"_s, head, u"--inventory"_s, team }, environment);
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
    QVERIFY2(verified.out.contains("MACs checked with the team key") && verified.out.contains(head.toUtf8()),
        verified.out.constData());
    // The sandbox's local journal copied in, once: its chain is then checked inside the team's.
    const QStringList migrate { u"journal"_s, u"migrate"_s, u"--to"_s, team, u"--inventory"_s,
        m_sandbox.dir() + u"/inventory.yaml"_s };
    const test::CliRun copied = test::runCli(migrate, environment);
    QVERIFY2(copied.exitCode == 0, copied.err.constData());
    const test::CliRun again = test::runCli(migrate, environment);
    QVERIFY2(again.exitCode == 0 && again.out.startsWith("copied 0 entries"), again.out.constData());
    const test::CliRun withCopies = test::runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, team }, environment);
    QVERIFY2(withCopies.exitCode == 0, withCopies.err.constData());
    // Unless the local journal had no entry (on a sandbox where nothing ran with it yet: the migration opened it,
    // empty).
    const bool nothingToCopy = copied.out.startsWith("copied 0 entries") && !copied.out.contains("were copied before");
    QVERIFY2(withCopies.out.contains("copied from other journals, each checked against its own chain") || nothingToCopy,
        withCopies.out.constData());
    QProcessEnvironment wrongKey = environment;
    wrongKey.insert(u"OPSDECK_SANDBOX_JOURNAL_KEY"_s, u"not-the-team-key-0123456789"_s);
    const test::CliRun refused = test::runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, team }, wrongKey);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("the key is wrong"), refused.err.constData());
    QVERIFY2(!refused.err.contains("not-the-team-key") && !refused.out.contains("not-the-team-key"),
        refused.err.constData());
}

namespace {

// A console in another process: TST_TEAMJOURNAL_APPEND is "host|port|database|user|runId|count", the password in
// TST_TEAMJOURNAL_PASSWORD.
int appendAsChild(const QString& spec)
{
    const QStringList parts = spec.split(u'|');
    Sandbox::Server server;
    server.host = parts.value(0);
    server.port = quint16(parts.value(1).toUInt());
    return test::appendAsChild(Journal(JournalLocation(teamTarget(server, parts.value(2), parts.value(3),
                                   qEnvironmentVariable("TST_TEAMJOURNAL_PASSWORD")))),
        parts.value(4), parts.value(5).toInt());
}

// A console in another process: TST_TEAMJOURNAL_CONSOLE is "host|port|database|user", the password in
// TST_TEAMJOURNAL_PASSWORD. For each "round" on stdin it runs a run that holds the target through OperationRunner and
// prints "locked" (refused: another console holds it) or, after "acquired" and the "release" that ends the run, "done
// OUTCOME"; anything else is printed as it came.
int raceConsole(const QString& spec)
{
    const QStringList parts = spec.split(u'|');
    Sandbox::Server server;
    server.host = parts.value(0);
    server.port = quint16(parts.value(1).toUInt());
    const JournalLocation journal(
        teamTarget(server, parts.value(2), parts.value(3), qEnvironmentVariable("TST_TEAMJOURNAL_PASSWORD")));
    // A raced-for run: it holds the target (prints "acquired") until the test says "release" on stdin.
    const auto hold = [](const QString& step, RunContext& context) {
        context.begin(step);
        std::fputs("acquired\n", stdout);
        std::fflush(stdout);
        std::string line;
        std::getline(std::cin, line);
        context.succeed();
        return true;
    };
    std::string command;
    while (std::getline(std::cin, command)) {
        OperationRunner runner(
            std::make_unique<test::StepsOperation>(u"race-hold"_s, u"race/target"_s, u"race"_s,
                QList<test::StepsOperation::Step> { { u"hold"_s, u"Hold the target"_s, u"read stdin"_s } }, hold),
            journal);
        const test::DrivenRun run = test::driveRun(runner, u"race"_s, {}, 60000, 300000);
        const QString answer = !run.plan ? u"plan failed: "_s + run.planError
            : run.refusal
            ? (*run.refusal == OperationRunner::Refusal::Locked ? u"locked"_s : u"refused: "_s + run.refusalText)
            : run.record ? u"done "_s + RunRecord::outcomeName(run.record->outcome)
                         : u"no outcome"_s;
        std::fputs(qPrintable(answer + u'\n'), stdout);
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

// QTEST_GUILESS_MAIN, plus the child modes that let tests append and race from other processes.
int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QString childSpec = qEnvironmentVariable("TST_TEAMJOURNAL_APPEND");
    if (!childSpec.isEmpty())
        return appendAsChild(childSpec);
    const QString consoleSpec = qEnvironmentVariable("TST_TEAMJOURNAL_CONSOLE");
    if (!consoleSpec.isEmpty())
        return raceConsole(consoleSpec);
    TestTeamJournal test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
// Issue 14, point 3: a console hears of another's entries as they commit (LISTEN/NOTIFY), not at its next read of the
// locks 10 s later; it follows the run step by step, sees it end, and is told again after the server restarted, with
// nothing missed meanwhile.
void TestTeamJournal::aWatcherHearsOfEachAppendAsItCommits()
{
    Journal owner = ownerJournal();
    Journal other = consoleJournal(); // another console's, as far as the watcher can tell: its confirm says so
    QVERIFY(opened({ &owner, &other }));
    JournalWatcher watcher(consoleJournal().location());
    QSignalSpy changed(&watcher, &JournalWatcher::runsChanged);
    watcher.start();
    QVERIFY(changed.wait(10000)); // opened: nothing runs
    QVERIFY(watcher.runs().isEmpty());

    const QString run = u"run-elsewhere"_s;
    const QString target = u"wpia-packit-dev/reside-dev"_s;
    QElapsedTimer clock;
    const auto heardWithin = [&](const std::function<bool(const LiveRun&)>& what) {
        clock.start();
        return QTest::qWaitFor([&] { return watcher.runs().size() == 1 && what(watcher.runs().first()); }, 5000);
    };
    Journal::LockHolder holder;
    QCOMPARE(other.acquireLock(target, run, &holder), Journal::LockResult::Acquired);
    QVERIFY(other.append(run, u"plan"_s, u"packit-wipe"_s, target,
        { { u"target"_s, target },
            { u"steps"_s,
                QJsonArray { QJsonObject { { u"id"_s, u"stop"_s }, { u"title"_s, u"Stop the units"_s } },
                    QJsonObject { { u"id"_s, u"delete"_s }, { u"title"_s, u"Delete the rows"_s } } } } }));
    QVERIFY(other.append(run, u"confirm"_s, u"packit-wipe"_s, target,
        { { u"pid"_s, 4242 }, { u"host"_s, u"laptop-of-ann"_s }, { u"confirmation"_s, u"reside-dev"_s } }));
    QVERIFY(heardWithin([](const LiveRun& live) { return live.running() && live.stepIndex == -1; }));
    const qint64 firstHeard = clock.elapsed();
    QCOMPARE(watcher.runs().first().host, u"laptop-of-ann"_s);
    QCOMPARE(watcher.runs().first().lock, target);

    QVERIFY(other.append(run, u"step-start"_s, u"packit-wipe"_s, target, { { u"step"_s, u"delete"_s } }));
    QVERIFY(heardWithin([](const LiveRun& live) { return live.stepIndex == 1; }));
    const qint64 stepHeard = clock.elapsed();
    QCOMPARE(watcher.runs().first().stepText(), u"step 2 of 2: Delete the rows"_s);
    qInfo("heard of the run %lld ms and of its step %lld ms after each was appended (the locks are read every 10 s)",
        firstHeard, stepHeard);
    QVERIFY2(firstHeard < 2000 && stepHeard < 2000, "the appends were not announced");

    // The server restarts: the watcher's connection is made again, and what was appended meanwhile is read.
    QCOMPARE(m_sandbox.script(u"restart-postgres"_s, { u"1"_s }), 0);
    QVERIFY(QTest::qWaitFor(
        [&] {
            return other.append(run, u"outcome"_s, u"packit-wipe"_s, target,
                { { u"outcome"_s, u"succeeded"_s }, { u"summary"_s, u"wiped"_s } });
        },
        20000));
    QVERIFY(other.releaseLock(target, run));
    // Within the watcher's next read of the locks at the latest (10 s), or at once when it listened again already.
    QVERIFY(QTest::qWaitFor(
        [&] { return watcher.runs().size() == 1 && watcher.runs().first().outcome == u"succeeded"_s; }, 15000));
    QCOMPARE(watcher.runs().first().summary, u"wiped"_s);
}

#include "tst_teamjournal.moc"
