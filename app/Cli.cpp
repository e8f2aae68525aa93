#include "Cli.h"

#include "CliHelp.h"
#include "CliSupport.h"

#include "config/InventoryLoader.h"
#include "runbook/Journal.h"
#include "runbook/LockBreakOperation.h"
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
#include <QLocale>
#include <QRegularExpression>
#include <QTextStream>

#include <functional>

namespace opsdeck {

using namespace cli;

namespace {

int runCheck(Invocation& call)
{
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    out() << inventory->file << ": ok (" << inventory->hosts.size() << " hosts, " << inventory->databases.size()
          << " databases, " << inventory->clusters.size() << " clusters, " << inventory->datamon.size()
          << " datamon contexts, " << inventory->machines.size() << " machines)\n";
    return Cli::Success;
}

int runHosts(Invocation& call)
{
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    // A fingerprint is one host's key: trusting it for every host would let any of them present it.
    static const QRegularExpression acceptPattern(QStringLiteral("^([^=]+)=(SHA256:[A-Za-z0-9+/]{43})\\z"));
    QList<std::pair<QString, QString>> accepted;
    for (const QString& value : call.values(QStringLiteral("accept-host-key"))) {
        const QRegularExpressionMatch match = acceptPattern.match(value);
        if (!match.hasMatch()) {
            err() << "opsdeck: --accept-host-key: \"" << value
                  << "\" is not HOST=SHA256:...; expected a host of the inventory, \"=\", and SHA256: followed by 43 "
                     "base64 characters, as ssh-keygen -lf prints it\n";
            return Cli::Usage;
        }
        if (!inventory->host(match.captured(1))) {
            err() << "opsdeck: --accept-host-key: no host \"" << match.captured(1) << "\" in " << inventory->file
                  << "; name one of its hosts before the \"=\"\n";
            return Cli::Usage;
        }
        accepted << std::pair(match.captured(1), match.captured(2));
    }

    CredentialStore credentials;
    TerminalPrompter prompter;
    credentials.setPrompter(&prompter);
    SshConnectionPool pool(*inventory, &credentials);
    for (const auto& [host, fingerprint] : std::as_const(accepted))
        pool.acceptHostKey(host, fingerprint);
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
        printTable({ QStringLiteral("HOST"), QStringLiteral("ADDRESS"), QStringLiteral("REACHABILITY"),
                       QStringLiteral("HOST KEY"), QStringLiteral("AUTH"), QStringLiteral("ERROR") },
            rows);
    return Cli::Success; // unreachable hosts are reported, not a failure of the command
}

// The journal of the command's inventory, opened; nullopt, with the reason printed and *exitCode set, if the inventory
// is invalid (2) or the journal cannot be opened (1).
std::optional<Journal> commandJournal(const Invocation& call, int* exitCode)
{
    *exitCode = Cli::Usage;
    const auto inventory = call.inventory();
    if (!inventory)
        return std::nullopt;
    *exitCode = Cli::Failure;
    return openJournal(*inventory);
}

int runJournal(Invocation& call, const QString& verb)
{
    int exitCode = Cli::Success;
    auto journal = commandJournal(call, &exitCode);
    if (!journal)
        return exitCode;
    QString error;
    if (verb == QStringLiteral("verify")) {
        std::optional<Journal::Anchor> anchor;
        if (call.isSet(QStringLiteral("anchor"))) {
            anchor = Journal::Anchor::parse(call.value(QStringLiteral("anchor")), &error);
            if (!anchor) {
                err() << "opsdeck: --anchor: " << error << "\n";
                return Cli::Usage;
            }
        }
        const Journal::Verification check = journal->verify(anchor);
        if (!check.intact) {
            err() << journal->describe() << ": entry " << check.firstBadSeq << " is bad: " << check.problem << "\n";
            return Cli::Failure;
        }
        QStringList facts { QStringLiteral("%1 entries").arg(check.checked) };
        if (check.macsChecked > 0)
            facts << QStringLiteral("%1 MACs checked with the team key").arg(check.macsChecked);
        if (check.macsUnchecked > 0)
            facts << QStringLiteral("%1 MACs not checked: no key (journal keyEnv)").arg(check.macsUnchecked);
        if (check.unkeyed > 0 && check.unkeyed < check.checked)
            facts << QStringLiteral("%1 written before the chain was keyed").arg(check.unkeyed);
        if (check.imported > 0)
            facts << QStringLiteral("%1 copied from other journals, each checked against its own chain")
                         .arg(check.imported);
        if (anchor)
            facts << QStringLiteral("holds anchor %1").arg(anchor->text());
        out() << journal->describe() << ": intact (" << facts.join(QStringLiteral("; ")) << ")\n";
        return Cli::Success;
    }
    if (verb == QStringLiteral("anchor")) {
        const auto head = journal->head(&error);
        if (!head) {
            err() << "opsdeck: " << error << "\n";
            return Cli::Failure;
        }
        if (call.isSet(QStringLiteral("json")))
            printJson(QJsonObject { { QStringLiteral("anchor"), head->text() }, { QStringLiteral("seq"), head->seq },
                { QStringLiteral("hash"), head->hash } });
        else
            out() << head->text() << "\n";
        return Cli::Success;
    }
    const QList<RunRecord> runs = journal->runs({}, &error);
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
            run.name(), RunRecord::outcomeName(run.outcome), run.user, run.operation };
    }
    // The Journal pane's columns: the run's one name, and its operation's id last.
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("STARTED"), QStringLiteral("NAME"),
                       QStringLiteral("OUTCOME"), QStringLiteral("WHO"), QStringLiteral("OPERATION") },
            rows);
    return Cli::Success;
}

