#pragma once

#include "runbook/Journal.h"
#include "runbook/Plan.h"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>

class QWidget;

namespace opsdeck {

class ErrorBanner;
class PlanningBanner;
class Operation;
class OperationRunner;
class RunsDock;

// The one way a pane runs an operation: plan it on the runner's thread (the GUI never waits), ask with
// ConfirmDialog::fromPlan, and start the confirmed plan in the Runs dock. A plan that fails is shown in the pane's
// ErrorBanner with the target and the step; a plan that succeeds clears it. The engine checks the confirmation
// again when it runs, whatever the dialog said.
class OperationLauncher : public QObject
{
    Q_OBJECT
public:
    struct Launch
    {
        QString target; // for a failed plan's message: "wpia-packit/training"
        QString action; // what is planned, for the same: "the wipe"
        // The dialog's title and text, from the plan (its counts, steps and warnings come from the plan itself).
        std::function<void(const Plan& plan, QString* title, QString* text)> wording;
        // Optional: why the plan has nothing to do (no soft-deleted stack left), or empty. Then the admin is told so
        // instead of being asked to confirm a list of zeros.
        std::function<QString(const Plan& plan)> nothingToDo;
        // Optional: the plan was answered (planned or failed), before the dialog shows.
        std::function<void()> answered;
        // Optional: the plan failed (already shown in the banner).
        std::function<void(const QString& error)> failed;
        // Optional: confirmed, just before the Runs dock takes the runner and starts it (connect to its signals here).
        // The plan carries the admin's undo choice (undo.enabled, undo.offReason).
        std::function<void(OperationRunner* runner, const Plan& plan)> confirmed;
        // Optional: the run this one recovers, journaled as the plan's `recovers` (as `opsdeck recover` does), so
        // that the journal closes that run once this one succeeds and the Runs dock marks its row.
        QString recovers;
    };

    // `pane` is the dialogs' parent; `errors` the pane's banner.
    OperationLauncher(RunsDock* runs, JournalLocation journalLocation, ErrorBanner* errors, QWidget* pane);

    // Plans `operation` (a banner under the pane's error banner says so meanwhile), asks, and hands a confirmed run to
    // the Runs dock. Ignored while another plan of this launcher is under way.
    void launch(std::unique_ptr<Operation> operation, Launch launch);
    bool planning() const;
    // The recovery of an unfinished run as its system answered it (RecoveryDone): without one, `error` goes to the
    // banner; else it is launched, worded as the recovery of `run` and journaled as recovering it. `launch` may
    // carry the pane's own callbacks.
    void recover(const Journal::UnfinishedRun& run,
        std::unique_ptr<Operation> recovery,
        const QString& error,
        Launch launch = {});

private:
    RunsDock* m_runs;
    JournalLocation m_journalLocation;
    ErrorBanner* m_errors;
    QWidget* m_pane;
    PlanningBanner* m_planning = nullptr;

    PlanningBanner* planningBanner();
};

} // namespace opsdeck
