// LiveRuns: what the journal's entries say the runs of other consoles are doing. Entries are made here as
// OperationRunner and Journal write them (kinds, data keys), numbered in order.
#include "runbook/LiveRuns.h"

#include <QJsonArray>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {
const QString kHere = u"console-host"_s;
constexpr qint64 kOwnPid = 100;

class Entries
{
public:
    JournalEntry make(const QString& runId, const QString& kind, const QJsonObject& data, const QString& target = {})
    {
        JournalEntry entry;
        entry.seq = ++m_seq;
        entry.at = QDateTime(QDate(2026, 12, 6), QTime(9, 0)).addSecs(m_seq);
        entry.runId = runId;
        entry.kind = kind;
        entry.operation = kind == u"lock"_s ? QString() : u"packit-wipe"_s;
        entry.target = target.isEmpty() ? u"wpia/reside-dev"_s : target;
        entry.user = u"ann@laptop"_s;
        entry.data = data;
        return entry;
    }
    // The entries a run starts with: its lock, its plan (two steps), its confirmation by console host:pid.
    QList<JournalEntry> start(const QString& runId, const QString& host, qint64 pid)
    {
        const QJsonArray steps { QJsonObject { { u"id"_s, u"stop"_s }, { u"title"_s, u"Stop the units"_s } },
            QJsonObject { { u"id"_s, u"delete"_s }, { u"title"_s, u"Delete the rows"_s } } };
        return { make(runId, u"lock"_s, { { u"action"_s, u"acquired"_s } }),
            make(runId, u"plan"_s, { { u"target"_s, u"wpia/reside-dev"_s }, { u"steps"_s, steps } }),
            make(runId, u"confirm"_s, { { u"pid"_s, pid }, { u"host"_s, host }, { u"confirmation"_s, u"x"_s } }) };
    }
    qint64 seq() const { return m_seq; }

private:
    qint64 m_seq = 0;
};

bool addAll(LiveRuns& live, const QList<JournalEntry>& entries)
{
    bool changed = false;
    for (const JournalEntry& entry : entries)
        changed = live.add(entry) || changed;
    return changed;
}

Journal::HeldLock heldBy(const QString& runId, bool leaseRanOut = false)
{
    Journal::HeldLock lock;
    lock.target = u"wpia/reside-dev"_s;
    lock.holder.runId = runId;
    lock.holder.leaseUntil = QDateTime(QDate(2026, 12, 6), QTime(9, 5), Qt::UTC);
    lock.leaseRanOut = leaseRanOut;
    return lock;
}
} // namespace

class TestLiveRuns : public QObject
{
    Q_OBJECT

private slots:
    void anotherConsolesRunIsFollowedStepByStep();
    void thisConsolesRunsAndUnconfirmedOnesAreLeftOut();
    void anEntryTakenInTwiceChangesNothing();
    void aLockTakenOverOrBrokenStopsItsRun();
    void aLeaseThatRanOutStopsTheRunUntilItIsRenewed();
    void aLockTakenAfterTheLocksWereReadIsNotJudged();
    void aLockWithoutARunIsForgottenOnceReleased();
    void onlyTheNewestEndedRunsAreKept();
};

