#include "deploy/DeployOperation.h"

#include "config/CommandTemplates.h"
#include "core/Counted.h"
#include "core/ShellQuote.h"
#include "deploy/DeployCommand.h"
#include "deploy/DeployMatrixReader.h"
#include "deploy/GithubClient.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QThread>

namespace opsdeck {

namespace {

QString stepId(const QString& kind, const QString& machine)
{
    return kind + u':' + machine;
}

// After a switch node_exporter's file is already written; a metrics proxy may lag a moment behind.
constexpr int kVerifyAttempts = 5;
constexpr unsigned long kVerifyPauseMs = 1000;
constexpr unsigned long kCommandPollMs = 500;
const QString kWaitStep = QStringLiteral("wait-commands");

// " Left out: spare (unreachable now: …)." for a deploy-all's summary; empty when none was.
QString leftOutText(const Plan& plan)
{
    QStringList out;
    for (const QJsonValue& machine : plan.details.value(QStringLiteral("machineList")).toArray()) {
        if (!machine[QStringLiteral("deploy")].toBool())
            out << QStringLiteral("%1 (%2)").arg(
                machine[QStringLiteral("machine")].toString(), machine[QStringLiteral("why")].toString());
    }
    return out.isEmpty() ? QString() : QStringLiteral(" Left out: %1.").arg(out.join(QStringLiteral("; ")));
}

QString pidList(const QList<ProcessIdentity>& processes)
{
    QStringList pids;
    for (const ProcessIdentity& process : processes)
        pids << QString::number(process.pid);
    return pids.join(QStringLiteral(", "));
}

QList<ProcessIdentity> stillRunning(const QList<ProcessIdentity>& processes)
{
    QList<ProcessIdentity> running;
    for (const ProcessIdentity& process : processes) {
        if (process.groupIsRunning())
            running << process;
    }
    return running;
}

} // namespace

DeployOperation::DeployOperation(DeploySetup setup, QStringList machines, QString ref, std::optional<Resume> resume)
    : m_setup(std::move(setup))
    , m_machines(std::move(machines))
    , m_ref(std::move(ref))
    , m_resume(std::move(resume))
    , m_goOn(m_resume && m_resume->goOnAfterFailure)
{
}

DeployOperation::DeployOperation(DeploySetup setup, Previous previous)
    : m_setup(std::move(setup))
    , m_previous(std::move(previous))
{
    // Staging first, as every deploy: a revision that no longer builds or starts fails there first.
    for (const QString& machine : deployOrder(m_setup.inventory)) {
        if (m_previous->revisions.contains(machine))
            m_machines << machine;
    }
    m_revisions = m_previous->revisions;
    m_ref = QStringLiteral("previous"); // for people only: each machine's command names its own revision
}

DeployOperation::DeployOperation(DeploySetup setup, Selection selection)
    : m_setup(std::move(setup))
    , m_machines(deployOrder(m_setup.inventory))
    , m_ref(m_setup.inventory.deploy.branch)
    , m_selection(std::move(selection))
    , m_goOn(m_selection->goOnAfterFailure)
{
}

QString DeployOperation::name() const
{
    if (m_previous || (m_resume && !m_resume->restores.isEmpty()))
        return QStringLiteral("deploy-previous");
    if (m_selection || (m_resume && m_resume->all))
        return QStringLiteral("deploy-all");
    return m_machines.size() == 1 ? QStringLiteral("deploy") : QStringLiteral("deploy-all");
}

std::optional<DeployOperation::Previous> DeployOperation::previousFrom(
    const UndoWindow& window, const Inventory& inventory, QString* error)
{
    Previous previous { window.runId, {}, {} };
    const QJsonObject machines = window.restore.value(QStringLiteral("machines")).toObject();
    for (auto it = machines.begin(); it != machines.end(); ++it) {
        const QString revision = it.value()[QStringLiteral("previous")].toString();
        const QString deployed = it.value()[QStringLiteral("deployed")].toString();
        const DeployMachine* machine = inventory.machine(it.key());
        QString problem = !machine   ? QStringLiteral("machine \"%1\" is not in the inventory any more").arg(it.key())
            : machine->tags.readOnly ? QStringLiteral("machine %1 is tagged readOnly in the inventory").arg(it.key())
                                     : revisionError(revision);
        if (problem.isEmpty())
            problem = revisionError(deployed);
        if (!problem.isEmpty()) {
            *error = QStringLiteral("the undo window of run %1 cannot be restored: %2").arg(window.runId, problem);
            return std::nullopt;
        }
        previous.revisions.insert(it.key(), revision);
        previous.deployed.insert(it.key(), deployed);
    }
    if (previous.revisions.isEmpty()) {
        *error = QStringLiteral("the undo window of run %1 names no machine to deploy back").arg(window.runId);
        return std::nullopt;
    }
    return previous;
}

// What the admin types: a machine's name for one, the repository's for several (typing a list is error-prone).
QString DeployOperation::confirmName(const QStringList& machines) const
{
    return machines.size() == 1 ? machines.front() : m_setup.inventory.deploy.repo();
}

QString DeployOperation::refError(const QString& ref)
{
    static const QRegularExpression allowed(QStringLiteral("^[A-Za-z0-9._/-]+\\z"));
    if (ref.isEmpty())
        return QStringLiteral("ref is empty: give a branch (main), a commit or refs/pull/<n>/merge");
    if (!allowed.match(ref).hasMatch())
        return QStringLiteral("ref \"%1\" is not allowed: use only letters, digits and . _ / -").arg(ref);
    if (ref.contains(QStringLiteral("..")) || ref.contains(QStringLiteral("//")) || ref.startsWith(u'/')
        || ref.endsWith(u'/') || ref.startsWith(u'-') || ref.endsWith(QStringLiteral(".lock")))
        return QStringLiteral("ref \"%1\" is not allowed: git refs have no \"..\" or \"//\", and do not start with "
                              "\"/\" or \"-\" or end with \"/\"")
            .arg(ref);
    return {};
}

QStringList DeployOperation::deployOrder(const Inventory& inventory)
{
    QStringList first, middle, last;
    for (const DeployMachine& m : inventory.machines) {
        if (m.tags.readOnly)
            continue;
        if (m.name == inventory.deploy.staging)
            first << m.name;
        else if (m.tags.production)
            last << m.name;
        else
            middle << m.name;
    }
    return first + middle + last;
}

QString DeployOperation::lockName(const Inventory& inventory)
{
    return QStringLiteral("deploy:") + inventory.deploy.repository;
}

QString DeployOperation::revisionError(const QString& revision)
{
    static const QRegularExpression commit(QStringLiteral("^[0-9a-f]{40}\\z"));
    if (commit.match(revision).hasMatch())
        return {};
    return QStringLiteral("revision \"%1\" (the \"sha\" field of GitHub's commit) is not a commit hash of exactly "
                          "40 lowercase hex characters: nothing is deployed; check deploy.repository and "
                          "github.apiUrl in the inventory")
        .arg(revision.left(80));
}

QStringList DeployOperation::commandFor(const DeploySetup& setup, const QString& machine, const QString& revision)
{
    return CommandTemplates::expand(setup.inventory.deploy.command,
        { { QStringLiteral("repository"), { setup.inventory.deploy.repository } },
            { QStringLiteral("rev"), { revision } }, { QStringLiteral("machine"), { machine } } });
}

bool DeployOperation::makePlan(Plan* plan, QString* error)
{
    const Inventory& inventory = m_setup.inventory;
    if (inventory.deploy.repository.isEmpty()) {
        *error = QStringLiteral("the inventory has no deploy section: add deploy.repository");
        return false;
    }
    if (const QString problem = refError(m_ref); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_machines.isEmpty()) {
        *error = QStringLiteral("no machine to deploy to");
        return false;
    }
    if (m_selection) {
        for (const auto& [field, names] : { std::pair(QStringLiteral("leave out"), m_selection->leaveOut),
                 std::pair(QStringLiteral("include"), m_selection->include) }) {
            for (const QString& machine : names) {
                if (!m_machines.contains(machine)) {
                    *error = QStringLiteral("%1: \"%2\" is not one of the machines a deploy-all deploys to (%3)")
                                 .arg(field, machine, m_machines.join(QStringLiteral(", ")));
                    return false;
                }
            }
        }
        for (const QString& machine : std::as_const(m_selection->include)) {
            if (m_selection->leaveOut.contains(machine)) {
                *error = QStringLiteral("include: %1 is also left out; name it in one of the two only").arg(machine);
                return false;
            }
        }
    }
    for (const QString& name : std::as_const(m_machines)) {
        if (!inventory.machine(name)) {
            *error = QStringLiteral("machine \"%1\" is not in the inventory").arg(name);
            return false;
        }
    }
    // A missing program would fail every machine's step; say so before anything is confirmed.
    const QString program = inventory.deploy.command.value(0);
    const QFileInfo programFile(program);
    if (program.contains(u'/') ? !programFile.isExecutable() : QStandardPaths::findExecutable(program).isEmpty()) {
        *error = QStringLiteral("cannot find the deploy command's program %1%2: install it, or set deploy.command in "
                                "the inventory")
                     .arg(program, program.contains(u'/') ? QString() : QStringLiteral(" on PATH"));
        return false;
    }
    QString title;
    if (m_previous) {
        // Each machine's own revision, checked by planPrevious.
    } else if (m_resume) {
        // The revision the killed run confirmed, not what the ref points to now.
        m_revision = m_resume->revision;
        m_revisions = m_resume->revisions;
    } else {
        GithubClient github(inventory.github, inventory.deploy, m_setup.githubToken);
        const auto commit = github.commit(m_ref, error);
        if (!commit) {
            *error = QStringLiteral("cannot resolve %1 in %2: %3").arg(m_ref, inventory.deploy.repository, *error);
            return false;
        }
        m_revision = commit->value(QStringLiteral("sha")).toString();
        title = commit->value(QStringLiteral("commit"))
                    .toObject()
                    .value(QStringLiteral("message"))
                    .toString()
                    .section(u'\n', 0, 0);
    }
    for (const QString& machine : std::as_const(m_machines)) {
        if (const QString problem = revisionError(revisionFor(machine)); !problem.isEmpty()) {
            *error = QStringLiteral("cannot plan %1 in %2: %3").arg(m_ref, inventory.deploy.repository, problem);
            return false;
        }
    }

    // A restore is confirmed, and named, as its window's machines, whichever of them it still deploys.
    const QStringList named = m_previous ? m_machines : QStringList();
    QList<MachineStatus> now = readMachines();
    if (m_previous && !planPrevious(plan, now, error))
        return false;
    if (m_selection && !selectMachines(plan, now, error))
        return false;
    if (m_previous || m_selection)
        now.removeIf([this](const MachineStatus& status) { return !m_machines.contains(status.machine); });

    plan->operation = name();
    plan->target = m_machines.size() == 1
        ? m_machines.front()
        : QStringLiteral("%1 machines (%2)").arg(m_machines.size()).arg(m_machines.join(QStringLiteral(", ")));
    // Typing a list of machines would be error-prone; GitHub's own habit is to type the repository's name.
    // A deploy-all is confirmed with the repository's name whichever machines its plan keeps in.
    plan->targetName = name() == QStringLiteral("deploy-all") ? inventory.deploy.repo()
                                                              : confirmName(m_previous ? named : m_machines);
    plan->verb = m_previous ? QStringLiteral("Deploy back") : QStringLiteral("Deploy");
    plan->lock = lockName(inventory);
    plan->irreversible = false;
    plan->parameters = { { QStringLiteral("machines"), QJsonArray::fromStringList(m_machines) },
        { QStringLiteral("ref"), m_ref }, { QStringLiteral("revision"), m_revision },
        { QStringLiteral("repository"), inventory.deploy.repository } };
    if (!m_revisions.isEmpty()) {
        QJsonObject revisions;
        for (const QString& machine : std::as_const(m_machines))
            revisions.insert(machine, revisionFor(machine));
        plan->parameters.insert(QStringLiteral("revisions"), revisions);
    }
    if (const QString restores = m_previous ? m_previous->runId
            : m_resume                      ? m_resume->restores
                                            : QString();
        !restores.isEmpty())
        plan->parameters.insert(QStringLiteral("restores"), restores);
    int unreachable = 0;
    int alreadyThere = 0;
    int production = 0;
    QJsonArray current;
    QStringList lines { m_resume
            ? QStringLiteral("Resumes run %1: %2 (%3, pinned by its plan) where a machine does not "
                             "report it yet; the others are only verified.")
                  .arg(m_resume->runId, m_ref,
                      m_revisions.isEmpty() ? m_revision.left(10) : QStringLiteral("each machine's own"))
            : m_previous ? QStringLiteral("Takes back run %1: each machine goes back to the revision it ran before it.")
                               .arg(m_previous->runId)
                         : QStringLiteral("%1 is %2 \"%3\".").arg(m_ref, m_revision.left(10), title) };
    const QList<ProcessIdentity> running = m_resume ? stillRunning(m_resume->processes) : QList<ProcessIdentity>();
    if (m_resume) {
        plan->steps << Plan::Step { kWaitStep,
            QStringLiteral("Wait until the commands run %1 started have ended").arg(m_resume->runId),
            m_resume->processes.isEmpty() ? QStringLiteral("(it journaled none)")
                                          : QStringLiteral("process groups %1").arg(pidList(m_resume->processes)),
            QStringLiteral("no process of those groups is left") };
        if (!running.isEmpty())
            plan->warnings << QStringLiteral("the killed run's deploy command is still running (process group %1): "
                                             "the recovery waits until it has ended before it reads the machines")
                                  .arg(pidList(running));
    }
    for (const MachineStatus& status : now) {
        const DeployMachine& machine = *inventory.machine(status.machine);
        plan->production = plan->production || machine.tags.production;
        plan->readOnly = plan->readOnly || machine.tags.readOnly;
        production += machine.tags.production ? 1 : 0;
        current.append(status.toJson());
        lines << QStringLiteral("%1 runs %2 (%3)%4")
                     .arg(status.machine,
                         status.revision.isEmpty() ? QStringLiteral("?")
                                                   : MachineStatus::shortRevision(status.revision),
                         MachineStatus::stateName(status.state),
                         status.error.isEmpty() ? QString() : QStringLiteral(": ") + status.error);
        if (status.dirty)
            plan->warnings << QStringLiteral("%1 runs %2, a build of a worktree with uncommitted changes: the deploy "
                                             "replaces it, and those changes are in no commit, so neither this run nor "
                                             "its undo can bring them back; commit them to a branch first if they "
                                             "matter")
                                  .arg(status.machine, MachineStatus::shortRevision(status.revision));
        if (status.state == DeployState::Unreachable) {
            ++unreachable;
            plan->warnings << QStringLiteral("%1 is unreachable now (%2), and included: its deploy will fail, and %3")
                                  .arg(status.machine, status.error,
                                      stopsAfterFailure(status.machine)
                                          ? QStringLiteral("stop the run")
                                          : QStringLiteral("the run goes on with the rest"));
        }
        const QString revision = revisionFor(status.machine);
        if (status.revision == revision) {
            ++alreadyThere;
            plan->warnings << (m_resume ? QStringLiteral("%1 already runs %2: it is only verified")
                                        : QStringLiteral("%1 already runs %2: deploying it again only re-activates it"))
                                  .arg(status.machine, revision.left(10));
        }
        const QStringList argv = commandFor(m_setup, status.machine, revision);
        plan->steps << Plan::Step { stepId(QStringLiteral("deploy"), status.machine),
            (m_resume ? QStringLiteral("Unless it already runs it, build and switch %1 to %2 (%3)")
                      : QStringLiteral("Build and switch %1 to %2 (%3)"))
                .arg(status.machine, m_ref, revision.left(10)),
            ShellQuote::join(argv), QStringLiteral("exit status 0") };
        plan->steps << Plan::Step { stepId(QStringLiteral("verify"), status.machine),
            QStringLiteral("Check that %1 reports %2").arg(status.machine, revision.left(10)),
            machine.metrics == MetricsSource::Ssh
                ? QStringLiteral("cat %1/configuration-info.prom on %2")
                      .arg(inventory.host(machine.host) ? inventory.host(machine.host)->metricsDir : QString(),
                          machine.host)
                : machine.metricsProxy + QStringLiteral("/targets/node_exporter"),
            QStringLiteral("nixos_configuration_info has revision=\"%1\"").arg(revision) };
    }
    if (m_ref.startsWith(QStringLiteral("refs/pull/"))) {
        plan->warnings << QStringLiteral("%1 is a pull request's test merge: once the pull request is merged, deploy "
                                         "%2 again, because the merged commit has a different hash")
                              .arg(m_ref, inventory.deploy.branch);
        for (const QString& name : std::as_const(m_machines)) {
            if (name != inventory.deploy.staging)
                plan->warnings << QStringLiteral("%1 is not the staging machine (%2): the runbook deploys pull "
                                                 "requests to staging only")
                                      .arg(name,
                                          inventory.deploy.staging.isEmpty() ? QStringLiteral("none set")
                                                                             : inventory.deploy.staging);
        }
    }
    if (production > 0)
        plan->warnings << QStringLiteral("switching restarts the services whose configuration changed: Packit on "
                                         "production machines is briefly unavailable");
    plan->counts = { { QStringLiteral("machines"), QStringLiteral("Machines"), m_machines.size(),
                         QStringLiteral("The machines this run deploys to, in order.") },
        { QStringLiteral("productionMachines"), QStringLiteral("Production machines"), production,
            QStringLiteral("Of those, the ones tagged production in the inventory.") },
        { QStringLiteral("unreachable"), QStringLiteral("Unreachable now"), unreachable,
            QStringLiteral("Machines whose running revision could not be read when planning.") },
        { QStringLiteral("alreadyDeployed"), QStringLiteral("Already running it"), alreadyThere,
            QStringLiteral("Machines that already run the revision to deploy.") } };
    // The snapshots hold the revision each machine runs, by its name.
    for (const QString& machine : std::as_const(m_machines))
        plan->measures << Plan::Measure { machine, QStringLiteral("%1: revision").arg(machine),
            QStringLiteral("The packit-infra commit the machine reports running.") };
    if (name() == QStringLiteral("deploy-all")) {
        plan->parameters.insert(QStringLiteral("onFailure"), m_goOn ? QStringLiteral("go-on") : QStringLiteral("stop"));
        lines << (m_goOn ? QStringLiteral("On a failure: the run goes on with the other machines (except after a "
                                          "failure on the staging machine %1, which stops it).")
                               .arg(inventory.deploy.staging)
                         : QStringLiteral("On a failure: the run stops; the machines after it are not started."));
    }
    if (m_selection) {
        plan->counts << Plan::Count { QStringLiteral("leftOut"), QStringLiteral("Left out"),
            m_machineList.size() - m_machines.size(),
            QStringLiteral("Machines of the deploy order this run does not touch (the parameters say why).") };
        plan->details.insert(QStringLiteral("machineList"), m_machineList);
        QJsonObject leftOut;
        for (const QJsonValue& machine : std::as_const(m_machineList)) {
            if (machine[QStringLiteral("deploy")].toBool())
                continue;
            const QString name = machine[QStringLiteral("machine")].toString();
            const QString why = machine[QStringLiteral("why")].toString();
            lines << QStringLiteral("Left out: %1 (%2)").arg(name, why);
            leftOut.insert(name, why);
        }
        plan->parameters.insert(QStringLiteral("leftOut"), leftOut);
        planPendingPull(plan);
    }
    if (m_resume)
        plan->counts << Plan::Count { QStringLiteral("commandsRunning"),
            QStringLiteral("Commands of the killed run still running"), running.size(),
            QStringLiteral("Deploy commands the stopped run started that have not ended: this run waits for them.") };
    plan->details.insert(QStringLiteral("current"), current);
    plan->detailText = lines.join(u'\n');
    planUndo(plan, now);
    return true;
}

// A deploy-all's machine list: every machine of deployOrder as the plan reads it, in or out, and why. The admin's
// choice first; then what the plan sees: a machine that cannot be read now is left out unless included by name.
bool DeployOperation::selectMachines(Plan* plan, const QList<MachineStatus>& now, QString* error)
{
    QStringList in;
    for (const MachineStatus& status : now) {
        QString why;
        if (m_selection->leaveOut.contains(status.machine))
            why = QStringLiteral("the admin's choice");
        else if (status.state == DeployState::Unreachable && !m_selection->include.contains(status.machine))
            why = QStringLiteral("unreachable now: %1; deploy it once it is back").arg(status.error);
        m_machineList.append(QJsonObject { { QStringLiteral("machine"), status.machine },
            { QStringLiteral("state"), MachineStatus::stateName(status.state) },
            { QStringLiteral("revision"), status.revision }, { QStringLiteral("deploy"), why.isEmpty() },
            { QStringLiteral("why"), why } });
        if (why.isEmpty()) {
            in << status.machine;
            continue;
        }
        plan->warnings << QStringLiteral("%1 is left out: %2").arg(status.machine, why);
        if (status.machine == m_setup.inventory.deploy.staging)
            plan->warnings << QStringLiteral("the staging machine %1 is left out: %2 reaches production without "
                                             "being deployed to staging first in this run")
                                  .arg(status.machine, m_ref);
    }
    if (in.isEmpty()) {
        *error = QStringLiteral("nothing to deploy: every machine is left out (%1)")
                     .arg(m_selection->leaveOut.isEmpty() ? QStringLiteral("none can be read now")
                                                          : QStringLiteral("by the admin, or unreachable now"));
        return false;
    }
    m_machines = in;
    return true;
}

// Deploying the branch while its update pull request waits releases the branch without the update: usually the
// admin meant to merge first.
void DeployOperation::planPendingPull(Plan* plan) const
{
    const Inventory& inventory = m_setup.inventory;
    GithubClient github(inventory.github, inventory.deploy, m_setup.githubToken);
    QString problem;
    const auto open = github.openUpdatePull(&problem);
    if (!open)
        plan->warnings << QStringLiteral("cannot check for an open update pull request (%1): if one waits, %2 does "
                                         "not contain it yet")
                              .arg(problem, m_ref);
    else if (!open->isEmpty())
        plan->warnings << QStringLiteral("update pull request #%1 \"%2\" is open, not merged: %3 does not contain it, "
                                         "so this deploy does not release it; merge it first if you meant to")
                              .arg(open->value(QStringLiteral("number")).toInt())
                              .arg(open->value(QStringLiteral("title")).toString(), m_ref);
}

bool DeployOperation::stopsAfterFailure(const QString& machine) const
{
    return !m_goOn || machine == m_setup.inventory.deploy.staging;
}

// Which machines a restore deploys back: those that still run what the run deployed. One deployed since keeps what
// it runs (named in the plan); a previous revision GitHub no longer has (a closed pull request's test merge) fails
// the plan, since nothing could build it.
bool DeployOperation::planPrevious(Plan* plan, const QList<MachineStatus>& now, QString* error)
{
    const Inventory& inventory = m_setup.inventory;
    QStringList kept;
    for (const MachineStatus& status : now) {
        const QString deployed = m_previous->deployed.value(status.machine);
        if (status.revision == deployed)
            continue;
        kept << status.machine;
        const QString why = status.revision.isEmpty()
            ? QStringLiteral("%1 cannot be read now (%2): it is left out; restore again once it can be read")
                  .arg(status.machine, status.error)
            : QStringLiteral("%1 runs %2 now, not %3 that run %4 deployed: it was deployed since, and keeps what it "
                             "runs")
                  .arg(status.machine, MachineStatus::shortRevision(status.revision), deployed.left(10),
                      m_previous->runId);
        plan->warnings << why;
        plan->undo.notRestorable << why;
    }
    m_machines.removeIf([&kept](const QString& machine) { return kept.contains(machine); });
    if (m_machines.isEmpty()) {
        *error = QStringLiteral("nothing to deploy back: %1. Deploy the revision you want with opsdeck deploy run")
                     .arg(plan->warnings.join(QStringLiteral("; ")));
        return false;
    }
    GithubClient github(inventory.github, inventory.deploy, m_setup.githubToken);
    QStringList checked;
    for (const QString& machine : std::as_const(m_machines)) {
        const QString revision = revisionFor(machine);
        if (checked.contains(revision))
            continue;
        checked << revision;
        if (!github.commit(revision, error)) {
            *error = QStringLiteral("%1 ran %2 before run %3, but %4 does not have it any more (%5): nothing can "
                                    "build it. Deploy a ref with opsdeck deploy run instead")
                         .arg(machine, revision.left(10), m_previous->runId, inventory.deploy.repository, *error);
            return false;
        }
    }
    plan->warnings << QStringLiteral("a deploy back does not undo database migrations: if the newer revision "
                                     "migrated a Packit database, check that the older Packit still starts on it");
    return true;
}

// A deploy holds no space: its window is the revision each machine ran, journaled, which a restore deploys back.
// A machine running a dirty worktree build, or one that cannot be read, has no commit to go back to.
void DeployOperation::planUndo(Plan* plan, const QList<MachineStatus>& now) const
{
    const UndoPolicy& policy = m_setup.inventory.deploy.undo;
    Plan::Undo& undo = plan->undo;
    undo.retentionSeconds = policy.retentionSeconds;
    undo.bytesHeld = 0;
    undo.where = QStringLiteral("the journal (the revision each machine ran)");
    if (policy.off()) {
        undo.notRestorable << QStringLiteral("the inventory turns undo windows off for deploys (deploy.undo.retention: "
                                             "off)");
        return;
    }
    for (const MachineStatus& status : now) {
        if (status.revision == revisionFor(status.machine))
            continue;
        if (revisionError(status.revision).isEmpty())
            undo.restorable << QStringLiteral("%1 back to %2").arg(status.machine, status.revision.left(10));
        else
            undo.notRestorable << (status.revision.isEmpty()
                    ? QStringLiteral("%1 cannot be read now, so what it runs is not known").arg(status.machine)
                    : QStringLiteral("%1 runs %2, a build no commit describes").arg(status.machine, status.revision));
    }
    undo.available = !undo.restorable.isEmpty();
    undo.until = QDateTime::currentDateTimeUtc().addSecs(policy.retentionSeconds);
}

// The machines this run switched, and what each ran right before, as the window a restore takes back.
void DeployOperation::keepUndoWindow(const Plan& plan, RunContext& context) const
{
    if (!plan.undo.opens())
        return;
    QJsonObject machines;
    QStringList restorable;
    for (auto it = m_replaced.cbegin(); it != m_replaced.cend(); ++it) {
        const QString deployed = revisionFor(it.key());
        if (revisionError(it.value()).isEmpty() && it.value() != deployed) {
            machines.insert(it.key(),
                QJsonObject { { QStringLiteral("previous"), it.value() }, { QStringLiteral("deployed"), deployed } });
            restorable << QStringLiteral("%1 back to %2").arg(it.key(), it.value().left(10));
        }
    }
    if (machines.isEmpty())
        return;
    UndoWindow window;
    window.where = plan.undo.where;
    window.bytes = 0;
    window.restorable = restorable;
    window.notRestorable = plan.undo.notRestorable;
    window.confirmWith = confirmName(machines.keys());
    window.restore = { { QStringLiteral("machines"), machines } };
    context.openUndoWindow(window);
}

bool DeployOperation::execute(const Plan& plan, RunContext& context)
{
    if (m_resume && !waitForCommands(context)) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Resuming run %1 stopped: %2. Nothing was deployed; recover it again "
                                                  "once its commands have ended.")
                                       .arg(m_resume->runId, context.record().steps.front().error);
        return false;
    }
    recordStates(context, false);
    QStringList done;
    QStringList failed;
    for (qsizetype i = 0; i < m_machines.size(); ++i) {
        const QString& name = m_machines.at(i);
        if (deployOne(*m_setup.inventory.machine(name), context)) {
            done << name;
            continue;
        }
        failed << name;
        if (!context.cancelled() && !stopsAfterFailure(name))
            continue;
        context.skipRemaining();
        keepUndoWindow(plan, context);
        recordStates(context, true);
        const QStringList left = m_machines.mid(i + 1);
        context.record().summary
            = QStringLiteral("Deploying %1 (%2) stopped at %3: %4 done%5%6. %3 runs %7 now; fix the "
                             "cause (see its step), then deploy again.%8")
                  .arg(m_ref, revisionFor(name).left(10), name)
                  .arg(counted(done.size(), QStringLiteral("machine")))
                  .arg(failed.size() > 1 ? QStringLiteral(", failed before it: ")
                              + failed.mid(0, failed.size() - 1).join(QStringLiteral(", "))
                                         : QString(),
                      left.isEmpty() ? QString() : QStringLiteral(", not started: ") + left.join(QStringLiteral(", ")),
                      context.record().after.value(name).toString(QStringLiteral("unknown")), leftOutText(plan));
        return false;
    }
    context.skipRemaining();
    keepUndoWindow(plan, context);
    recordStates(context, true);
    if (!failed.isEmpty()) {
        QStringList states;
        for (const QString& name : std::as_const(failed))
            states << QStringLiteral("%1 runs %2")
                          .arg(name, context.record().after.value(name).toString(QStringLiteral("unknown")));
        context.record().summary
            = QStringLiteral("%1 (%2) is deployed to %3; failed: %4 (the run went on, as chosen). %5: fix the cause "
                             "(see each failed step), then deploy those again.%6")
                  .arg(m_ref, m_revision.left(10),
                      done.isEmpty() ? QStringLiteral("none") : done.join(QStringLiteral(", ")),
                      failed.join(QStringLiteral(", ")), states.join(QStringLiteral("; ")), leftOutText(plan));
        return false;
    }
    const QString resumed = m_resume ? QStringLiteral("Run %1 is resumed: ").arg(m_resume->runId) : QString();
    const QString restores = plan.parameters.value(QStringLiteral("restores")).toString();
    context.record().summary = restores.isEmpty()
        ? QStringLiteral("%1%2 (%3) is deployed to %4; each reports it.%5")
              .arg(resumed, m_ref, m_revision.left(10), m_machines.join(QStringLiteral(", ")), leftOutText(plan))
        : QStringLiteral("%1Run %2 is taken back on %3: each runs the revision it ran before that run again, and "
                         "reports it.")
              .arg(resumed, restores, m_machines.join(QStringLiteral(", ")));
    return true;
}

