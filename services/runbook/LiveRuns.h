#pragma once

#include "runbook/Journal.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace opsdeck {

// A run of another console (another process, here or on another machine) as its journal entries tell it: who runs
// what on which target, and how far it is.
struct LiveRun
{
    QString runId;
    QString operation;
    QString target;
    QString lock; // the journal lock it holds (the target, or a name the operation shares)
    QString user; // "<login>@<machine>" of its console
    QString host; // its console's machine
    qint64 pid = 0; // its console's process
    QDateTime startedAt;
    QDateTime lastAt; // its latest entry
    QStringList stepTitles; // the plan's, in order
    int stepIndex = -1; // of the step begun last; -1 before the first
    QString step; // that step's title, or the recovery step's
    bool recovering = false; // the step under way is a recovery step
    QString outcome; // RunRecord::outcomeName(), once it ended
    QString summary; // once it ended
    // It has no outcome and its lock was taken over or broken, or its lease ran out: its console stopped (or lost the
    // journal) and the run went no further. Why, in words.
    QString stopped;

    bool ended() const { return !outcome.isEmpty(); }
    bool running() const { return !ended() && stopped.isEmpty(); }
    // "step 3 of 7: Stop the units" or "recovery: Put the root back"; "starting" before the first step.
    QString stepText() const;
};

// Follows the journal's entries, in order, to tell what the runs of other consoles are doing. Runs of this console
// (`ownHost`, `ownPid`) are left out: its Runs dock follows them from their runners. A run shows once its
// confirmation is journaled (the console identity is in it); before, it could still be this console's.
class LiveRuns
{
public:
    LiveRuns(QString ownHost, qint64 ownPid);

    // Takes in the next entry (an entry already taken in is ignored). True if what runs() returns changed.
    bool add(const JournalEntry& entry);
    // Marks the runs that hold no lock in `locks` any more, whose lease ran out, or whose console was a process of this
    // machine that is gone, and have no outcome, as stopped;
    // and clears that of a run whose lease was renewed after all. `locks` were read when the journal's last entry was
    // number `readAt` or later: a run that took its lock after that is left as it is. True if runs() changed.
    bool checkLocks(const QList<Journal::HeldLock>& locks, qint64 readAt);
    // The other consoles' runs, oldest first: those going on, and the last kKeptEnded that ended or stopped.
    QList<LiveRun> runs() const;

    static constexpr int kKeptEnded = 20;

private:
    struct Followed
    {
        LiveRun run;
        bool confirmed = false;
        bool own = false;
        qint64 firstSeq = 0;
        qint64 lastSeq = 0;
        qint64 lockSeq = 0; // of the entry that says it took its lock
        bool stoppedByEntry = false; // its lock was broken or taken over: that stands whatever the locks say later
        QStringList stepIds; // the plan's, in order
    };

    // Whether `followed` shows in runs().
    static bool shown(const Followed& followed) { return followed.confirmed && !followed.own; }

    void forgetOldEnded();

    QString m_ownHost;
    qint64 m_ownPid;
    QHash<QString, Followed> m_runs; // by run id
};

} // namespace opsdeck