QJsonObject unfinishedJson(const Journal::UnfinishedRun& run)
{
    return { { QStringLiteral("id"), run.runId }, { QStringLiteral("operation"), run.operation },
        { QStringLiteral("target"), run.target }, { QStringLiteral("confirmWith"), run.confirmWith },
        { QStringLiteral("startedAt"), run.startedAt.toString(Qt::ISODateWithMs) },
        { QStringLiteral("lastStep"), run.lastStep }, { QStringLiteral("lastStepState"), run.lastStepState },
        { QStringLiteral("host"), run.host }, { QStringLiteral("pid"), run.pid } };
}

// The inventory's journal and its unfinished runs (Journal::unfinishedRuns); prints what failed and sets *exitCode.
struct UnfinishedRuns
{
    Inventory inventory;
    JournalLocation journal;
    QList<Journal::UnfinishedRun> runs;
};
std::optional<UnfinishedRuns> readUnfinished(const Invocation& call, int* exitCode)
{
    *exitCode = Cli::Usage;
    auto inventory = call.inventory();
    if (!inventory)
        return std::nullopt;
    *exitCode = Cli::Failure;
    auto journal = openJournal(*inventory);
    if (!journal)
        return std::nullopt;
    QString error;
    auto runs = journal->unfinishedRuns(&error);
    if (!error.isEmpty()) {
        err() << "opsdeck: " << error << "\n";
        return std::nullopt;
    }
    return UnfinishedRuns { std::move(*inventory), journal->location(), std::move(runs) };
}

int runJournalUnfinished(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto unfinished = readUnfinished(call, &exitCode);
    if (!unfinished)
        return exitCode;
    QJsonArray array;
    QList<QStringList> rows;
    for (const Journal::UnfinishedRun& run : unfinished->runs) {
        array.append(unfinishedJson(run));
        rows << QStringList { run.runId, run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
            RunRecord::runName(run.operation, run.target),
            run.lastStep.isEmpty() ? QStringLiteral("-") : run.lastStep + u' ' + run.lastStepState, run.operation };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("STARTED"), QStringLiteral("NAME"),
                       QStringLiteral("LAST STEP"), QStringLiteral("OPERATION") },
            rows);
    return Cli::Success;
}

