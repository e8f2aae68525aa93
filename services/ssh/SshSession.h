#pragma once

#include "ssh/SshTypes.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <memory>

namespace opsdeck {

class SshIoThread;
class SshSession;

// One remote command. Lives in the thread that asked for it; output and the result arrive as queued signals.
// Deleting an unfinished command cancels it.
class SshCommand : public QObject
{
    Q_OBJECT
public:
    ~SshCommand() override;

    quint64 id() const { return m_id; }
    QString commandLine() const { return m_commandLine; }
    bool isFinished() const { return m_finished; }
    const ExecResult& result() const { return m_result; }

    // Stops the remote process (TERM) and closes the channel; the command finishes with Kind::Cancelled.
    void cancel();
    // Spins a local event loop until finished: for the CLI and tests, never for the GUI thread.
    bool waitForFinished(int timeoutMs = -1);

signals:
    void stdoutReceived(const QByteArray& data);
    void stderrReceived(const QByteArray& data);
    void finished(const opsdeck::ExecResult& result);

private:
    friend class SshSession;
    SshCommand(SshSession* session, quint64 id, QString commandLine);
    void deliverOutput(int stream, const QByteArray& data);
    void deliverResult(const ExecResult& result);

    QPointer<SshSession> m_session;
    quint64 m_id;
    QString m_commandLine;
    bool m_finished = false;
    ExecResult m_result;
};

// A local listener on 127.0.0.1 whose connections are forwarded over the host's SSH session, so that QPSQL and
// QMYSQL reach a database listening only on the remote loopback or a Unix socket there. Closing (deleting) the
// tunnel stops the listener and its forwarded connections.
class SshTunnel : public QObject
{
    Q_OBJECT
public:
    ~SshTunnel() override;
    quint16 localPort() const { return m_localPort; }
    QString remoteDescription() const { return m_remote; }

private:
    friend class SshSession;
    SshTunnel(SshSession* session, quint64 id, quint16 localPort, QString remote);
    QPointer<SshSession> m_session;
    quint64 m_id;
    quint16 m_localPort;
    QString m_remote;
};

// One SSH session to one host. All libssh I/O for it happens on its own thread; this object's API is called
// from the thread it lives in. Connection is lazy: exec() and opening a tunnel connect on demand. Host keys are
// checked strictly against known_hosts: an unknown key is refused unless accepted by fingerprint, a changed
// key always. A dropped connection fails what is in flight and reconnects with backoff.
class SshSession : public QObject
{
    Q_OBJECT
public:
    enum class State
    {
        Disconnected,
        Connecting,
        Connected,
        Reconnecting,
        Failed
    };
    Q_ENUM(State)

    explicit SshSession(const SshTarget& target, QObject* parent = nullptr);
    ~SshSession() override;

    const SshTarget& target() const { return m_target; }

    // The key passphrase (Key) or password (Password), resolved by the caller from the credential store.
    void setSecret(const QString& secret);
    // The admin accepted this fingerprint ("SHA256:...") for an unknown host; it is written to known_hosts on
    // the next connect if, and only if, the server presents exactly this key.
    void acceptHostKey(const QString& sha256);
    void setConnectTimeout(int seconds);

    void connectToHost();
    void disconnectFromHost();

    // Runs argv on the host, POSIX-quoted into one command line. Connects first if needed.
    SshCommand* exec(const QStringList& argv, int timeoutMs = 120000, const QByteArray& stdinData = {});
    SshTunnel* openTcpTunnel(const QString& remoteHost, quint16 remotePort, QString* error = nullptr);
    SshTunnel* openUnixTunnel(const QString& remotePath, QString* error = nullptr);

    State state() const;
    SshError lastError() const;
    HostKeyInfo hostKey() const;
    static QString stateName(State state);

    // True if the key file is encrypted, i.e. connecting needs a passphrase.
    static bool keyNeedsPassphrase(const QString& identityFile);

signals:
    void stateChanged(opsdeck::SshSession::State state, const opsdeck::SshError& error);
    void hostKeyChecked(const opsdeck::HostKeyInfo& info);

private:
    friend class SshIoThread;
    friend class SshCommand;
    friend class SshTunnel;
    // Called on the I/O thread; hop to this object's thread.
    void postOutput(quint64 id, int stream, const QByteArray& data);
    void postResult(quint64 id, const ExecResult& result);
    void postState(State state, const SshError& error, const HostKeyInfo& key);

    void cancelCommand(quint64 id);
    void closeTunnel(quint64 id);
    SshTunnel* openTunnel(const QString& remoteHost, quint16 remotePort, const QString& remotePath, QString* error);

    SshTarget m_target;
    std::unique_ptr<SshIoThread> m_io;
    QHash<quint64, QPointer<SshCommand>> m_commands;
    quint64 m_nextId = 1;

    mutable QMutex m_stateMutex;
    State m_state = State::Disconnected;
    SshError m_lastError;
    HostKeyInfo m_hostKey;
};

} // namespace opsdeck
