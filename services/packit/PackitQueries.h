#pragma once

#include "core/RowSource.h"
#include "runbook/Plan.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSqlDatabase>

#include <optional>

namespace opsdeck {
class PackitConnection;
}

namespace opsdeck::PackitQueries {

// Counts over Packit's schema (reference: packit.md, section 1). Every key is a JSON key of plans and reports:
// packets, groups, scopedGrants (= scopedPacketGrants + scopedGroupGrants), scopedPacketGrants, scopedGroupGrants,
// globalGrants, pins, packetTags, oneTimeTokens, runInfoWithPacket, users, roles.
std::optional<QJsonObject> counts(QSqlDatabase& db, QString* error);
// The reports' words for each of those keys, as a run's before and after snapshots hold them. `runInfoRow`: the plan's
// count that runInfoWithPacket measures (the wipe's "runInfoLeft"), if any.
QList<Plan::Measure> countMeasures(const QString& runInfoRow = {});

// The grants a wipe takes with it: [{role, permission, scope: "packet" | "group", packet?, group?}].
std::optional<QJsonArray> scopedGrants(QSqlDatabase& db, QString* error);

// [{id, name}] of every packet, in id order.
std::optional<QJsonArray> packetIds(QSqlDatabase& db, QString* error);

// [{id, name, displayName (null when unset), startTime, endTime, importTime}] of every packet, in id order; on
// failure *error is the database's message alone.
std::optional<QJsonArray> packets(QSqlDatabase& db, QString* error);

// [{id, name}] of every packet group.
std::optional<QJsonArray> groups(QSqlDatabase& db, QString* error);

// What the console reads of an instance, as jobs for its ConnectionWorker<PackitConnection> (each opens the
// database first when it needs it).

// The packets table a page at a time: each row's fields in this order (times as epoch seconds; the display name
// may be NULL). Filtered on id, name or display name (a substring, case-insensitive) and sorted by any field, with
// id as the tie-breaker; keyset paging, so the last page of 100,000 costs what the first does.
enum PacketField
{
    PacketId,
    PacketName,
    PacketDisplayName,
    PacketStarted,
    PacketFinished,
    PacketFieldCount
};
std::optional<QList<RowValues>> packetPage(PackitConnection& connection, const PageRequest& request, QString* error);
std::optional<qint64> packetCount(PackitConnection& connection, const QString& filter, QString* error);

// [{id, name, packets, latest}] of every packet group, with its packets' count and latest start time.
std::optional<QJsonArray> groupSummaries(PackitConnection& connection, QString* error);

// A packet's metadata as its outpack root holds it (read over SSH).
std::optional<QJsonObject> packetMetadata(PackitConnection& connection, const QString& packetId, QString* error);

} // namespace opsdeck::PackitQueries
