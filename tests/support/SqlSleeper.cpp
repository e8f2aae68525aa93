#include "SqlSleeper.h"

#include <QSqlDatabase>
#include <QSqlQuery>

namespace opsdeck::test {

SqlSleeper::SqlSleeper(const Sandbox::Server& server, const QStringList& statements)
{
    m_thread = std::thread([this, server, statements] {
        const QString name = QStringLiteral("sleeper-%1").arg(reinterpret_cast<quintptr>(this));
        {
            QSqlDatabase db = server.addMysqlConnection(name, QStringLiteral("pulumi"));
            QSqlQuery query(db);
            if (db.open() && query.exec(QStringLiteral("SELECT CONNECTION_ID()")) && query.next()) {
                m_id = query.value(0).toLongLong();
                for (const QString& statement : statements)
                    query.exec(statement);
            }
        }
        QSqlDatabase::removeDatabase(name);
        m_done = true;
    });
}

SqlSleeper::~SqlSleeper()
{
    m_thread.join();
}

} // namespace opsdeck::test
