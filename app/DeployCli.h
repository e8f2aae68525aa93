#pragma once

#include "Cli.h"

#include <QStringList>

// `opsdeck deploy ...`: the Deploy pane's matrix and its update-and-deploy flow, headless.
namespace opsdeck::cli {

int runDeployMatrix(const QStringList& arguments);
int runDeployPull(const QStringList& arguments);
int runDeployUpdate(const QStringList& arguments);
int runDeployRun(const QStringList& arguments);
int runDeployChecks(const QStringList& arguments);
int runDeployMerge(const QStringList& arguments);
int runDeployAll(const QStringList& arguments);
// These commands and their lines of the usage text.
CliModule deployCli();

} // namespace opsdeck::cli
