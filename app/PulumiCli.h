#pragma once

#include <QStringList>

// `opsdeck pulumi orgs`, `opsdeck plan pulumi-purge` and `opsdeck run pulumi-purge`: the Pulumi Service database,
// headless.
namespace opsdeck::cli {

int runPulumiOrgs(const QStringList& arguments);
int runPlanPulumiPurge(const QStringList& arguments);
int runRunPulumiPurge(const QStringList& arguments);

} // namespace opsdeck::cli
