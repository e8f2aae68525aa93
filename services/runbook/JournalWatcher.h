#pragma once

#include "runbook/JournalLocation.h"
#include "runbook/LiveRuns.h"

#include <QList>
#include <QObject>

class QThread;

namespace opsdeck {

// Follows the journal, on a thread of its own, for what the other consoles of the team are running: each entry as it
// is appended (a team journal announces each one, LISTEN/NOTIFY: no polling), so that the Runs dock shows their runs
// step by step and each pane whose target another console holds says so. Every few seconds it also reads the locks,
// to tell a run whose console died (its lease ran out) from one that goes on; a local journal, which has no
// notifications, is read then too (other consoles on this machine: a CLI run, a cron job): every 10 s for a team
// journal, every 2 s for a local one.
class JournalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit JournalWatcher(JournalLocation location, QObject* parent = nullptr);
    ~JournalWatcher() override; // stops the thread (a read under way ends first)

    void start();
    // The runs last announced by runsChanged.
    const QList<LiveRun>& runs() const { return m_runs; }

signals:
    // The other consoles' runs changed: one started, went on to its next step, ended or stopped.
    void runsChanged(const QList<opsdeck::LiveRun>& runs);
    // The journal could not be read (why), or can again (an empty why). Said once per change.
    void reachabilityChanged(const QString& why);

private:
    class Worker;

    QThread* m_thread;
    Worker* m_worker;
    QList<LiveRun> m_runs;
};

} // namespace opsdeck
