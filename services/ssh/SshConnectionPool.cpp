#include "ssh/SshConnectionPool.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretResolver.h"
#include "ssh/SshLogging.h"
#include "ssh/SshSecretSpecs.h"

namespace opsdeck {

SshConnectionPool::SshConnectionPool(const Inventory& inventory, CredentialStore* credentials, QObject* parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
{
}

SshConnectionPool::~SshConnectionPool()
{
    qDeleteAll(m_sessions);
}

SshSession* SshConnectionPool::session(const QString& hostName)
{
    if (auto* existing = m_sessions.value(hostName))
        return existing;
    const Host* host = m_inventory.host(hostName);
    if (!host)
        return nullptr;
    auto* session = new SshSession(SshTarget::fromHost(*host));
    if (const QString accepted = m_acceptedKeys.value(hostName); !accepted.isEmpty())
        session->acceptHostKey(accepted);
    connect(session, &SshSession::stateChanged, this, [this, hostName](SshSession::State state, const SshError& error) {
        emit stateChanged(hostName, state, error);
    });
    connect(session, &SshSession::hostKeyChecked, this,
        [this, hostName](const HostKeyInfo& info) { emit hostKeyChecked(hostName, info); });
    m_sessions.insert(hostName, session);
    return session;
}

void SshConnectionPool::prepare(
    const QString& hostName, QObject* context, std::function<void(SshSession*, const SshError&)> done)
{
    SshSession* ready = session(hostName);
    if (!ready) {
        done(nullptr,
            { SshError::Kind::InvalidRequest, QStringLiteral("no host \"%1\" in the inventory").arg(hostName) });
        return;
    }
    const Host* host = m_inventory.host(hostName);
    if (m_secretSet.value(hostName) || !SshSecretSpecs::hostNeedsSecret(*host)) {
        done(ready, {});
        return;
    }
    SecretResolver::resolve(m_credentials, { SshSecretSpecs::forHost(*host) }, context,
        [this, hostName, ready, done](const QStringList& secrets, const QString& error) {
            if (!error.isEmpty()) {
                done(nullptr, { SshError::Kind::SecretRequired, error });
                return;
            }
            ready->setSecret(secrets.first());
            m_secretSet.insert(hostName, true);
            done(ready, {});
        });
}

void SshConnectionPool::acceptHostKey(const QString& hostName, const QString& sha256)
{
    m_acceptedKeys.insert(hostName, sha256);
    if (SshSession* existing = m_sessions.value(hostName))
        existing->acceptHostKey(sha256);
}

void SshConnectionPool::rejectSecret(const QString& hostName)
{
    const Host* host = m_inventory.host(hostName);
    if (!host)
        return;
    m_secretSet.remove(hostName);
    m_credentials->invalidate(SshSecretSpecs::forHost(*host));
    qCInfo(lcSsh) << "forgot the secret for" << hostName << "after it was refused";
}

} // namespace opsdeck
