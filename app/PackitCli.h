#pragma once

#include "Cli.h"

// `opsdeck packit instances|packets` and `opsdeck plan|run packit-wipe`: Packit instances, headless.
namespace opsdeck::cli {

// Its subcommands, and how it recovers, restores and ends the undo windows of its runs.
CliModule packitCli();

} // namespace opsdeck::cli