// `opsdeck recover RUN_ID --confirm NAME`: the run's system plans, confirms, journals and reports its recovery.
int runRecover(Invocation& call, const QList<CliModule>& systems)
{
    int exitCode = Cli::Success;
    const auto unfinished = readUnfinished(call, &exitCode);
    if (!unfinished)
        return exitCode;
    QList<RunChoice> choices;
    for (const Journal::UnfinishedRun& run : unfinished->runs)
        choices << RunChoice { run.runId, RunRecord::runName(run.operation, run.target) };
    const QString given = call.word(1);
    const auto runId = resolveRunId(given, choices,
        QStringLiteral("opsdeck: run \"%1\" is not an unfinished run of %2: it has an outcome, its console still runs, "
                       "or it ran on another machine; opsdeck journal unfinished lists those to recover")
            .arg(given, unfinished->journal.describe()));
    if (!runId)
        return Cli::Usage;
    const auto run = std::find_if(unfinished->runs.cbegin(), unfinished->runs.cend(),
        [&](const Journal::UnfinishedRun& candidate) { return candidate.runId == *runId; });
    if (!call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type " << run->confirmWith << " to confirm the recovery\n";
        return Cli::Refused;
    }
    for (const CliModule& system : systems) {
        if (const auto recoverer = system.recoverers.constFind(run->operation); recoverer != system.recoverers.cend())
            return (*recoverer)({ *run, unfinished->inventory, call.value(QStringLiteral("confirm")),
                call.value(QStringLiteral("report")) });
    }
    err() << "opsdeck: runs of " << run->operation << " cannot be recovered by opsdeck; check " << run->target
          << " by hand\n";
    return Cli::Failure;
}

// The journal's undo windows, folded by its clock; nullopt, with the reason printed and *exitCode set.
std::optional<QList<UndoWindow>> readWindows(const Invocation& call, int* exitCode)
{
    auto journal = commandJournal(call, exitCode);
    if (!journal)
        return std::nullopt;
    QString error;
    auto windows = UndoWindows::read(*journal, &error);
    if (!windows)
        err() << "opsdeck: cannot read the undo windows of " << journal->describe() << ": " << error << "\n";
    return windows;
}

// `opsdeck trash list`: what each run kept so that it can be taken back, from the journal alone (whether the kept
// data is still there is what `opsdeck restore RUN_ID --plan` reads).
int runTrashList(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto windows = readWindows(call, &exitCode);
    if (!windows)
        return exitCode;
    QJsonArray array;
    QList<QStringList> rows;
    for (const UndoWindow& window : *windows) {
        if (!call.isSet(QStringLiteral("all")) && window.state != UndoWindow::State::Open)
            continue;
        array.append(window.toJson());
        rows << QStringList { window.runId, RunRecord::runName(window.operation, window.target), window.where,
            sizeText(window.bytes), window.stateText(), window.operation };
    }
    // The Journal pane's Undo windows columns (its Kept is where and size together).
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("NAME"), QStringLiteral("KEPT"), QStringLiteral("SIZE"),
                       QStringLiteral("STATE"), QStringLiteral("OPERATION") },
            rows);
    return Cli::Success;
}

