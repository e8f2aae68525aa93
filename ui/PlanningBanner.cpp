#include "PlanningBanner.h"

#include <QLabel>
#include <QTimer>

namespace opsdeck {

PlanningBanner::PlanningBanner(QWidget* parent)
    : Banner({ QStringLiteral("planningBanner"), QStringLiteral("#e3f2fd"), QStringLiteral("#90caf9"),
                 QStringLiteral("#0d47a1"), StatusIcons::Kind::Busy },
        parent)
    , m_tick(new QTimer(this))
{
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &PlanningBanner::showElapsed);
}

void PlanningBanner::start(const QString& action, const QString& target)
{
    m_what = tr("<b>Planning %1 on %2:</b> reading the live state and counting what it would change. Nothing is "
                "changed before you confirm.")
                 .arg(action.toHtmlEscaped(), target.toHtmlEscaped());
    m_clock.start();
    m_tick->start();
    showElapsed();
    show();
}

void PlanningBanner::stop()
{
    m_tick->stop();
    label()->clear();
    hide();
}

QString PlanningBanner::text() const
{
    return isHidden() ? QString() : label()->text();
}

void PlanningBanner::showElapsed()
{
    label()->setText(tr("%1 (%2 s)").arg(m_what).arg(m_clock.elapsed() / 1000));
}

} // namespace opsdeck
