#pragma once

#include "Cli.h"

// `opsdeck datamon contexts|repos|bundles|labels` and `plan|run datamon-delete-repo`: datamon contexts of the
// inventory, read and changed through datamon2 on their host, headless.
namespace opsdeck::cli {

// Its subcommands, and how it recovers, restores and ends the undo windows of its runs.
CliModule datamonCli();

} // namespace opsdeck::cli
