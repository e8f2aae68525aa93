#pragma once

#include "Banner.h"
#include "runbook/LiveRuns.h"

#include <QSet>
#include <QStringList>

namespace opsdeck {

class RunsDock;

// The one way a pane shows that another console (another admin, a cron job, a terminal) is running one of the
// pane's operations: who, on which target, at which step, since when; and that a run of this console on that target
// is refused until it ends. Hidden when there is none; it follows the Runs dock's runsElsewhereChanged.
class RunsElsewhereBanner : public Banner
{
    Q_OBJECT
public:
    // `operations`: the names of the pane's operations (Operation::name()); empty: every operation (the journal's).
    RunsElsewhereBanner(RunsDock* runs, QStringList operations, QWidget* parent = nullptr);

    // The text shown, for tests and screenshots; empty when hidden.
    QString text() const;

signals:
    // A run it showed ended or stopped: what the pane shows of its target may have changed.
    void runEnded(const opsdeck::LiveRun& run);

private:
    void showRuns(const QList<LiveRun>& runs);

    QStringList m_operations;
    QSet<QString> m_running; // the runs it shows, by id
};

} // namespace opsdeck
