#pragma once

#include <QList>
#include <QMap>
#include <QStringList>

#include <functional>

namespace opsdeck {

// One subcommand: the words that name it ({"plan", "packit-wipe"}) and what runs it (given every argument).
struct CliCommand
{
    QStringList words;
    std::function<int(const QStringList&)> handler;
};

struct Inventory;
namespace cli {
struct RecoverCall;
struct UndoWindowCall;
} // namespace cli

// A system's part of the CLI: its subcommands, its lines of `opsdeck help`, how `opsdeck recover` recovers a run of
// each of its operations that ended without an outcome, how `opsdeck restore` takes back the undo window a run kept,
// and how `opsdeck trash purge` ends one early (all by the run's operation name; they return the exit code).
struct CliModule
{
    QList<CliCommand> commands;
    QString usage;
    QMap<QString, std::function<int(const cli::RecoverCall&)>> recoverers = {};
    QMap<QString, std::function<int(const cli::UndoWindowCall&)>> restorers = {};
    QMap<QString, std::function<int(const cli::UndoWindowCall&)>> trashPurgers = {};
};

// The headless front: `opsdeck <subcommand> ...`. It drives the same services as the GUI. Its own subcommands
// (check, hosts, journal, report) come with it; each system's come from the modules it is given (app/Systems.cpp).
// Exit codes for every subcommand: 0 success, 1 failure, 2 invalid input or usage, 3 refused by a safety rule.
class Cli
{
public:
    enum Exit
    {
        Success = 0,
        Failure = 1,
        Usage = 2,
        Refused = 3
    };

    static bool isSubcommand(const QString& argument, const QList<CliModule>& systems);
    // Runs inside an existing QCoreApplication; arguments[0] is the program name.
    static int run(const QStringList& arguments, const QList<CliModule>& systems);
};

} // namespace opsdeck
