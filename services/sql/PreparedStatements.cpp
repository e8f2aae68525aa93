#include "sql/PreparedStatements.h"

#include <QSqlError>
#include <QSqlQuery>

namespace opsdeck {

PreparedStatements::PreparedStatements() = default;

PreparedStatements::~PreparedStatements() = default;

QSqlQuery* PreparedStatements::get(const QSqlDatabase& db, const QString& statement, QSqlError* error)
{
    if (const auto kept = m_queries.find(statement); kept != m_queries.end())
        return kept->second.get();
    auto query = std::make_unique<QSqlQuery>(db);
    if (!query->prepare(statement)) {
        *error = query->lastError();
        return nullptr;
    }
    return m_queries.emplace(statement, std::move(query)).first->second.get();
}

void PreparedStatements::clear()
{
    m_queries.clear();
}

} // namespace opsdeck
