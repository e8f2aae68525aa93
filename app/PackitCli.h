#pragma once

#include "Cli.h"

#include <QStringList>

// `opsdeck packit instances|packets` and `opsdeck plan|run packit-wipe`: Packit instances, headless.
namespace opsdeck::cli {

int runPackitInstances(const QStringList& arguments);
int runPackitPackets(const QStringList& arguments);
int runPlanWipe(const QStringList& arguments);
int runRunWipe(const QStringList& arguments);
// These commands and their lines of the usage text.
CliModule packitCli();

} // namespace opsdeck::cli
