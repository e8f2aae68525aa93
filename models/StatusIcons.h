#pragma once

#include <QColor>
#include <QIcon>
#include <QVariant>

namespace opsdeck::StatusIcons {

// State is never shown by colour alone: each icon has its own shape (check, cross, dots, question mark, exclamation
// mark, down arrow, equals sign). Production is not a state but where a target is: a red diamond, the road sign's
// shape, with an exclamation mark.
enum class Kind
{
    Ok,
    Error,
    Busy,
    Unknown,
    Warning,
    Behind, // a down arrow: something newer is waiting
    Equivalent, // an equals sign: different, but the same in effect
    Production
};

QIcon icon(Kind kind);
QColor color(Kind kind);
// A table cell showing a state, for `role`: the text, the icon, the colour and the tooltip (never the colour alone).
QVariant cell(int role, Kind kind, const QString& text, const QString& tooltip);
// How every table marks the name cell of a production target, for `role`: the production icon and a tooltip saying
// so; invalid for the other roles, which the model answers.
QVariant productionMark(int role);
// An error as its table cell shows it: its first sentence, what failed and why ("cannot connect to root@spare (...):
// Connection refused"), so that eliding the middle keeps the cause in view; what to do next is in the tooltip, which
// has the whole message.
QString errorCellText(const QString& message);
// What the production mark means, for tooltips and badges.
QString productionMeaning();

} // namespace opsdeck::StatusIcons
