#pragma once

#include <QList>
#include <QMap>
#include <QStringList>

#include <functional>
#include <optional>

namespace opsdeck {

struct Inventory;
namespace cli {
class Invocation;
struct RecoverCall;
struct UndoWindowCall;
} // namespace cli

// One option of a subcommand, as its parser, its help, the man page and the completion script all read it.
struct CliOption
{
    enum class Need
    {
        Optional,
        // The dispatcher refuses the command without it (or with it empty): one line naming it, exit 2.
        Required,
        // Shown as required, but the command checks it itself: a missing confirmation is refused (exit 3) with what to
        // type, and some are needed only without --plan, or have a message of their own for an empty value.
        CheckedByCommand
    };

    QString name; // "host"; a one-letter name is written with one dash ("-o")
    QString valueName; // "HOST"; empty for a flag
    QString help;
    Need need = Need::Optional;
    bool repeatable = false;

    static CliOption flag(const QString& name, const QString& help) { return { name, {}, help }; }
    static CliOption optional(const QString& name, const QString& valueName, const QString& help)
    {
        return { name, valueName, help };
    }
    static CliOption required(const QString& name, const QString& valueName, const QString& help)
    {
        return { name, valueName, help, Need::Required };
    }
    static CliOption checked(const QString& name, const QString& valueName, const QString& help)
    {
        return { name, valueName, help, Need::CheckedByCommand };
    }
    static CliOption repeated(const QString& name, const QString& valueName, const QString& help)
    {
        return { name, valueName, help, Need::Optional, true };
    }

    // "--host" or "-o".
    QString dashed() const;
    bool takesValue() const { return !valueName.isEmpty(); }
};

// One subcommand, declared: the dispatcher parses its arguments by it, and the usage, its --help, the man page and
// the bash completion are made from it, so that none of them can say other than what the parser takes.
struct CliCommand
{
    QStringList words; // {"plan", "packit-wipe"}
    QStringList arguments; // the positional arguments after the words ("RUN_ID"); in brackets when optional
    QString summary; // what it does, in a line
    QList<CliOption> options; // besides --inventory and --help, which every subcommand takes
    std::function<int(cli::Invocation&)> handler; // given its arguments parsed and checked
    QString details = {}; // more for its --help and the man page: when to use it, what the options do together

    QString name() const { return words.join(u' '); }
};

// A system's part of the CLI: its subcommands, how `opsdeck recover` recovers a run of each of its operations that
// ended without an outcome, how `opsdeck restore` takes back the undo window a run kept, and how `opsdeck trash purge`
// ends one early (all by the run's operation name; they return the exit code).
struct CliModule
{
    QList<CliCommand> commands;
    QMap<QString, std::function<int(const cli::RecoverCall&)>> recoverers = {};
    QMap<QString, std::function<int(const cli::UndoWindowCall&)>> restorers = {};
    QMap<QString, std::function<int(const cli::UndoWindowCall&)>> trashPurgers = {};
};

// The headless front: `opsdeck <subcommand> ...`. It drives the same services as the GUI. Its own subcommands
// (check, hosts, journal, report, ...) come with it; each system's come from the modules it is given (app/Systems.cpp).
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

    // The inventory the arguments open the console with ("" for the default one) when they ask for the console: none
    // at all, or only --inventory FILE. nullopt for everything else, which the CLI takes (or refuses as a usage
    // error): decided before any QApplication exists, so that a typo never loads a GUI platform.
    static std::optional<QString> consoleInventory(const QStringList& arguments);
    // Whether a window can be shown: a display (X11 or Wayland) or a platform asked for by name (QT_QPA_PLATFORM).
    static bool hasDisplay();
    // Every subcommand: the CLI's own, then the systems'.
    static QList<CliCommand> commands(const QList<CliModule>& systems);
    // Runs inside an existing QCoreApplication; arguments[0] is the program name. Given arguments that open the console
    // (there is no display, then), it says how to get one and lists the subcommands.
    static int run(const QStringList& arguments, const QList<CliModule>& systems);
};

} // namespace opsdeck