// `opsdeck restore RUN_ID` (take a run back) and `opsdeck trash purge RUN_ID` (end its window early): the run's
// system plans, confirms, journals and reports it, while the window is open by the journal's clock.
int runWindowCommand(Invocation& call, const QList<CliModule>& systems, bool restore)
{
    const auto undo = restore ? undoChoice(call) : std::optional(UndoChoice {});
    if (!undo)
        return Cli::Usage;
    if (const QString problem = restore
            ? QString()
            : reasonError(call.value(QStringLiteral("reason")), QStringLiteral("the undo window ends early"));
        !problem.isEmpty()) {
        err() << "opsdeck: --" << problem << "\n";
        return Cli::Usage;
    }
    call.noticeLater();
    int exitCode = Cli::Success;
    const auto windows = readWindows(call, &exitCode);
    if (!windows)
        return exitCode;
    QList<RunChoice> choices;
    for (const UndoWindow& window : *windows)
        choices << RunChoice { window.runId, RunRecord::runName(window.operation, window.target) };
    const QString given = call.word(restore ? 1 : 2);
    const auto runId = resolveRunId(given, choices,
        QStringLiteral(
            "opsdeck: run \"%1\" kept no undo window in this journal: opsdeck trash list shows the runs that "
            "can be taken back")
            .arg(given));
    if (!runId)
        return Cli::Usage;
    const auto window = UndoWindows::find(*windows, *runId);
    if (window->state != UndoWindow::State::Open) {
        err() << "opsdeck: the undo window of run " << *runId << " ("
              << RunRecord::runName(window->operation, window->target) << ") is " << window->stateText()
              << (restore ? ": it cannot be restored\n" : ": there is nothing to end\n");
        return Cli::Usage;
    }
    const bool planOnly = call.isSet(QStringLiteral("plan"));
    if (!planOnly && !call.isSet(QStringLiteral("confirm"))) {
        err() << "opsdeck: --confirm is required: type " << window->confirmWith << " to confirm "
              << (restore ? "the restore" : "ending the window") << " (see its plan with --plan)\n";
        return Cli::Refused;
    }
    for (const CliModule& system : systems) {
        const auto& handlers = restore ? system.restorers : system.trashPurgers;
        if (const auto handler = handlers.constFind(window->operation); handler != handlers.cend())
            return (*handler)({ *window, *call.inventory(), planOnly, call.isSet(QStringLiteral("json")),
                call.value(QStringLiteral("confirm")), call.value(QStringLiteral("report")), *undo,
                call.value(QStringLiteral("reason")) });
    }
    err() << "opsdeck: this opsdeck cannot " << (restore ? "restore runs of " : "end the undo windows of ")
          << window->operation << "\n";
    return Cli::Failure;
}

int runReportExport(Invocation& call)
{
    const auto format = ReportWriter::formatFromName(call.value(QStringLiteral("format")));
    if (!format) {
        err() << "opsdeck: --format \"" << call.value(QStringLiteral("format")) << "\": use json, csv, html or pdf\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    auto journal = commandJournal(call, &exitCode);
    if (!journal)
        return exitCode;
    QString error;
    const QList<RunRecord> runs = journal->runs({}, &error);
    if (!error.isEmpty()) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QList<RunChoice> choices;
    for (const RunRecord& run : runs)
        choices << RunChoice { run.id,
            QStringLiteral("%1, %2").arg(
                run.name(), run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))) };
    const QString given = call.word(2);
    const auto runId = resolveRunId(given, choices,
        QStringLiteral("opsdeck: no run \"%1\" in %2; opsdeck journal list shows the runs")
            .arg(given, journal->describe()));
    if (!runId)
        return Cli::Usage;
    const auto run = std::find_if(runs.cbegin(), runs.cend(), [&](const RunRecord& r) { return r.id == *runId; });
    if (!ReportWriter::write(*run, *format, call.value(QStringLiteral("o")), &error)) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    return Cli::Success;
}

QString leaseText(const Journal::HeldLock& lock)
{
    if (!lock.holder.leaseUntil.isValid())
        return QStringLiteral("none (never runs out)");
    const QString until = lock.holder.leaseUntil.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (lock.leaseRanOut)
        return QStringLiteral("ran out at %1").arg(until);
    return QStringLiteral("until %1 (%2 s)").arg(until).arg(lock.judgedAt.secsTo(lock.holder.leaseUntil));
}

