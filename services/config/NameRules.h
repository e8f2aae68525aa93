#pragma once

#include <QString>

namespace opsdeck {

// Target names reach shells, paths and SQL, so they are held to a pattern with no quoting surprises.
namespace NameRules {

// ^[a-z0-9][a-z0-9-]{0,62}$: host, instance, database, cluster, datamon and machine names.
bool isValidName(const QString& name);

// A message naming the field, the value and what is allowed; empty if the name is valid.
QString nameError(const QString& field, const QString& value);

// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most 63 characters: a DNS label (RFC 1123), what Kubernetes requires of a
// namespace and what the RAFT operations require of a StatefulSet's name. Unlike the names above it cannot end in
// '-'.
bool isValidDnsLabel(const QString& name);
QString dnsLabelError(const QString& field, const QString& value);

// ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$: a datamon context, which datamon names freely but which becomes a GCS object
// name (contexts/<context>/context.yaml) and an argument.
QString datamonContextError(const QString& field, const QString& value);

// True when `path` lies strictly under `base` (never equal to it). Both must be absolute and free of ".."
// segments; "." segments, repeated and trailing slashes are tolerated. Used before anything is deleted.
bool isStrictlyUnder(const QString& path, const QString& base);

// `value` in double quotes, with quotes, backslashes and control characters escaped, so that a hostile or
// multi-line value cannot break a one-line "FILE:LINE:COL: message".
QString quoted(const QString& value);

} // namespace NameRules
} // namespace opsdeck
