#pragma once

#include "Cli.h"

#include <QStringList>

// `opsdeck pulumi orgs`, `opsdeck plan|run pulumi-purge` and `opsdeck plan|run pulumi-kill-query`: the Pulumi
// Service database, headless.
namespace opsdeck::cli {

int runPulumiOrgs(const QStringList& arguments);
int runPlanPulumiPurge(const QStringList& arguments);
int runRunPulumiPurge(const QStringList& arguments);
int runPlanPulumiKillQuery(const QStringList& arguments);
int runRunPulumiKillQuery(const QStringList& arguments);
// These commands and their lines of the usage text.
CliModule pulumiCli();

} // namespace opsdeck::cli
