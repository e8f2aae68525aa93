#pragma once

#include <QProcessEnvironment>
#include <QStringList>

namespace opsdeck {

// The one environment every child process opsdeck starts gets: an allowlist, never the console's own
// environment, which holds the inventory's secret variables (tokenEnv, secretEnv, passwordEnv) and whatever else
// the admin's shell exported. A child that runs code opsdeck does not control (a pull request's deploy app)
// must see none of them.
namespace ChildEnvironment {

// PATH, HOME, USER, LOGNAME, the locale (LANG, LANGUAGE, LC_*) and TZ from this process, plus the variables named
// in `passThrough` (the inventory's deploy.environment) where they are set.
QProcessEnvironment allowlisted(const QStringList& passThrough = {});

// The same rule for a command run on another host, whose environment (sshd's, the login shell's, the admin's
// dotfiles there) this process cannot see: an argv prefix, `/bin/sh -c SCRIPT sh`, whose fixed script runs the
// rest of the argv under `env -i` with only the allowlisted variables (the LC_* ones by name) and `passThrough`
// that are set there, and stdin from /dev/null. Names that are not variable names are left out.
QStringList remoteWrapper(const QStringList& passThrough = {});

} // namespace ChildEnvironment
} // namespace opsdeck
