#include "sql/DatabaseConnection.h"

#include "sql/SharedTunnel.h"
#include "sql/SqlLogging.h"
#include "ssh/HostConnection.h"
#include "ssh/SshSession.h"

#include <QMutex>
#include <QMutexLocker>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

// A libpq connection parameter's value, quoted (QPSQL passes the options on as they are, ';' turned into ' ').
QString conninfoValue(QString value)
{
    value.replace(u'\\', QStringLiteral("\\\\")).replace(u'\'', QStringLiteral("\\'"));
    return u'\'' + value + u'\'';
}

} // namespace

// What interrupt() needs to reach the server from another thread, apart from the connection that owns it.
struct DatabaseConnection::Server
{
    DatabaseTarget target;
    bool tunnelled = false;
    QString name; // of the QSqlDatabase connection
    QMutex mutex; // guards id and port
    qint64 id = 0; // CONNECTION_ID() / pg_backend_pid() of the open connection
    quint16 port = 0; // where the connection goes: the tunnel's local port or the server's

    bool isMysql() const { return target.database.kind == DatabaseKind::Mysql; }
    QString describe() const
    {
        return target.via ? QStringLiteral("%1 via %2").arg(target.database.name, target.via->name)
                          : target.database.name;
    }

    QSqlDatabase connect(const QString& connectionName, quint16 toPort) const
    {
        const Database& d = target.database;
        QSqlDatabase db
            = QSqlDatabase::addDatabase(isMysql() ? QStringLiteral("QMYSQL") : QStringLiteral("QPSQL"), connectionName);
        // Through a tunnel the server is our loopback end of it; a direct socket is used as is.
        db.setHostName(tunnelled || d.socket.isEmpty() ? QStringLiteral("127.0.0.1") : d.address);
        db.setPort(toPort);
        db.setDatabaseName(d.database);
        db.setUserName(d.user);
        db.setPassword(target.password);
        if (isMysql()) {
            db.setConnectOptions(QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=15")
                + (!tunnelled && !d.socket.isEmpty() ? QStringLiteral(";UNIX_SOCKET=") + d.socket : QString()));
            return db;
        }
        QStringList options { QStringLiteral("connect_timeout=15") };
        if (!d.tls.isEmpty())
            options << QStringLiteral("sslmode=") + d.tls;
        if (!d.caFile.isEmpty())
            options << QStringLiteral("sslrootcert=") + conninfoValue(d.caFile);
        // verify-full checks the certificate against the host name: through a tunnel, the name the via host reaches
        // the server by, while the connection itself goes to the tunnel's loopback end (libpq's hostaddr).
        if (d.tls == QStringLiteral("verify-full") && tunnelled && d.socket.isEmpty()) {
            db.setHostName(d.address);
            options << QStringLiteral("hostaddr=127.0.0.1");
        }
        db.setConnectOptions(options.join(u';'));
        return db;
    }

