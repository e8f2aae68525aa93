#include "PackitCli.h"

#include "CliSupport.h"
#include "config/NameRules.h"
#include "core/Counted.h"
#include "packit/PackitConnection.h"
#include "packit/PackitQueries.h"
#include "packit/PackitRecovery.h"
#include "packit/PackitRestoreOperation.h"
#include "packit/PackitSecrets.h"
#include "packit/PackitTrashOperation.h"
#include "packit/PackitWipeOperation.h"

#include <QJsonArray>
#include <QLocale>

namespace opsdeck::cli {

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

QList<CliOption> instanceOptions()
{
    return { CliOption::required(QStringLiteral("host"), QStringLiteral("HOST"), QStringLiteral("Inventory host.")),
        CliOption::required(
            QStringLiteral("instance"), QStringLiteral("INSTANCE"), QStringLiteral("Packit instance on that host.")) };
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
    auto inventory = call.inventory();
    if (!inventory)
        return std::nullopt;
    auto target = packitTarget(
        *inventory, call.value(QStringLiteral("host")), call.value(QStringLiteral("instance")), exitCode);
    if (!target)
        return std::nullopt;
    return InstanceCall { std::move(*inventory), std::move(*target) };
}

int runPackitInstances(Invocation& call)
{
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
            // As the Packit pane's "outpack root" says it; --json keeps the count and the bytes.
            object.contains(QStringLiteral("rootBytes"))
                ? QStringLiteral("%1, %2")
                      .arg(counted(object.value(QStringLiteral("rootFiles")).toInteger(), QStringLiteral("file")))
                      .arg(QLocale().formattedDataSize(object.value(QStringLiteral("rootBytes")).toInteger()))
                : QStringLiteral("?"),
            object.value(QStringLiteral("error")).toString() };
    }
    // The Packit pane's column names.
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("INSTANCE"), QStringLiteral("OUTPACK"), QStringLiteral("PACKIT-API"),
                       QStringLiteral("PACKETS"), QStringLiteral("GROUPS"), QStringLiteral("OUTPACK ROOT"),
                       QStringLiteral("ERROR") },
            rows);
    return Cli::Success;
}

int runPackitPackets(Invocation& call)
{
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

int runPlanWipe(Invocation& call)
{
    call.noticeLater(); // awaited after planning
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

int runRunWipe(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const auto undo = undoChoice(call);
    if (!undo)
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
        call.value(QStringLiteral("report")), {}, *undo);
}

// The instance a Packit undo window was kept on, with its secrets.
std::optional<PackitTarget> windowTarget(const UndoWindowCall& call, int* exitCode)
{
    const QJsonObject& restore = call.window.restore;
    return packitTarget(call.inventory, restore.value(QStringLiteral("host")).toString(),
        restore.value(QStringLiteral("instance")).toString(), exitCode);
}

// `opsdeck restore RUN_ID` of a wipe, or of a restore that set rows aside: the kept root and rows go back.
int restorePackit(const UndoWindowCall& call)
{
    int exitCode = Cli::Success;
    auto target = windowTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    auto operation = PackitRestoreOperation::fromWindow(std::move(*target), call.window, &error);
    if (!operation) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    return call.planOrRun(std::move(operation));
}

// `opsdeck trash purge RUN_ID` of a wipe or a restore: deletes the kept root and its bundle, and ends the window.
int purgePackitWindow(const UndoWindowCall& call)
{
    int exitCode = Cli::Success;
    auto target = windowTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    auto operation = PackitTrashOperation::fromWindow(std::move(*target), call.window, call.reason, &error);
    if (!operation) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    return call.planOrRun(std::move(operation));
}

// The same handler for the windows of every operation PackitRestoreOperation restores.
QMap<QString, std::function<int(const UndoWindowCall&)>> handlers(int (*handler)(const UndoWindowCall&))
{
    QMap<QString, std::function<int(const UndoWindowCall&)>> map;
    for (const QString& operation : PackitRestoreOperation::restoredOperations())
        map.insert(operation, handler);
    return map;
}

} // namespace

CliModule packitCli()
{
    return {
        {
            { { QStringLiteral("packit"), QStringLiteral("instances") }, {},
                QStringLiteral("instances, unit states and counts"),
                { CliOption::required(
                      QStringLiteral("host"), QStringLiteral("HOST"), QStringLiteral("Inventory host.")),
                    jsonOption() },
                runPackitInstances },
            { { QStringLiteral("packit"), QStringLiteral("packets") }, {}, QStringLiteral("an instance's packets"),
                instanceOptions() + QList { jsonOption(QStringLiteral("Print a JSON array, one object per packet.")) },
                runPackitPackets },
            { { QStringLiteral("plan"), QStringLiteral("packit-wipe") }, {}, planSummary(QStringLiteral("packit-wipe")),
                instanceOptions() + QList { jsonOption(QStringLiteral("Print the plan as JSON.")) }, runPlanWipe },
            { { QStringLiteral("run"), QStringLiteral("packit-wipe") }, {},
                QStringLiteral("wipe an instance: its packets, groups and outpack root (the runbook's wipe)"),
                instanceOptions()
                    + QList { CliOption::checked(QStringLiteral("confirm"), QStringLiteral("INSTANCE"),
                                  QStringLiteral("The instance name, typed to confirm.")),
                        reportOption() }
                    + undoOptions(),
                runRunWipe },
        },
        recoverers(packitRecoveredOperations(), resolvePackitRecovery), handlers(restorePackit),
        handlers(purgePackitWindow)
    };
}

} // namespace opsdeck::cli
