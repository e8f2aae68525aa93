// LockBreakOperation through OperationRunner on a local journal: planned from the lock as it stands and its run's
// entries, confirmed with the target typed, journaled, and a compare and delete that leaves a lock alone once it is
// no longer the one the plan showed.
#include "TestRuns.h"
#include "runbook/Journal.h"
#include "runbook/LockBreakOperation.h"
#include "runbook/OperationRunner.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

const QString kTarget = u"wpia-packit/training"_s;

} // namespace

class TestLockBreak : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void plansFromTheLockAsItStands();
    void refusesBadInputAndMissingLocks();
    void aWrongConfirmationBreaksNothing();
    void breaksAndJournalsIt();
    void aLockThatChangedSinceThePlanIsLeftAlone();

private:
    using Outcome = test::DrivenRun;
    // Plans a break of kTarget; runs it with `confirmation` unless it is null; `between` runs after the plan.
    Outcome breakLock(const QString& reason,
        const QString& confirmation,
        const std::function<void()>& between = {},
        const QString& target = kTarget);
    // A statement on the journal's file through a connection of its own, as another console would run it.
    void onJournalFile(const QString& sql);
    // A run of another machine's console holding kTarget: its plan and first step journaled, its lease live.
    void plantRemoteHolder();

    QTemporaryDir m_dir;
    QString m_path;
    std::optional<Journal> m_journal;
};

void TestLockBreak::init()
{
    m_path = m_dir.filePath(u"journal-%1.sqlite"_s.arg(QString::fromLatin1(QTest::currentTestFunction())));
    m_journal.emplace(m_path);
    QString error;
    QVERIFY2(m_journal->open(&error), qPrintable(error));
}

