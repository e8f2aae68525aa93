#include "ssh/HostProber.h"

#include "ssh/SshConnectionPool.h"

namespace opsdeck {

HostProber::HostProber(const Inventory& inventory, SshConnectionPool* pool, QObject* parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_pool(pool)
{
}

void HostProber::probeAll()
{
    QStringList names;
    for (const Host& host : m_inventory.hosts)
        names << host.name;
    probe(names);
}

void HostProber::probe(const QStringList& hostNames)
{
    for (const QString& name : hostNames) {
        if (const Host* host = m_inventory.host(name))
            probeOne(*host);
    }
    if (m_pending == 0)
        emit finished();
}

void HostProber::probeOne(const Host& host)
{
    ++m_pending;
    HostStatus status;
    status.name = host.name;
    status.address = host.address;
    status.port = host.port;
    status.auth = HostStatus::authName(host.auth.method);
    status.reachability = HostStatus::Reachability::Checking;
    emit statusChanged(status);

    m_pool->prepare(host.name, this, [this, status](SshSession* session, const SshError& error) mutable {
        if (!session) {
            status.error = error;
            report(status);
            return;
        }
        SshCommand* command = session->exec({ QStringLiteral("true") }, m_timeoutMs);
        connect(
            command, &SshCommand::finished, this, [this, status, session, command](const ExecResult& result) mutable {
                command->deleteLater();
                status.hostKey = session->hostKey();
                if (result.error.isError())
                    status.error = result.error;
                else if (result.exitStatus != 0)
                    status.error = { SshError::Kind::ChannelFailed,
                        QStringLiteral("`true` exited with %1 on %2").arg(result.exitStatus).arg(status.name) };
                if (result.error.kind == SshError::Kind::AuthFailed)
                    m_pool->rejectSecret(status.name);
                report(status);
            });
    });
}

void HostProber::report(HostStatus status)
{
    status.reachability
        = status.error.isError() ? HostStatus::Reachability::Unreachable : HostStatus::Reachability::Reachable;
    status.checkedAt = QDateTime::currentDateTimeUtc();
    --m_pending; // before the signal, so that its receivers see the count without this host
    emit statusChanged(status);
    if (m_pending == 0)
        emit finished();
}

} // namespace opsdeck
