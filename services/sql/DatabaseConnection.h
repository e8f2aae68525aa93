#pragma once

#include "sql/DatabaseTarget.h"

#include <QMutex>
#include <QSqlDatabase>

#include <memory>
#include <utility>

namespace opsdeck {

class SshSession;
class SshTunnel;

// A worker thread's own connection to a database of the inventory: through an SSH tunnel on its via host when
// it has one (TCP or Unix socket on that host), else directly. The QSqlDatabase belongs to the thread that
// opened it. Blocking: never use it on the GUI thread.
class DatabaseConnection
{
public:
    explicit DatabaseConnection(DatabaseTarget target);
    ~DatabaseConnection();

    const DatabaseTarget& target() const { return m_target; }
    // Opens (once; again after the server or the tunnel went away) and returns whether it is open.
    bool open(QString* error);
    QSqlDatabase database() const;
    // Why the last open() had to connect again (the server restarted, the tunnel dropped), once; else empty.
    QString takeReconnectReason() { return std::exchange(m_reconnectReason, {}); }
    // Drops the connection and the tunnel, so the next open() starts afresh (after a dropped tunnel or a
    // restarted server).
    void reset();

    // Thread-safe: stops the statement in flight from a second connection (MySQL KILL QUERY, PostgreSQL
    // pg_cancel_backend). The statement then fails with an "interrupted" error.
    void interrupt();

    // "pulumi via bastion": for messages.
    QString describe() const;

private:
    QSqlDatabase connect(const QString& name, quint16 port) const;
    bool openTunnel(QString* error);

    DatabaseTarget m_target;
    std::unique_ptr<SshSession> m_session;
    std::unique_ptr<SshTunnel> m_tunnel;
    QString m_name;
    QString m_reconnectReason;
    mutable QMutex m_mutex; // guards m_serverId and m_port for interrupt()
    qint64 m_serverId = 0; // CONNECTION_ID() / pg_backend_pid() of the open connection
    quint16 m_port = 0; // where the connection goes: the tunnel's local port or the server's
};

} // namespace opsdeck
