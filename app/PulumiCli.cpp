#include "PulumiCli.h"

#include "CliSupport.h"
#include "pulumi/PulumiKillQueryOperation.h"
#include "pulumi/PulumiPurgeOperation.h"
#include "pulumi/PulumiPurgePlan.h"
#include "pulumi/PulumiQueries.h"
#include "pulumi/PulumiRestoreOperation.h"
#include "pulumi/PulumiUndoFiles.h"
#include "runbook/UndoWindowEndOperation.h"
#include "secrets/CredentialStore.h"
#include "secrets/TerminalPrompter.h"
#include "sql/DatabaseConnection.h"

#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace opsdeck::cli {

namespace {

CliOption databaseOption()
{
    return CliOption::optional(QStringLiteral("database"), QStringLiteral("NAME"),
        QStringLiteral("The Pulumi database of the inventory (default: its only mysql database)."));
}

// The Pulumi database `name` (empty: the inventory's only mysql database) with its secrets; prints the problem and
// sets *exitCode when it cannot.
std::optional<DatabaseTarget> pulumiTarget(const std::optional<Inventory>& inventory, QString name, int* exitCode)
{
    *exitCode = Cli::Usage;
    if (!inventory)
        return std::nullopt;
    if (name.isEmpty()) {
        QStringList mysql;
        for (const Database& d : inventory->databases) {
            if (d.kind == DatabaseKind::Mysql)
                mysql << d.name;
        }
        if (mysql.size() != 1) {
            err() << "opsdeck: --database is required: the inventory has "
                  << (mysql.isEmpty() ? QStringLiteral("no mysql database") : mysql.join(QStringLiteral(", "))) << "\n";
            return std::nullopt;
        }
        name = mysql.front();
    }
    QString error;
    auto target = DatabaseTarget::resolve(*inventory, name, &error);
    if (!target || target->database.kind != DatabaseKind::Mysql) {
        err() << "opsdeck: --database: " << (target ? QStringLiteral("%1 is not a mysql database").arg(name) : error)
              << "\n";
        return std::nullopt;
    }
    auto [resolved, why]
        = awaitSecrets<std::optional<DatabaseTarget>>([&](CredentialStore* store, QObject* context, auto done) {
              resolveDatabaseSecrets(store, *target, context, done);
          });
    *exitCode = Cli::Failure;
    if (!resolved) {
        err() << "opsdeck: " << why << "\n";
        return std::nullopt;
    }
    *exitCode = Cli::Success;
    return resolved;
}

// The Pulumi database of --database.
std::optional<DatabaseTarget> pulumiTarget(const Invocation& call, int* exitCode)
{
    return pulumiTarget(call.inventory(), call.value(QStringLiteral("database")), exitCode);
}

// The Pulumi database of --database with its secrets, connected; prints the problem and sets *exitCode when it
// cannot.
std::unique_ptr<DatabaseConnection> pulumiConnection(const Invocation& call, int* exitCode)
{
    const auto target = pulumiTarget(call, exitCode);
    if (!target)
        return nullptr;
    auto connection = std::make_unique<DatabaseConnection>(*target);
    QString error;
    if (!connection->open(&error)) {
        err() << "opsdeck: " << error << "\n";
        *exitCode = Cli::Failure;
        return nullptr;
    }
    return connection;
}

// The database's organisations; prints what failed and returns nullopt (exit 1) when they cannot be read.
std::optional<QList<PulumiQueries::Organization>> readOrganizations(DatabaseConnection& connection)
{
    QString error;
    auto orgs = PulumiQueries::organizations(connection.database(), &error);
    if (!orgs)
        err() << "opsdeck: reading the organisations of " << connection.describe() << " failed: " << error << "\n";
    return orgs;
}

// Whether every organisation of the scope is in the database; if not, says which (exit 2), or why it cannot tell (1).
bool knownOrganizations(DatabaseConnection& connection, const PulumiPurgeScope& scope, int* exitCode)
{
    const auto orgs = readOrganizations(connection);
    if (!orgs) {
        *exitCode = Cli::Failure;
        return false;
    }
    for (const QString& org : scope.orgs) {
        if (std::none_of(orgs->cbegin(), orgs->cend(), [&](const auto& o) { return o.githubLogin == org; })) {
            err() << "opsdeck: --orgs: organisation \"" << org << "\" is not in " << connection.describe()
                  << "; nothing was touched\n";
            *exitCode = Cli::Usage;
            return false;
        }
    }
    return true;
}

// --orgs and --keep; prints what is wrong ("nothing was <untouched>") and returns nullopt (exit 2) when they are bad.
std::optional<PulumiPurgeScope> purgeScope(const Invocation& call, const QString& untouched)
{
    PulumiPurgeScope scope { call.value(QStringLiteral("orgs")).split(u',', Qt::SkipEmptyParts),
        call.value(QStringLiteral("keep")).split(u',', Qt::SkipEmptyParts) };
    if (const QString problem = scope.error(); !problem.isEmpty()) {
        err() << "opsdeck: --orgs/--keep: " << problem << "; nothing was " << untouched << "\n";
        return std::nullopt;
    }
    return scope;
}

CliOption processOption()
{
    return CliOption::required(QStringLiteral("process"), QStringLiteral("ID"),
        QStringLiteral("The process id, as the process list shows it."));
}

CliOption orgsOption()
{
    return CliOption::required(QStringLiteral("orgs"), QStringLiteral("A,B"),
        QStringLiteral("Organisations (github_login), comma-separated."));
}

CliOption keepOption()
{
    return CliOption::optional(QStringLiteral("keep"), QStringLiteral("S1,S2"),
        QStringLiteral("Soft-deleted stacks to keep, by name, comma-separated."));
}

// --process as a positive integer; prints what is wrong and returns nullopt (exit 2) when it is not one.
std::optional<qint64> processId(const Invocation& call)
{
    bool ok = false;
    const qint64 id = call.value(QStringLiteral("process")).toLongLong(&ok);
    if (ok && id > 0)
        return id;
    err() << "opsdeck: --process: \"" << call.value(QStringLiteral("process"))
          << "\" is not a process id: use a positive integer from the process list\n";
    return std::nullopt;
}

int runPulumiOrgs(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto connection = pulumiConnection(call, &exitCode);
    if (!connection)
        return exitCode;
    const auto orgs = readOrganizations(*connection);
    if (!orgs)
        return Cli::Failure;
    if (call.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const PulumiQueries::Organization& o : *orgs)
            array.append(
                QJsonObject { { QStringLiteral("githubLogin"), o.githubLogin }, { QStringLiteral("name"), o.name },
                    { QStringLiteral("softDeleted"), o.softDeleted }, { QStringLiteral("live"), o.live } });
        printJson(array);
        return Cli::Success;
    }
    QList<QStringList> rows;
    for (const PulumiQueries::Organization& o : *orgs)
        rows << QStringList { o.githubLogin, o.name, QString::number(o.softDeleted), QString::number(o.live) };
    // The Pulumi pane's column names.
    printTable({ QStringLiteral("ORGANISATION"), QStringLiteral("NAME"), QStringLiteral("SOFT-DELETED"),
                   QStringLiteral("LIVE") },
        rows);
    return Cli::Success;
}

