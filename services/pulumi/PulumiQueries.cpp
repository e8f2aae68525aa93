#include "pulumi/PulumiQueries.h"

#include "sql/SqlLike.h"

#include <QJsonObject>
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
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]{0,63}\\z"));
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

QString cascadeJoin(const CascadeTable& table)
{
    const qsizetype depth = table.path.size();
    QString sql = QStringLiteral("FROM `%1` AS t%2").arg(table.table).arg(depth);
    for (qsizetype i = depth; i > 0; --i) {
        const ForeignKey& key = table.path[i - 1];
        sql += QStringLiteral(" JOIN `%1` AS t%2 ON t%3.`%4` = t%2.`%5`")
                   .arg(key.parent)
                   .arg(i - 1)
                   .arg(i)
                   .arg(key.column, key.referencedColumn);
    }
    return sql + QStringLiteral(" WHERE t0.id IN %1");
}

namespace {

// One number per table of the schema from information_schema.tables: `column` is TABLE_ROWS or AVG_ROW_LENGTH.
std::optional<QMap<QString, qint64>> perTable(const QSqlDatabase& db, const QString& column, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT TABLE_NAME, %1 FROM information_schema.tables "
                                 "WHERE table_schema = DATABASE() ORDER BY TABLE_NAME")
                      .arg(column));
    if (!run(query, error))
        return std::nullopt;
    QMap<QString, qint64> values;
    while (query.next())
        values.insert(query.value(0).toString(), query.value(1).toLongLong());
    return values;
}

} // namespace

std::optional<QMap<QString, qint64>> tableRows(const QSqlDatabase& db, QString* error)
{
    return perTable(db, QStringLiteral("TABLE_ROWS"), error);
}

std::optional<QMap<QString, qint64>> averageRowBytes(const QSqlDatabase& db, QString* error)
{
    return perTable(db, QStringLiteral("AVG_ROW_LENGTH"), error);
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

namespace {

// The soft-deleted Programs rows matching the filter (a stack name or an organisation's login). Organizations is
// joined only when the order needs it: sorting 100,000 joined rows takes MariaDB 5 times as long.
QString stacksWhere(const QString& filter, bool joinOrganizations = false)
{
    return (joinOrganizations ? QStringLiteral(" FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id")
                              : QStringLiteral(" FROM Programs AS p"))
        + QStringLiteral(" WHERE p.deleted_at > 0")
        + (filter.isEmpty() ? QString()
                            : QStringLiteral(" AND (p.stack_name LIKE ? OR p.org_id IN (SELECT id FROM "
                                             "Organizations WHERE github_login LIKE ?))"));
}

void bindFilter(QSqlQuery& query, const QString& filter)
{
    if (filter.isEmpty())
        return;
    query.addBindValue(SqlLike::contains(filter));
    query.addBindValue(SqlLike::contains(filter));
}

} // namespace

std::optional<QList<RowValues>> softDeletedStacks(const QSqlDatabase& db, const PageRequest& request, QString* error)
{
    // Sort columns by field, an allowlist: they go into the SQL text. None of them can be NULL (schema.sql).
    static const QStringList columns { QStringLiteral("o.github_login"), QStringLiteral("p.stack_name"),
        QStringLiteral("p.project_name"), QStringLiteral("p.deleted_at") };
    const int field = request.sort.field >= 0 && request.sort.field < columns.size() ? request.sort.field : StackName;
    const QString column = columns[field];
    const QString direction = request.sort.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    const QString order = QStringLiteral(" ORDER BY %1 %2, p.id %2").arg(column, direction);
    // Keyset: the rows after the last one loaded. Spelt out rather than as (col, id) > (?, ?), which MariaDB does
    // not turn into a range.
    const QString after = request.after
        ? QStringLiteral(" AND (%1 %2 ? OR (%1 = ? AND p.id %2 ?))")
              .arg(column, request.sort.descending ? QStringLiteral("<") : QStringLiteral(">"))
        : QString();
    // The page's ids first, sorted on as narrow rows as the order allows; then their columns.
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT o.github_login, p.stack_name, p.project_name, p.deleted_at, p.stack_id, p.id "
                                 "FROM (SELECT p.id")
        + stacksWhere(request.filter, field == StackOrg) + after + order
        + QStringLiteral(" LIMIT ?) AS page JOIN Programs AS p ON p.id = page.id JOIN Organizations AS o ON "
                         "o.id = p.org_id")
        + order);
    bindFilter(query, request.filter);
    if (request.after) {
        query.addBindValue(request.after->value);
        query.addBindValue(request.after->value);
        query.addBindValue(request.after->id);
    }
    query.addBindValue(request.limit);
    if (!run(query, error))
        return std::nullopt;
    QList<RowValues> rows;
    while (query.next())
        rows.append({ query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
            query.value(3).toLongLong(), query.value(4).toString(), query.value(5).toString() });
    return rows;
}

std::optional<qint64> softDeletedStackCount(const QSqlDatabase& db, const QString& filter, QString* error)
{
    QSqlQuery query(db);
    query.prepare(QStringLiteral("SELECT COUNT(*)") + stacksWhere(filter));
    bindFilter(query, filter);
    if (!run(query, error) || !query.next())
        return std::nullopt;
    return query.value(0).toLongLong();
}

namespace {

QJsonObject processRow(const QSqlQuery& query)
{
    return { { QStringLiteral("id"), query.value(0).toLongLong() },
        { QStringLiteral("user"), query.value(1).toString() }, { QStringLiteral("host"), query.value(2).toString() },
        { QStringLiteral("db"), query.value(3).toString() }, { QStringLiteral("command"), query.value(4).toString() },
        { QStringLiteral("time"), query.value(5).toLongLong() }, { QStringLiteral("state"), query.value(6).toString() },
        { QStringLiteral("info"), query.value(7).toString() } };
}

// SHOW FULL PROCESSLIST, as a query that can be prepared.
const QString kProcessColumns
    = QStringLiteral("SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO FROM information_schema.PROCESSLIST ");

} // namespace

std::optional<QJsonArray> processList(const QSqlDatabase& db, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(kProcessColumns + QStringLiteral("WHERE ID <> CONNECTION_ID() ORDER BY TIME DESC, ID"));
    if (!run(query, error))
        return std::nullopt;
    QJsonArray rows;
    while (query.next())
        rows.append(processRow(query));
    return rows;
}

std::optional<QJsonObject> process(const QSqlDatabase& db, qint64 id, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(kProcessColumns + QStringLiteral("WHERE ID = ?"));
    query.addBindValue(id);
    if (!run(query, error))
        return std::nullopt;
    return query.next() ? processRow(query) : QJsonObject();
}

bool killQuery(const QSqlDatabase& db, qint64 id, QString* error)
{
    QSqlQuery query(db);
    // KILL takes no bound parameter; the id is a number we format ourselves.
    if (query.exec(QStringLiteral("KILL QUERY %1").arg(id)))
        return true;
    *error = query.lastError().text();
    return false;
}

} // namespace opsdeck::PulumiQueries
