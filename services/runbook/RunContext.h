#pragma once

#include "runbook/Plan.h"
#include "runbook/RunRecord.h"
#include "runbook/UndoWindow.h"

#include <QElapsedTimer>
#include <QMutex>

#include <atomic>
#include <functional>

namespace opsdeck {

class Journal;

// What an operation uses while it runs: step bookkeeping (journaled as it happens), the cancel flag and
// progress. Lives on the runner's thread.
class RunContext
{
public:
    using ProgressFn = std::function<void(const StepRecord& step, double fraction, qint64 etaSeconds)>;

    RunContext(RunRecord* record, const Plan& plan, Journal* journal, ProgressFn progress);

    // Whether the operation must stop before its next step: the admin cancelled, or a journal write failed (a run
    // must not go on changing things that the journal cannot record), or its lock could not be renewed (another
    // console may take the target over). Recovery still runs.
    bool cancelled() const { return m_cancelled.load(); }
    // Why the journal or the lock failed (empty while they did not).
    QString journalError() const;
    // From any thread: the journal or the lock failed; the run stops before its next step, and `why` (what failed,
    // and what to do) becomes the start of its summary.
    void stopBeforeNextStep(const QString& why);
    // From any thread. Sets the flag the operation checks between steps and batches, and runs the cancel
    // hook on a pool thread, so that a runner blocked in a query can be interrupted.
    void requestCancel();
    // Stops what is in flight (cancel an SSH command, cancel a query). Must be thread-safe; pass {} to clear.
    void setCancelHook(std::function<void()> hook);

    // Starts a plan step by id.
    void begin(const QString& stepId);
    // Starts a recovery step that the plan did not list.
    void beginRecovery(const QString& id, const QString& title, const QString& command);
    void succeed(const QString& output = {});
    void fail(const QString& error, const QString& output = {});
    void cancelStep(const QString& why);
    // Within the current step: how far it is (0..1), for progress and ETA.
    void progress(double stepFraction);
    // The current step cannot say how far it is (a datamon scan of unknown size): no time left is estimated until
    // the next step, and the progress shown stays at the steps done.
    void progressUnknown();
    // Within the current step: output as it comes (a command's log). The step keeps the last lines.
    void output(const QString& text);
    // Marks the plan steps that never started as skipped.
    void skipRemaining();

    bool anyStepSucceeded(const QStringList& ids) const;
    // The run ends with its target neither untouched nor finished, and what is left needs `opsdeck recover`: the
    // journal keeps listing it as unfinished (with `why`) until a recovery of it succeeds.
    void leaveOpen(const QString& why) { m_leftOpen = why; }
    QString leftOpen() const { return m_leftOpen; }
    RunRecord& record() { return *m_record; }
    // The plan as confirmed (with the admin's undo choice).
    const Plan& plan() const { return m_plan; }
    void note(const QString& kind, const QJsonObject& data);
    // Journals the window this run keeps (its run, operation, target and user are the run's; `until` is set here from
    // the plan's retention, by the journal's clock) and puts it in the record. False, and the run stops before its
    // next step, if the journal could not record it: a window the journal does not know could never be restored.
    bool openUndoWindow(UndoWindow window);

private:
    void finishStep(StepRecord::State state, const QString& error, const QString& output);
    void report(double stepFraction);

    RunRecord* m_record;
    Plan m_plan;
    Journal* m_journal;
    ProgressFn m_progress;
    std::atomic_bool m_cancelled = false;
    mutable QMutex m_hookMutex; // also guards m_journalError
    QString m_journalError;
    std::function<void()> m_cancelHook;
    QString m_leftOpen;
    int m_current = -1; // index in m_record->steps
    double m_stepFraction = 0; // the current step's last reported progress
    bool m_stepOpenEnded = false; // progressUnknown() since the step began
    QElapsedTimer m_clock;
};

} // namespace opsdeck
