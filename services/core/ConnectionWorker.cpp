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
    m_thread.quit();
    m_thread.wait();
}

void WorkerThread::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_context, std::move(job), Qt::QueuedConnection);
}

void WorkerThread::atExit(std::function<void()> cleanup)
{
    // finished is emitted on the ending thread itself, once its event loop (and any job waiting inside it) has
    // returned.
    QObject::connect(&m_thread, &QThread::finished, m_context, std::move(cleanup), Qt::DirectConnection);
}

} // namespace opsdeck