int runPlanPulumiPurge(Invocation& call)
{
    const auto scope = purgeScope(call, QStringLiteral("read"));
    if (!scope)
        return Cli::Usage;
    int exitCode = Cli::Success;
    const auto connection = pulumiConnection(call, &exitCode);
    if (!connection || !knownOrganizations(*connection, *scope, &exitCode))
        return exitCode;
    const auto inventory = call.inventory();
    planOperation(std::make_unique<PulumiPurgeOperation>(
                      connection->target(), *scope, exportsDir(*inventory), undoBase(*inventory)),
        *inventory, call.isSet(QStringLiteral("json")), &exitCode);
    return exitCode;
}

int runRunPulumiPurge(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const auto scope = purgeScope(call, QStringLiteral("touched"));
    const auto undo = undoChoice(call);
    if (!scope || !undo)
        return Cli::Usage;
    const auto batch = call.integer(QStringLiteral("batch"), 500, 1, PulumiPurgeOperation::kMaxBatch);
    const auto throttle = call.integer(QStringLiteral("throttle"), 0, 0, 60000, QStringLiteral("milliseconds"));
    const auto parallel = call.integer(
        QStringLiteral("parallel"), PulumiPurgeOperation::kDefaultLanes, 1, PulumiPurgeOperation::kMaxLanes);
    if (!batch || !throttle || !parallel)
        return Cli::Usage;
    if (!call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type the organisations as given to --orgs\n";
        return Cli::Refused;
    }
    int exitCode = Cli::Success;
    const auto connection = pulumiConnection(call, &exitCode);
    if (!connection || !knownOrganizations(*connection, *scope, &exitCode))
        return exitCode;
    const auto inventory = call.inventory();
    const QString report = call.value(QStringLiteral("report"));
    const QString exportDir = report.isEmpty() ? exportsDir(*inventory) : QFileInfo(report).absolutePath();
    auto operation = std::make_unique<PulumiPurgeOperation>(
        connection->target(), *scope, exportDir, undoBase(*inventory), *batch, *parallel);
    operation->setThrottle(*throttle);
    return runOperation(std::move(operation), *inventory, call.value(QStringLiteral("confirm")), report, {}, *undo);
}

