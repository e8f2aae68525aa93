#pragma once

#include <QColor>
#include <QIcon>

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

} // namespace opsdeck::StatusIcons