// A machine's activation must not run twice at once, and what a machine reports while one runs is not its end
// state: the recovery reads the machines only once nothing the killed run started is left.
bool DeployOperation::waitForCommands(RunContext& context)
{
    context.begin(kWaitStep);
    const QDeadlineTimer deadline(kDeployTimeoutMs);
    const QList<ProcessIdentity> found = stillRunning(m_resume->processes);
    QList<ProcessIdentity> running = found;
    if (!found.isEmpty())
        context.output(QStringLiteral("waiting for process group %1\n").arg(pidList(found)));
    while (!running.isEmpty()) {
        if (context.cancelled()) {
            context.cancelStep(QStringLiteral("cancelled while process group %1 still ran").arg(pidList(running)));
            return false;
        }
        if (deadline.hasExpired()) {
            context.fail(QStringLiteral("process group %1 still runs after %2 min: see what it does (ps -g %1), end "
                                        "it (kill -TERM -- -%1) if it hangs")
                             .arg(pidList(running))
                             .arg(kDeployTimeoutMs / 60000));
            return false;
        }
        QThread::msleep(kCommandPollMs);
        running = stillRunning(running);
    }
    if (!found.isEmpty())
        context.succeed(
            QStringLiteral("process group %1 was still running; waited until it ended").arg(pidList(found)));
    else
        context.succeed(m_resume->processes.isEmpty() ? QStringLiteral("the run had started no command")
                                                      : QStringLiteral("none was running any more"));
    return true;
}

