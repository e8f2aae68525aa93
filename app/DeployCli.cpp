#include "DeployCli.h"

#include "CliSupport.h"
#include "deploy/DeployMatrixReader.h"
#include "deploy/DeployOperation.h"
#include "deploy/DeploySetup.h"
#include "deploy/GithubClient.h"
#include "deploy/MergePullOperation.h"
#include "deploy/StagingCheckOperation.h"
#include "deploy/UpdatePull.h"
#include "deploy/UpdateWorkflowOperation.h"
#include "runbook/UndoWindowEndOperation.h"
#include "secrets/CredentialStore.h"
#include "secrets/TerminalPrompter.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>

namespace opsdeck::cli {

namespace {

// The inventory with the deploy secrets; prints what could not be resolved.
DeploySetup deploySetup(const Inventory& inventory)
{
    auto [setup, warning] = awaitSecrets<DeploySetup>([&](CredentialStore* store, QObject* context, auto done) {
        resolveDeploySetup(store, inventory, context, done);
    });
    if (!warning.isEmpty())
        err() << "opsdeck: " << warning << "\n";
    return setup;
}

// The invocation's inventory with the deploy secrets; prints what is wrong and sets *exitCode when there is no
// inventory.
std::optional<DeploySetup> deploySetup(const Invocation& call, int* exitCode)
{
    const auto inventory = call.inventory();
    if (!inventory) {
        *exitCode = Cli::Usage;
        return std::nullopt;
    }
    return deploySetup(*inventory);
}

// Either --plan (print it) or --confirm (run it); without both, refuse: a destructive call names its target.
int planOrRun(
    const Invocation& call, std::unique_ptr<Operation> operation, const DeploySetup& setup, const QString& what)
{
    int exitCode = Cli::Success;
    if (call.isSet(QStringLiteral("plan"))) {
        planOperation(std::move(operation), setup.inventory, call.isSet(QStringLiteral("json")), &exitCode);
        return exitCode;
    }
    const auto undo = undoChoice(call);
    if (!undo)
        return Cli::Usage;
    if (!call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type " << what << " to confirm (see the plan with --plan)\n";
        return Cli::Refused;
    }
    return runOperation(std::move(operation), setup.inventory, call.value(QStringLiteral("confirm")),
        call.value(QStringLiteral("report")), {}, *undo);
}

// --plan or --confirm (with `confirmHelp`), --json, --report and the undo options.
QList<CliOption> runOptions(const QString& confirmHelp)
{
    return QList { CliOption::flag(QStringLiteral("plan"), QStringLiteral("Print the plan and change nothing.")),
        jsonOption(QStringLiteral("With --plan: print it as JSON.")),
        CliOption::checked(QStringLiteral("confirm"), QStringLiteral("TEXT"), confirmHelp), reportOption() }
    + undoOptions();
}

int runDeployMatrix(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    const QList<MachineStatus> matrix = DeployMatrixReader(*setup).readAll();
    if (call.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const MachineStatus& status : matrix)
            array.append(status.toJson());
        printJson(array);
    } else {
        QList<QStringList> rows;
        for (const MachineStatus& s : matrix)
            rows << QStringList { s.machine, MachineStatus::stateName(s.state),
                MachineStatus::shortRevision(s.revision), s.expectedRevision.left(10),
                s.behindBy < 0 ? QStringLiteral("?") : QString::number(s.behindBy), s.narHash.left(20),
                s.checkedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")), s.error };
        // The Deploy pane's matrix column names.
        printTable({ QStringLiteral("MACHINE"), QStringLiteral("STATE"), QStringLiteral("DEPLOYED"),
                       QStringLiteral("BRANCH HEAD"), QStringLiteral("BEHIND"), QStringLiteral("NARHASH"),
                       QStringLiteral("CHECKED"), QStringLiteral("ERROR") },
            rows);
    }
    // The matrix is a report, not a check: unreachable machines are in it, and the command succeeded.
    return Cli::Success;
}

int runDeployPull(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    GithubClient github(setup->inventory.github, setup->inventory.deploy, setup->githubToken);
    QString error;
    const auto pull = UpdatePull::readOpen(github, &error);
    if (!pull) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    if (call.isSet(QStringLiteral("json"))) {
        printJson(pull->toJson());
        return Cli::Success;
    }
    if (pull->number == 0) {
        out() << "no open pull request from " << setup->inventory.deploy.updateHead << "\n";
        return Cli::Success;
    }
    out() << "#" << pull->number << " " << pull->title << "\n"
          << pull->url << "\nhead " << pull->headSha << ", mergeable " << pull->mergeable
          << ", checks: " << pull->checksSummary() << "\n";
    for (const UpdatePull::Commit& c : pull->commits)
        out() << "  " << c.sha.left(10) << " " << c.message << "\n";
    return Cli::Success;
}

int runDeployUpdate(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    QMap<QString, QString> inputs;
    for (const QString& input : call.values(QStringLiteral("input")))
        inputs.insert(input.section(u'=', 0, 0), input.section(u'=', 1));
    if (const QString problem = UpdateWorkflowOperation::inputsError(inputs); !problem.isEmpty()) {
        err() << "opsdeck: --input: " << problem << "\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    return planOrRun(call, std::make_unique<UpdateWorkflowOperation>(*setup, inputs), *setup,
        QStringLiteral("the repository's name"));
}

int runDeployRun(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const QString ref = call.value(QStringLiteral("ref"));
    if (const QString problem = DeployOperation::refError(ref); !problem.isEmpty()) {
        err() << "opsdeck: --ref: " << problem << "; nothing was run\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    const QString machine = call.value(QStringLiteral("machine"));
    if (!setup->machine(machine)) {
        QStringList names;
        for (const DeployMachine& m : setup->inventory.machines)
            names << m.name;
        err() << "opsdeck: --machine: \"" << machine
              << "\" is not a machine of the inventory (machines: " << names.join(QStringLiteral(", "))
              << "); nothing was run\n";
        return Cli::Usage;
    }
    // Refused before anything is read: the engine checks again, but a wrong name must not depend on GitHub being up.
    if (!call.isSet(QStringLiteral("plan"))) {
        if (setup->machine(machine)->tags.readOnly) {
            err() << "opsdeck: refused: " << machine << " is tagged readOnly in the inventory: deploy is refused\n";
            return Cli::Refused;
        }
        if (call.isSet(QStringLiteral("confirm")) && call.value(QStringLiteral("confirm")) != machine) {
            err() << "opsdeck: refused: the confirmation \"" << call.value(QStringLiteral("confirm"))
                  << "\" does not name the target: type \"" << machine << "\" to deploy to " << machine << "\n";
            return Cli::Refused;
        }
    }
    return planOrRun(call, std::make_unique<DeployOperation>(*setup, QStringList { machine }, ref), *setup,
        QStringLiteral("the machine's name"));
}

int runDeployChecks(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    const QString machine = call.value(QStringLiteral("machine")).isEmpty() ? setup->inventory.deploy.staging
                                                                            : call.value(QStringLiteral("machine"));
    if (!setup->machine(machine)) {
        err() << "opsdeck: --machine: \"" << machine << "\" is not a machine of the inventory\n";
        return Cli::Usage;
    }
    // Checks change nothing: the machine's name confirms them.
    return runOperation(
        std::make_unique<StagingCheckOperation>(*setup, machine, call.value(QStringLiteral("revision"))),
        setup->inventory, machine, call.value(QStringLiteral("report")));
}

int runDeployMerge(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    bool ok = false;
    const int number = call.value(QStringLiteral("pr")).toInt(&ok);
    if (!ok || number <= 0) {
        err() << "opsdeck: --pr: \"" << call.value(QStringLiteral("pr")) << "\" is not a pull request number\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    const MergePullOperation::Evidence evidence { call.value(QStringLiteral("staging-revision")),
        call.values(QStringLiteral("checked")), {} };
    return planOrRun(call,
        std::make_unique<MergePullOperation>(*setup, number, call.value(QStringLiteral("head")), evidence), *setup,
        QStringLiteral("the pull request's number"));
}

int runDeployAll(Invocation& call)
{
    const QString onFailure = call.value(QStringLiteral("on-failure"));
    if (!onFailure.isEmpty() && onFailure != QStringLiteral("stop") && onFailure != QStringLiteral("go-on")) {
        err() << "opsdeck: --on-failure: \"" << onFailure << "\" is not allowed: give stop or go-on\n";
        return Cli::Usage;
    }
    call.noticeLater(); // awaited after planning
    int exitCode = Cli::Success;
    const auto setup = deploySetup(call, &exitCode);
    if (!setup)
        return exitCode;
    if (DeployOperation::deployOrder(setup->inventory).isEmpty()) {
        err() << "opsdeck: no machine to deploy to (none in the inventory, or all readOnly)\n";
        return Cli::Usage;
    }
    const DeployOperation::Selection selection { call.values(QStringLiteral("leave-out")),
        call.values(QStringLiteral("include")), onFailure == QStringLiteral("go-on") };
    return planOrRun(
        call, std::make_unique<DeployOperation>(*setup, selection), *setup, QStringLiteral("the repository's name"));
}

// `opsdeck recover` of a deploy whose console died: the same machines and the revision its plan pinned, from the
// run's plan, re-validated against the inventory.
int resumeDeploy(const RecoverCall& call)
{
    const QStringList machines = call.parameterList(QStringLiteral("machines"));
    const QString ref = call.run.parameters.value(QStringLiteral("ref")).toString();
    QString problem = machines.isEmpty() ? QStringLiteral("it names no machine") : DeployOperation::refError(ref);
    for (const QString& machine : machines) {
        if (problem.isEmpty() && !call.inventory.machine(machine))
            problem = QStringLiteral("machine \"%1\" is not in the inventory any more").arg(machine);
    }
    if (!problem.isEmpty()) {
        err() << "opsdeck: cannot resume run " << call.run.runId << ": " << problem << "; nothing was touched\n";
        return Cli::Failure;
    }
    QMap<QString, QString> revisions;
    const QJsonObject perMachine = call.run.parameters.value(QStringLiteral("revisions")).toObject();
    for (auto it = perMachine.begin(); it != perMachine.end(); ++it)
        revisions.insert(it.key(), it.value().toString());
    const DeployOperation::Resume resume { call.run.runId,
        call.run.parameters.value(QStringLiteral("revision")).toString(), call.run.processes, revisions,
        call.run.parameters.value(QStringLiteral("restores")).toString(),
        call.run.operation == QStringLiteral("deploy-all"),
        call.run.parameters.value(QStringLiteral("onFailure")).toString() == QStringLiteral("go-on") };
    const DeploySetup setup = deploySetup(call.inventory);
    return runOperation(std::make_unique<DeployOperation>(setup, machines, ref, resume), setup.inventory,
        call.confirmation, call.reportPath, call.run.runId);
}

// `opsdeck restore RUN_ID` of a deploy: each machine it switched goes back to the revision it ran before.
int deployPrevious(const UndoWindowCall& call)
{
    QString error;
    auto previous = DeployOperation::previousFrom(call.window, call.inventory, &error);
    if (!previous) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    const DeploySetup setup = deploySetup(call.inventory);
    return call.planOrRun(std::make_unique<DeployOperation>(setup, std::move(*previous)));
}

// `opsdeck trash purge RUN_ID` of a deploy: its window holds only revisions in the journal, so ending it deletes
// nothing; under the deploy lock, so that it cannot race a restore of it.
int endDeployWindow(const UndoWindowCall& call)
{
    return call.planOrRun(
        std::make_unique<UndoWindowEndOperation>(call.window, DeployOperation::lockName(call.inventory), call.reason));
}

} // namespace

CliModule deployCli()
{
    const QString confirmRepository = QStringLiteral("The repository's name, typed to confirm.");
    return {
        {
            { { QStringLiteral("deploy"), QStringLiteral("matrix") }, {},
                QStringLiteral("the commit each machine runs against the branch"), { jsonOption() }, runDeployMatrix },
            { { QStringLiteral("deploy"), QStringLiteral("pull") }, {}, QStringLiteral("the open update pull request"),
                { jsonOption(QStringLiteral("Print JSON.")) }, runDeployPull },
            { { QStringLiteral("deploy"), QStringLiteral("update") }, {},
                QStringLiteral("run the update workflow, which opens the update pull request"),
                QList { CliOption::repeated(QStringLiteral("input"), QStringLiteral("NAME=VALUE"),
                    QStringLiteral("A workflow input: outpack_server=REF, packit=REF or orderly-runner=TAG.")) }
                    + runOptions(confirmRepository),
                runDeployUpdate },
            { { QStringLiteral("deploy"), QStringLiteral("run") }, {}, QStringLiteral("deploy a ref to one machine"),
                QList { CliOption::required(QStringLiteral("machine"), QStringLiteral("M"),
                            QStringLiteral("The machine to deploy to.")),
                    CliOption::required(QStringLiteral("ref"), QStringLiteral("REF"),
                        QStringLiteral("What to deploy: main, a commit, refs/pull/N/merge.")) }
                    + runOptions(QStringLiteral("The machine's name, typed to confirm.")),
                runDeployRun },
            { { QStringLiteral("deploy"), QStringLiteral("checks") }, {},
                QStringLiteral("the staging checks of a revision, as a journaled run"),
                { CliOption::optional(QStringLiteral("machine"), QStringLiteral("M"),
                      QStringLiteral("The machine to check (default deploy.staging).")),
                    CliOption::required(QStringLiteral("revision"), QStringLiteral("SHA"),
                        QStringLiteral("The commit it must report.")),
                    reportOption() },
                runDeployChecks },
            { { QStringLiteral("deploy"), QStringLiteral("merge") }, {},
                QStringLiteral("merge the update pull request once staging passed its checks"),
                QList { CliOption::required(
                            QStringLiteral("pr"), QStringLiteral("N"), QStringLiteral("The pull request's number.")),
                    CliOption::required(QStringLiteral("head"), QStringLiteral("SHA"),
                        QStringLiteral("The head commit that was checked.")),
                    CliOption::optional(QStringLiteral("staging-revision"), QStringLiteral("SHA"),
                        QStringLiteral("The commit the staging checks passed on (its refs/pull/N/merge).")),
                    CliOption::repeated(QStringLiteral("checked"), QStringLiteral("TEXT"),
                        QStringLiteral("A manual check done on staging.")) }
                    + runOptions(QStringLiteral("The pull request's number, typed to confirm.")),
                runDeployMerge },
            { { QStringLiteral("deploy"), QStringLiteral("all") }, {},
                QStringLiteral("deploy the branch to every machine, staging first and production last"),
                QList { CliOption::repeated(QStringLiteral("leave-out"), QStringLiteral("M"),
                            QStringLiteral("Leave machine M out of this run.")),
                    CliOption::repeated(QStringLiteral("include"), QStringLiteral("M"),
                        QStringLiteral("Deploy machine M even if it is unreachable when the plan reads it (else it is "
                                       "left out).")),
                    CliOption::optional(QStringLiteral("on-failure"), QStringLiteral("stop|go-on"),
                        QStringLiteral("stop (the default): a failed machine stops the run; go-on: the run goes on "
                                       "with the other machines (a failure on the staging machine still stops it).")) }
                    + runOptions(confirmRepository),
                runDeployAll },
        },
        { { QStringLiteral("deploy"), resumeDeploy }, { QStringLiteral("deploy-all"), resumeDeploy },
            { QStringLiteral("deploy-previous"), resumeDeploy } },
        { { QStringLiteral("deploy"), deployPrevious }, { QStringLiteral("deploy-all"), deployPrevious },
            { QStringLiteral("deploy-previous"), deployPrevious } },
        { { QStringLiteral("deploy"), endDeployWindow }, { QStringLiteral("deploy-all"), endDeployWindow },
            { QStringLiteral("deploy-previous"), endDeployWindow } }
    };
}

} // namespace opsdeck::cli
