#include "Cli.h"

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
        QStringLiteral("Trust HOST, if unknown, when it presents exactly this key, and write the key to known_hosts. "
                       "Repeat for several hosts."),
        QStringLiteral("HOST=SHA256:..."));
    if (const auto done = call.parse())
        return *done;
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
        printTable({ QStringLiteral("NAME"), QStringLiteral("ADDRESS"), QStringLiteral("REACHABLE"),
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

int runJournal(const QStringList& arguments, const QString& verb)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (verb == QStringLiteral("verify"))
        call.addValue(QStringLiteral("anchor"),
            QStringLiteral("Also check that the journal holds this head, as journal anchor or a report printed it."),
            QStringLiteral("SEQ:HASH"));
    if (const auto done = call.parse())
        return *done;
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

int runJournalUnfinished(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (const auto done = call.parse())
        return *done;
    int exitCode = Cli::Success;
    const auto unfinished = readUnfinished(call, &exitCode);
    if (!unfinished)
        return exitCode;
    QJsonArray array;
    QList<QStringList> rows;
    for (const Journal::UnfinishedRun& run : unfinished->runs) {
        array.append(unfinishedJson(run));
        rows << QStringList { run.runId, run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
            run.operation, run.target,
            run.lastStep.isEmpty() ? QStringLiteral("-") : run.lastStep + u' ' + run.lastStepState };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("STARTED"), QStringLiteral("OPERATION"),
                       QStringLiteral("TARGET"), QStringLiteral("LAST STEP") },
            rows);
    return Cli::Success;
}

// `opsdeck recover RUN_ID --confirm NAME`: the run's system plans, confirms, journals and reports its recovery.
int runRecover(const QStringList& arguments, const QList<CliModule>& systems)
{
    Invocation call(arguments, 2);
    call.addValue(QStringLiteral("confirm"), QStringLiteral("The run's confirmation name, typed to confirm."),
        QStringLiteral("TEXT"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    if (const auto done = call.parse())
        return *done;
    int exitCode = Cli::Success;
    const auto unfinished = readUnfinished(call, &exitCode);
    if (!unfinished)
        return exitCode;
    const QString runId = call.word(1);
    const auto run = std::find_if(unfinished->runs.cbegin(), unfinished->runs.cend(),
        [&](const Journal::UnfinishedRun& candidate) { return candidate.runId == runId; });
    if (run == unfinished->runs.cend()) {
        err() << "opsdeck: run \"" << runId << "\" is not an unfinished run of " << unfinished->journal.describe()
              << ": it has an outcome, its console still runs, or it ran on another machine; opsdeck journal "
                 "unfinished lists those to recover\n";
        return Cli::Usage;
    }
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

QString sizeText(qint64 bytes)
{
    return bytes < 0 ? QStringLiteral("?") : bytes == 0 ? QStringLiteral("none") : QLocale().formattedDataSize(bytes);
}

// `opsdeck trash list`: what each run kept so that it can be taken back, from the journal alone (whether the kept
// data is still there is what `opsdeck restore RUN_ID --plan` reads).
int runTrashList(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    call.addFlag(QStringLiteral("all"), QStringLiteral("Also the windows that are restored, ended or expired."));
    if (const auto done = call.parse())
        return *done;
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
        rows << QStringList { window.runId, window.operation, window.target, window.where, sizeText(window.bytes),
            window.stateText() };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("RUN"), QStringLiteral("OPERATION"), QStringLiteral("TARGET"),
                       QStringLiteral("KEPT AT"), QStringLiteral("SIZE"), QStringLiteral("STATE") },
            rows);
    return Cli::Success;
}

// `opsdeck restore RUN_ID` (take a run back) and `opsdeck trash purge RUN_ID` (end its window early): the run's
// system plans, confirms, journals and reports it, while the window is open by the journal's clock.
int runWindowCommand(const QStringList& arguments, const QList<CliModule>& systems, bool restore)
{
    Invocation call(arguments, restore ? 2 : 3);
    call.addFlag(QStringLiteral("plan"), QStringLiteral("Print the plan and change nothing."));
    call.addFlag(QStringLiteral("json"), QStringLiteral("With --plan: print it as JSON."));
    call.addValue(
        QStringLiteral("confirm"), QStringLiteral("The name the window is confirmed with."), QStringLiteral("TEXT"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    if (restore)
        addUndoOptions(call);
    else
        call.addValue(
            QStringLiteral("reason"), QStringLiteral("Why the window ends early; journaled."), QStringLiteral("TEXT"));
    if (const auto done = call.parse())
        return *done;
    const auto undo = restore ? undoChoice(call) : std::optional(UndoChoice {});
    if (!undo)
        return Cli::Usage;
    if (!restore && !call.require({ QStringLiteral("reason") }))
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
    const QString runId = call.word(restore ? 1 : 2);
    const auto window = UndoWindows::find(*windows, runId);
    if (!window) {
        err() << "opsdeck: run \"" << runId << "\" kept no undo window in this journal: opsdeck trash list shows the "
              << "runs that can be taken back\n";
        return Cli::Usage;
    }
    if (window->state != UndoWindow::State::Open) {
        err() << "opsdeck: the undo window of run " << runId << " (" << window->operation << " on " << window->target
              << ") is " << window->stateText()
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
    int exitCode = Cli::Success;
    auto journal = commandJournal(call, &exitCode);
    if (!journal)
        return exitCode;
    QString error;
    const QString runId = call.word(2);
    const auto run = journal->run(runId, &error);
    if (!run) {
        err() << "opsdeck: no run \"" << runId << "\" in " << journal->describe()
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
int runJournalMigrate(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addValue(QStringLiteral("to"), QStringLiteral("The inventory whose journal receives the copy (the team's)."),
        QStringLiteral("INVENTORY"));
    if (const auto done = call.parse())
        return *done;
    if (!call.require({ QStringLiteral("to") }))
        return Cli::Usage;
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
int runLockList(const QStringList& arguments)
{
    Invocation call(arguments, 2);
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    if (const auto done = call.parse())
        return *done;
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
int runLockBreak(const QStringList& arguments)
{
    Invocation call(arguments, 3);
    call.addValue(QStringLiteral("reason"), QStringLiteral("Why, for the journal and the report (required)."),
        QStringLiteral("TEXT"));
    call.addValue(
        QStringLiteral("confirm"), QStringLiteral("The lock's target, typed to confirm."), QStringLiteral("TARGET"));
    call.addValue(QStringLiteral("report"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."),
        QStringLiteral("FILE"));
    call.addFlag(QStringLiteral("json"), QStringLiteral("Print the plan as JSON (without --confirm)."));
    if (const auto done = call.parse())
        return *done;
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

// Every subcommand: the CLI's own, then the systems'.
QList<CliCommand> commands(const QList<CliModule>& systems)
{
    QList<CliCommand> table = {
        { { QStringLiteral("journal"), QStringLiteral("unfinished") }, runJournalUnfinished },
        { { QStringLiteral("recover") }, [systems](const QStringList& a) { return runRecover(a, systems); } },
        { { QStringLiteral("restore") },
            [systems](const QStringList& a) { return runWindowCommand(a, systems, true); } },
        { { QStringLiteral("trash"), QStringLiteral("purge") },
            [systems](const QStringList& a) { return runWindowCommand(a, systems, false); } },
        { { QStringLiteral("trash"), QStringLiteral("list") }, runTrashList },
        { { QStringLiteral("check") }, runCheck },
        { { QStringLiteral("hosts") }, runHosts },
        { { QStringLiteral("journal"), QStringLiteral("list") },
            [](const QStringList& a) { return runJournal(a, QStringLiteral("list")); } },
        { { QStringLiteral("journal"), QStringLiteral("verify") },
            [](const QStringList& a) { return runJournal(a, QStringLiteral("verify")); } },
        { { QStringLiteral("journal"), QStringLiteral("migrate") }, runJournalMigrate },
        { { QStringLiteral("journal"), QStringLiteral("anchor") },
            [](const QStringList& a) { return runJournal(a, QStringLiteral("anchor")); } },
        { { QStringLiteral("report"), QStringLiteral("export") }, runReportExport },
        { { QStringLiteral("lock"), QStringLiteral("list") }, runLockList },
        { { QStringLiteral("lock"), QStringLiteral("break") }, runLockBreak },
    };
    for (const CliModule& system : systems)
        table += system.commands;
    return table;
}

} // namespace

bool Cli::isSubcommand(const QString& argument, const QList<CliModule>& systems)
{
    // Help and version must work without a display, so they never reach the GUI's QApplication.
    static const QStringList headless
        = { QStringLiteral("help"), QStringLiteral("--help"), QStringLiteral("-h"), QStringLiteral("--version") };
    if (headless.contains(argument))
        return true;
    const QList<CliCommand> table = commands(systems);
    return std::any_of(
        table.cbegin(), table.cend(), [&](const CliCommand& command) { return command.words.first() == argument; });
}

int Cli::run(const QStringList& arguments, const QList<CliModule>& systems)
{
    setUsageSystems(systems);
    const QString first = arguments.value(1);
    int code = Usage;
    if (first == QStringLiteral("--version")) {
        out() << QCoreApplication::applicationName() << " " << QCoreApplication::applicationVersion() << "\n";
        code = Success;
    } else if (first == QStringLiteral("help") || first == QStringLiteral("--help") || first == QStringLiteral("-h")) {
        out() << usageText();
        code = Success;
    } else {
        const QList<CliCommand> table = commands(systems);
        const auto command = std::find_if(table.cbegin(), table.cend(),
            [&](const CliCommand& candidate) { return arguments.mid(1, candidate.words.size()) == candidate.words; });
        if (command != table.cend())
            code = command->handler(arguments); // the parser skips arguments[0]; the words stay positional
        else
            err() << "opsdeck: unknown subcommand \"" << arguments.mid(1, 2).join(u' ') << "\"\n" << usageText();
        awaitUnfinishedNotice(); // a command that stopped before it awaited the notice still shows it
    }
    out().flush();
    err().flush();
    return code;
}

} // namespace opsdeck
