#pragma once

// What every CLI subcommand shares: its output streams, argument parsing, and the one way to plan, confirm and
// run an operation. Internal to the CLI library.

#include "Cli.h"
#include "config/Inventory.h"
#include "core/AsyncTask.h"
#include "runbook/Journal.h"
#include "runbook/Operation.h"
#include "runbook/Plan.h"
#include "runbook/Recovery.h"
#include "runbook/UndoWindow.h"

#include "secrets/CredentialStore.h"
#include "secrets/TerminalPrompter.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonValue>
#include <QTextStream>

#include <functional>
#include <memory>
#include <optional>

namespace opsdeck::cli {

QTextStream& out();
QTextStream& err();
void printJson(const QJsonValue& value);
void printTable(const QStringList& headers, const QList<QStringList>& rows);
// A size in a table, as the panes show one (QLocale::formattedDataSize: "4.77 MiB"); "no space" for 0 (as the
// Journal pane's undo windows say it), "?" when unknown (negative). --json keeps bytes.
QString sizeText(qint64 bytes);
// The inventory's journal with its secrets (a team journal's password and tunnel, resolved once per process); nullopt,
// with the reason printed, if they cannot be had.
std::optional<JournalLocation> journalLocation(const Inventory& inventory);
// Where exports go when no report path says: the folder of this console's own files (JournalLocation::localDir).
QString exportsDir(const Inventory& inventory);
// Where this console keeps the undo windows it holds itself (JournalLocation::undoDir).
QString undoBase(const Inventory& inventory);
// The inventory's journal, opened; nullopt, with the reason printed, if it cannot be.
std::optional<Journal> openJournal(const Inventory& inventory);
void printPlan(const Plan& plan);
// Every command says which runs of its journal have no outcome and a console that is gone: startUnfinishedNotice
// reads them on a thread of its own (the journal's secrets resolved first, here), and awaitUnfinishedNotice prints a
// line on stderr for each, once. A run command plans meanwhile: through a team journal's tunnel the read costs a
// login. Awaiting without a start does nothing.
void startUnfinishedNotice(const Inventory& inventory);
void awaitUnfinishedNotice();

// One subcommand's arguments, parsed by its definition: its options, its positional words, the inventory.
class Invocation
{
public:
    Invocation(const QStringList& arguments, const CliCommand& command);

    // Returns an exit code when the command is done already: --help (0), or a usage error (2) said in one line: an
    // unknown option, a missing or extra argument, a required option missing or empty.
    std::optional<int> parse();
    const CliCommand& command() const { return m_command; }
    // Prints "opsdeck: WORDS: PROBLEM; see opsdeck WORDS --help" and returns Cli::Usage.
    int usageError(const QString& problem) const;

    QString value(const QString& name) const { return m_parser.value(name); }
    QStringList values(const QString& name) const { return m_parser.values(name); }
    bool isSet(const QString& name) const { return m_parser.isSet(name); }
    QString word(int index) const { return m_parser.positionalArguments().value(index); }

    // Loads the inventory (once); prints its errors and returns nullopt (exit 2) when it is invalid. The first load
    // prints the unfinished runs' notice too, or only starts it after noticeLater().
    std::optional<Inventory> inventory() const;
    // The command awaits the notice itself (awaitUnfinishedNotice) before it prints or changes anything.
    void noticeLater() { m_noticeLater = true; }

    // An integer option in [minimum, maximum], `fallback` when it is not given; prints what is allowed and
    // returns nullopt (exit 2) when it is not one.
    std::optional<int> integer(
        const QString& name, int fallback, int minimum, int maximum, const QString& unit = {}) const
    {
        if (value(name).isEmpty())
            return fallback;
        bool ok = false;
        const int n = value(name).toInt(&ok);
        if (ok && n >= minimum && n <= maximum)
            return n;
        err() << "opsdeck: --" << name << ": \"" << value(name) << "\" is not allowed: use " << minimum << " to "
              << maximum << (unit.isEmpty() ? QString() : QStringLiteral(" ") + unit) << "\n";
        return std::nullopt;
    }

private:
    QStringList m_arguments;
    CliCommand m_command;
    QCommandLineParser m_parser;
    bool m_noticeLater = false;
    mutable std::optional<std::optional<Inventory>> m_inventory; // once loaded: the inventory, or nullopt if invalid
};

// A run as resolveRunId offers it: its id, and what it was ("packit-wipe on wpia-packit/reside-dev, 2024-05-01 10:00"),
// for the list of runs an ambiguous prefix matches.
struct RunChoice
{
    QString id;
    QString label;
};
// The run the admin named by its whole id, or by a prefix of it that no other of `runs` has. nullopt, with a line
// on stderr (exit 2), when none has it (`noneError`, the whole message) or several have it (they are listed).
std::optional<QString> resolveRunId(const QString& given, const QList<RunChoice>& runs, const QString& noneError);

// The admin's undo choice for one run: `--no-undo --reason TEXT` turns the undo window off (the engine refuses it
// without a reason; the journal keeps both).
struct UndoChoice
{
    bool off = false;
    QString reason;
};
// --no-undo and --reason.
QList<CliOption> undoOptions();
// The choice the options give; nullopt, with what is wrong printed (exit 2), for --reason without --no-undo or
// --no-undo without a reason.
std::optional<UndoChoice> undoChoice(const Invocation& call);

// What `opsdeck restore RUN_ID` and `opsdeck trash purge RUN_ID` hand to the restorer or trash purger of the run's
// operation: the window, open by the journal's clock, and the admin's answer.
struct UndoWindowCall
{
    UndoWindow window;
    Inventory inventory;
    bool planOnly = false; // --plan: print the restore's plan
    bool json = false; // with planOnly
    QString confirmation;
    QString reportPath;
    UndoChoice undo; // a restore's
    QString reason; // a trash purge's

