#pragma once

#include "config/Inventory.h"

#include <QMap>
#include <QString>
#include <QStringList>

namespace opsdeck {

// The commands the runbooks run on a host, as argv templates (see docs/inventory.md, "Command templates").
// "{x}" is replaced inside one argument by a single value; an argument that is exactly "{x...}" becomes as many
// arguments as x has values. Values are data: they are never scanned for placeholders again.
namespace CommandTemplates {

// The templates a host may override: stopUnits, startUnits, unitState, removeTree, psql, journal, readMetrics.
// "deploy" (deploy.command in the inventory) runs locally and is not among them.
QStringList names();

// The runbook's command; empty for an unknown name.
CommandTemplate defaultFor(const QString& name);

// The placeholders the template may use, without braces; empty for an unknown name.
QStringList placeholdersFor(const QString& name);

// Why `t` cannot serve as template `name`, or empty if it can. A template must name a fixed program first, use
// every one of its own placeholders and no others, and use a list placeholder only as a whole "{x...}"
// argument and a single-value one only as "{x}".
QString validate(const QString& name, const CommandTemplate& t);

// The argv for `t` with the placeholders filled from `values`. On a missing value, a "{x}" whose value is not
// exactly one string, or a "{x...}" inside a longer argument, returns an empty list and sets *error.
QStringList expand(const CommandTemplate& t, const QMap<QString, QStringList>& values, QString* error = nullptr);

} // namespace CommandTemplates
} // namespace opsdeck
