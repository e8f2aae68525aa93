#pragma once

#include <QDateTime>
#include <QString>

namespace opsdeck::KubeCells {

// An image reference short enough for a table cell: the last path element, with a digest cut to its first 12 hex
// digits ("…/fg/permie@sha256:7144…" → "permie@sha256:7144ab12cd34…"). The full reference goes in the tooltip.
QString shortImage(const QString& reference);
// How long ago `since` was, as kubectl's AGE column says it ("45s", "3m20s", "2h", "4d").
QString age(const QDateTime& since, const QDateTime& now);

} // namespace opsdeck::KubeCells
