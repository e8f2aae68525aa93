#pragma once

#include <QMetaObject>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

namespace opsdeck {

// The thread under a ConnectionWorker (and an OperationRunner): jobs posted to it run one after another, in order,
// never one inside another. Quitting ends every event loop of the thread, so a job waiting on a remote command or a
// query returns at once; jobs still queued are dropped.
class WorkerThread
{
public:
    explicit WorkerThread(const QString& name);
    ~WorkerThread();
    WorkerThread(const WorkerThread&) = delete;
    WorkerThread& operator=(const WorkerThread&) = delete;

    // Runs `job` on the thread, after the jobs posted before it.
    void post(std::function<void()> job);
    // Runs `cleanup` on the thread when it ends (what the jobs opened belongs to the thread and must end there).
    void atExit(std::function<void()> cleanup);

private:
    void runQueued(); // on the thread

    QThread m_thread;
    QObject* m_context; // lives on m_thread
    QMutex m_mutex;
    std::deque<std::function<void()>> m_jobs; // guarded by m_mutex
    bool m_running = false; // a job is running; only touched on the thread
    std::atomic_bool m_quitting = false;
};

// The one worker for a pane's live connection (a database, a host, a cluster): one thread that keeps the
// connection open between jobs, jobs queued in order, and every job answered, with its error when it failed.
// The connection is made on the thread by `factory` at the first job and destroyed there at the end.
//
// Answers go to `context`'s thread, and never once `context` is gone. A caller whose question can change before
// the answer comes (a model that was re-sorted) tags its jobs with a generation of its own and drops answers of
// an older one: the worker cannot know which answers are still wanted.
//
// Short jobs that need no connection of their own use AsyncTask::run; operations use OperationRunner.
template <typename Connection> class ConnectionWorker
{
public:
    using Factory = std::function<std::unique_ptr<Connection>()>;

    ConnectionWorker(const QString& name, Factory factory)
        : m_factory(std::move(factory))
        , m_thread(name)
    {
        m_thread.atExit([this] { m_connection.reset(); });
    }

    // `job(Connection&, QString* error)` runs on the worker thread and returns a value of any copyable type;
    // `done(result, error)` gets it on `context`'s thread. An empty error means success.
    template <typename Job, typename Done> void run(QObject* context, Job job, Done done)
    {
        QPointer<QObject> guard(context);
        m_thread.post([this, guard, job = std::move(job), done = std::move(done)]() mutable {
            if (!guard)
                return;
            if (!m_connection)
                m_connection = m_factory();
            QString error;
            auto result = job(*m_connection, &error);
            QMetaObject::invokeMethod(
                guard.data(),
                [guard, done = std::move(done), result = std::move(result), error]() mutable {
                    if (guard)
                        done(std::move(result), error);
                },
                Qt::QueuedConnection);
        });
    }

private:
    Factory m_factory;
    std::unique_ptr<Connection> m_connection; // only touched on the worker thread
    WorkerThread m_thread; // declared last, so it ends first: before the members its jobs use
};

} // namespace opsdeck
