#pragma once

#include <QColor>
#include <QIcon>

namespace opsdeck::StatusIcons {

// State is never shown by colour alone: each icon has its own shape (check, cross, dots, question mark).
enum class Kind
{
    Ok,
    Error,
    Busy,
    Unknown,
    Warning
};

QIcon icon(Kind kind);
QColor color(Kind kind);

} // namespace opsdeck::StatusIcons
