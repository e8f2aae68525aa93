#pragma once

#include "deploy/DeploySetup.h"
#include "runbook/Operation.h"

namespace opsdeck {

// packit-update-deploy.md step 4, the part a machine can do: on the staging machine, the landing page lists
// every instance, each instance's API answers /packetGroups, and the metrics show the expected revision. The
// admin's own checks (log in, run a packet) are recorded by the merge that follows. Changes nothing.
class StagingCheckOperation : public Operation
{
public:
    StagingCheckOperation(DeploySetup setup, QString machine, QString expectedRevision);

    QString name() const override { return QStringLiteral("deploy-checks"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    bool checkLanding(RunContext& context);
    bool checkApis(RunContext& context);
    bool checkRevision(RunContext& context);

    DeploySetup m_setup;
    QString m_machine;
    QString m_expected;
    QStringList m_instances; // from the metrics proxy's targets, read by the plan
};

} // namespace opsdeck
