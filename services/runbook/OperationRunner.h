#pragma once

#include "core/ConnectionWorker.h"
#include "runbook/JournalLocation.h"
#include "runbook/Operation.h"
#include "runbook/Plan.h"
#include "runbook/RunRecord.h"

#include <QMutex>
#include <QObject>
#include <QWaitCondition>

#include <functional>
#include <memory>

namespace opsdeck {

class Journal;

class RunContext;

// Runs one operation off the caller's thread: its plan, then, once confirmed, its steps. The confirmation,
// the read-only tag and the per-target lock are checked here, whatever the caller is. Everything it does is
// journaled, and the final record is saved to the journal for reports.
class OperationRunner : public QObject
{
    Q_OBJECT
public:
    enum class Refusal
    {
        Confirmation,
        ReadOnly,
        Locked,
        Journal,
        Undo
    };
    Q_ENUM(Refusal)

    OperationRunner(
        std::unique_ptr<Operation> operation, const JournalLocation& journalLocation, QObject* parent = nullptr);
    ~OperationRunner() override;

    void plan();
    void run(const Plan& plan, const QString& confirmation);
    // From the caller's thread; the operation stops between steps and interrupts what is in flight.
    void cancel();
    bool isRunning() const;

signals:
    void planned(const opsdeck::Plan& plan);
    void planFailed(const QString& error);
    void refused(opsdeck::OperationRunner::Refusal why, const QString& message);
    void progressed(const opsdeck::StepRecord& step, double fraction, qint64 etaSeconds);
    void finished(const opsdeck::RunRecord& record);

private:
    void queue(std::function<void()> job);
    void execute(const Plan& plan, const QString& confirmation);
    void listEndedWindows(Plan* plan) const;
    void endExpiredWindows(const Plan& plan, const Journal& journal, RunContext& context);
    bool endOpenWindows(const Plan& plan, const Journal& journal, RunContext& context);

    std::unique_ptr<Operation> m_operation;
    JournalLocation m_journalLocation;
    mutable QMutex m_mutex;
    RunContext* m_context = nullptr; // while running
    bool m_closing = false; // guarded by m_mutex
    int m_busy = 0; // jobs running on the thread, guarded by m_mutex
    QWaitCondition m_idle;
    WorkerThread m_thread; // declared last, so it ends first: before the members its jobs use
};

} // namespace opsdeck
