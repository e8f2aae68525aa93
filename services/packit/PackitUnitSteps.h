#pragma once

#include <QSqlDatabase>
#include <QString>
#include <QVariant>

#include <functional>

namespace opsdeck {

class PackitConnection;
class RunContext;

// The steps a wipe and a restore share around an instance's outage: its two units stopped, checked, started.
namespace PackitUnitSteps {

// Step "stop-units": systemctl stop of both units (the host's stopUnits template).
bool stop(PackitConnection& connection, RunContext& context);
// Step "start-units". Runs even after a cancel: once the units were stopped, bringing them back is the only way out.
bool start(PackitConnection& connection, RunContext& context);
// Step "check-stopped" or "check-started": polls both units, 0.5 s apart, until their ActiveState is `wanted`
// ("inactive": stopped or failed; "active": active, and the outpack root's .outpack exists again).
bool check(PackitConnection& connection, RunContext& context, const QString& wanted, int attempts);
// Retries `attempt` (true when it is done, succeeded or not) while the host or the database is unreachable: 0.5 s
// doubling to 5 s, for at most 90 s; the SSH session and the database connection reconnect meanwhile. Whether
// `attempt` got done.
bool withBackoff(const std::function<bool()>& attempt);
constexpr qint64 kRecoveryWindowMs = 90000;
// Ends every other server session whose `column` ("pid" or "application_name") is `value` and waits, up to
// kRecoveryWindowMs, until none is left: a session cut off from its client may still be running (waiting for a lock,
// or committing), and rows read meanwhile could change under the reader.
bool endSessions(QSqlDatabase& db, const QString& column, const QVariant& value, QString* error);

} // namespace PackitUnitSteps

} // namespace opsdeck
