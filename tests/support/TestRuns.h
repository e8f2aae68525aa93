#pragma once

#include "runbook/Operation.h"
#include "runbook/OperationRunner.h"
#include "runbook/Plan.h"
#include "runbook/RunContext.h"
#include "runbook/RunRecord.h"

#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace opsdeck::test {

// An operation for tests of the runbook engine: a plan of `steps` on a target, each step done by `act`. Between
// steps the run stops once cancelled, as every operation checks. act(step, context) begins the step and ends it
// (succeed, fail, cancelStep; recovery steps too) and returns false to stop the run there; without one, each step
// begins and succeeds.
class StepsOperation : public Operation
{
public:
    struct Step
    {
        QString id;
        QString title;
        QString command;
    };
    using Act = std::function<bool(const QString& step, RunContext& context)>;

    StepsOperation(QString name, QString target, QString targetName, QList<Step> steps, Act act = {});

    // The plan beyond its target and steps (production, counts, parameters, ...).
    StepsOperation& shapePlan(std::function<void(Plan*)> shape);

    QString name() const override { return m_name; }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    QString m_name;
    QString m_target;
    QString m_targetName;
    QList<Step> m_steps;
    Act m_act;
    std::function<void(Plan*)> m_shape;
};

// What planning and running an operation through its OperationRunner gave.
struct DrivenRun
{
    std::optional<Plan> plan;
    QString planError;
    std::optional<RunRecord> record;
    std::optional<OperationRunner::Refusal> refusal;
    QString refusalText;
};

// Plans on the runner's thread and, given a `confirmation` (an empty one too), runs the plan with it, `beforeRun` in
// between (the test's change to the world); waits up to `planMs`, then `runMs`, with the event loop turning. The
// signals are taken on this thread: a QSignalSpy records in the emitting (runner's) thread, and its wait() misses a
// plan that came first.
DrivenRun driveRun(OperationRunner& runner,
    const std::optional<QString>& confirmation,
    const std::function<void()>& beforeRun = {},
    int planMs = 5000,
    int runMs = 10000);

} // namespace opsdeck::test