    // Plans, or runs, the restore `operation` as asked.
    int planOrRun(std::unique_ptr<Operation> operation) const;
};

// What `opsdeck recover RUN_ID --confirm NAME` hands to the recoverer of the run's operation.
struct RecoverCall
{
    Journal::UnfinishedRun run;
    Inventory inventory;
    QString confirmation;
    QString reportPath;

    // A list of strings among the run's plan parameters (empty if it is missing or not a list).
    QStringList parameterList(const QString& name) const;
};

// A system's recovery of an unfinished run (resolvePackitRecovery, resolveRaftRecovery, ...): its target and secrets
// from the run and the inventory, then the operation.
using RecoveryResolver = std::function<void(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone)>;
// The recoverers of a CliModule: each of `operations` recovered through `resolve` (the terminal as its prompter) and
// run with runOperation as the recovery of that run.
QMap<QString, std::function<int(const RecoverCall&)>> recoverers(
    const QStringList& operations, const RecoveryResolver& resolve);

// Runs an asynchronous secret lookup (`start(store, context, done)`) with the terminal as the prompter and waits
// for its answer: the one way the CLI gets secrets.
template <typename T>
std::pair<T, QString> awaitSecrets(
    const std::function<void(CredentialStore*, QObject*, std::function<void(T, const QString&)>)>& start)
{
    CredentialStore credentials;
    TerminalPrompter prompter;
    credentials.setPrompter(&prompter);
    std::optional<std::pair<T, QString>> answer;
    QEventLoop loop;
    QObject context;
    start(&credentials, &context, [&](T result, const QString& why) {
        answer = std::pair(std::move(result), why);
        loop.quit();
    });
    if (!answer)
        loop.exec();
    return std::move(*answer);
}

// Runs `work` on a pool thread (it blocks on a host or an API: never on the main thread) and waits for its answer.
template <typename T> T awaitOffThread(std::function<T()> work)
{
    std::optional<T> answer;
    QEventLoop loop;
    QObject context;
    AsyncTask::run(&context, std::move(work), [&](T result) {
        answer = std::move(result);
        loop.quit();
    });
    if (!answer)
        loop.exec();
    return std::move(*answer);
}

// Plans `operation` on a runner thread and prints the plan (or the reason there is none). Returns nullopt and
// sets *exitCode when planning failed.
std::optional<Plan> planOperation(
    std::unique_ptr<Operation> operation, const Inventory& inventory, bool json, int* exitCode);
// Plans `operation`, then runs it with `confirmation` (which the engine checks), printing progress on stderr.
// Ctrl-C, SIGTERM and SIGHUP cancel. Writes the JSON report to reportPath if given. Returns the exit code. With
// `recovers`, the run is the recovery of that run (journaled as its parameter), which the journal closes once this
// one succeeds.
int runOperation(std::unique_ptr<Operation> operation,
    const Inventory& inventory,
    const QString& confirmation,
    const QString& reportPath,
    const QString& recovers = {},
    const UndoChoice& undo = {});

// An operation made from a command's options: null, with the reason printed and *exitCode set, when it cannot be.
using OperationMaker = std::function<std::unique_ptr<Operation>(Invocation& call, int* exitCode)>;

// `opsdeck plan <operation>` and `opsdeck run <operation>`: the operation's own `options`, plus --json for the plan
// (which it prints), and --confirm (required: `confirmWhat` says what the admin types, e.g. "the StatefulSet's
// name"), --report, --no-undo and --reason for the run; `make` makes the operation from them. `summary` says what
// the run does.
QList<CliCommand> planAndRunCommands(const QString& operation,
    const QString& summary,
    const QList<CliOption>& options,
    const QString& confirmWhat,
    const OperationMaker& make);
// The summary of `opsdeck plan <operation>`.
QString planSummary(const QString& operation);

// The options several subcommands share, with the same help everywhere.
CliOption jsonOption(const QString& help = QStringLiteral("Print a JSON array."));
CliOption reportOption();

} // namespace opsdeck::cli
