#include "OperationLauncher.h"

#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "RunsDock.h"
#include "runbook/OperationRunner.h"

namespace opsdeck {

OperationLauncher::OperationLauncher(RunsDock* runs, QString journalPath, ErrorBanner* errors, QWidget* pane)
    : QObject(pane)
    , m_runs(runs)
    , m_journalPath(std::move(journalPath))
    , m_errors(errors)
    , m_pane(pane)
{
}

void OperationLauncher::launch(std::unique_ptr<Operation> operation, Launch launch)
{
    // Until confirmed, the runner belongs to the pane: a pane that goes away takes an unanswered plan with it.
    auto* runner = new OperationRunner(std::move(operation), m_journalPath, m_pane);
    connect(runner, &OperationRunner::planFailed, m_pane, [this, runner, launch](const QString& error) {
        runner->deleteLater();
        if (launch.answered)
            launch.answered();
        m_errors->showProblem({ launch.target, tr("Planning %1").arg(launch.action), error,
            tr("Nothing was changed. Fix the cause, then start it again.") });
        if (launch.failed)
            launch.failed(error);
    });
    connect(runner, &OperationRunner::planned, m_pane, [this, runner, launch](const Plan& plan) {
        if (launch.answered)
            launch.answered();
        m_errors->clear();
        ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
        launch.wording(plan, &request.title, &request.text);
        if (!ConfirmDialog::ask(m_pane, request)) {
            runner->deleteLater();
            return;
        }
        if (launch.confirmed)
            launch.confirmed(runner, plan);
        // The dialog confirmed by the typed name or the verb button; the engine checks the name either way.
        m_runs->start(runner, plan, plan.targetName);
    });
    runner->plan();
}

} // namespace opsdeck