void TestLiveRuns::anotherConsolesRunIsFollowedStepByStep()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    const QList<JournalEntry> started = entries.start(u"r1"_s, u"laptop"_s, 7);
    QVERIFY(!live.add(started.at(0))); // the lock and the plan alone: it could still be this console's
    QVERIFY(!live.add(started.at(1)));
    QVERIFY(live.runs().isEmpty());
    QVERIFY(live.add(started.at(2)));
    QCOMPARE(live.runs().size(), 1);
    LiveRun run = live.runs().first();
    QCOMPARE(run.operation, u"packit-wipe"_s);
    QCOMPARE(run.target, u"wpia/reside-dev"_s);
    QCOMPARE(run.lock, u"wpia/reside-dev"_s);
    QCOMPARE(run.user, u"ann@laptop"_s);
    QCOMPARE(run.host, u"laptop"_s);
    QCOMPARE(run.pid, 7);
    QVERIFY(run.running());
    QCOMPARE(run.stepText(), u"starting"_s);

    QVERIFY(live.add(entries.make(u"r1"_s, u"step-start"_s, { { u"step"_s, u"delete"_s } })));
    run = live.runs().first();
    QCOMPARE(run.stepIndex, 1);
    QCOMPARE(run.stepText(), u"step 2 of 2: Delete the rows"_s);
    QVERIFY(live.add(
        entries.make(u"r1"_s, u"recovery"_s, { { u"step"_s, u"put-back"_s }, { u"title"_s, u"Put it back"_s } })));
    QCOMPARE(live.runs().first().stepText(), u"recovery: Put it back"_s);
    QVERIFY(live.add(entries.make(
        u"r1"_s, u"outcome"_s, { { u"outcome"_s, u"failed"_s }, { u"summary"_s, u"Put back as it was"_s } })));
    run = live.runs().first();
    QVERIFY(run.ended());
    QVERIFY(!run.running());
    QCOMPARE(run.outcome, u"failed"_s);
    QCOMPARE(run.summary, u"Put back as it was"_s);
    // Its lock released after the outcome: nothing to judge.
    QVERIFY(
        !live.add(entries.make(u"r1"_s, u"lock"_s, { { u"action"_s, u"released"_s } })) || live.runs().first().ended());
    QVERIFY(!live.checkLocks({}, entries.seq()));
    QVERIFY(live.runs().first().stopped.isEmpty());
}

void TestLiveRuns::thisConsolesRunsAndUnconfirmedOnesAreLeftOut()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    QVERIFY(!addAll(live, entries.start(u"mine"_s, kHere, kOwnPid)));
    // The same pid on another machine is another console; another pid here too (a CLI run beside the GUI).
    QVERIFY(addAll(live, entries.start(u"other-machine"_s, u"elsewhere"_s, kOwnPid)));
    QVERIFY(addAll(live, entries.start(u"other-process"_s, kHere, kOwnPid + 1)));
    // Entries of a run never seen starting (it began before the watcher read) are ignored, not guessed at.
    QVERIFY(!live.add(entries.make(u"unknown"_s, u"step-start"_s, { { u"step"_s, u"stop"_s } })));
    QCOMPARE(live.runs().size(), 2);
    QCOMPARE(live.runs().at(0).runId, u"other-machine"_s);
    QCOMPARE(live.runs().at(1).runId, u"other-process"_s);
    QVERIFY(!live.add(entries.make(u"mine"_s, u"step-start"_s, { { u"step"_s, u"stop"_s } })));
}

void TestLiveRuns::anEntryTakenInTwiceChangesNothing()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    const QList<JournalEntry> started = entries.start(u"r1"_s, u"laptop"_s, 7);
    const JournalEntry step = entries.make(u"r1"_s, u"step-start"_s, { { u"step"_s, u"stop"_s } });
    QVERIFY(addAll(live, started + QList<JournalEntry> { step }));
    // The watcher reads a lock holder's entries whole, then those after the head it read first: some come twice.
    QVERIFY(!addAll(live, started + QList<JournalEntry> { step }));
    QCOMPARE(live.runs().first().stepIndex, 0);
}

void TestLiveRuns::aLockTakenOverOrBrokenStopsItsRun()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    addAll(live, entries.start(u"stale"_s, u"laptop"_s, 7));
    addAll(live, entries.start(u"broken"_s, u"laptop"_s, 8));
    QVERIFY(live.add(entries.make(u"new"_s, u"lock"_s,
        { { u"action"_s, u"taken-over"_s }, { u"staleRunId"_s, u"stale"_s },
            { u"reason"_s, u"its lease ran out at 09:01: its console stopped renewing it"_s } })));
    QVERIFY(live.add(entries.make(u"broken"_s, u"lock"_s,
        { { u"action"_s, u"broken"_s }, { u"brokenRunId"_s, u"broken"_s }, { u"reason"_s, u"laptop lost"_s } })));
    const QList<LiveRun> runs = live.runs();
    QCOMPARE(runs.size(), 2);
    QVERIFY(!runs.at(0).running());
    QVERIFY2(
        runs.at(0).stopped.contains(u"taken over by ann@laptop: its lease ran out"_s), qPrintable(runs.at(0).stopped));
    QCOMPARE(runs.at(1).stopped, u"its lock was broken by ann@laptop: laptop lost"_s);
    // What the locks say later does not undo it.
    QVERIFY(!live.checkLocks({ heldBy(u"broken"_s) }, entries.seq()));
    QVERIFY(!live.runs().at(1).running());
}