void TestLockBreak::onJournalFile(const QString& sql)
{
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"raw"_s);
        db.setDatabaseName(m_path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY2(query.exec(sql), qPrintable(query.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(u"raw"_s);
}

void TestLockBreak::plantRemoteHolder()
{
    QVERIFY(m_journal->append(u"remote-run"_s, u"plan"_s, u"packit-wipe"_s, kTarget, {}));
    QVERIFY(m_journal->append(
        u"remote-run"_s, u"step-start"_s, u"packit-wipe"_s, kTarget, { { u"step"_s, u"stop-units"_s } }));
    onJournalFile(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES ('%1', "
                  "'remote-run', 'carol@laptop pid 4242', 4242, 'laptop.invalid', '2024-05-01T12:00:00.000Z', "
                  "'2999-01-01T00:00:00.000Z')"_s.arg(kTarget));
}

TestLockBreak::Outcome TestLockBreak::breakLock(
    const QString& reason, const QString& confirmation, const std::function<void()>& between, const QString& target)
{
    OperationRunner runner(std::make_unique<LockBreakOperation>(JournalLocation(m_path), target, reason), m_path);
    return test::driveRun(runner, confirmation.isNull() ? std::nullopt : std::optional(confirmation), between);
}

void TestLockBreak::plansFromTheLockAsItStands()
{
    plantRemoteHolder();
    const Outcome outcome = breakLock(u"carol's laptop died mid-wipe"_s, QString());
    QVERIFY2(outcome.plan, qPrintable(outcome.planError));
    const Plan& plan = *outcome.plan;
    QCOMPARE(plan.operation, u"lock-break"_s);
    QCOMPARE(plan.target, kTarget);
    QVERIFY(plan.needsTypedName());
    QCOMPARE(plan.targetName, kTarget);
    QCOMPARE(plan.lockName(), u"lock-break:"_s + kTarget); // not the lock it breaks
    QCOMPARE(plan.parameters.value(u"holderRunId"_s).toString(), u"remote-run"_s);
    QCOMPARE(plan.count(u"locks"_s), 1);
    QVERIFY(plan.count(u"leaseSecondsLeft"_s) > 1000000);
    QCOMPARE(plan.steps.size(), 1);
    QVERIFY2(plan.detailText.contains(u"packit-wipe, last step stop-units"_s), qPrintable(plan.detailText));
    QVERIFY2(plan.detailText.contains(u"its console runs on laptop.invalid, which cannot be checked from here"_s),
        qPrintable(plan.detailText));
    const QString warnings = plan.warnings.join(u'\n');
    QVERIFY2(warnings.contains(u"run remote-run is probably still going"_s), qPrintable(warnings));
    QVERIFY2(warnings.contains(u"Run remote-run has no outcome"_s), qPrintable(warnings));
    QVERIFY(!warnings.contains(u"takes this lock over on its own"_s));
    // Planning changed nothing.
    QCOMPARE(m_journal->lock(kTarget)->holder.runId, u"remote-run"_s);
    QCOMPARE(m_journal->entries().size(), 2);

    // A lease that ran out: the plan says the next run takes the lock over anyway.
    onJournalFile(u"UPDATE locks SET lease_until = '2024-05-01T12:01:00.000Z'"_s);
    const Outcome ranOut = breakLock(u"tidy up"_s, QString());
    QVERIFY(ranOut.plan);
    QCOMPARE(ranOut.plan->count(u"leaseSecondsLeft"_s), 0);
    QVERIFY(ranOut.plan->warnings.join(u'\n').contains(u"takes this lock over on its own (its lease ran out)"_s));
}

void TestLockBreak::refusesBadInputAndMissingLocks()
{
    plantRemoteHolder();
    for (const QString& reason : { QString(), u"   "_s, u"two\nlines"_s, u"tab\there"_s, QString(501, u'x') }) {
        const Outcome outcome = breakLock(reason, kTarget);
        QVERIFY(!outcome.plan);
        QVERIFY2(outcome.planError.startsWith(u"reason: "_s), qPrintable(outcome.planError));
    }
    const Outcome none = breakLock(u"why not"_s, u"host/none"_s, {}, u"host/none"_s);
    QVERIFY(!none.plan);
    QVERIFY2(none.planError.contains(u"no lock is held on \"host/none\""_s), qPrintable(none.planError));
    const Outcome empty = breakLock(u"why not"_s, QString(), {}, QString());
    QVERIFY2(empty.planError.startsWith(u"target: empty"_s), qPrintable(empty.planError));
    // A quote in the target stays data: it is a bound parameter, and no lock of that name is held.
    const Outcome quoted = breakLock(u"why not"_s, u"x'; DROP TABLE locks; --"_s, {}, u"x'; DROP TABLE locks; --"_s);
    QVERIFY(!quoted.plan);
    QCOMPARE(m_journal->lock(kTarget)->holder.runId, u"remote-run"_s);
    QCOMPARE(m_journal->entries().size(), 2);
}

void TestLockBreak::aWrongConfirmationBreaksNothing()
{
    plantRemoteHolder();
    for (const QString& wrong : { u""_s, u"training"_s, kTarget + u' ', u"Break"_s }) {
        const Outcome outcome = breakLock(u"hung console"_s, wrong);
        QCOMPARE(outcome.refusal, OperationRunner::Refusal::Confirmation);
        QVERIFY(!outcome.record);
    }
    QCOMPARE(m_journal->lock(kTarget)->holder.runId, u"remote-run"_s);
    QCOMPARE(m_journal->entries().size(), 2);
}

void TestLockBreak::breaksAndJournalsIt()
{
    plantRemoteHolder();
    const Outcome outcome = breakLock(u"carol's laptop died mid-wipe"_s, kTarget);
    QVERIFY(outcome.record);
    const RunRecord& record = *outcome.record;
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.steps.size(), 1);
    QCOMPARE(record.steps.first().output, kTarget + u" is not locked now"_s);
    QVERIFY2(record.summary.startsWith(
                 u"Broke the lock on %1 held by carol@laptop pid 4242 (run remote-run)"_s.arg(kTarget)),
        qPrintable(record.summary));
    QCOMPARE(record.parameters.value(u"reason"_s).toString(), u"carol's laptop died mid-wipe"_s);
    const QJsonObject broken = record.deleted.value(u"locks"_s).toArray().first().toObject();
    QCOMPARE(broken.value(u"runId"_s).toString(), u"remote-run"_s);
    QCOMPARE(broken.value(u"target"_s).toString(), kTarget);
    QVERIFY(!m_journal->lock(kTarget));
    QVERIFY(!m_journal->lock(u"lock-break:"_s + kTarget)); // its own lock was released

    // The broken run's own history says so, and a new run takes the target.
    const QList<JournalEntry> held = m_journal->entries(u"remote-run"_s);
    QCOMPARE(held.last().data.value(u"action"_s).toString(), u"broken"_s);
    QCOMPARE(held.last().data.value(u"brokenByRunId"_s).toString(), record.id);
    QStringList actions;
    for (const JournalEntry& entry : m_journal->entries(record.id)) {
        if (entry.kind == u"lock"_s)
            actions << entry.target + u' ' + entry.data.value(u"action"_s).toString();
    }
    QCOMPARE(actions,
        QStringList({ u"lock-break:%1 acquired"_s.arg(kTarget), u"%1 broken"_s.arg(kTarget),
            u"lock-break:%1 released"_s.arg(kTarget) }));
    Journal::LockHolder holder;
    QCOMPARE(m_journal->acquireLock(kTarget, u"next-run"_s, &holder), Journal::LockResult::Acquired);
    QVERIFY(m_journal->verify().intact);
    QCOMPARE(m_journal->run(record.id)->outcome, RunRecord::Outcome::Succeeded);
}

void TestLockBreak::aLockThatChangedSinceThePlanIsLeftAlone()
{
    plantRemoteHolder();
    // Between the plan and the confirmation the holder released the lock and another run took it.
    const Outcome outcome = breakLock(u"hung console"_s, kTarget, [this] {
        onJournalFile(
            u"UPDATE locks SET run_id = 'newer-run', holder = 'dave@desk pid 7' WHERE target = '%1'"_s.arg(kTarget));
    });
    QVERIFY(outcome.record);
    QCOMPARE(outcome.record->outcome, RunRecord::Outcome::Failed);
    QVERIFY2(outcome.record->summary.startsWith(u"Nothing was broken: the lock on %1 is no longer held by run "
                                                "remote-run"_s.arg(kTarget)),
        qPrintable(outcome.record->summary));
    QVERIFY2(outcome.record->summary.contains(u"%1 is locked by dave@desk pid 7 (run newer-run) now"_s.arg(kTarget)),
        qPrintable(outcome.record->summary));
    QCOMPARE(m_journal->lock(kTarget)->holder.runId, u"newer-run"_s);
    for (const JournalEntry& entry : m_journal->entries())
        QVERIFY(entry.data.value(u"action"_s).toString() != u"broken"_s);
}

QTEST_GUILESS_MAIN(TestLockBreak)
#include "tst_lockbreak.moc"
