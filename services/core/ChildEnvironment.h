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

} // namespace ChildEnvironment
} // namespace opsdeck
