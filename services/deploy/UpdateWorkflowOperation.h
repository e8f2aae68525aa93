#pragma once

#include "deploy/DeploySetup.h"
#include "runbook/Operation.h"

#include <QDateTime>
#include <QJsonObject>
#include <QMap>

namespace opsdeck {

class GithubClient;

// packit-update-deploy.md step 1: trigger the update workflow (workflow_dispatch) on the branch, wait for its
// run, and find the pull request it opened or updated. The record's "after" holds the pull request.
class UpdateWorkflowOperation : public Operation
{
public:
    // inputs: the workflow's optional inputs (outpack_server, packit, orderly-runner); empty values are left out.
    UpdateWorkflowOperation(DeploySetup setup, QMap<QString, QString> inputs);

    QString name() const override { return QStringLiteral("deploy-update"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    static QStringList inputNames();
    // Why the inputs cannot be sent, or empty.
    static QString inputsError(const QMap<QString, QString>& inputs);

    static constexpr int kRunTimeoutMs = 60 * 60 * 1000;

    // The dispatch request's body, exactly as sent (the plan shows it).
    QJsonObject dispatchBody() const;

private:
    qint64 dispatch(RunContext& context, const QDateTime& sentAt);
    qint64 findRun(GithubClient& github, const QDateTime& sentAt, RunContext& context, QString* error);
    bool waitForRun(qint64 runId, RunContext& context);

    DeploySetup m_setup;
    QMap<QString, QString> m_inputs;
    int m_openBefore = 0; // the open update pull request at plan time, 0 if none
};

} // namespace opsdeck