bool DeployOperation::deployOne(const DeployMachine& machine, RunContext& context)
{
    context.begin(stepId(QStringLiteral("deploy"), machine.name));
    if (context.cancelled()) {
        context.cancelStep(QStringLiteral("cancelled before it started"));
        return false;
    }
    const QString revision = revisionFor(machine.name);
    // What the machine runs right before its own switch, however long the machines before it took: the revision a
    // restore deploys back.
    const MachineStatus now = DeployMatrixReader(m_setup).readOne(machine.name);
    if (m_resume && now.revision == revision) {
        context.succeed(QStringLiteral("%1 already reports %2: not deployed again").arg(machine.name, revision));
        return verifyOne(machine, context);
    }
    // The command names the planned commit (rev=), so nix builds exactly what was confirmed, whatever the ref
    // points to now.
    const QStringList argv = commandFor(m_setup, machine.name, revision);
    const DeployCommand::Result result
        = DeployCommand::run(argv, m_setup.inventory.deploy.environment, context, kDeployTimeoutMs);
    if (!result.ok) {
        if (result.cancelled)
            context.cancelStep(result.error);
        else
            context.fail(QStringLiteral("%1 on %2: %3").arg(argv.front(), machine.name, result.error));
        return false;
    }
    m_replaced.insert(machine.name, now.revision);
    context.succeed();
    return verifyOne(machine, context);
}