int runPlanPulumiKillQuery(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const auto id = processId(call);
    if (!id)
        return Cli::Usage;
    int exitCode = Cli::Success;
    const auto target = pulumiTarget(call, &exitCode);
    if (!target)
        return exitCode;
    planOperation(std::make_unique<PulumiKillQueryOperation>(*target, *id), *call.inventory(),
        call.isSet(QStringLiteral("json")), &exitCode);
    return exitCode;
}

int runRunPulumiKillQuery(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const auto id = processId(call);
    if (!id)
        return Cli::Usage;
    if (!call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type the process id to confirm the kill\n";
        return Cli::Refused;
    }
    int exitCode = Cli::Success;
    const auto target = pulumiTarget(call, &exitCode);
    if (!target)
        return exitCode;
    return runOperation(std::make_unique<PulumiKillQueryOperation>(*target, *id), *call.inventory(),
        call.value(QStringLiteral("confirm")), call.value(QStringLiteral("report")));
}

// `opsdeck recover` of a purge whose console died: the same purge (organisations, kept stacks, database, batch
// size, lanes, from the run's plan) planned again, which plans exactly what is left and finishes it.
int resumePurge(const RecoverCall& call)
{
    const QJsonObject& parameters = call.run.parameters;
    const PulumiPurgeScope scope { call.parameterList(QStringLiteral("orgs")),
        call.parameterList(QStringLiteral("keepStacks")) };
    if (const QString problem = scope.error(); !problem.isEmpty()) {
        err() << "opsdeck: run " << call.run.runId << " names no valid scope: " << problem << "; nothing was touched\n";
        return Cli::Failure;
    }
    int exitCode = Cli::Success;
    const auto target
        = pulumiTarget(call.inventory, parameters.value(QStringLiteral("database")).toString(), &exitCode);
    if (!target)
        return exitCode;
    const int batch
        = std::clamp(parameters.value(QStringLiteral("batch")).toInt(500), 1, PulumiPurgeOperation::kMaxBatch);
    const int lanes
        = std::clamp(parameters.value(QStringLiteral("parallel")).toInt(PulumiPurgeOperation::kDefaultLanes), 1,
            PulumiPurgeOperation::kMaxLanes);
    const QString exportDir
        = call.reportPath.isEmpty() ? exportsDir(call.inventory) : QFileInfo(call.reportPath).absolutePath();
    auto operation
        = std::make_unique<PulumiPurgeOperation>(*target, scope, exportDir, undoBase(call.inventory), batch, lanes);
    // The rows the stopped run deleted are in its folder: this run's window takes them in with its own.
    const QString undoDir = parameters.value(QStringLiteral("undoDir")).toString();
    if (!undoDir.isEmpty()) {
        if (const QString problem = PulumiUndoFiles::dirProblem(undoBase(call.inventory), undoDir);
            !problem.isEmpty()) {
            err() << "opsdeck: run " << call.run.runId << " names a restore folder opsdeck will not use: " << problem
                  << "; nothing was touched\n";
            return Cli::Failure;
        }
        operation->adoptUndoDir(undoDir);
    }
    return runOperation(std::move(operation), call.inventory, call.confirmation, call.reportPath, call.run.runId);
}

// The database a Pulumi undo window was kept for, with its secrets.
std::optional<DatabaseTarget> windowTarget(const UndoWindowCall& call, int* exitCode)
{
    return pulumiTarget(call.inventory, call.window.restore.value(QStringLiteral("database")).toString(), exitCode);
}

// `opsdeck restore RUN_ID` of a purge: the rows of its restore files go back.
int restorePurge(const UndoWindowCall& call)
{
    int exitCode = Cli::Success;
    auto target = windowTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    auto operation
        = PulumiRestoreOperation::fromWindow(std::move(*target), call.window, undoBase(call.inventory), &error);
    if (!operation) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    return call.planOrRun(std::move(operation));
}

