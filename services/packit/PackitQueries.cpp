#include "packit/PackitQueries.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>

namespace opsdeck::PackitQueries {

namespace {

std::optional<QJsonArray> rows(QSqlDatabase& db, const QString& sql, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    if (!query.exec(sql)) {
        *error = QStringLiteral("query on database %1 failed: %2").arg(db.databaseName(), query.lastError().text());
        return std::nullopt;
    }
    QJsonArray result;
    while (query.next()) {
        QJsonObject row;
        const QSqlRecord record = query.record();
        for (int i = 0; i < record.count(); ++i) {
            if (!query.isNull(i))
                row.insert(record.fieldName(i), QJsonValue::fromVariant(query.value(i)));
        }
        result.append(row);
    }
    return result;
}

} // namespace

std::optional<QJsonObject> counts(QSqlDatabase& db, QString* error)
{
    // One round trip: every count as a column.
    const auto result = rows(db,
        QStringLiteral(
            "SELECT (SELECT count(*) FROM packet) AS packets,"
            " (SELECT count(*) FROM packet_group) AS groups,"
            " (SELECT count(*) FROM role_permission WHERE packet_id IS NOT NULL) AS \"scopedPacketGrants\","
            " (SELECT count(*) FROM role_permission WHERE packet_group_id IS NOT NULL) AS \"scopedGroupGrants\","
            " (SELECT count(*) FROM role_permission WHERE packet_id IS NULL AND packet_group_id IS NULL"
            "   AND tag_id IS NULL) AS \"globalGrants\","
            " (SELECT count(*) FROM pin) AS pins,"
            " (SELECT count(*) FROM packet_tag) AS \"packetTags\","
            " (SELECT count(*) FROM one_time_token) AS \"oneTimeTokens\","
            " (SELECT count(*) FROM run_info WHERE packet_id IS NOT NULL) AS \"runInfoWithPacket\","
            " (SELECT count(*) FROM \"user\") AS users,"
            " (SELECT count(*) FROM role) AS roles"),
        error);
    if (!result || result->isEmpty())
        return std::nullopt;
    QJsonObject object = result->first().toObject();
    for (auto it = object.begin(); it != object.end(); ++it)
        it.value() = it.value().toInteger();
    return object;
}

std::optional<QJsonArray> scopedGrants(QSqlDatabase& db, QString* error)
{
    return rows(db,
        QStringLiteral("SELECT r.name AS role, p.name AS permission,"
                       " CASE WHEN rp.packet_id IS NOT NULL THEN 'packet' ELSE 'group' END AS scope,"
                       " rp.packet_id AS packet, g.name AS \"group\""
                       " FROM role_permission rp JOIN role r ON r.id = rp.role_id"
                       " JOIN permission p ON p.id = rp.permission_id"
                       " LEFT JOIN packet_group g ON g.id = rp.packet_group_id"
                       " WHERE rp.packet_id IS NOT NULL OR rp.packet_group_id IS NOT NULL"
                       " ORDER BY r.name, p.name, rp.packet_id, g.name"),
        error);
}

std::optional<QJsonArray> packetIds(QSqlDatabase& db, QString* error)
{
    return rows(db, QStringLiteral("SELECT id, name FROM packet ORDER BY id"), error);
}

std::optional<QJsonArray> packets(QSqlDatabase& db, QString* error)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT id, name, display_name, start_time, end_time, import_time FROM packet "
                                   "ORDER BY id"))) {
        *error = query.lastError().text();
        return std::nullopt;
    }
    QJsonArray result;
    while (query.next()) {
        result.append(QJsonObject { { QStringLiteral("id"), query.value(0).toString() },
            { QStringLiteral("name"), query.value(1).toString() },
            { QStringLiteral("displayName"), QJsonValue::fromVariant(query.value(2)) },
            { QStringLiteral("startTime"), query.value(3).toDouble() },
            { QStringLiteral("endTime"), query.value(4).toDouble() },
            { QStringLiteral("importTime"), query.value(5).toDouble() } });
    }
    return result;
}

std::optional<QJsonArray> groups(QSqlDatabase& db, QString* error)
{
    return rows(db, QStringLiteral("SELECT id, name FROM packet_group ORDER BY name"), error);
}

} // namespace opsdeck::PackitQueries
