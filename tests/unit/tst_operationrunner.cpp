// OperationRunner with a scripted operation: what the engine enforces whatever the operation is.
#include "TestRuns.h"
#include "runbook/Journal.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunContext.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>

using namespace opsdeck;

namespace {

// Three steps; the second waits until it is cancelled (then recovers) or `stepTwoMs` passed, the third fails if told
// to. `executed` counts its runs.
std::unique_ptr<Operation> scriptedOperation(
    bool production, bool readOnly, bool failLast, std::atomic_int* executed, int stepTwoMs = 200)
{
    auto operation = std::make_unique<test::StepsOperation>(QStringLiteral("scripted"), QStringLiteral("host/thing"),
        QStringLiteral("thing"),
        QList<test::StepsOperation::Step> { { QStringLiteral("one"), QStringLiteral("One"), QStringLiteral("true") },
            { QStringLiteral("two"), QStringLiteral("Two"), QStringLiteral("sleep") },
            { QStringLiteral("three"), QStringLiteral("Three"), QStringLiteral("false") } },
        [failLast, executed, stepTwoMs](const QString& step, RunContext& context) {
            if (step == QStringLiteral("one")) {
                ++*executed;
                context.begin(step);
                context.succeed(QStringLiteral("done"));
                return true;
            }
            context.begin(step);
            if (step == QStringLiteral("two")) {
                for (int i = 0; i < stepTwoMs / 10 && !context.cancelled(); ++i)
                    QThread::msleep(10);
                if (context.cancelled()) {
                    context.cancelStep(QStringLiteral("cancelled"));
                    context.beginRecovery(QStringLiteral("undo"), QStringLiteral("Undo one"), QStringLiteral("undo"));
                    context.succeed();
                    return false;
                }
                context.succeed();
                return true;
            }
            if (failLast) {
                context.fail(QStringLiteral("step three failed"));
                return false;
            }
            context.succeed();
            context.record().summary = QStringLiteral("all done");
            return true;
        });
    operation->shapePlan([production, readOnly](Plan* plan) {
        plan->verb = QStringLiteral("Do");
        plan->production = production;
        plan->readOnly = readOnly;
        plan->counts = { { QStringLiteral("items"), QStringLiteral("Items"), 3 } };
    });
    return operation;
}

} // namespace

class TestOperationRunner : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void succeedsAndJournalsEverything();
    void wrongConfirmationRunsNothing();
    void readOnlyRunsNothing();
    void heldLockRunsNothing();
    void failureIsRecordedAndUnlocks();
    void cancelStopsAndRecovers();
    void failedJournalWriteStopsBeforeTheNextStep();
    void lostLockStopsBeforeTheNextStep();

private:
    using Outcome = test::DrivenRun;
    enum class During
    {
        Nothing,
        Cancel, // the admin cancels during step two
        BreakJournal, // every journal write fails from step two on
        TakeLock, // during step two, another run takes the lock over (as after its lease ran out)
    };
    Outcome runOnce(
        bool production, bool readOnly, bool failLast, const QString& confirmation, During during = During::Nothing);
    void onJournalFile(const QString& sql);

    QTemporaryDir m_dir;
    QString m_journal;
    std::atomic_int m_executed = 0;
};

void TestOperationRunner::init()
{
    m_journal
        = m_dir.filePath(QStringLiteral("journal-%1.sqlite").arg(QString::fromLatin1(QTest::currentTestFunction())));
    m_executed = 0;
}

