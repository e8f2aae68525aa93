#include "ErrorBanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace opsdeck {

ErrorBanner::ErrorBanner(QWidget* parent)
    : Banner({ QStringLiteral("errorBanner"), QStringLiteral("#ffebee"), QStringLiteral("#ef9a9a"),
                 QStringLiteral("#b71c1c"), StatusIcons::Kind::Error },
        parent)
{
    auto* dismiss = new QPushButton(tr("Dismiss"), this);
    dismiss->setToolTip(tr("Hide this message; nothing is retried"));
    row()->addWidget(dismiss, 0, Qt::AlignTop);
    connect(dismiss, &QPushButton::clicked, this, &ErrorBanner::clear);
}

void ErrorBanner::showProblem(const Problem& problem)
{
    const QString next = problem.next.isEmpty() ? tr("Try again once the cause is fixed.") : problem.next;
    label()->setText(tr("<b>%1 failed on %2.</b><br>%3<br><i>Next:</i> %4")
                         .arg(problem.step.toHtmlEscaped(), problem.target.toHtmlEscaped(),
                             problem.error.toHtmlEscaped(), next.toHtmlEscaped()));
    show();
}

void ErrorBanner::clear()
{
    label()->clear();
    hide();
}

QString ErrorBanner::text() const
{
    return isHidden() ? QString() : label()->text();
}

} // namespace opsdeck
