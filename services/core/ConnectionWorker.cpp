#include "core/ConnectionWorker.h"

namespace opsdeck {

WorkerThread::WorkerThread(const QString& name)
    : m_context(new QObject)
{
    m_thread.setObjectName(name);
    m_context->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
}

WorkerThread::~WorkerThread()
{
    m_quitting = true;
    m_thread.quit();
    m_thread.wait();
}

void WorkerThread::post(std::function<void()> job)
{
    {
        QMutexLocker lock(&m_mutex);
        m_jobs.push_back(std::move(job));
    }
    QMetaObject::invokeMethod(
        m_context, [this] { runQueued(); }, Qt::QueuedConnection);
}

// A job that waits on the network spins the thread's event loop, which delivers the next post's call here. That call
// returns at once, and the outer one runs the next job once the waiting one is done: jobs never nest, so a job has
// its connection to itself (no second open while the first is under way), and answers come in order.
void WorkerThread::runQueued()
{
    if (m_running)
        return;
    m_running = true;
    while (!m_quitting) {
        std::function<void()> job;
        {
            QMutexLocker lock(&m_mutex);
            if (m_jobs.empty())
                break;
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        job();
    }
    m_running = false;
}

void WorkerThread::atExit(std::function<void()> cleanup)
{
    // finished is emitted on the ending thread itself, once its event loop (and any job waiting inside it) has
    // returned.
    QObject::connect(&m_thread, &QThread::finished, m_context, std::move(cleanup), Qt::DirectConnection);
}

} // namespace opsdeck