// A statement on the journal's file through a connection of its own, as another process would run it.
void TestOperationRunner::onJournalFile(const QString& sql)
{
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
        db.setDatabaseName(m_journal);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY2(query.exec(sql), qPrintable(query.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("raw"));
}

TestOperationRunner::Outcome TestOperationRunner::runOnce(
    bool production, bool readOnly, bool failLast, const QString& confirmation, During during)
{
    // Long enough for the lock's heartbeat to notice a lock taken over (OPSDECK_LOCK_LEASE_MS).
    const int stepTwoMs = during == During::TakeLock ? 5000 : 200;
    OperationRunner runner(scriptedOperation(production, readOnly, failLast, &m_executed, stepTwoMs), m_journal);
    if (during != During::Nothing) {
        connect(&runner, &OperationRunner::progressed, this,
            [this, &runner, during](const StepRecord& step, double, qint64) {
                if (step.id != QStringLiteral("two") || step.state != StepRecord::State::Running)
                    return;
                if (during == During::Cancel)
                    runner.cancel();
                else if (during == During::TakeLock)
                    // What another console does once this run's lease ran out: the lock becomes its run's.
                    onJournalFile(QStringLiteral("UPDATE locks SET run_id = 'another-run', machine = 'elsewhere', "
                                                 "lease_until = '2999-01-01T00:00:00.000Z'"));
                else
                    // As a full disk or a lost journal database would: every insert into the journal fails from now on.
                    onJournalFile(QStringLiteral("CREATE TRIGGER broken BEFORE INSERT ON entries "
                                                 "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"));
            });
    }
    return test::driveRun(runner, confirmation);
}

void TestOperationRunner::succeedsAndJournalsEverything()
{
    const Outcome outcome = runOnce(true, false, false, QStringLiteral("thing"));
    QVERIFY(outcome.record);
    const RunRecord& record = *outcome.record;
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.environment, QStringLiteral("production"));
    QCOMPARE(record.confirmation, QStringLiteral("thing"));
    QCOMPARE(record.planCounts.value(QStringLiteral("items")).toInteger(), 3);
    QCOMPARE(record.steps.size(), 3);
    for (const StepRecord& step : record.steps)
        QCOMPARE(step.state, StepRecord::State::Succeeded);

    Journal journal(m_journal);
    QString error;
    QVERIFY(journal.open(&error));
    QStringList kinds;
    for (const JournalEntry& entry : journal.entries(record.id))
        kinds << entry.kind;
    // The plan and the confirmation are on record before anything ran.
    QVERIFY2(kinds.indexOf(QStringLiteral("plan")) >= 0
            && kinds.indexOf(QStringLiteral("plan")) < kinds.indexOf(QStringLiteral("step-start"))
            && kinds.indexOf(QStringLiteral("confirm")) < kinds.indexOf(QStringLiteral("step-start")),
        qPrintable(kinds.join(u',')));
    QCOMPARE(kinds.count(QStringLiteral("step-start")), 3);
    QCOMPARE(kinds.count(QStringLiteral("step-end")), 3);
    QVERIFY(kinds.contains(QStringLiteral("outcome")));
    QVERIFY(kinds.contains(QStringLiteral("report")));
    QVERIFY(journal.verify().intact);
    QCOMPARE(journal.run(record.id)->outcome, RunRecord::Outcome::Succeeded);
    // The lock was released: a second run goes through.
    QVERIFY(runOnce(true, false, false, QStringLiteral("thing")).record);
}

void TestOperationRunner::wrongConfirmationRunsNothing()
{
    for (const QString& wrong :
        { QString(), QStringLiteral("Thing"), QStringLiteral("thing "), QStringLiteral("host/thing") }) {
        const Outcome outcome = runOnce(false, false, false, wrong);
        QCOMPARE(outcome.refusal, OperationRunner::Refusal::Confirmation);
        QVERIFY(!outcome.record);
    }
    QCOMPARE(m_executed.load(), 0);
}

void TestOperationRunner::readOnlyRunsNothing()
{
    const Outcome outcome = runOnce(false, true, false, QStringLiteral("thing"));
    QCOMPARE(outcome.refusal, OperationRunner::Refusal::ReadOnly);
    QCOMPARE(m_executed.load(), 0);
}

void TestOperationRunner::heldLockRunsNothing()
{
    Journal journal(m_journal);
    QString error;
    QVERIFY(journal.open(&error));
    Journal::LockHolder holder;
    QCOMPARE(journal.acquireLock(QStringLiteral("host/thing"), QStringLiteral("other"), &holder, &error),
        Journal::LockResult::Acquired);
    const Outcome outcome = runOnce(false, false, false, QStringLiteral("thing"));
    QCOMPARE(outcome.refusal, OperationRunner::Refusal::Locked);
    QCOMPARE(m_executed.load(), 0);
    journal.releaseLock(QStringLiteral("host/thing"), QStringLiteral("other"));
    QVERIFY(runOnce(false, false, false, QStringLiteral("thing")).record);
}

