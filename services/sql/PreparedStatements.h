#pragma once

#include <QString>

#include <map>
#include <memory>

class QSqlDatabase;
class QSqlError;
class QSqlQuery;

namespace opsdeck {

// Statements prepared once on one connection and kept, by their text, for binding and executing again: QPSQL would
// otherwise PREPARE and DEALLOCATE a statement at every use, two round trips that through a tunnel cost more than the
// statement. Clear it before the connection goes: a query left on a connection keeps it from being removed.
class PreparedStatements
{
public:
    PreparedStatements();
    ~PreparedStatements();
    PreparedStatements(const PreparedStatements&) = delete;
    PreparedStatements& operator=(const PreparedStatements&) = delete;

    // `statement` prepared on `db` the first time it is asked for; null, with *error set, if it cannot be.
    QSqlQuery* get(const QSqlDatabase& db, const QString& statement, QSqlError* error);
    void clear();

private:
    std::map<QString, std::unique_ptr<QSqlQuery>> m_queries;
};

} // namespace opsdeck