void TestLiveRuns::aLeaseThatRanOutStopsTheRunUntilItIsRenewed()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    addAll(live, entries.start(u"r1"_s, u"laptop"_s, 7));
    QVERIFY(!live.checkLocks({ heldBy(u"r1"_s) }, entries.seq()));
    QVERIFY(live.checkLocks({ heldBy(u"r1"_s, true) }, entries.seq()));
    QVERIFY2(
        live.runs().first().stopped.contains(u"stopped renewing its lock"_s), qPrintable(live.runs().first().stopped));
    QVERIFY(live.checkLocks({ heldBy(u"r1"_s) }, entries.seq())); // renewed after all: it goes on
    QVERIFY(live.runs().first().running());
    QVERIFY(live.checkLocks({}, entries.seq())); // the lock gone, and no outcome
    QCOMPARE(live.runs().first().stopped, u"its lock is gone, and it journaled no outcome"_s);
    // Its console was a process of this machine that is gone: stopped at once, not once the lease ran out.
    Journal::HeldLock gone = heldBy(u"r1"_s);
    gone.holder.pid = 7;
    gone.holderGoneHere = true;
    QVERIFY(live.checkLocks({ gone }, entries.seq()));
    QCOMPARE(live.runs().first().stopped, u"its console, process 7 of this machine, is gone"_s);
}

void TestLiveRuns::aLockTakenAfterTheLocksWereReadIsNotJudged()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    const qint64 readAt = entries.seq(); // the locks were read here, before the run took its lock
    addAll(live, entries.start(u"r1"_s, u"laptop"_s, 7));
    QVERIFY(!live.checkLocks({}, readAt));
    QVERIFY(live.runs().first().running());
}

void TestLiveRuns::aLockWithoutARunIsForgottenOnceReleased()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    for (int i = 0; i < 3; ++i) {
        QVERIFY(!live.add(entries.make(u"lock-only"_s, u"lock"_s, { { u"action"_s, u"acquired"_s } })));
        QVERIFY(!live.add(entries.make(u"lock-only"_s, u"lock"_s, { { u"action"_s, u"released"_s } })));
    }
    // Forgotten: its lock taken again by a run that then confirms is followed afresh.
    QVERIFY(addAll(live, entries.start(u"lock-only"_s, u"laptop"_s, 7)));
    QCOMPARE(live.runs().size(), 1);
    QCOMPARE(live.runs().first().stepIndex, -1);
}

void TestLiveRuns::onlyTheNewestEndedRunsAreKept()
{
    LiveRuns live(kHere, kOwnPid);
    Entries entries;
    addAll(live, entries.start(u"going-on"_s, u"laptop"_s, 7));
    for (int i = 0; i < LiveRuns::kKeptEnded + 5; ++i) {
        const QString id = u"ended-%1"_s.arg(i);
        addAll(live, entries.start(id, u"laptop"_s, 7));
        live.add(entries.make(id, u"outcome"_s, { { u"outcome"_s, u"succeeded"_s } }));
    }
    const QList<LiveRun> runs = live.runs();
    QCOMPARE(runs.size(), LiveRuns::kKeptEnded + 1);
    QCOMPARE(runs.first().runId, u"going-on"_s); // a run going on is never forgotten
    QCOMPARE(runs.at(1).runId, u"ended-5"_s);
    QCOMPARE(runs.last().runId, u"ended-24"_s);
}

QTEST_GUILESS_MAIN(TestLiveRuns)
#include "tst_liveruns.moc"
