#pragma once

#include <QColor>
#include <QIcon>
#include <QVariant>

namespace opsdeck::StatusIcons {

// State is never shown by colour alone: each icon has its own shape (check, cross, dots, question mark, exclamation
// mark, down arrow, equals sign).
enum class Kind
{
    Ok,
    Error,
    Busy,
    Unknown,
    Warning,
    Behind, // a down arrow: something newer is waiting
    Equivalent // an equals sign: different, but the same in effect
};

QIcon icon(Kind kind);
QColor color(Kind kind);
// A table cell showing a state, for `role`: the text, the icon, the colour and the tooltip (never the colour alone).
QVariant cell(int role, Kind kind, const QString& text, const QString& tooltip);

} // namespace opsdeck::StatusIcons
