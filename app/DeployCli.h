#pragma once

#include "Cli.h"

// `opsdeck deploy ...`: the Deploy pane's matrix and its update-and-deploy flow, headless.
namespace opsdeck::cli {

// Its subcommands, and how it recovers, restores and ends the undo windows of its runs.
CliModule deployCli();

} // namespace opsdeck::cli
