#pragma once

#include "Cli.h"

// `opsdeck datamon contexts|repos|bundles|labels` and `plan|run datamon-delete-repo`: datamon contexts of the
// inventory, read and changed through datamon2 on their host, headless.
namespace opsdeck::cli {

// These commands, their lines of the usage text, and the recovery of their runs.
CliModule datamonCli();

} // namespace opsdeck::cli
