#include "runbook/LockHeartbeat.h"

#include "runbook/Journal.h"
#include "runbook/RunbookLogging.h"

#include <QDeadlineTimer>
#include <QMutexLocker>
#include <QThread>

namespace opsdeck {

LockHeartbeat::LockHeartbeat(
    JournalLocation journal, QString target, QString runId, std::function<void(const QString&)> lost)
    : m_journal(std::move(journal))
    , m_target(std::move(target))
    , m_runId(std::move(runId))
    , m_lost(std::move(lost))
    , m_thread(QThread::create([this] { beat(); }))
{
    m_thread->setObjectName(QStringLiteral("lock heartbeat"));
    m_thread->start();
}

LockHeartbeat::~LockHeartbeat()
{
    {
        QMutexLocker lock(&m_mutex);
        m_stopping = true;
        m_wake.wakeAll();
    }
    m_thread->wait();
}

void LockHeartbeat::beat()
{
    // Its own journal on its own thread: a team journal's connection belongs to the thread that uses it. Opened at the
    // first renewal, not before: most runs end sooner, and a connection made meanwhile (through a tunnel: TLS, a
    // login) would slow the run's first steps.
    Journal journal(m_journal);
    QString error;
    bool opened = false;
    const qint64 interval = Journal::leaseMs() / 4;
    QMutexLocker lock(&m_mutex);
    while (!m_stopping) {
        m_wake.wait(&m_mutex, QDeadlineTimer(interval));
        if (m_stopping)
            return;
        lock.unlock();
        opened = opened || journal.open(&error);
        const bool renewed = opened && journal.renewLock(m_target, m_runId, &error);
        lock.relock();
        if (renewed)
            continue;
        qCCritical(lcRunbook).noquote() << "Cannot renew the lock on" << m_target << "for run" << m_runId << ":"
                                        << error;
        m_lost(QStringLiteral("the lock on %1 could not be renewed (%2), so another console may take the target "
                              "over; check the target and the journal before running again")
                   .arg(m_target, error));
        return;
    }
}

} // namespace opsdeck
