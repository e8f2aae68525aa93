#pragma once

#include "Sandbox.h"

#include <QList>

#include <sys/types.h>

namespace opsdeck::test {

// Drops every SSH connection to the sandbox's host `name`, as a network cut would: SIGKILL to every process below its
// sshd listener. Each connection is a privileged monitor and, below it, the session's own process, which goes on
// forwarding when only the monitor dies, so the whole tree goes. The listener stays, so a new tunnel can be opened.
// It is found through this sandbox's pid file and /proc, never by name: other sandboxes' sshd and the system's are
// not ours. Returns the processes killed.
QList<pid_t> dropConnections(const Sandbox& sandbox, const QString& name);
// Whether `pid` still runs; killed processes nobody reaps linger as zombies here (PID 1 is no init): those are gone.
bool isRunning(pid_t pid);

} // namespace opsdeck::test
