#include "sql/DatabaseWorker.h"

#include "sql/DatabaseConnection.h"

#include <QPointer>

namespace opsdeck {

DatabaseWorker::DatabaseWorker(DatabaseTarget target, QObject* parent)
    : QObject(parent)
    , m_target(std::move(target))
    , m_context(new QObject)
{
    m_thread.setObjectName(QStringLiteral("db:") + m_target.database.name);
    m_context->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    // The connection belongs to the worker thread: it ends there.
    connect(
        &m_thread, &QThread::finished, m_context, [this] { m_connection.reset(); }, Qt::DirectConnection);
    m_thread.start();
}

DatabaseWorker::~DatabaseWorker()
{
    m_thread.quit();
    m_thread.wait();
}

void DatabaseWorker::run(QObject* context, Job job, Done done)
{
    QPointer<QObject> guard(context);
    QMetaObject::invokeMethod(m_context, [this, guard, job = std::move(job), done = std::move(done)] {
        if (!m_connection)
            m_connection = std::make_unique<DatabaseConnection>(m_target);
        QString error;
        QJsonValue result;
        if (m_connection->open(&error))
            result = job(*m_connection, &error);
        if (!guard)
            return;
        QMetaObject::invokeMethod(
            guard.data(),
            [guard, done, result, error] {
                if (guard)
                    done(result, error);
            },
            Qt::QueuedConnection);
    });
}

} // namespace opsdeck
