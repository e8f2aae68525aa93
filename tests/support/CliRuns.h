#pragma once

#include "Sandbox.h"

#include <QJsonObject>
#include <QProcessEnvironment>
#include <QString>

namespace opsdeck::test {

// A runCli() run's exit code, stdout and stderr, for a failure message.
QString cliRunText(const CliRun& run);

// The entry of `opsdeck trash list --json [--all]` for run `runId`; empty if it has none (or, with a warning, if the
// list failed).
QJsonObject trashWindow(const QProcessEnvironment& environment, const QString& runId, bool all);

} // namespace opsdeck::test
