#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QSqlDatabase>

#include <optional>

namespace opsdeck::PackitQueries {

// Counts over Packit's schema (reference: packit.md, section 1). Every key is a JSON key of plans and reports:
// packets, groups, scopedPacketGrants, scopedGroupGrants, globalGrants, pins, packetTags, oneTimeTokens,
// runInfoWithPacket, users, roles.
std::optional<QJsonObject> counts(QSqlDatabase& db, QString* error);

// The grants a wipe takes with it: [{role, permission, scope: "packet" | "group", packet?, group?}].
std::optional<QJsonArray> scopedGrants(QSqlDatabase& db, QString* error);

// [{id, name}] of every packet, in id order.
std::optional<QJsonArray> packetIds(QSqlDatabase& db, QString* error);

// [{id, name, displayName (null when unset), startTime, endTime, importTime}] of every packet, in id order; on
// failure *error is the database's message alone.
std::optional<QJsonArray> packets(QSqlDatabase& db, QString* error);

// [{id, name}] of every packet group.
std::optional<QJsonArray> groups(QSqlDatabase& db, QString* error);

} // namespace opsdeck::PackitQueries
