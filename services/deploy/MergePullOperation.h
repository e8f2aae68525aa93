#pragma once

#include "deploy/DeploySetup.h"
#include "runbook/Operation.h"

namespace opsdeck {

// packit-update-deploy.md step 5: merge the update pull request, exactly the head the admin checked (GitHub
// refuses with 409 if it moved). The plan records what was verified on staging and which manual checks the
// admin ticked, so the journal says on what grounds the merge happened.
class MergePullOperation : public Operation
{
public:
    struct Evidence
    {
        QString stagingRevision; // the commit the automatic staging checks passed on; empty if none
        QStringList manualChecks; // the checks the admin ticked
        QStringList manualChecksOpen; // the ones not ticked
    };

    MergePullOperation(DeploySetup setup, int number, QString expectedHead, Evidence evidence);

    QString name() const override { return QStringLiteral("deploy-merge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    DeploySetup m_setup;
    int m_number;
    QString m_expectedHead;
    Evidence m_evidence;
    QString m_testMerge; // refs/pull/<n>/merge's commit at plan time
};

} // namespace opsdeck