    void interrupt()
    {
        qint64 serverId = 0;
        quint16 serverPort = 0;
        {
            QMutexLocker lock(&mutex);
            serverId = id;
            serverPort = port;
        }
        if (serverId <= 0 || serverPort == 0)
            return;
        // A statement blocks its own connection, so the kill goes through a second one (the same tunnel).
        const QString killName
            = name + QStringLiteral("-kill-") + QString::number(reinterpret_cast<quintptr>(QThread::currentThreadId()));
        {
            QSqlDatabase db = connect(killName, serverPort);
            if (db.open()) {
                QSqlQuery kill(db);
                const bool ok = isMysql() ? kill.exec(QStringLiteral("KILL QUERY %1").arg(serverId))
                                          : (kill.prepare(QStringLiteral("SELECT pg_cancel_backend(?)")),
                                              kill.addBindValue(serverId), kill.exec());
                if (!ok)
                    qCWarning(lcSql) << "stopping the statement on" << describe()
                                     << "failed:" << kill.lastError().text();
            } else {
                qCWarning(lcSql) << "cannot reach" << describe() << "to stop its statement:" << db.lastError().text();
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(killName);
    }
};

DatabaseConnection::DatabaseConnection(DatabaseTarget target, Tunnel tunnel)
    : DatabaseConnection(std::move(target), nullptr)
{
    m_shareTunnel = tunnel == Tunnel::Shared;
}

DatabaseConnection::DatabaseConnection(DatabaseTarget target, HostConnection* host)
    : m_target(std::move(target))
    , m_host(host)
    , m_server(std::make_shared<Server>())
{
    m_server->target = m_target;
    m_server->tunnelled = m_host || m_target.via;
    m_server->name = QStringLiteral("db-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
}

DatabaseConnection::~DatabaseConnection()
{
    adopt(); // a released connection is closed by the thread that ends it
    reset();
}

QString DatabaseConnection::describe() const
{
    return m_server->describe();
}

bool DatabaseConnection::openTunnel(QString* error)
{
    if (!m_server->tunnelled) {
        QMutexLocker lock(&m_server->mutex);
        m_server->port = m_target.database.port;
        return true;
    }
    if (m_shareTunnel) {
        if (!m_sharedTunnel) {
            QString tunnelError;
            m_sharedTunnel = SharedTunnel::to(m_target, &tunnelError);
            if (!m_sharedTunnel) {
                *error = QStringLiteral("cannot open the SSH tunnel to %1: %2").arg(describe(), tunnelError);
                return false;
            }
        }
        QMutexLocker lock(&m_server->mutex);
        m_server->port = m_sharedTunnel->port();
        return true;
    }
    if (!m_host) {
        m_ownHost = std::make_unique<HostConnection>(*m_target.via, m_target.sshSecret);
        m_host = m_ownHost.get();
    }
    if (!m_tunnel) {
        const Database& d = m_target.database;
        QString tunnelError;
        m_tunnel = d.socket.isEmpty() ? m_host->openTcpTunnel(d.address, d.port, &tunnelError)
                                      : m_host->openUnixTunnel(d.socket, &tunnelError);
        if (!m_tunnel) {
            *error = QStringLiteral("cannot open the SSH tunnel to %1: %2").arg(describe(), tunnelError);
            return false;
        }
    }
    QMutexLocker lock(&m_server->mutex);
    m_server->port = m_tunnel->localPort();
    return true;
}

bool DatabaseConnection::open(QString* error, Liveness liveness)
{
    const QString& name = m_server->name;
    if (QSqlDatabase::contains(name)) {
        if (liveness == Liveness::Assume)
            return true;
        {
            QSqlDatabase db = QSqlDatabase::database(name, false);
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
    QSqlDatabase db = m_server->connect(name, m_server->port);
    if (!db.open()) {
        const SshError tunnelError = m_host ? m_host->lastError()
            : m_sharedTunnel                ? m_sharedTunnel->lastError()
                                            : SshError {};
        const QString why = tunnelError.isError() ? tunnelError.message : db.lastError().text();
        *error = QStringLiteral("cannot open database %1: %2").arg(describe(), why);
        db = QSqlDatabase(); // nothing may hold the connection when reset() removes it
        reset();
        return false;
    }
    QSqlQuery id(db);
    if (id.exec(
            m_server->isMysql() ? QStringLiteral("SELECT CONNECTION_ID()") : QStringLiteral("SELECT pg_backend_pid()"))
        && id.next()) {
        QMutexLocker lock(&m_server->mutex);
        m_server->id = id.value(0).toLongLong();
    }
    return true;
}

QSqlDatabase DatabaseConnection::database() const
{
    return QSqlDatabase::database(m_server->name, false);
}

bool DatabaseConnection::release()
{
    if (m_host || m_released || !QSqlDatabase::contains(m_server->name))
        return false;
    m_released = database().driver();
    m_released->moveToThread(nullptr); // an object of no thread may be pulled to any
    return true;
}

void DatabaseConnection::adopt()
{
    if (m_released)
        std::exchange(m_released, nullptr)->moveToThread(QThread::currentThread());
}

QSqlQuery* DatabaseConnection::prepared(const QString& statement, QString* error)
{
    QSqlError failure;
    QSqlQuery* query = m_prepared.get(database(), statement, &failure);
    if (!query)
        *error = QStringLiteral("cannot prepare a statement on %1: %2").arg(describe(), failure.text());
    return query;
}

void DatabaseConnection::reset()
{
    m_prepared.clear(); // a query left on the connection would keep it from being removed
    if (QSqlDatabase::contains(m_server->name)) {
        QSqlDatabase::database(m_server->name, false).close();
        QSqlDatabase::removeDatabase(m_server->name);
    }
    m_tunnel.reset();
    QMutexLocker lock(&m_server->mutex);
    m_server->id = 0;
    m_server->port = 0;
}

void DatabaseConnection::interrupt()
{
    m_server->interrupt();
}

std::function<void()> DatabaseConnection::interrupter() const
{
    return [server = m_server] { server->interrupt(); };
}

} // namespace opsdeck
