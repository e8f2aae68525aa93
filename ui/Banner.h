#pragma once

#include "StatusIcons.h"

#include <QFrame>

class QHBoxLayout;
class QLabel;

namespace opsdeck {

// What every banner of a pane shares: a tinted frame, an icon, and words that wrap and can be selected. The icon and
// the words carry the state, not the colour alone. Hidden until its owner shows it.
class Banner : public QFrame
{
    Q_OBJECT
public:
    struct Look
    {
        QString objectName;
        QString background;
        QString border;
        QString textColor;
        StatusIcons::Kind icon;
    };

    Banner(const Look& look, QWidget* parent);

protected:
    QLabel* label() const { return m_text; }
    QHBoxLayout* row() const { return m_row; }

private:
    QHBoxLayout* m_row;
    QLabel* m_text;
};

} // namespace opsdeck
