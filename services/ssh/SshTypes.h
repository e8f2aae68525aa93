#pragma once

#include "config/Inventory.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>

namespace opsdeck {

// Everything the I/O thread needs to reach one host; built from the inventory's Host.
struct SshTarget
{
    QString name; // inventory host name, for messages
    QString address;
    quint16 port = 22;
    QString user;
    AuthMethod method = AuthMethod::Key;
    QString identityFile;
    QString knownHostsFile; // empty: ~/.ssh/known_hosts

    static SshTarget fromHost(const Host& host);
    QString display() const; // user@name (address:port)
    QString knownHostsPath() const;
};

struct SshError
{
    enum class Kind
    {
        None,
        HostKeyUnknown, // not in known_hosts and not accepted: nothing runs
        HostKeyChanged, // differs from known_hosts: always refused
        SecretRequired, // a password or key passphrase is needed before connecting
        AuthFailed,
        ConnectFailed, // TCP/handshake failure or timeout
        Disconnected, // the connection dropped; what was in flight did not complete
        Timeout, // the command exceeded its time limit and was stopped
        Cancelled,
        ChannelFailed, // the server refused a channel (exec, forward)
        InvalidRequest,
    };
    Kind kind = Kind::None;
    QString message;

    bool isError() const { return kind != Kind::None; }
    // Connection-level failures that retrying cannot fix without the admin.
    bool isPermanent() const
    {
        return kind == Kind::HostKeyUnknown || kind == Kind::HostKeyChanged || kind == Kind::SecretRequired
            || kind == Kind::AuthFailed;
    }
    static QString kindName(Kind kind);
};

struct HostKeyInfo
{
    enum class Status
    {
        NotChecked,
        Known,
        Unknown,
        Changed
    };
    Status status = Status::NotChecked;
    QString sha256; // the key the server presented, "SHA256:..."
    QString knownSha256; // Changed: the key known_hosts holds
    static QString statusName(Status status);
};

struct ExecResult
{
    int exitStatus = -1; // valid only when !error.isError()
    QByteArray stdoutData;
    QByteArray stderrData;
    SshError error;
    qint64 elapsedMs = 0;

    bool succeeded() const { return !error.isError() && exitStatus == 0; }
    // For error messages: the SSH error, or the exit status and stderr.
    QString describe() const;
};

} // namespace opsdeck

Q_DECLARE_METATYPE(opsdeck::SshError)
Q_DECLARE_METATYPE(opsdeck::ExecResult)
Q_DECLARE_METATYPE(opsdeck::HostKeyInfo)
