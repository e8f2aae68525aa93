#pragma once

#include "sql/DatabaseTarget.h"

#include <QJsonValue>
#include <QObject>
#include <QThread>

#include <functional>
#include <memory>

namespace opsdeck {

class DatabaseConnection;

// Live reads of one database for a pane, on a thread of its own that keeps the connection (and its tunnel)
// open between requests. Jobs run in order; each answer reaches `context`'s thread, unless `context` is gone.
class DatabaseWorker : public QObject
{
    Q_OBJECT
public:
    explicit DatabaseWorker(DatabaseTarget target, QObject* parent = nullptr);
    ~DatabaseWorker() override;

    using Job = std::function<QJsonValue(DatabaseConnection& connection, QString* error)>;
    using Done = std::function<void(const QJsonValue& result, const QString& error)>;
    void run(QObject* context, Job job, Done done);

    const DatabaseTarget& target() const { return m_target; }

private:
    DatabaseTarget m_target;
    QThread m_thread;
    QObject* m_context; // lives on m_thread, with the connection
    std::unique_ptr<DatabaseConnection> m_connection;
};

} // namespace opsdeck
