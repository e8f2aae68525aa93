#include "Banner.h"

#include <QHBoxLayout>
#include <QLabel>

namespace opsdeck {

Banner::Banner(const Look& look, QWidget* parent)
    : QFrame(parent)
    , m_row(new QHBoxLayout(this))
    , m_text(new QLabel(this))
{
    setObjectName(look.objectName);
    setStyleSheet(QStringLiteral("QFrame#%1 { background: %2; border: 1px solid %3; border-radius: 4px; } "
                                 "QFrame#%1 QLabel { color: %4; }")
                      .arg(look.objectName, look.background, look.border, look.textColor));
    m_row->setContentsMargins(8, 6, 8, 6);
    auto* icon = new QLabel(this);
    icon->setPixmap(StatusIcons::icon(look.icon).pixmap(20, 20));
    icon->setAlignment(Qt::AlignTop);
    m_row->addWidget(icon);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_row->addWidget(m_text, 1);
    hide();
}

} // namespace opsdeck
