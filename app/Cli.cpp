#include "Cli.h"

#include "CliSupport.h"
#include "DeployCli.h"
#include "PulumiCli.h"

#include "config/InventoryLoader.h"
#include "config/NameRules.h"
#include "core/Logging.h"
#include "packit/PackitConnection.h"
#include "packit/PackitQueries.h"
#include "packit/PackitSecrets.h"
#include "packit/PackitWipeOperation.h"
#include "runbook/Journal.h"
#include "runbook/ReportWriter.h"
#include "secrets/CredentialStore.h"
#include "secrets/TerminalPrompter.h"
#include "ssh/HostProber.h"
#include "ssh/SshConnectionPool.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTextStream>

#include <functional>

namespace opsdeck {

using namespace cli;

namespace {

// Resolves the instance and its secrets; prints the problem and sets *exitCode when it cannot.
std::optional<PackitTarget> packitTarget(
    const Inventory& inventory, const QString& hostName, const QString& instanceName, int* exitCode)
{
    PackitTarget::Problem problem = PackitTarget::Problem::None;
    QString error;
    auto target = PackitTarget::resolve(inventory, hostName, instanceName, &problem, &error);
    if (!target) {
        err() << "opsdeck: " << error << "\n";
        *exitCode = problem == PackitTarget::Problem::UnsafeRoot ? Cli::Refused : Cli::Usage;
        return std::nullopt;
    }
    auto [resolved, why]
        = awaitSecrets<std::optional<PackitTarget>>([&](CredentialStore* store, QObject* context, auto done) {
              resolvePackitSecrets(store, *target, context, done);
          });
    error = why;
    if (!resolved) {
        err() << "opsdeck: " << error << "\n";
        *exitCode = Cli::Failure;
    }
    return resolved;
}

int runCheck(const QStringList& arguments)
{
    Invocation call(arguments, 1);
    if (const auto done = call.parse())
        return *done;
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    out() << inventory->file << ": ok (" << inventory->hosts.size() << " hosts, " << inventory->databases.size()
          << " databases, " << inventory->clusters.size() << " clusters, " << inventory->datamon.size()
          << " datamon contexts, " << inventory->machines.size() << " machines)\n";
    return Cli::Success;
}

int runHosts(const QStringList& arguments)
{
    Invocation call(arguments, 1);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    call.addValue(QStringLiteral("accept-host-key"),
        QStringLiteral("Trust an unknown host presenting exactly this key, and write it to known_hosts."),
        QStringLiteral("SHA256:..."));
    if (const auto done = call.parse())
        return *done;
    const QString accepted = call.value(QStringLiteral("accept-host-key"));
    static const QRegularExpression fingerprintPattern(QStringLiteral("^SHA256:[A-Za-z0-9+/]{43}$"));
    if (!accepted.isEmpty() && !fingerprintPattern.match(accepted).hasMatch()) {
        err()
            << "opsdeck: --accept-host-key: \"" << accepted
            << "\" is not a SHA-256 fingerprint; expected SHA256: followed by 43 base64 characters, as ssh-keygen -lf "
               "prints it\n";
        return Cli::Usage;
    }
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;

    CredentialStore credentials;
    TerminalPrompter prompter;
    credentials.setPrompter(&prompter);
    SshConnectionPool pool(*inventory, &credentials);
    if (!accepted.isEmpty())
        pool.acceptHostKey(accepted);
    HostProber prober(*inventory, &pool);
    QMap<QString, HostStatus> statuses;
    QObject::connect(&prober, &HostProber::statusChanged,
        [&statuses](const HostStatus& status) { statuses.insert(status.name, status); });
    QEventLoop loop;
    QObject::connect(&prober, &HostProber::finished, &loop, &QEventLoop::quit);
    prober.probeAll();
    if (prober.pending() > 0)
        loop.exec();

    QJsonArray array;
    QList<QStringList> rows;
    for (const Host& host : inventory->hosts) {
        const HostStatus status = statuses.value(host.name);
        array.append(status.toJson());
        rows << QStringList { status.name, QStringLiteral("%1:%2").arg(status.address).arg(status.port),
            status.reachable() ? QStringLiteral("yes") : QStringLiteral("no"),
            status.hostKey.sha256.isEmpty() ? QStringLiteral("-") : status.hostKey.sha256, status.auth,
            status.error.isError() ? status.error.message : QString() };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("NAME"), QStringLiteral("ADDRESS"), QStringLiteral("REACHABLE"),
                       QStringLiteral("HOST KEY"), QStringLiteral("AUTH"), QStringLiteral("ERROR") },
            rows);
    return Cli::Success; // unreachable hosts are reported, not a failure of the command
}

// State and counts of one instance; errors are part of the answer, not a failure of the command.
QJsonObject describeInstance(const PackitTarget& target)
{
    QJsonObject object = PackitConnection(target).instanceState();
    object.insert(QStringLiteral("host"), target.host.name);
    object.insert(QStringLiteral("instance"), target.instance.name);
    object.insert(QStringLiteral("outpackPort"), target.instance.outpackPort);
    object.insert(QStringLiteral("apiPort"), target.instance.apiPort);
    object.insert(QStringLiteral("root"), target.instance.outpackRoot);
    return object;
}

int runPackitInstances(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addValue(QStringLiteral("host"), QStringLiteral("Inventory host."), QStringLiteral("HOST"));
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (const auto done = call.parse())
        return *done;
    if (!call.require({ QStringLiteral("host") }))
        return Cli::Usage;
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    const QString hostName = call.value(QStringLiteral("host"));
    if (const QString bad = NameRules::nameError(QStringLiteral("host"), hostName); !bad.isEmpty()) {
        err() << "opsdeck: " << bad << "\n";
        return Cli::Usage;
    }
    const Host* host = inventory->host(hostName);
    if (!host) {
        err() << "opsdeck: no host \"" << hostName << "\" in the inventory\n";
        return Cli::Usage;
    }
    QJsonArray array;
    QList<QStringList> rows;
    for (const PackitInstance& instance : host->instances) {
        int exitCode = Cli::Success;
        const auto target = packitTarget(*inventory, hostName, instance.name, &exitCode);
        const QJsonObject object = target
            ? describeInstance(*target)
            : QJsonObject { { QStringLiteral("host"), hostName }, { QStringLiteral("instance"), instance.name },
                  { QStringLiteral("error"), QStringLiteral("see above") } };
        array.append(object);
        rows << QStringList { object.value(QStringLiteral("instance")).toString(),
            object.value(QStringLiteral("outpackState")).toString(QStringLiteral("?")),
            object.value(QStringLiteral("apiState")).toString(QStringLiteral("?")),
            QString::number(object.value(QStringLiteral("packets")).toInteger()),
            QString::number(object.value(QStringLiteral("groups")).toInteger()),
            QString::number(object.value(QStringLiteral("rootFiles")).toInteger()),
            QString::number(object.value(QStringLiteral("rootBytes")).toInteger()),
            object.value(QStringLiteral("error")).toString() };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable(
            { QStringLiteral("INSTANCE"), QStringLiteral("OUTPACK"), QStringLiteral("API"), QStringLiteral("PACKETS"),
                QStringLiteral("GROUPS"), QStringLiteral("FILES"), QStringLiteral("BYTES"), QStringLiteral("ERROR") },
            rows);
    return Cli::Success;
}

void addInstanceOptions(Invocation& call)
{
    call.addValue(QStringLiteral("host"), QStringLiteral("Inventory host."), QStringLiteral("HOST"));
    call.addValue(
        QStringLiteral("instance"), QStringLiteral("Packit instance on that host."), QStringLiteral("INSTANCE"));
}

struct InstanceCall
{
    Inventory inventory;
    PackitTarget target;
};

// The --host/--instance commands' common start: the inventory, the instance, its secrets.
std::optional<InstanceCall> instanceCall(const Invocation& call, int* exitCode)
{
    *exitCode = Cli::Usage;
    if (!call.require({ QStringLiteral("host"), QStringLiteral("instance") }))
        return std::nullopt;
    auto inventory = call.inventory();
    if (!inventory)
        return std::nullopt;
    auto target = packitTarget(
        *inventory, call.value(QStringLiteral("host")), call.value(QStringLiteral("instance")), exitCode);
    if (!target)
        return std::nullopt;
    return InstanceCall { std::move(*inventory), std::move(*target) };
}

int runPackitPackets(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addInstanceOptions(call);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array, one object per packet."));
    if (const auto done = call.parse())
        return *done;
    int exitCode = Cli::Success;
    const auto resolved = instanceCall(call, &exitCode);
    if (!resolved)
        return exitCode;
    const auto& [inventory, target] = *resolved;
    PackitConnection connection(target);
    QString error;
    if (!connection.openDatabase(&error)) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QSqlDatabase db = connection.database();
    const auto packets = PackitQueries::packets(db, &error);
    if (!packets) {
        err() << "opsdeck: listing the packets of " << target.id() << " failed: " << error << "\n";
        return Cli::Failure;
    }
    if (call.isSet(QStringLiteral("json"))) {
        printJson(*packets);
        return Cli::Success;
    }
    out() << "ID                        NAME\n";
    for (const QJsonValue& packet : *packets)
        out() << packet[QStringLiteral("id")].toString().leftJustified(26) << packet[QStringLiteral("name")].toString()
              << "\n";
    return Cli::Success;
}

int runPlanWipe(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addInstanceOptions(call);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print the plan as JSON."));
    if (const auto done = call.parse())
        return *done;
    int exitCode = Cli::Success;
    const auto resolved = instanceCall(call, &exitCode);
    if (!resolved)
        return exitCode;
    const auto& [inventory, target] = *resolved;
    exitCode = Cli::Success;
    planOperation(
        std::make_unique<PackitWipeOperation>(target), inventory, call.isSet(QStringLiteral("json")), &exitCode);
    return exitCode;
}

int runRunWipe(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    addInstanceOptions(call);
    call.addValue(
        QStringLiteral("confirm"), QStringLiteral("The instance name, typed to confirm."), QStringLiteral("TEXT"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    if (const auto done = call.parse())
        return *done;
    if (!call.require({ QStringLiteral("host"), QStringLiteral("instance") }))
        return Cli::Usage;
    if (!call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type the instance name to confirm the wipe\n";
        return Cli::Refused;
    }
    int exitCode = Cli::Success;
    const auto resolved = instanceCall(call, &exitCode);
    if (!resolved)
        return exitCode;
    const auto& [inventory, target] = *resolved;
    return runOperation(std::make_unique<PackitWipeOperation>(target), inventory, call.value(QStringLiteral("confirm")),
        call.value(QStringLiteral("report")));
}

int runJournal(const QStringList& arguments, const QString& verb)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (const auto done = call.parse())
        return *done;
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    Journal journal(journalPath(*inventory));
    QString error;
    if (!journal.open(&error)) {
        err() << "opsdeck: cannot open the journal " << journal.path() << ": " << error << "\n";
        return Cli::Failure;
    }
    if (verb == QStringLiteral("verify")) {
        const Journal::Verification check = journal.verify();
        if (check.intact) {
            out() << journal.path() << ": intact (" << check.checked << " entries)\n";
            return Cli::Success;
        }
        err() << journal.path() << ": entry " << check.firstBadSeq << " is bad: " << check.problem << "\n";
        return Cli::Failure;
    }
    const QList<RunRecord> runs = journal.runs({}, &error);
    if (!error.isEmpty()) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QJsonArray array;
    QList<QStringList> rows;
    for (const RunRecord& run : runs) {
        array.append(QJsonObject { { QStringLiteral("id"), run.id }, { QStringLiteral("operation"), run.operation },
            { QStringLiteral("target"), run.target },
            { QStringLiteral("outcome"), RunRecord::outcomeName(run.outcome) }, { QStringLiteral("user"), run.user },
            { QStringLiteral("startedAt"), run.startedAt.toString(Qt::ISODateWithMs) },
            { QStringLiteral("finishedAt"), run.finishedAt.toString(Qt::ISODateWithMs) } });
        rows << QStringList { run.id, run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
            run.operation, run.target, RunRecord::outcomeName(run.outcome), run.user };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("STARTED"), QStringLiteral("OPERATION"),
                       QStringLiteral("TARGET"), QStringLiteral("OUTCOME"), QStringLiteral("USER") },
            rows);
    return Cli::Success;
}

int runReportExport(const QStringList& arguments)
{
    Invocation call(arguments, 3);
    call.addValue(QStringLiteral("format"), QStringLiteral("json, csv, html or pdf."), QStringLiteral("FORMAT"));
    call.addValue(QStringLiteral("o"), QStringLiteral("Output file."), QStringLiteral("FILE"));
    if (const auto done = call.parse())
        return *done;
    if (!call.require({ QStringLiteral("format"), QStringLiteral("o") }))
        return Cli::Usage;
    const auto format = ReportWriter::formatFromName(call.value(QStringLiteral("format")));
    if (!format) {
        err() << "opsdeck: --format \"" << call.value(QStringLiteral("format")) << "\": use json, csv, html or pdf\n";
        return Cli::Usage;
    }
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    Journal journal(journalPath(*inventory));
    QString error;
    if (!journal.open(&error)) {
        err() << "opsdeck: cannot open the journal " << journal.path() << ": " << error << "\n";
        return Cli::Failure;
    }
    const QString runId = call.word(2);
    const auto run = journal.run(runId, &error);
    if (!run) {
        err() << "opsdeck: no run \"" << runId << "\" in " << journal.path()
              << (error.isEmpty() ? QString() : QStringLiteral(": ") + error)
              << "; opsdeck journal list shows the runs\n";
        return Cli::Usage;
    }
    if (!ReportWriter::write(*run, *format, call.value(QStringLiteral("o")), &error)) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    return Cli::Success;
}

struct Command
{
    QStringList words; // the subcommand, e.g. {"plan", "packit-wipe"}
    std::function<int(const QStringList&)> handler;
};

const QList<Command>& commands()
{
    static const QList<Command> table = {
        { { QStringLiteral("check") }, runCheck },
        { { QStringLiteral("hosts") }, runHosts },
        { { QStringLiteral("packit"), QStringLiteral("instances") }, runPackitInstances },
        { { QStringLiteral("packit"), QStringLiteral("packets") }, runPackitPackets },
        { { QStringLiteral("plan"), QStringLiteral("packit-wipe") }, runPlanWipe },
        { { QStringLiteral("run"), QStringLiteral("packit-wipe") }, runRunWipe },
        { { QStringLiteral("journal"), QStringLiteral("list") },
            [](const QStringList& a) { return runJournal(a, QStringLiteral("list")); } },
        { { QStringLiteral("journal"), QStringLiteral("verify") },
            [](const QStringList& a) { return runJournal(a, QStringLiteral("verify")); } },
        { { QStringLiteral("report"), QStringLiteral("export") }, runReportExport },
        { { QStringLiteral("pulumi"), QStringLiteral("orgs") }, runPulumiOrgs },
        { { QStringLiteral("plan"), QStringLiteral("pulumi-purge") }, runPlanPulumiPurge },
        { { QStringLiteral("run"), QStringLiteral("pulumi-purge") }, runRunPulumiPurge },
        { { QStringLiteral("deploy"), QStringLiteral("matrix") }, runDeployMatrix },
        { { QStringLiteral("deploy"), QStringLiteral("pull") }, runDeployPull },
        { { QStringLiteral("deploy"), QStringLiteral("update") }, runDeployUpdate },
        { { QStringLiteral("deploy"), QStringLiteral("run") }, runDeployRun },
        { { QStringLiteral("deploy"), QStringLiteral("checks") }, runDeployChecks },
        { { QStringLiteral("deploy"), QStringLiteral("merge") }, runDeployMerge },
        { { QStringLiteral("deploy"), QStringLiteral("all") }, runDeployAll },
    };
    return table;
}

} // namespace

bool Cli::isSubcommand(const QString& argument)
{
    // Help and version must work without a display, so they never reach the GUI's QApplication.
    static const QStringList headless
        = { QStringLiteral("help"), QStringLiteral("--help"), QStringLiteral("-h"), QStringLiteral("--version") };
    if (headless.contains(argument))
        return true;
    return std::any_of(commands().cbegin(), commands().cend(),
        [&](const Command& command) { return command.words.first() == argument; });
}

int Cli::run(const QStringList& arguments)
{
    const QString first = arguments.value(1);
    int code = Usage;
    if (first == QStringLiteral("--version")) {
        out() << QCoreApplication::applicationName() << " " << QCoreApplication::applicationVersion() << "\n";
        code = Success;
    } else if (first == QStringLiteral("help") || first == QStringLiteral("--help") || first == QStringLiteral("-h")) {
        out() << usageText();
        code = Success;
    } else {
        const auto command = std::find_if(commands().cbegin(), commands().cend(),
            [&](const Command& candidate) { return arguments.mid(1, candidate.words.size()) == candidate.words; });
        if (command != commands().cend())
            code = command->handler(arguments); // the parser skips arguments[0]; the words stay positional
        else
            err() << "opsdeck: unknown subcommand \"" << arguments.mid(1, 2).join(u' ') << "\"\n" << usageText();
    }
    out().flush();
    err().flush();
    return code;
}

} // namespace opsdeck
