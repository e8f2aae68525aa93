#pragma once

#include <QString>
#include <QStringList>

namespace opsdeck {

class RunContext;

// Runs the deploy command (the inventory's deploy template, argv-built) on this machine, in the current step of
// `context`: its output streams into the step, and a cancel ends it (SIGTERM to its whole process group, then
// SIGKILL after a grace period), since nix leaves ssh and builders running below it. It gets
// ChildEnvironment::allowlisted(passThrough), never the console's environment.
namespace DeployCommand {

struct Result
{
    bool ok = false;
    bool cancelled = false;
    int exitCode = -1;
    QString error; // why it failed, for the step
};

Result run(const QStringList& argv, const QStringList& passThrough, RunContext& context, int timeoutMs);

} // namespace DeployCommand
} // namespace opsdeck
