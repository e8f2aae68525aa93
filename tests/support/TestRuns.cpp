#include "TestRuns.h"

#include <QTest>

namespace opsdeck::test {

StepsOperation::StepsOperation(QString name, QString target, QString targetName, QList<Step> steps, Act act)
    : m_name(std::move(name))
    , m_target(std::move(target))
    , m_targetName(std::move(targetName))
    , m_steps(std::move(steps))
    , m_act(std::move(act))
{
}

StepsOperation& StepsOperation::shapePlan(std::function<void(Plan*)> shape)
{
    m_shape = std::move(shape);
    return *this;
}

bool StepsOperation::makePlan(Plan* plan, QString*)
{
    plan->operation = m_name;
    plan->target = m_target;
    plan->targetName = m_targetName;
    plan->verb = QStringLiteral("Run");
    for (const Step& step : std::as_const(m_steps))
        plan->steps << Plan::Step { step.id, step.title, step.command, {} };
    if (m_shape)
        m_shape(plan);
    return true;
}

bool StepsOperation::execute(const Plan&, RunContext& context)
{
    for (const Step& step : std::as_const(m_steps)) {
        if (context.cancelled())
            return false;
        if (m_act) {
            if (!m_act(step.id, context))
                return false;
            continue;
        }
        context.begin(step.id);
        context.succeed();
    }
    return true;
}

DrivenRun driveRun(OperationRunner& runner,
    const std::optional<QString>& confirmation,
    const std::function<void()>& beforeRun,
    int planMs,
    int runMs)
{
    DrivenRun run;
    QObject context; // the connections go with it
    QObject::connect(&runner, &OperationRunner::planned, &context, [&](const Plan& plan) { run.plan = plan; });
    QObject::connect(
        &runner, &OperationRunner::planFailed, &context, [&](const QString& error) { run.planError = error; });
    QObject::connect(
        &runner, &OperationRunner::refused, &context, [&](OperationRunner::Refusal why, const QString& text) {
            run.refusal = why;
            run.refusalText = text;
        });
    QObject::connect(
        &runner, &OperationRunner::finished, &context, [&](const RunRecord& record) { run.record = record; });
    runner.plan();
    if (!QTest::qWaitFor([&] { return run.plan || !run.planError.isEmpty(); }, planMs)) {
        run.planError = QStringLiteral("no plan within %1 ms").arg(planMs);
        return run;
    }
    if (!run.plan || !confirmation)
        return run;
    if (beforeRun)
        beforeRun();
    runner.run(*run.plan, *confirmation);
    if (!QTest::qWaitFor([&] { return run.record || run.refusal; }, runMs))
        qWarning("the run neither finished nor was refused within %d ms", runMs);
    return run;
}

} // namespace opsdeck::test
