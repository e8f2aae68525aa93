#pragma once

#include "core/ProcessIdentity.h"
#include "deploy/DeploySetup.h"
#include "deploy/MachineStatus.h"
#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

#include <QJsonArray>
#include <QMap>

#include <optional>

namespace opsdeck {

// packit-update-deploy.md steps 3 and 6: run the deploy command for a ref on one machine ("deploy"), or on
// several in turn ("deploy-all": the branch to every machine, staging first), and check after each that the
// machine reports the ref's commit. The plan resolves the ref once; every command names that commit (rev=), so
// what is built is what was confirmed, even if the ref moves meanwhile. The record says what each machine runs at the
// end.
//
// A deploy-all's machine list is part of its plan: every machine with its state, in or left out and why. A machine
// unreachable when the plan reads it is left out unless the admin includes it, so that one machine that is down
// cannot keep the others (production last) from ever being deployed. A failure stops the run, or, if the admin chose
// so, the run goes on with the rest; a failure on the staging machine always stops it, since staging is where a
// revision that does not build or start must stop before production.
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
        QMap<QString, QString> revisions = {}; // a deploy-previous's: machine -> its revision (else `revision`)
        QString restores = {}; // a deploy-previous's: the run whose window it takes back
        bool all = false; // the killed run was a deploy-all
        bool goOnAfterFailure = false; // its admin's choice
    };
    // A deploy-all's choices (machine names of deployOrder).
    struct Selection
    {
        QStringList leaveOut; // the admin leaves these out
        QStringList include; // deployed even if unreachable when the plan reads them
        bool goOnAfterFailure = false; // a failure ends that machine's part only (never the staging machine's)
    };
    // "Deploy the previous revision" (`opsdeck restore RUN_ID` of a deploy): each machine that run switched goes
    // back to the revision it ran before, in deploy order (staging first). A machine that was deployed again since
    // is left as it is and named: the restore never replaces a deploy it was not asked about.
    struct Previous
    {
        QString runId; // the deploy whose undo window this takes back
        QMap<QString, QString> revisions; // machine -> the revision it ran before that deploy
        QMap<QString, QString> deployed; // machine -> the revision that deploy left it running
    };

    DeployOperation(DeploySetup setup, QStringList machines, QString ref, std::optional<Resume> resume = {});
    DeployOperation(DeploySetup setup, Previous previous);
    // deploy-all: the branch to every machine of deployOrder the selection and the plan keep in.
    DeployOperation(DeploySetup setup, Selection selection);
    // The Previous a deploy's undo window describes, checked against the inventory (machines it still has, full
    // commit hashes); nullopt with *error naming what is wrong.
    static std::optional<Previous> previousFrom(const UndoWindow& window, const Inventory& inventory, QString* error);

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

    // The journal lock every deploy of the inventory's repository holds (and whatever else changes what its machines
    // run, or could run back): two runs must never switch one machine at once.
    static QString lockName(const Inventory& inventory);

    static constexpr int kDeployTimeoutMs = 60 * 60 * 1000;

private:
    bool waitForCommands(RunContext& context);
    bool deployOne(const DeployMachine& machine, RunContext& context);
    bool verifyOne(const DeployMachine& machine, RunContext& context);
    QList<MachineStatus> readMachines() const;
    void recordStates(RunContext& context, bool after);
    bool planPrevious(Plan* plan, const QList<MachineStatus>& now, QString* error);
    bool selectMachines(Plan* plan, const QList<MachineStatus>& now, QString* error);
    void planPendingPull(Plan* plan) const;
    bool stopsAfterFailure(const QString& machine) const;
    void planUndo(Plan* plan, const QList<MachineStatus>& now) const;
    void keepUndoWindow(const Plan& plan, RunContext& context) const;
    QString revisionFor(const QString& machine) const { return m_revisions.value(machine, m_revision); }
    QString confirmName(const QStringList& machines) const;

    DeploySetup m_setup;
    QStringList m_machines;
    QString m_ref;
    QString m_revision; // the ref's commit, resolved by the plan (or the resumed run's); checked by revisionError
    QMap<QString, QString> m_revisions; // per machine, where they differ (deploy-previous); else m_revision
    std::optional<Resume> m_resume;
    std::optional<Previous> m_previous;
    std::optional<Selection> m_selection; // a deploy-all's, as the admin gave it
    bool m_goOn = false; // a deploy-all whose admin chose to go on after a failure
    QJsonArray m_machineList; // a deploy-all's plan: every machine, in or out, and why
    QMap<QString, QString> m_replaced; // machine -> what it ran right before this run switched it
};

} // namespace opsdeck
