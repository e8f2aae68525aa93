#pragma once

#include "core/ProcessIdentity.h"
#include "deploy/DeploySetup.h"
#include "deploy/MachineStatus.h"
#include "runbook/Operation.h"

#include <optional>

namespace opsdeck {

// packit-update-deploy.md steps 3 and 6: run the deploy command for a ref on one machine ("deploy"), or on
// several in turn ("deploy-all": the branch to every machine, staging first), and check after each that the
// machine reports the ref's commit. The plan resolves the ref once; every command names that commit (rev=), so
// what is built is what was confirmed, even if the ref moves meanwhile. The first machine that fails stops the run; the
// record says what each machine runs at the end.
class DeployOperation : public Operation
{
public:
    // The recovery of a deploy whose console died (`opsdeck recover`): the same machines, and the revision that
    // run's plan pinned. It waits until the commands that run started have ended (a machine's activation is not
    // interrupted), then reads each machine: one that reports the revision is only verified, the others are
    // deployed in the same order. So the end is the runbook's: every machine runs the revision.
    struct Resume
    {
        QString runId;
        QString revision;
        QList<ProcessIdentity> processes; // what the run started, as journaled
    };

    DeployOperation(DeploySetup setup, QStringList machines, QString ref, std::optional<Resume> resume = {});

    QString name() const override;
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // Why `ref` cannot be deployed, or empty: ^[A-Za-z0-9._/-]+$, and git's rules against "..", "//" and
    // leading or trailing "/" or "-".
    static QString refError(const QString& ref);
    // Every machine of the inventory in deploy order: staging first, production last, read-only ones left out.
    static QStringList deployOrder(const Inventory& inventory);
    // Why `revision` (the "sha" GitHub gave for the ref) cannot be deployed, or empty: it must be a full commit
    // hash, exactly 40 lowercase hex characters, since it goes into the flake reference as rev=.
    static QString revisionError(const QString& revision);
    // The deploy argv for one machine, pinned to `revision`.
    static QStringList commandFor(const DeploySetup& setup, const QString& machine, const QString& revision);

    static constexpr int kDeployTimeoutMs = 60 * 60 * 1000;

private:
    bool waitForCommands(RunContext& context);
    bool deployOne(const DeployMachine& machine, RunContext& context);
    bool verifyOne(const DeployMachine& machine, RunContext& context);
    QList<MachineStatus> readMachines() const;
    void recordStates(RunContext& context, bool after);

    DeploySetup m_setup;
    QStringList m_machines;
    QString m_ref;
    QString m_revision; // the ref's commit, resolved by the plan (or the resumed run's); checked by revisionError
    std::optional<Resume> m_resume;
};

} // namespace opsdeck
