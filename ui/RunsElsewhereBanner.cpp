#include "RunsElsewhereBanner.h"

#include "RunsDock.h"

#include <QLabel>

namespace opsdeck {

RunsElsewhereBanner::RunsElsewhereBanner(RunsDock* runs, QStringList operations, QWidget* parent)
    : Banner({ QStringLiteral("runsElsewhereBanner"), QStringLiteral("#fff8e1"), QStringLiteral("#ffcc80"),
                 QStringLiteral("#5d4037"), StatusIcons::Kind::Busy },
        parent)
    , m_operations(std::move(operations))
{
    connect(runs, &RunsDock::runsElsewhereChanged, this, &RunsElsewhereBanner::showRuns);
    showRuns(runs->runsElsewhere());
}

void RunsElsewhereBanner::showRuns(const QList<LiveRun>& runs)
{
    QStringList lines;
    QSet<QString> running;
    for (const LiveRun& run : runs) {
        if (!m_operations.isEmpty() && !m_operations.contains(run.operation))
            continue;
        if (!run.running()) {
            if (m_running.contains(run.runId))
                emit runEnded(run);
            continue;
        }
        running.insert(run.runId);
        lines << tr("<b>%1</b> is locked by <b>%2</b> (process %3 on %4): %5 since %6, at %7.")
                     .arg(run.lock.toHtmlEscaped(), run.user.toHtmlEscaped())
                     .arg(run.pid)
                     .arg(run.host.toHtmlEscaped(), RunRecord::runName(run.operation, run.target).toHtmlEscaped(),
                         run.startedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")),
                         run.stepText().toHtmlEscaped());
    }
    m_running = running;
    if (lines.isEmpty()) {
        label()->clear();
        hide();
        return;
    }
    lines << tr("<i>A run on a locked target is refused here until that one ends; the Runs dock follows it.</i>");
    label()->setText(lines.join(QStringLiteral("<br>")));
    show();
}

QString RunsElsewhereBanner::text() const
{
    return isHidden() ? QString() : label()->text();
}

} // namespace opsdeck
