#include "sql/SharedTunnel.h"

#include "sql/SqlLogging.h"
#include "ssh/HostConnection.h"
#include "ssh/SshSession.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QMutex>
#include <QMutexLocker>
#include <QThread>

#include <map>
#include <vector>

namespace opsdeck {

namespace {

QMutex s_mutex; // guards s_tunnels
std::map<QString, std::shared_ptr<SharedTunnel>> s_tunnels;

// What a tunnel was made for. The secret takes part as a digest (kept in memory only): a tunnel whose login failed
// with a wrong password must not serve the console once the admin gave the right one.
QString tunnelKey(const DatabaseTarget& target)
{
    const Host& via = *target.via;
    const Database& d = target.database;
    const QByteArray secret = QCryptographicHash::hash(target.sshSecret.toUtf8(), QCryptographicHash::Sha256);
    return QStringList { via.name, via.address, QString::number(via.port), via.user, d.address, QString::number(d.port),
        d.socket, QString::fromLatin1(secret.toHex()) }
        .join(u'\x1f');
}

// The application is going: each tunnel's session ends on its own thread, before the threads are gone.
void closeAll()
{
    std::vector<std::shared_ptr<SharedTunnel>> closing; // closed outside the lock
    {
        QMutexLocker lock(&s_mutex);
        for (auto& [key, tunnel] : s_tunnels)
            closing.push_back(std::move(tunnel));
        s_tunnels.clear();
    }
}

} // namespace

// The thread a tunnel's session lives on, and the session and tunnel, made and destroyed there.
class SharedTunnel::Owner : public QThread
{
public:
    Owner()
        : m_context(new QObject)
    {
        setObjectName(QStringLiteral("opsdeck.tunnel"));
        m_context->moveToThread(this);
        start();
    }

    ~Owner() override
    {
        QMetaObject::invokeMethod(
            m_context,
            [this] {
                m_tunnel.reset();
                m_host.reset();
                delete m_context;
            },
            Qt::BlockingQueuedConnection);
        quit();
        wait();
    }

    quint16 open(const DatabaseTarget& target, QString* error)
    {
        quint16 port = 0;
        QMetaObject::invokeMethod(
            m_context,
            [&] {
                m_host = std::make_unique<HostConnection>(*target.via, target.sshSecret);
                const Database& d = target.database;
                m_tunnel = d.socket.isEmpty() ? m_host->openTcpTunnel(d.address, d.port, error)
                                              : m_host->openUnixTunnel(d.socket, error);
                if (m_tunnel)
                    port = m_tunnel->localPort();
            },
            Qt::BlockingQueuedConnection);
        return port;
    }

    SshError lastError() const { return m_host ? m_host->lastError() : SshError {}; }

private:
    QObject* m_context;
    std::unique_ptr<HostConnection> m_host;
    std::unique_ptr<SshTunnel> m_tunnel;
};

std::shared_ptr<SharedTunnel> SharedTunnel::to(const DatabaseTarget& target, QString* error)
{
    const QString key = tunnelKey(target);
    QMutexLocker lock(&s_mutex);
    if (const auto found = s_tunnels.find(key); found != s_tunnels.end())
        return found->second;
    static bool closedAtExit = (qAddPostRoutine(closeAll), true);
    Q_UNUSED(closedAtExit);
    std::shared_ptr<SharedTunnel> tunnel(new SharedTunnel);
    tunnel->m_owner = std::make_unique<Owner>();
    tunnel->m_port = tunnel->m_owner->open(target, error);
    if (tunnel->m_port == 0)
        return nullptr;
    qCDebug(lcSql) << "shared tunnel to" << target.database.name << "via" << target.via->name << "on port"
                   << tunnel->m_port;
    s_tunnels.emplace(key, tunnel);
    return tunnel;
}

SharedTunnel::~SharedTunnel() = default;

SshError SharedTunnel::lastError() const
{
    return m_owner->lastError();
}

} // namespace opsdeck
