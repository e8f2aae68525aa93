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

void addRunOptions(Invocation& call, const QString& confirmHelp)
{
    call.addFlag(QStringLiteral("plan"), QStringLiteral("Print the plan and change nothing."));
    call.addFlag(QStringLiteral("json"), QStringLiteral("With --plan: print it as JSON."));
    call.addValue(QStringLiteral("confirm"), confirmHelp, QStringLiteral("TEXT"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    addUndoOptions(call);
}

} // namespace

int runDeployMatrix(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (const auto done = call.parse())
        return *done;
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
        printTable({ QStringLiteral("MACHINE"), QStringLiteral("STATE"), QStringLiteral("REVISION"),
                       QStringLiteral("EXPECTED"), QStringLiteral("BEHIND"), QStringLiteral("NARHASH"),
                       QStringLiteral("CHECKED"), QStringLiteral("ERROR") },
            rows);
    }
    // The matrix is a report, not a check: unreachable machines are in it, and the command succeeded.
    return Cli::Success;
}

int runDeployPull(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print JSON."));
    if (const auto done = call.parse())
        return *done;
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

int runDeployUpdate(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addRunOptions(call, QStringLiteral("The repository's name, typed to confirm."));
    call.addValue(QStringLiteral("input"),
        QStringLiteral("A workflow input: outpack_server=REF, packit=REF or orderly-runner=TAG. Repeatable."),
        QStringLiteral("NAME=VALUE"));
    if (const auto done = call.parse())
        return *done;
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

int runDeployRun(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addRunOptions(call, QStringLiteral("The machine's name, typed to confirm."));
    call.addValue(QStringLiteral("machine"), QStringLiteral("The machine to deploy to."), QStringLiteral("M"));
    call.addValue(QStringLiteral("ref"), QStringLiteral("What to deploy: main, a commit, refs/pull/N/merge."),
        QStringLiteral("REF"));
    if (const auto done = call.parse())
        return *done;
    call.noticeLater(); // awaited after planning
    if (!call.require({ QStringLiteral("machine"), QStringLiteral("ref") }))
        return Cli::Usage;
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

int runDeployChecks(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addValue(QStringLiteral("machine"), QStringLiteral("The machine to check (default deploy.staging)."),
        QStringLiteral("M"));
    call.addValue(QStringLiteral("revision"), QStringLiteral("The commit it must report."), QStringLiteral("SHA"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    if (const auto done = call.parse())
        return *done;
    call.noticeLater(); // awaited after planning
    if (!call.require({ QStringLiteral("revision") }))
        return Cli::Usage;
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

int runDeployMerge(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addRunOptions(call, QStringLiteral("The pull request's number, typed to confirm."));
    call.addValue(QStringLiteral("pr"), QStringLiteral("The pull request's number."), QStringLiteral("N"));
    call.addValue(QStringLiteral("head"), QStringLiteral("The head commit that was checked."), QStringLiteral("SHA"));
    call.addValue(QStringLiteral("staging-revision"),
        QStringLiteral("The commit the staging checks passed on (its refs/pull/N/merge)."), QStringLiteral("SHA"));
    call.addValue(QStringLiteral("checked"), QStringLiteral("A manual check done on staging. Repeatable."),
        QStringLiteral("TEXT"));
    if (const auto done = call.parse())
        return *done;
    call.noticeLater(); // awaited after planning
    if (!call.require({ QStringLiteral("pr"), QStringLiteral("head") }))
        return Cli::Usage;
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

int runDeployAll(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addRunOptions(call, QStringLiteral("The repository's name, typed to confirm."));
    call.addValue(QStringLiteral("leave-out"), QStringLiteral("Leave machine M out of this run. Repeat for several."),
        QStringLiteral("M"));
    call.addValue(QStringLiteral("include"),
        QStringLiteral("Deploy machine M even if it is unreachable when the plan reads it (else it is left out). "
                       "Repeat for several."),
        QStringLiteral("M"));
    call.addValue(QStringLiteral("on-failure"),
        QStringLiteral("stop (the default): a failed machine stops the run; go-on: the run goes on with the other "
                       "machines (a failure on the staging machine still stops it)."),
        QStringLiteral("stop|go-on"));
    if (const auto done = call.parse())
        return *done;
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

namespace {

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
    return { {
                 { { QStringLiteral("deploy"), QStringLiteral("matrix") }, runDeployMatrix },
                 { { QStringLiteral("deploy"), QStringLiteral("pull") }, runDeployPull },
                 { { QStringLiteral("deploy"), QStringLiteral("update") }, runDeployUpdate },
                 { { QStringLiteral("deploy"), QStringLiteral("run") }, runDeployRun },
                 { { QStringLiteral("deploy"), QStringLiteral("checks") }, runDeployChecks },
                 { { QStringLiteral("deploy"), QStringLiteral("merge") }, runDeployMerge },
                 { { QStringLiteral("deploy"), QStringLiteral("all") }, runDeployAll },
             },
        QStringLiteral(
            "       opsdeck deploy matrix [--json]                  the commit each machine runs against the branch\n"
            "       opsdeck deploy pull [--json]                    the open update pull request\n"
            "       opsdeck deploy update [--input NAME=VALUE]... [--plan] --confirm REPO [--report FILE]\n"
            "       opsdeck deploy run --machine M --ref REF [--plan] --confirm M [--report FILE]\n"
            "       opsdeck deploy checks [--machine M] --revision SHA [--report FILE]\n"
            "       opsdeck deploy merge --pr N --head SHA [--staging-revision SHA] [--checked TEXT]... [--plan]\n"
            "                            --confirm N [--report FILE]\n"
            "       opsdeck deploy all [--leave-out M]... [--include M]... [--on-failure stop|go-on] [--plan]\n"
            "                          --confirm REPO [--report FILE]\n"),
        { { QStringLiteral("deploy"), resumeDeploy }, { QStringLiteral("deploy-all"), resumeDeploy },
            { QStringLiteral("deploy-previous"), resumeDeploy } },
        { { QStringLiteral("deploy"), deployPrevious }, { QStringLiteral("deploy-all"), deployPrevious },
            { QStringLiteral("deploy-previous"), deployPrevious } },
        { { QStringLiteral("deploy"), endDeployWindow }, { QStringLiteral("deploy-all"), endDeployWindow },
            { QStringLiteral("deploy-previous"), endDeployWindow } } };
}

} // namespace opsdeck::cli
