#include "pulumi/PulumiQueries.h"

#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

namespace opsdeck::PulumiQueries {

namespace {

bool run(QSqlQuery& query, QString* error)
{
    if (query.exec())
        return true;
    *error = query.lastError().text();
    return false;
}

} // namespace

bool isPlainIdentifier(const QString& name)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]{0,63}$"));
    return plain.match(name).hasMatch();
}

std::optional<QList<Organization>> organizations(const QSqlDatabase& db, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT o.github_login, o.name, COALESCE(SUM(p.deleted_at > 0), 0), "
                                 "COALESCE(SUM(p.deleted_at = 0), 0) "
                                 "FROM Organizations AS o LEFT JOIN Programs AS p ON p.org_id = o.id "
                                 "GROUP BY o.id, o.github_login, o.name ORDER BY o.github_login"));
    if (!run(query, error))
        return std::nullopt;
    QList<Organization> result;
    while (query.next())
        result << Organization { query.value(0).toString(), query.value(1).toString(), query.value(2).toLongLong(),
            query.value(3).toLongLong() };
    return result;
}

std::optional<QList<ForeignKey>> foreignKeys(const QSqlDatabase& db, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral(
        "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE AS k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r "
        "  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "  AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY k.TABLE_NAME, k.COLUMN_NAME"));
    if (!run(query, error))
        return std::nullopt;
    QList<ForeignKey> keys;
    while (query.next()) {
        ForeignKey key { query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
            query.value(3).toString(), query.value(4).toString() };
        if (!isPlainIdentifier(key.child) || !isPlainIdentifier(key.column) || !isPlainIdentifier(key.parent)
            || !isPlainIdentifier(key.referencedColumn)) {
            *error = QStringLiteral("the schema has a foreign key with a name opsdeck will not put into SQL: %1.%2 -> "
                                    "%3.%4")
                         .arg(key.child, key.column, key.parent, key.referencedColumn);
            return std::nullopt;
        }
        keys << key;
    }
    return keys;
}

QList<CascadeTable> cascadeFrom(const QString& root, const QList<ForeignKey>& keys)
{
    QList<CascadeTable> result { { root, {} } };
    // Breadth first; a table is taken once, by its first (shortest) path.
    for (qsizetype i = 0; i < result.size(); ++i) {
        const CascadeTable current = result[i];
        for (const ForeignKey& key : keys) {
            if (key.parent != current.table || key.deleteRule != QStringLiteral("CASCADE"))
                continue;
            const bool seen = std::any_of(
                result.cbegin(), result.cend(), [&](const CascadeTable& t) { return t.table == key.child; });
            if (seen)
                continue;
            CascadeTable next { key.child, current.path };
            next.path << key;
            result << next;
        }
    }
    return result;
}

std::optional<QMap<QString, qint64>> tableRows(const QSqlDatabase& db, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.tables "
                                 "WHERE table_schema = DATABASE() ORDER BY TABLE_NAME"));
    if (!run(query, error))
        return std::nullopt;
    QMap<QString, qint64> rows;
    while (query.next())
        rows.insert(query.value(0).toString(), query.value(1).toLongLong());
    return rows;
}

std::optional<QMap<QString, qint64>> exactRows(const QSqlDatabase& db, const QStringList& tables, QString* error)
{
    QMap<QString, qint64> rows;
    for (const QString& table : tables) {
        if (!isPlainIdentifier(table)) {
            *error = QStringLiteral("table name %1 is not a plain identifier").arg(table);
            return std::nullopt;
        }
        QSqlQuery query(db);
        query.prepare(QStringLiteral("SELECT COUNT(*) FROM `%1`").arg(table));
        if (!run(query, error) || !query.next())
            return std::nullopt;
        rows.insert(table, query.value(0).toLongLong());
    }
    return rows;
}

} // namespace opsdeck::PulumiQueries
