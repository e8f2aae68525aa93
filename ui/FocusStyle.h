#pragma once

#include <QProxyStyle>

namespace opsdeck {

// The platform's style, with the keyboard focus drawn so that it can be seen: a two-pixel ring in the highlight
// colour inside the focused button or check box, around the focused list and around its current cell. The admin who
// works with the keyboard always knows where Enter and Space will go.
class FocusStyle : public QProxyStyle
{
    Q_OBJECT
public:
    using QProxyStyle::QProxyStyle;

    void drawPrimitive(
        PrimitiveElement element, const QStyleOption* option, QPainter* painter, const QWidget* widget) const override;
};

} // namespace opsdeck
