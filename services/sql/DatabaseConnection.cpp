#include "sql/DatabaseConnection.h"

#include "core/Logging.h"
#include "ssh/SshSession.h"

#include <QMutexLocker>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

bool isMysql(const Database& d)
{
    return d.kind == DatabaseKind::Mysql;
}

} // namespace

DatabaseConnection::DatabaseConnection(DatabaseTarget target)
    : m_target(std::move(target))
    , m_name(QStringLiteral("db-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
}

DatabaseConnection::~DatabaseConnection()
{
    reset();
}

QString DatabaseConnection::describe() const
{
    return m_target.via ? QStringLiteral("%1 via %2").arg(m_target.database.name, m_target.via->name)
                        : m_target.database.name;
}

QSqlDatabase DatabaseConnection::connect(const QString& name, quint16 port) const
{
    const Database& d = m_target.database;
    QSqlDatabase db = QSqlDatabase::addDatabase(isMysql(d) ? QStringLiteral("QMYSQL") : QStringLiteral("QPSQL"), name);
    // Through a tunnel the server is our loopback end of it; a direct socket is used as is.
    db.setHostName(m_target.via || d.socket.isEmpty() ? QStringLiteral("127.0.0.1") : d.address);
    db.setPort(port);
    db.setDatabaseName(d.database);
    db.setUserName(d.user);
    db.setPassword(m_target.password);
    if (isMysql(d))
        db.setConnectOptions(QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=15")
            + (!m_target.via && !d.socket.isEmpty() ? QStringLiteral(";UNIX_SOCKET=") + d.socket : QString()));
    else
        db.setConnectOptions(QStringLiteral("connect_timeout=15"));
    return db;
}

bool DatabaseConnection::openTunnel(QString* error)
{
    if (!m_target.via) {
        QMutexLocker lock(&m_mutex);
        m_port = m_target.database.port;
        return true;
    }
    if (!m_session) {
        m_session = std::make_unique<SshSession>(SshTarget::fromHost(*m_target.via));
        m_session->setSecret(m_target.sshSecret);
    }
    if (!m_tunnel) {
        const Database& d = m_target.database;
        QString tunnelError;
        m_tunnel.reset(d.socket.isEmpty() ? m_session->openTcpTunnel(d.address, d.port, &tunnelError)
                                          : m_session->openUnixTunnel(d.socket, &tunnelError));
        if (!m_tunnel) {
            *error = QStringLiteral("cannot open the SSH tunnel to %1: %2").arg(describe(), tunnelError);
            return false;
        }
    }
    QMutexLocker lock(&m_mutex);
    m_port = m_tunnel->localPort();
    return true;
}

bool DatabaseConnection::open(QString* error)
{
    if (QSqlDatabase::contains(m_name)) {
        {
            QSqlDatabase db = QSqlDatabase::database(m_name, false);
            QSqlQuery ping(db);
            if (db.isOpen() && ping.exec(QStringLiteral("SELECT 1")))
                return true;
            m_reconnectReason = ping.lastError().text().isEmpty() ? QStringLiteral("the connection was closed")
                                                                  : ping.lastError().text();
        }
        // The server restarted or the tunnel dropped: start again from the tunnel (once nothing holds the
        // connection any more).
        reset();
    }
    if (!openTunnel(error))
        return false;
    QSqlDatabase db = connect(m_name, m_port);
    if (!db.open()) {
        const QString why
            = m_session && m_session->lastError().isError() ? m_session->lastError().message : db.lastError().text();
        *error = QStringLiteral("cannot open database %1: %2").arg(describe(), why);
        db = QSqlDatabase(); // nothing may hold the connection when reset() removes it
        reset();
        return false;
    }
    QSqlQuery id(db);
    if (id.exec(isMysql(m_target.database) ? QStringLiteral("SELECT CONNECTION_ID()")
                                           : QStringLiteral("SELECT pg_backend_pid()"))
        && id.next()) {
        QMutexLocker lock(&m_mutex);
        m_serverId = id.value(0).toLongLong();
    }
    return true;
}

QSqlDatabase DatabaseConnection::database() const
{
    return QSqlDatabase::database(m_name, false);
}

void DatabaseConnection::reset()
{
    if (QSqlDatabase::contains(m_name)) {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    m_tunnel.reset();
    QMutexLocker lock(&m_mutex);
    m_serverId = 0;
}

void DatabaseConnection::interrupt()
{
    qint64 serverId = 0;
    quint16 port = 0;
    {
        QMutexLocker lock(&m_mutex);
        serverId = m_serverId;
        port = m_port;
    }
    if (serverId <= 0 || port == 0)
        return;
    // A statement blocks its own connection, so the kill goes through a second one (the same tunnel).
    const QString name
        = m_name + QStringLiteral("-kill-") + QString::number(reinterpret_cast<quintptr>(QThread::currentThreadId()));
    {
        QSqlDatabase db = connect(name, port);
        if (db.open()) {
            QSqlQuery kill(db);
            const bool ok = isMysql(m_target.database) ? kill.exec(QStringLiteral("KILL QUERY %1").arg(serverId))
                                                       : (kill.prepare(QStringLiteral("SELECT pg_cancel_backend(?)")),
                                                           kill.addBindValue(serverId), kill.exec());
            if (!ok)
                qCWarning(lcSql) << "stopping the statement on" << describe() << "failed:" << kill.lastError().text();
        } else {
            qCWarning(lcSql) << "cannot reach" << describe() << "to stop its statement:" << db.lastError().text();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

} // namespace opsdeck
