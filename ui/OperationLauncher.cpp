#include "OperationLauncher.h"

#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "PlanningBanner.h"
#include "RunsDock.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunRecord.h"

#include <QBoxLayout>

namespace opsdeck {

OperationLauncher::OperationLauncher(
    RunsDock* runs, JournalLocation journalLocation, ErrorBanner* errors, QWidget* pane)
    : QObject(pane)
    , m_runs(runs)
    , m_journalLocation(std::move(journalLocation))
    , m_errors(errors)
    , m_pane(pane)
{
}

// Right under the pane's error banner, where the outcome of the plan shows if it fails. Placed at the first launch:
// the pane lays out its banner after making its launcher.
PlanningBanner* OperationLauncher::planningBanner()
{
    if (!m_planning) {
        m_planning = new PlanningBanner(m_errors->parentWidget());
        auto* box = qobject_cast<QBoxLayout*>(m_errors->parentWidget()->layout());
        if (box && box->indexOf(m_errors) >= 0)
            box->insertWidget(box->indexOf(m_errors) + 1, m_planning);
    }
    return m_planning;
}

void OperationLauncher::launch(std::unique_ptr<Operation> operation, Launch launch)
{
    // One plan at a time per pane: the banner shows the one under way, and a second click must not start another.
    if (planning())
        return;
    planningBanner()->start(launch.action, launch.target);
    // Until confirmed, the runner belongs to the pane: a pane that goes away takes an unanswered plan with it.
    auto* runner = new OperationRunner(std::move(operation), m_journalLocation, m_pane);
    connect(runner, &OperationRunner::planFailed, m_pane, [this, runner, launch](const QString& error) {
        runner->deleteLater();
        m_planning->stop();
        if (launch.answered)
            launch.answered();
        m_errors->showProblem({ launch.target, tr("Planning %1").arg(launch.action), error,
            tr("Nothing was changed. Fix the cause, then start it again.") });
        if (launch.failed)
            launch.failed(error);
    });
    connect(runner, &OperationRunner::planned, m_pane, [this, runner, launch](const Plan& plan) {
        m_planning->stop();
        if (launch.answered)
            launch.answered();
        m_errors->clear();
        if (const QString nothing = launch.nothingToDo ? launch.nothingToDo(plan) : QString(); !nothing.isEmpty()) {
            runner->deleteLater();
            ConfirmDialog::inform(m_pane, tr("Nothing to do"), nothing, {});
            return;
        }
        ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
        launch.wording(plan, &request.title, &request.text);
        Plan::Undo undoChoice = plan.undo;
        if (!ConfirmDialog::ask(m_pane, request, &undoChoice)) {
            runner->deleteLater();
            return;
        }
        Plan confirmed = plan;
        // Keep the undo window, or not and why: the engine refuses it off without a reason, and journals the choice.
        confirmed.undo.enabled = undoChoice.enabled;
        confirmed.undo.offReason = undoChoice.offReason;
        if (!launch.recovers.isEmpty())
            confirmed.parameters.insert(QStringLiteral("recovers"), launch.recovers);
        if (launch.confirmed)
            launch.confirmed(runner, confirmed);
        // The dialog confirmed by the typed name or the verb button; the engine checks the name either way.
        m_runs->start(runner, confirmed, confirmed.targetName);
    });
    runner->plan();
}

bool OperationLauncher::planning() const
{
    return m_planning && !m_planning->isHidden();
}

void OperationLauncher::recover(
    const Journal::UnfinishedRun& run, std::unique_ptr<Operation> recovery, const QString& error, Launch launch)
{
    launch.target = run.target;
    launch.action = tr("the recovery of run %1").arg(run.runId);
    if (!recovery) {
        m_errors->showProblem({ run.target, tr("Preparing the recovery of run %1 (%2)").arg(run.runId, run.operation),
            error, tr("Nothing was touched. Fix the cause, then choose Recover… in the Runs dock again.") });
        if (launch.failed)
            launch.failed(error);
        return;
    }
    launch.recovers = run.runId;
    launch.wording = [run](const Plan&, QString* title, QString* text) {
        *title = tr("Recover the run “%1”?").arg(RunRecord::runName(run.operation, run.target));
        *text = tr("Run %1 started %2 and stopped%3 with no outcome: its console is gone, and %4 may be half-way. The "
                   "recovery reads the target's state first, then brings it to a safe end state with the steps below. "
                   "Once it succeeds, the journal records run %1 as recovered.")
                    .arg(run.runId, run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                        run.lastStep.isEmpty() ? QString() : tr(" during %1").arg(run.lastStep), run.target);
    };
    this->launch(std::move(recovery), std::move(launch));
}

} // namespace opsdeck