// `opsdeck recover` of a restore whose console died: the same restore again, which inserts what is still missing.
int recoverRestore(const RecoverCall& call)
{
    int exitCode = Cli::Success;
    auto target
        = pulumiTarget(call.inventory, call.run.parameters.value(QStringLiteral("database")).toString(), &exitCode);
    if (!target)
        return exitCode;
    QString error;
    auto operation = PulumiRestoreOperation::recovering(
        std::move(*target), call.run.runId, call.run.parameters, undoBase(call.inventory), &error);
    if (!operation) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    return runOperation(std::move(operation), call.inventory, call.confirmation, call.reportPath, call.run.runId);
}

// `opsdeck trash purge RUN_ID` of a purge: deletes its restore files, and ends its window.
int purgeWindow(const UndoWindowCall& call)
{
    QString error;
    auto kept = PulumiUndoFiles::keptData(undoBase(call.inventory), call.window, &error);
    if (!kept) {
        err() << "opsdeck: the undo window of run " << call.window.runId << " cannot be ended here: " << error
              << "; nothing was touched\n";
        return Cli::Failure;
    }
    auto operation = std::make_unique<UndoWindowEndOperation>(
        call.window, call.window.restore.value(QStringLiteral("lock")).toString(), call.reason, std::move(kept));
    return call.planOrRun(std::move(operation));
}

} // namespace

CliModule pulumiCli()
{
    const CliOption report = CliOption::optional(QStringLiteral("report"), QStringLiteral("FILE"),
        QStringLiteral("Write the report to FILE (CSV, HTML or PDF by its extension, else JSON); the data keys go "
                       "beside it."));
    return {
        {
            { { QStringLiteral("pulumi"), QStringLiteral("orgs") }, {},
                QStringLiteral("organisations and their soft-deleted stacks"), { databaseOption(), jsonOption() },
                runPulumiOrgs },
            { { QStringLiteral("plan"), QStringLiteral("pulumi-purge") }, {},
                planSummary(QStringLiteral("pulumi-purge")),
                { orgsOption(), keepOption(), databaseOption(), jsonOption(QStringLiteral("Print the plan as JSON.")) },
                runPlanPulumiPurge },
            { { QStringLiteral("run"), QStringLiteral("pulumi-purge") }, {},
                QStringLiteral("delete the organisations' soft-deleted stacks for good"),
                QList { orgsOption(),
                    CliOption::checked(QStringLiteral("confirm"), QStringLiteral("A,B"),
                        QStringLiteral("The organisations, typed as given to --orgs.")),
                    keepOption(),
                    CliOption::optional(QStringLiteral("batch"), QStringLiteral("N"),
                        QStringLiteral("The most stacks per batch (default 500); batches start at 50 and grow "
                                       "while every statement stays under 400 ms.")),
                    CliOption::optional(QStringLiteral("throttle"), QStringLiteral("MS"),
                        QStringLiteral(
                            "Pause after each batch, in milliseconds (default 0), to spare a busy database.")),
                    CliOption::optional(QStringLiteral("parallel"), QStringLiteral("N"),
                        QStringLiteral("Connections deleting at once (default 2); 1 spares a busy database most.")),
                    databaseOption(), report }
                    + undoOptions(),
                runRunPulumiPurge, QStringLiteral("Run it again after an interruption: it finishes what is left.") },
            { { QStringLiteral("plan"), QStringLiteral("pulumi-kill-query") }, {},
                planSummary(QStringLiteral("pulumi-kill-query")),
                { processOption(), databaseOption(), jsonOption(QStringLiteral("Print the plan as JSON.")) },
                runPlanPulumiKillQuery },
            { { QStringLiteral("run"), QStringLiteral("pulumi-kill-query") }, {},
                QStringLiteral("kill a statement that holds up the database"),
                { processOption(),
                    CliOption::checked(QStringLiteral("confirm"), QStringLiteral("ID"),
                        QStringLiteral("The process id, typed to confirm.")),
                    databaseOption(), reportOption() },
                runRunPulumiKillQuery },
        },
        { { QStringLiteral("pulumi-purge"), resumePurge }, { QStringLiteral("pulumi-restore"), recoverRestore },
            { QStringLiteral("pulumi-restore-recover"), recoverRestore } },
        { { QStringLiteral("pulumi-purge"), restorePurge } }, { { QStringLiteral("pulumi-purge"), purgeWindow } }
    };
}

} // namespace opsdeck::cli
