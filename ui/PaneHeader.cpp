#include "PaneHeader.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace opsdeck {

QToolButton* makeBadge(
    const QString& objectName, StatusIcons::Kind kind, const QColor& color, const QString& text, QWidget* parent)
{
    auto* badge = new QToolButton(parent);
    badge->setObjectName(objectName);
    badge->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    badge->setAutoRaise(true);
    badge->setFocusPolicy(Qt::NoFocus);
    badge->setIcon(StatusIcons::icon(kind));
    badge->setText(text);
    badge->setStyleSheet(QStringLiteral("QToolButton { color: %1; font-weight: bold; }").arg(color.name()));
    badge->hide();
    return badge;
}

QStringList tagWords(const Tags& tags)
{
    QStringList words;
    if (tags.production)
        words << PaneHeader::tr("production");
    if (tags.readOnly)
        words << PaneHeader::tr("read-only");
    return words;
}

void addTargetChoice(QComboBox* box, const QString& text, const QVariant& data, const Tags& tags)
{
    const QStringList marks = tagWords(tags);
    box->addItem(tags.production ? StatusIcons::icon(StatusIcons::Kind::Production) : QIcon(),
        marks.isEmpty() ? text : PaneHeader::tr("%1 (%2)").arg(text, marks.join(QStringLiteral(", "))), data);
}

PaneHeader::PaneHeader(const QString& title, QWidget* parent)
    : QWidget(parent)
    , m_production(makeBadge(QStringLiteral("productionBadge"),
          StatusIcons::Kind::Production,
          StatusIcons::color(StatusIcons::Kind::Production),
          QString(),
          this))
{
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(QStringLiteral("<h2>%1</h2>").arg(title.toHtmlEscaped()), this));
    row->addSpacing(12);
    row->addWidget(m_production);
    row->addStretch(1);
}

void PaneHeader::setProduction(bool production, const QString& target)
{
    m_production->setText(tr("Production: %1").arg(target));
    m_production->setToolTip(StatusIcons::productionMeaning());
    m_production->setVisible(production);
}

QString PaneHeader::productionText() const
{
    return m_production->isHidden() ? QString() : m_production->text();
}

} // namespace opsdeck
