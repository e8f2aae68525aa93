#pragma once

#include "Cli.h"

#include <QDateTime>
#include <QString>

// `opsdeck raft statefulsets` and `opsdeck raft pods`: the RAFT services' StatefulSets and their pods on a cluster
// of the inventory, headless.
namespace opsdeck::cli {

// Its subcommands, and how it recovers its runs.
CliModule raftCli();

// An image reference as a table shows it: without the registry host, and a digest cut to 12 hex characters
// ("image-registry.svc:5000/fg/permie@sha256:7144…" -> "fg/permie@sha256:71443bf116b7").
QString shortImage(const QString& image);
// An age as kubectl prints it: 42s, 5m, 3h, 2d; "-" when unknown.
QString shortAge(const QDateTime& since, const QDateTime& now);

} // namespace opsdeck::cli
