#include "ErrorBanner.h"

#include "StatusIcons.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace opsdeck {

ErrorBanner::ErrorBanner(QWidget* parent)
    : QFrame(parent)
    , m_text(new QLabel(this))
{
    setObjectName(QStringLiteral("errorBanner"));
    setStyleSheet(QStringLiteral("QFrame#errorBanner { background: #ffebee; border: 1px solid #ef9a9a; "
                                 "border-radius: 4px; } QFrame#errorBanner QLabel { color: #b71c1c; }"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    auto* icon = new QLabel(this);
    icon->setPixmap(StatusIcons::icon(StatusIcons::Kind::Error).pixmap(20, 20));
    icon->setAlignment(Qt::AlignTop);
    layout->addWidget(icon);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_text, 1);
    auto* dismiss = new QPushButton(tr("Dismiss"), this);
    dismiss->setToolTip(tr("Hide this message; nothing is retried"));
    layout->addWidget(dismiss, 0, Qt::AlignTop);
    connect(dismiss, &QPushButton::clicked, this, &ErrorBanner::clear);
    hide();
}

void ErrorBanner::showProblem(const Problem& problem)
{
    const QString next = problem.next.isEmpty() ? tr("Try again once the cause is fixed.") : problem.next;
    m_text->setText(tr("<b>%1 failed on %2.</b><br>%3<br><i>Next:</i> %4")
                        .arg(problem.step.toHtmlEscaped(), problem.target.toHtmlEscaped(),
                            problem.error.toHtmlEscaped(), next.toHtmlEscaped()));
    show();
}

void ErrorBanner::clear()
{
    m_text->clear();
    hide();
}

QString ErrorBanner::text() const
{
    return isHidden() ? QString() : m_text->text();
}

} // namespace opsdeck