// `opsdeck journal migrate --to INVENTORY`: copies this inventory's journal into the journal of INVENTORY (the team's).
int runJournalMigrate(Invocation& call)
{
    int exitCode = Cli::Success;
    auto source = commandJournal(call, &exitCode);
    if (!source)
        return exitCode;
    const InventoryLoadResult loaded = InventoryLoader::loadFile(call.value(QStringLiteral("to")));
    for (const InventoryError& error : loaded.errors)
        err() << "opsdeck: --to: " << error.toString() << "\n";
    if (!loaded.ok())
        return Cli::Usage;
    auto destination = openJournal(*loaded.inventory);
    if (!destination)
        return Cli::Failure;
    QString error;
    const auto migration = destination->migrateFrom(*source, &error);
    if (!migration) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    out() << "copied " << migration->copied << " entries of " << source->describe() << " into "
          << destination->describe();
    if (migration->alreadyCopied > 0)
        out() << " (" << migration->alreadyCopied << " were copied before)";
    out() << "; its chain verified up to " << migration->sourceHead.text() << ", and journal verify checks it there\n";
    return Cli::Success;
}

// `opsdeck lock list`: every lock of the journal, who holds it and whether its lease still runs.
int runLockList(Invocation& call)
{
    int exitCode = Cli::Success;
    auto journal = commandJournal(call, &exitCode);
    if (!journal)
        return exitCode;
    QString error;
    const QList<Journal::HeldLock> locks = journal->locks(&error);
    if (!error.isEmpty()) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QJsonArray array;
    QList<QStringList> rows;
    for (const Journal::HeldLock& lock : locks) {
        array.append(QJsonObject { { QStringLiteral("target"), lock.target },
            { QStringLiteral("holder"), lock.holder.holder }, { QStringLiteral("runId"), lock.holder.runId },
            { QStringLiteral("machine"), lock.holder.machine }, { QStringLiteral("pid"), lock.holder.pid },
            { QStringLiteral("since"), lock.holder.since.toString(Qt::ISODateWithMs) },
            { QStringLiteral("leaseUntil"), lock.holder.leaseUntil.toString(Qt::ISODateWithMs) },
            { QStringLiteral("leaseRanOut"), lock.leaseRanOut },
            { QStringLiteral("holderGoneHere"), lock.holderGoneHere } });
        rows << QStringList { lock.target, lock.holder.holder, lock.holder.runId,
            lock.holder.since.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
            lock.holderGoneHere ? QStringLiteral("console gone") : leaseText(lock) };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else if (rows.isEmpty())
        out() << journal->describe() << ": no lock is held\n";
    else
        printTable({ QStringLiteral("TARGET"), QStringLiteral("HOLDER"), QStringLiteral("RUN"), QStringLiteral("SINCE"),
                       QStringLiteral("LEASE") },
            rows);
    return Cli::Success;
}

// `opsdeck lock break TARGET --reason TEXT [--confirm TARGET]`: without --confirm, the plan and how to confirm it.
int runLockBreak(Invocation& call)
{
    call.noticeLater(); // awaited after planning
    const QString target = call.word(2);
    if (const QString problem = LockBreakOperation::checkReason(call.value(QStringLiteral("reason")));
        !problem.isEmpty()) {
        err() << "opsdeck: --" << problem << "\n";
        return Cli::Usage;
    }
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    const auto journal = journalLocation(*inventory);
    if (!journal)
        return Cli::Failure;
    auto operation = std::make_unique<LockBreakOperation>(*journal, target, call.value(QStringLiteral("reason")));
    if (!call.isSet(QStringLiteral("confirm"))) {
        int exitCode = Cli::Success;
        if (!planOperation(std::move(operation), *inventory, call.isSet(QStringLiteral("json")), &exitCode))
            return exitCode;
        err() << "opsdeck: --confirm is required: type " << target << " to break its lock\n";
        return Cli::Refused;
    }
    return runOperation(
        std::move(operation), *inventory, call.value(QStringLiteral("confirm")), call.value(QStringLiteral("report")));
}

// `opsdeck help [COMMAND [SUBCOMMAND]] [--man]`: the usage, a group's subcommands, one subcommand's help, or the
// man page.
int runHelp(Invocation& call, const QList<CliCommand>& table)
{
    if (call.isSet(QStringLiteral("man"))) {
        out() << manPage(table, QCoreApplication::applicationVersion());
        return Cli::Success;
    }
    QStringList asked;
    for (int i = 1; i <= 2 && !call.word(i).isEmpty(); ++i)
        asked << call.word(i);
    if (asked.isEmpty()) {
        out() << usageText(table);
        return Cli::Success;
    }
    QList<CliCommand> matches;
    for (const CliCommand& command : table) {
        if (command.words.mid(0, asked.size()) == asked)
            matches << command;
    }
    if (matches.isEmpty())
        return call.usageError(QStringLiteral("no subcommand \"%1\"").arg(asked.join(u' ')));
    if (matches.size() == 1 && matches.first().words == asked)
        out() << commandHelp(matches.first());
    else
        out() << commandListing(matches);
    return Cli::Success;
}

int runCompletion(Invocation& call, const QList<CliCommand>& table)
{
    if (call.word(1) != QStringLiteral("bash"))
        return call.usageError(QStringLiteral("SHELL \"%1\" is not supported: use bash").arg(call.word(1)));
    out() << bashCompletion(table);
    return Cli::Success;
}

} // namespace

