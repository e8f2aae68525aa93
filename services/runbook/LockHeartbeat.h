#pragma once

#include "runbook/JournalLocation.h"

#include <QMutex>
#include <QString>
#include <QWaitCondition>

#include <functional>
#include <memory>

class QThread;

namespace opsdeck {

// Renews a run's lock in the journal while the run lives (a quarter of the lease apart, on a thread of its own, so
// that a long step does not let the lease run out), until destroyed. When a renewal fails (the journal cannot be
// reached, or another console took the lock over after the lease ran out), it calls `lost` once, from its thread,
// with why, and stops: the run must stop before its next step, since its target is no longer its own.
class LockHeartbeat
{
public:
    LockHeartbeat(JournalLocation journal, QString target, QString runId, std::function<void(const QString&)> lost);
    ~LockHeartbeat();
    LockHeartbeat(const LockHeartbeat&) = delete;
    LockHeartbeat& operator=(const LockHeartbeat&) = delete;

private:
    void beat();

    JournalLocation m_journal;
    QString m_target;
    QString m_runId;
    std::function<void(const QString&)> m_lost;
    QMutex m_mutex;
    QWaitCondition m_wake;
    bool m_stopping = false; // guarded by m_mutex
    std::unique_ptr<QThread> m_thread;
};

} // namespace opsdeck
