#include "runbook/JournalWatcher.h"

#include "runbook/RunbookLogging.h"

#include <QFileInfo>
#include <QThread>
#include <QTimer>

namespace opsdeck {

namespace {
constexpr int kBatch = 1000; // entries read at a time
constexpr int kCoalesceMs = 50; // a burst of appends is read once
constexpr int kTeamTickMs = 10000;
constexpr int kLocalTickMs = 2000;
} // namespace

// Lives on the watcher's thread; everything it reads goes through that thread's connection to the journal.
class JournalWatcher::Worker : public QObject
{
    Q_OBJECT
public:
    Worker(JournalLocation location, int tickMs)
        : m_journal(std::move(location))
        , m_live(Journal::consoleIdentity().value(QStringLiteral("host")).toString(),
              Journal::consoleIdentity().value(QStringLiteral("pid")).toInteger())
        , m_tick(new QTimer(this))
        , m_soon(new QTimer(this))
    {
        m_tick->setInterval(tickMs);
        connect(m_tick, &QTimer::timeout, this, [this] { read(true); });
        m_soon->setSingleShot(true);
        m_soon->setInterval(kCoalesceMs);
        connect(m_soon, &QTimer::timeout, this, [this] { read(false); });
    }

    void start()
    {
        m_tick->start();
        read(true);
    }

signals:
    void runsChanged(const QList<opsdeck::LiveRun>& runs);
    void reachabilityChanged(const QString& why);

private:
    // Reads what was appended since the last read, and with `locks` the locks too (first: see LiveRuns::checkLocks).
    void read(bool locks)
    {
        QString error;
        if (!m_opened && !open(&error))
            return reportReachable(error);
        if (m_journal.location().isTeam()
            && m_journal.listen(
                   this, [this] { m_soon->start(); }, &error)
                == Journal::Listening::Failed)
            return reportReachable(error);
        bool changed = false;
        QList<Journal::HeldLock> held;
        const qint64 readAt = m_cursor;
        if (locks) {
            held = m_journal.locks(&error);
            if (!error.isEmpty())
                return reportReachable(error);
        }
        for (;;) {
            const QList<JournalEntry> batch = m_journal.entriesAfter(m_cursor, kBatch, &error);
            if (!error.isEmpty())
                return reportReachable(error);
            for (const JournalEntry& entry : batch)
                changed = m_live.add(entry) || changed;
            if (!batch.isEmpty())
                m_cursor = batch.last().seq;
            if (batch.size() < kBatch)
                break;
        }
        if (locks)
            changed = m_live.checkLocks(held, readAt) || changed;
        reportReachable({});
        if (changed)
            emit runsChanged(m_live.runs());
    }

    // Opens the journal and takes in the runs that hold a lock now, from their first entry: a console started while
    // another runs shows that run at once, with its steps so far.
    bool open(QString* error)
    {
        const JournalLocation& location = m_journal.location();
        if (!location.isTeam() && !QFileInfo::exists(location.path)) {
            error->clear();
            return false; // nobody has run anything yet: nothing to watch, and no file made for it
        }
        if (!m_journal.open(error))
            return false;
        const auto head = m_journal.head(error);
        if (!head)
            return false;
        const QList<Journal::HeldLock> held = m_journal.locks(error);
        if (!error->isEmpty())
            return false;
        for (const Journal::HeldLock& lock : held) {
            for (const JournalEntry& entry : m_journal.entries(lock.holder.runId, error))
                m_live.add(entry);
            if (!error->isEmpty())
                return false;
        }
        m_cursor = head->seq;
        m_live.checkLocks(held, m_cursor);
        m_opened = true;
        emit runsChanged(m_live.runs());
        return true;
    }

    void reportReachable(const QString& why)
    {
        if (why == m_lastProblem)
            return;
        if (!why.isEmpty())
            qCWarning(lcRunbook).noquote() << "cannot follow the journal" << m_journal.describe() << ":" << why;
        m_lastProblem = why;
        emit reachabilityChanged(why);
    }

    Journal m_journal;
    LiveRuns m_live;
    QTimer* m_tick;
    QTimer* m_soon;
    bool m_opened = false;
    qint64 m_cursor = 0; // the last entry read
    QString m_lastProblem;
};

JournalWatcher::JournalWatcher(JournalLocation location, QObject* parent)
    : QObject(parent)
    , m_thread(new QThread(this))
    , m_worker(new Worker(location, location.isTeam() ? kTeamTickMs : kLocalTickMs))
{
    qRegisterMetaType<QList<opsdeck::LiveRun>>();
    m_thread->setObjectName(QStringLiteral("opsdeck.journal-watcher"));
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &Worker::runsChanged, this, [this](const QList<LiveRun>& runs) {
        m_runs = runs;
        emit runsChanged(runs);
    });
    connect(m_worker, &Worker::reachabilityChanged, this, &JournalWatcher::reachabilityChanged);
}

JournalWatcher::~JournalWatcher()
{
    m_thread->quit();
    m_thread->wait();
}

void JournalWatcher::start()
{
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, &Worker::start);
}

} // namespace opsdeck

#include "JournalWatcher.moc"
