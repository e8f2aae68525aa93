#pragma once

#include "config/Inventory.h"
#include "ssh/SshSession.h"

#include <QHash>
#include <QObject>

#include <functional>

namespace opsdeck {

class CredentialStore;

// One SshSession per inventory host, shared by every pane and operation. It resolves the secret a host's auth
// needs (environment, keychain or a prompt) before the session first connects.
class SshConnectionPool : public QObject
{
    Q_OBJECT
public:
    SshConnectionPool(const Inventory& inventory, CredentialStore* credentials, QObject* parent = nullptr);
    ~SshConnectionPool() override;

    // Null for a host the inventory does not name.
    SshSession* session(const QString& hostName);

    // Calls done(session, {}) once the session has what it needs to authenticate, or done(nullptr, error).
    void prepare(const QString& hostName, QObject* context, std::function<void(SshSession*, const SshError&)> done);

    // The admin accepted this fingerprint for `hostName` (CLI --accept-host-key HOST=SHA256:...): that host, if
    // its key is unknown, is trusted when it presents exactly this key; no other host is.
    void acceptHostKey(const QString& hostName, const QString& sha256);

    // The server refused the secret: forget it so that the next prepare() asks again.
    void rejectSecret(const QString& hostName);

signals:
    void stateChanged(const QString& hostName, opsdeck::SshSession::State state, const opsdeck::SshError& error);
    void hostKeyChecked(const QString& hostName, const opsdeck::HostKeyInfo& info);

private:
    Inventory m_inventory;
    CredentialStore* m_credentials;
    QHash<QString, SshSession*> m_sessions;
    QHash<QString, bool> m_secretSet;
    QHash<QString, QString> m_acceptedKeys; // host -> SHA256 fingerprint
};

} // namespace opsdeck
