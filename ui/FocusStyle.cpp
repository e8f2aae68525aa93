#include "FocusStyle.h"

#include <QAbstractItemView>
#include <QPainter>
#include <QStyleOption>

namespace opsdeck {

namespace {

void ring(const QStyleOption* option, QPainter* painter, const QRect& rect)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QPen pen(option->palette.color(QPalette::Highlight), 2);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    painter->drawRoundedRect(QRectF(rect).adjusted(1, 1, -1, -1), 3, 3);
    painter->restore();
}

} // namespace

void FocusStyle::drawPrimitive(
    PrimitiveElement element, const QStyleOption* option, QPainter* painter, const QWidget* widget) const
{
    switch (element) {
    case PE_FrameFocusRect:
        // Drawn by buttons, check boxes and a list's current cell, whether the focus came by key or by mouse.
        ring(option, painter, option->rect);
        return;
    case PE_Frame:
        QProxyStyle::drawPrimitive(element, option, painter, widget);
        if ((option->state & State_HasFocus) && qobject_cast<const QAbstractItemView*>(widget))
            ring(option, painter, option->rect);
        return;
    default:
        QProxyStyle::drawPrimitive(element, option, painter, widget);
    }
}

} // namespace opsdeck