QString CliOption::dashed() const
{
    return (name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + name;
}

QList<CliCommand> Cli::commands(const QList<CliModule>& systems)
{
    const CliOption json = jsonOption();
    const CliOption planOnly
        = CliOption::flag(QStringLiteral("plan"), QStringLiteral("Print the plan and change nothing."));
    const CliOption planJson = jsonOption(QStringLiteral("With --plan: print it as JSON."));
    const CliOption confirmWindow = CliOption::checked(QStringLiteral("confirm"), QStringLiteral("NAME"),
        QStringLiteral("The name the window is confirmed with (its plan says which)."));
    QList<CliCommand> table = {
        { { QStringLiteral("check") }, {}, QStringLiteral("validate the inventory"), {}, runCheck },
        { { QStringLiteral("hosts") }, {}, QStringLiteral("connect to every host and report"),
            { json,
                CliOption::repeated(QStringLiteral("accept-host-key"), QStringLiteral("HOST=SHA256:..."),
                    QStringLiteral("Trust HOST, if unknown, when it presents exactly this key, and write the key to "
                                   "known_hosts.")) },
            runHosts },
        { { QStringLiteral("journal"), QStringLiteral("list") }, {}, QStringLiteral("the journal's runs, newest first"),
            { json }, [](Invocation& call) { return runJournal(call, QStringLiteral("list")); } },
        { { QStringLiteral("journal"), QStringLiteral("verify") }, {},
            QStringLiteral("check the journal's hash chain (and its MACs, with the team key)"),
            { CliOption::optional(QStringLiteral("anchor"), QStringLiteral("SEQ:HASH"),
                QStringLiteral(
                    "Also check that the journal holds this head, as journal anchor or a report printed it.")) },
            [](Invocation& call) { return runJournal(call, QStringLiteral("verify")); } },
        { { QStringLiteral("journal"), QStringLiteral("anchor") }, {},
            QStringLiteral("the chain's head, to keep elsewhere"), { json },
            [](Invocation& call) { return runJournal(call, QStringLiteral("anchor")); } },
        { { QStringLiteral("journal"), QStringLiteral("migrate") }, {},
            QStringLiteral("copy this journal into that inventory's (the team's)"),
            { CliOption::required(QStringLiteral("to"), QStringLiteral("INVENTORY"),
                QStringLiteral("The inventory whose journal receives the copy (the team's).")) },
            runJournalMigrate },
        { { QStringLiteral("journal"), QStringLiteral("unfinished") }, {},
            QStringLiteral("runs without an outcome whose console is gone"), { json }, runJournalUnfinished },
        { { QStringLiteral("recover") }, { QStringLiteral("RUN_ID") },
            QStringLiteral("recover a run whose console is gone"),
            { CliOption::checked(QStringLiteral("confirm"), QStringLiteral("NAME"),
                  QStringLiteral("The run's confirmation name, typed to confirm.")),
                reportOption() },
            [systems](Invocation& call) { return runRecover(call, systems); },
            QStringLiteral("RUN_ID is the run's id or a prefix of it that no other unfinished run has; opsdeck journal "
                           "unfinished lists them.") },
        { { QStringLiteral("restore") }, { QStringLiteral("RUN_ID") },
            QStringLiteral("take back what a run did, while its undo window is open"),
            QList { planOnly, planJson, confirmWindow, reportOption() } + undoOptions(),
            [systems](Invocation& call) { return runWindowCommand(call, systems, true); },
            QStringLiteral(
                "RUN_ID is the run's id or a prefix of it that no other run with an undo window has; opsdeck "
                "trash list shows them.") },
        { { QStringLiteral("trash"), QStringLiteral("list") }, {},
            QStringLiteral("the undo windows: what can be restored, where, until when"),
            { json,
                CliOption::flag(
                    QStringLiteral("all"), QStringLiteral("Also the windows that are restored, ended or expired.")) },
            runTrashList },
        { { QStringLiteral("trash"), QStringLiteral("purge") }, { QStringLiteral("RUN_ID") },
            QStringLiteral("end a run's undo window early"),
            { CliOption::required(QStringLiteral("reason"), QStringLiteral("TEXT"),
                  QStringLiteral("Why the window ends early; journaled.")),
                planOnly, planJson, confirmWindow, reportOption() },
            [systems](Invocation& call) { return runWindowCommand(call, systems, false); },
            QStringLiteral("RUN_ID is the run's id or a prefix of it that no other run with an undo window has.") },
        { { QStringLiteral("lock"), QStringLiteral("list") }, {},
            QStringLiteral("every target's lock, its holder and its lease"), { json }, runLockList },
        { { QStringLiteral("lock"), QStringLiteral("break") }, { QStringLiteral("TARGET") },
            QStringLiteral("break a target's lock, as a planned, confirmed and journaled run"),
            { CliOption::checked(QStringLiteral("reason"), QStringLiteral("TEXT"),
                  QStringLiteral("Why, for the journal and the report.")),
                CliOption::optional(QStringLiteral("confirm"), QStringLiteral("TARGET"),
                    QStringLiteral("The lock's target, typed to confirm; without it, the plan.")),
                reportOption(), jsonOption(QStringLiteral("Print the plan as JSON (without --confirm).")) },
            runLockBreak },
        { { QStringLiteral("report"), QStringLiteral("export") }, { QStringLiteral("RUN_ID") },
            QStringLiteral("write a run's report"),
            { CliOption::required(
                  QStringLiteral("format"), QStringLiteral("FORMAT"), QStringLiteral("json, csv, html or pdf.")),
                CliOption::required(QStringLiteral("o"), QStringLiteral("FILE"), QStringLiteral("Output file.")) },
            runReportExport,
            QStringLiteral("RUN_ID is the run's id or a prefix of it that no other run has; opsdeck journal list shows "
                           "them.") },
    };
    for (const CliModule& system : systems)
        table += system.commands;
    // Last, as the usage lists them: how to read about the rest.
    table += CliCommand { { QStringLiteral("help") }, { QStringLiteral("[COMMAND]"), QStringLiteral("[SUBCOMMAND]") },
        QStringLiteral("this usage, a group's subcommands, or one subcommand's help"),
        { CliOption::flag(QStringLiteral("man"), QStringLiteral("Print the man page, opsdeck(1), in man(7) format.")) },
        [systems](Invocation& call) { return runHelp(call, Cli::commands(systems)); } };
    table += CliCommand { { QStringLiteral("completion") }, { QStringLiteral("SHELL") },
        QStringLiteral("print the completion script for SHELL (bash)"), {},
        [systems](Invocation& call) { return runCompletion(call, Cli::commands(systems)); } };
    return table;
}

std::optional<QString> Cli::consoleInventory(const QStringList& arguments)
{
    if (arguments.size() == 1)
        return QString();
    if (arguments.size() == 3 && arguments.at(1) == QStringLiteral("--inventory"))
        return arguments.at(2);
    if (arguments.size() == 2 && arguments.at(1).startsWith(QStringLiteral("--inventory=")))
        return arguments.at(1).section(u'=', 1);
    return std::nullopt;
}

bool Cli::hasDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        || !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

int Cli::run(const QStringList& arguments, const QList<CliModule>& systems)
{
    const QList<CliCommand> table = commands(systems);
    const QString first = arguments.value(1);
    int code = Usage;
    if (consoleInventory(arguments)) {
        err() << "opsdeck: the console needs a display, and there is none (DISPLAY and WAYLAND_DISPLAY are unset): "
                 "run opsdeck in a graphical session, or log in with ssh -X so that DISPLAY is set. Without one, use "
                 "a subcommand:\n"
              << usageText(table);
    } else if (first == QStringLiteral("--version")) {
        out() << QCoreApplication::applicationName() << " " << QCoreApplication::applicationVersion() << "\n";
        code = Success;
    } else if (first == QStringLiteral("--help") || first == QStringLiteral("-h")) {
        out() << usageText(table);
        code = Success;
    } else {
        const auto command = std::find_if(table.cbegin(), table.cend(),
            [&](const CliCommand& candidate) { return arguments.mid(1, candidate.words.size()) == candidate.words; });
        QList<CliCommand> group;
        for (const CliCommand& candidate : table) {
            if (candidate.words.size() > 1 && candidate.words.first() == first)
                group << candidate;
        }
        if (command != table.cend()) {
            Invocation call(arguments, *command); // the parser skips arguments[0]; the words stay positional
            const auto done = call.parse();
            code = done ? *done : command->handler(call);
        } else if (!group.isEmpty()) {
            // A group's word alone, or with a word that is none of its subcommands: what it has, on stderr, as git
            // says a usage error.
            const QString second = arguments.value(2);
            if (second.isEmpty() || second.startsWith(u'-'))
                err() << "opsdeck: " << first << " needs a subcommand:\n";
            else
                err() << "opsdeck: " << first << ": unknown subcommand \"" << second << "\"; its subcommands:\n";
            err() << commandListing(group) << "See opsdeck " << first << " SUBCOMMAND --help for one's options.\n";
        } else if (first == QStringLiteral("--inventory") || first.startsWith(QStringLiteral("--inventory="))) {
            err()
                << "opsdeck: --inventory FILE goes after the subcommand (opsdeck check --inventory FILE), or alone to "
                   "open the console; see opsdeck help\n";
        } else {
            QStringList firsts;
            for (const CliCommand& candidate : table) {
                if (!firsts.contains(candidate.words.first()))
                    firsts << candidate.words.first();
            }
            err() << "opsdeck: unknown " << (first.startsWith(u'-') ? "option" : "subcommand") << " \"" << first
                  << "\": the subcommands are " << firsts.join(QStringLiteral(", ")) << "; see opsdeck help\n";
        }
        awaitUnfinishedNotice(); // a command that stopped before it awaited the notice still shows it
    }
    out().flush();
    err().flush();
    return code;
}

} // namespace opsdeck
