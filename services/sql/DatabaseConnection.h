#pragma once

#include "sql/DatabaseTarget.h"
#include "sql/PreparedStatements.h"

#include <QSqlDatabase>

#include <functional>
#include <memory>
#include <utility>

class QSqlDriver;
class QSqlQuery;

namespace opsdeck {

class HostConnection;
class SharedTunnel;
class SshTunnel;

// A worker thread's own connection to a database of the inventory: through an SSH tunnel on its via host when
// it has one (TCP or Unix socket on that host), else directly. The QSqlDatabase belongs to the thread that
// opened it. Blocking: never use it on the GUI thread.
class DatabaseConnection
{
public:
    enum class Tunnel
    {
        Own, // a HostConnection of its own to target.via, made on the first open()
        Shared // the process's one tunnel to the database (SharedTunnel): for connections kept on many threads
    };
    // Tunnels through target.via as `tunnel` says, or connects directly when it has no via host.
    explicit DatabaseConnection(DatabaseTarget target, Tunnel tunnel = Tunnel::Own);
    // Tunnels through `host` (not owned; it must outlive this connection), which then also runs the caller's
    // commands: one SSH session for both.
    DatabaseConnection(DatabaseTarget target, HostConnection* host);
    ~DatabaseConnection();
    DatabaseConnection(const DatabaseConnection&) = delete;
    DatabaseConnection& operator=(const DatabaseConnection&) = delete;

    const DatabaseTarget& target() const { return m_target; }
    enum class Liveness
    {
        Check, // an open connection is pinged first (a round trip), and made anew if it went away
        Assume // an open connection is used as it is: if the caller's first statement fails, open(Check) tells why
    };
    // Opens (once; again after the server or the tunnel went away) and returns whether it is open.
    bool open(QString* error, Liveness liveness = Liveness::Check);
    QSqlDatabase database() const;
    // `statement`, prepared on the open connection once and kept while it lasts (PreparedStatements). Null, with
    // *error set, if it cannot be prepared. Valid until the connection is reset.
    QSqlQuery* prepared(const QString& statement, QString* error);
    // Hands the open connection over to another thread: release() on the thread that has it, then adopt() on the one
    // that takes it. A QSqlDatabase belongs to the thread of its driver, which is moved (as Qt 6.8's
    // QSqlDatabase::moveToThread() does); libpq and the MySQL client need only that one thread uses it at a time.
    // False, and nothing changes, when it cannot go: it is not open, or its tunnel's host connection is this thread's.
    bool release();
    void adopt();
    // Why the last open() had to connect again (the server restarted, the tunnel dropped), once; else empty.
    QString takeReconnectReason() { return std::exchange(m_reconnectReason, {}); }
    // Drops the connection and the tunnel, so the next open() starts afresh (after a dropped tunnel or a
    // restarted server).
    void reset();

    // Thread-safe: stops the statement in flight from a second connection (MySQL KILL QUERY, PostgreSQL
    // pg_cancel_backend). The statement then fails with an "interrupted" error.
    void interrupt();
    // interrupt() for a cancel hook, which may run after the step that installed it returned: once this connection
    // is closed, calling it does nothing.
    std::function<void()> interrupter() const;

    // "pulumi via bastion": for messages.
    QString describe() const;

private:
    struct Server;

    bool openTunnel(QString* error);

    DatabaseTarget m_target;
    std::unique_ptr<HostConnection> m_ownHost; // made by open() when no host was given and the database has a via
    HostConnection* m_host = nullptr; // the tunnel's host: given, or m_ownHost; null when direct
    std::unique_ptr<SshTunnel> m_tunnel;
    bool m_shareTunnel = false;
    std::shared_ptr<SharedTunnel> m_sharedTunnel; // when m_shareTunnel and the database has a via host
    QString m_reconnectReason;
    PreparedStatements m_prepared; // cleared before the connection goes
    QSqlDriver* m_released = nullptr; // the connection's driver, between release() and adopt()
    std::shared_ptr<Server> m_server; // where the open connection goes; shared with interrupters
};

} // namespace opsdeck
