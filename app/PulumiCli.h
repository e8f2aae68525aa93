#pragma once

#include "Cli.h"

// `opsdeck pulumi orgs`, `opsdeck plan|run pulumi-purge` and `opsdeck plan|run pulumi-kill-query`: the Pulumi
// Service database, headless.
namespace opsdeck::cli {

// Its subcommands, and how it recovers, restores and ends the undo windows of its runs.
CliModule pulumiCli();

} // namespace opsdeck::cli
