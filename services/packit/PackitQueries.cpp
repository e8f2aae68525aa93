#include "packit/PackitQueries.h"

#include "packit/PackitConnection.h"
#include "sql/SqlLike.h"

#include <QJsonDocument>
#include <QRegularExpression>
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
    // As plans count them: what a wipe deletes with the packets and groups.
    object.insert(QStringLiteral("scopedGrants"),
        object.value(QStringLiteral("scopedPacketGrants")).toInteger()
            + object.value(QStringLiteral("scopedGroupGrants")).toInteger());
    return object;
}

QList<Plan::Measure> countMeasures(const QString& runInfoRow)
{
    using M = Plan::Measure;
    return {
        M { QStringLiteral("packets"), QStringLiteral("Packets"), QStringLiteral("Rows of the packet table.") },
        M { QStringLiteral("groups"), QStringLiteral("Packet groups"),
            QStringLiteral("Rows of packet_group: the names packets are grouped under.") },
        M { QStringLiteral("scopedGrants"), QStringLiteral("Grants scoped to a packet or group"),
            QStringLiteral("role_permission rows that name one packet or one packet group.") },
        M { QStringLiteral("scopedPacketGrants"), QStringLiteral("Grants scoped to one packet"),
            QStringLiteral("The grants scoped to a packet or group that name a packet.") },
        M { QStringLiteral("scopedGroupGrants"), QStringLiteral("Grants scoped to one packet group"),
            QStringLiteral("The grants scoped to a packet or group that name a packet group.") },
        M { QStringLiteral("globalGrants"), QStringLiteral("Global grants"),
            QStringLiteral("role_permission rows that name no packet, group or tag: a role's permission everywhere. "
                           "Kept.") },
        M { QStringLiteral("pins"), QStringLiteral("Pins"), QStringLiteral("Packets pinned to the front page.") },
        M { QStringLiteral("packetTags"), QStringLiteral("Packet tags"),
            QStringLiteral("Tags put on packets (packet_tag rows).") },
        M { QStringLiteral("oneTimeTokens"), QStringLiteral("One-time tokens"),
            QStringLiteral("Single-use download tokens for packets.") },
        M { QStringLiteral("runInfoWithPacket"), QStringLiteral("run_info rows that name a packet"),
            QStringLiteral("Records of packet runs that point at the packet they made."), false, runInfoRow },
        M { QStringLiteral("users"), QStringLiteral("Users"), QStringLiteral("Packit accounts. Kept.") },
        M { QStringLiteral("roles"), QStringLiteral("Roles"), QStringLiteral("Roles users hold. Kept.") },
    };
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

namespace {

// The packets matching a filter: " WHERE (...)" with three bound patterns, or nothing.
QString packetFilter(const QString& filter)
{
    return filter.isEmpty() ? QString() : QStringLiteral(" WHERE (name ILIKE ? OR id ILIKE ? OR display_name ILIKE ?)");
}

void bindPacketFilter(QSqlQuery& query, const QString& filter)
{
    if (filter.isEmpty())
        return;
    const QString pattern = SqlLike::contains(filter);
    for (int i = 0; i < 3; ++i)
        query.addBindValue(pattern);
}

bool openDatabase(PackitConnection& connection, QString* error)
{
    if (connection.openDatabase(error))
        return true;
    if (error->isEmpty())
        *error = QStringLiteral("cannot open the database of %1").arg(connection.target().id());
    return false;
}

} // namespace

std::optional<QList<RowValues>> packetPage(PackitConnection& connection, const PageRequest& request, QString* error)
{
    if (!openDatabase(connection, error))
        return std::nullopt;
    // Sort expressions by field, an allowlist: they go into the SQL text. display_name may be NULL: sorted and
    // compared as '' (in ORDER BY and in the keyset comparison alike, or pages would skip or repeat rows).
    static const QStringList sortExpressions { QStringLiteral("id"), QStringLiteral("name"),
        QStringLiteral("COALESCE(display_name, '')"), QStringLiteral("start_time"), QStringLiteral("end_time") };
    const int field = request.sort.field >= 0 && request.sort.field < PacketFieldCount ? request.sort.field : PacketId;
    const QString column = sortExpressions[field];
    const QString direction = request.sort.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    const QString comparison = request.sort.descending ? QStringLiteral("<") : QStringLiteral(">");
    QString where = packetFilter(request.filter);
    if (request.after) {
        where += where.isEmpty() ? QStringLiteral(" WHERE ") : QStringLiteral(" AND ");
        // The primary key alone, or the row comparison (col, id): PostgreSQL serves both from an index (the
        // name index, then an incremental sort on id among equal names).
        where += field == PacketId ? QStringLiteral("id %1 ?").arg(comparison)
                                   : QStringLiteral("(%1, id) %2 (?, ?)").arg(column, comparison);
    }
    const QString order = field == PacketId ? QStringLiteral("id %1").arg(direction)
                                            : QStringLiteral("%1 %2, id %2").arg(column, direction);
    QSqlQuery page(connection.database());
    page.setForwardOnly(true);
    page.prepare(QStringLiteral("SELECT id, name, display_name, start_time, end_time FROM packet%1 ORDER BY %2 LIMIT ?")
                     .arg(where, order));
    bindPacketFilter(page, request.filter);
    if (request.after) {
        if (field == PacketDisplayName)
            page.addBindValue(request.after->value.toString()); // NULL as ''
        else if (field != PacketId)
            page.addBindValue(request.after->value);
        page.addBindValue(request.after->id.toString());
    }
    page.addBindValue(request.limit);
    if (!page.exec()) {
        *error = page.lastError().text();
        return std::nullopt;
    }
    QList<RowValues> rows;
    while (page.next()) {
        rows.append({ page.value(0).toString(), page.value(1).toString(),
            page.isNull(2) ? QVariant() : QVariant(page.value(2).toString()), page.value(3).toDouble(),
            page.value(4).toDouble() });
    }
    return rows;
}

std::optional<qint64> packetCount(PackitConnection& connection, const QString& filter, QString* error)
{
    if (!openDatabase(connection, error))
        return std::nullopt;
    QSqlQuery count(connection.database());
    count.prepare(QStringLiteral("SELECT count(*) FROM packet") + packetFilter(filter));
    bindPacketFilter(count, filter);
    if (!count.exec() || !count.next()) {
        *error = count.lastError().text();
        return std::nullopt;
    }
    return count.value(0).toLongLong();
}

std::optional<QJsonArray> groupSummaries(PackitConnection& connection, QString* error)
{
    if (!openDatabase(connection, error))
        return std::nullopt;
    QSqlQuery query(connection.database());
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT g.id, g.name, count(p.id), max(p.start_time) FROM packet_group g "
                                   "LEFT JOIN packet p ON p.name = g.name GROUP BY g.id, g.name ORDER BY g.name"))) {
        *error = query.lastError().text();
        return std::nullopt;
    }
    QJsonArray rows;
    while (query.next()) {
        rows.append(QJsonObject { { QStringLiteral("id"), query.value(0).toLongLong() },
            { QStringLiteral("name"), query.value(1).toString() },
            { QStringLiteral("packets"), query.value(2).toLongLong() },
            { QStringLiteral("latest"), query.value(3).toDouble() } });
    }
    return rows;
}

std::optional<QJsonObject> packetMetadata(PackitConnection& connection, const QString& packetId, QString* error)
{
    static const QRegularExpression idPattern(QStringLiteral("^[0-9]{8}-[0-9]{6}-[0-9a-fA-F]{8}\\z"));
    if (!idPattern.match(packetId).hasMatch()) {
        *error = QStringLiteral("\"%1\" is not an outpack packet id").arg(packetId);
        return std::nullopt;
    }
    const QString path = connection.target().instance.outpackRoot + QStringLiteral("/.outpack/metadata/") + packetId;
    const ExecResult result = connection.run({ QStringLiteral("cat"), QStringLiteral("--"), path }, 30000);
    if (!result.succeeded()) {
        *error = result.describe();
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(result.stdoutData, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("%1 is not JSON: %2").arg(path, parseError.errorString());
        return std::nullopt;
    }
    return document.object();
}

} // namespace opsdeck::PackitQueries