bool DeployOperation::verifyOne(const DeployMachine& machine, RunContext& context)
{
    context.begin(stepId(QStringLiteral("verify"), machine.name));
    const QString revision = revisionFor(machine.name);
    DeployMatrixReader reader(m_setup);
    MachineStatus status;
    for (int attempt = 1; attempt <= kVerifyAttempts && !context.cancelled(); ++attempt) {
        status = reader.readOne(machine.name);
        if (status.revision == revision)
            break;
        QThread::msleep(kVerifyPauseMs);
    }
    if (status.revision != revision && context.cancelled()) {
        context.cancelStep(
            QStringLiteral("cancelled while checking: the deploy command had finished; %1 reports %2")
                .arg(machine.name, status.revision.isEmpty() ? QStringLiteral("nothing") : status.revision));
        return false;
    }
    if (status.revision != revision) {
        context.fail(QStringLiteral("%1 reports %2, not %3, although the deploy command succeeded%4; read its journal "
                                    "(nixos-rebuild / switch-to-configuration) before deploying again")
                         .arg(machine.name, status.revision.isEmpty() ? QStringLiteral("nothing") : status.revision,
                             revision, status.error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(status.error)));
        return false;
    }
    context.succeed(QStringLiteral("%1 reports revision %2, narHash %3 (%4)")
                        .arg(machine.name, status.revision, status.narHash, MachineStatus::stateName(status.state)));
    return true;
}

// What the machines of this run report now, read in parallel.
QList<MachineStatus> DeployOperation::readMachines() const
{
    DeploySetup subset = m_setup;
    subset.inventory.machines.clear();
    for (const QString& name : std::as_const(m_machines))
        subset.inventory.machines << *m_setup.inventory.machine(name);
    return DeployMatrixReader(subset).readAll();
}

// The revision each machine runs, in the record's before/after, so that the report shows what changed.
void DeployOperation::recordStates(RunContext& context, bool after)
{
    QJsonObject& into = after ? context.record().after : context.record().before;
    for (const MachineStatus& status : readMachines())
        into.insert(status.machine,
            status.revision.isEmpty() ? QStringLiteral("unknown (%1)").arg(status.error) : status.revision);
}

} // namespace opsdeck