void TestOperationRunner::failureIsRecordedAndUnlocks()
{
    const Outcome outcome = runOnce(false, false, true, QStringLiteral("thing"));
    QVERIFY(outcome.record);
    QCOMPARE(outcome.record->outcome, RunRecord::Outcome::Failed);
    QCOMPARE(outcome.record->steps.last().state, StepRecord::State::Failed);
    QCOMPARE(outcome.record->steps.last().error, QStringLiteral("step three failed"));
    QVERIFY(runOnce(false, false, false, QStringLiteral("thing")).record);
}

void TestOperationRunner::cancelStopsAndRecovers()
{
    const Outcome outcome = runOnce(false, false, false, QStringLiteral("thing"), During::Cancel);
    QVERIFY(outcome.record);
    const RunRecord& record = *outcome.record;
    QCOMPARE(record.outcome, RunRecord::Outcome::Cancelled);
    QCOMPARE(record.steps.at(0).state, StepRecord::State::Succeeded);
    QCOMPARE(record.steps.at(1).state, StepRecord::State::Cancelled);
    QCOMPARE(record.steps.at(2).state, StepRecord::State::Skipped);
    QCOMPARE(record.steps.last().id, QStringLiteral("undo"));
    QVERIFY(record.steps.last().recovery);
}

// Step two's end cannot be journaled: step three, the next one that would change something, never starts, and the
// record says why.
void TestOperationRunner::failedJournalWriteStopsBeforeTheNextStep()
{
    const Outcome outcome = runOnce(false, false, false, QStringLiteral("thing"), During::BreakJournal);
    QVERIFY(outcome.record);
    const RunRecord& record = *outcome.record;
    QCOMPARE(record.outcome, RunRecord::Outcome::Failed);
    QCOMPARE(record.steps.at(0).state, StepRecord::State::Succeeded);
    QCOMPARE(record.steps.at(1).state, StepRecord::State::Succeeded);
    QCOMPARE(record.steps.at(2).state, StepRecord::State::Skipped);
    QVERIFY2(record.summary.contains(QStringLiteral("journal")) && record.summary.contains(m_journal)
            && record.summary.contains(QStringLiteral("simulated write failure")),
        qPrintable(record.summary));
}

// The run's lock is renewed while it runs; once another console holds it, the renewal fails and the run stops before
// its next step, saying why.
void TestOperationRunner::lostLockStopsBeforeTheNextStep()
{
    qputenv("OPSDECK_LOCK_LEASE_MS", "1000"); // renewed every 250 ms
    const Outcome outcome = runOnce(false, false, false, QStringLiteral("thing"), During::TakeLock);
    qunsetenv("OPSDECK_LOCK_LEASE_MS");
    QVERIFY(outcome.record);
    const RunRecord& record = *outcome.record;
    QCOMPARE(record.outcome, RunRecord::Outcome::Failed);
    QCOMPARE(record.steps.at(0).state, StepRecord::State::Succeeded);
    QCOMPARE(record.steps.at(2).state, StepRecord::State::Skipped);
    QVERIFY2(record.summary.startsWith(QStringLiteral("Stopped: the lock on host/thing could not be renewed"))
            && record.summary.contains(QStringLiteral("no longer holds the lock")),
        qPrintable(record.summary));
    // The lock is the other run's: this run's release leaves it alone.
    Journal journal(m_journal);
    QString error;
    QVERIFY(journal.open(&error));
    Journal::LockHolder holder;
    QCOMPARE(journal.acquireLock(QStringLiteral("host/thing"), QStringLiteral("third"), &holder, &error),
        Journal::LockResult::HeldByOther);
    QCOMPARE(holder.runId, QStringLiteral("another-run"));
}

QTEST_GUILESS_MAIN(TestOperationRunner)
#include "tst_operationrunner.moc"
