#pragma once

// Every text that describes the subcommands: the usage, a subcommand's --help, a group's listing, the man page and
// the bash completion script. All are made from the commands' definitions (CliCommand), which the dispatcher parses
// by, so that none of them can drift from what the CLI takes. Internal to the CLI library.

#include "Cli.h"

namespace opsdeck::cli {

// The options every subcommand takes besides its own (--help aside).
QList<CliOption> commonOptions();
// "plan packit-wipe --host HOST --instance INSTANCE [--json]": the words, the arguments, then the options.
QString synopsis(const CliCommand& command);
// "see opsdeck plan packit-wipe --help", for the end of a usage error's line.
QString helpPointer(const CliCommand& command);
// The whole usage: how to open the console, then every subcommand with its synopsis and summary.
QString usageText(const QList<CliCommand>& commands);
// The lines of `commands` (a group's: `opsdeck packit`) as the usage lists them.
QString commandListing(const QList<CliCommand>& commands);
// One subcommand's --help: its synopsis, what it does, and its options with their descriptions.
QString commandHelp(const CliCommand& command);
// opsdeck(1) in man(7) format.
QString manPage(const QList<CliCommand>& commands, const QString& version);
// A bash completion script for the subcommands' words and options.
QString bashCompletion(const QList<CliCommand>& commands);

} // namespace opsdeck::cli
