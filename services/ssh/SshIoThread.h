#pragma once

#include "ssh/PidAnnouncement.h"
#include "ssh/SshSession.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QMutex>
#include <QThread>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <map>
#include <optional>

namespace opsdeck {

// The one thread that owns a host's libssh session (libssh sessions are not thread-safe). It runs a poll loop
// over the SSH socket, the tunnel listeners and their accepted clients, and a wake-up pipe for requests from
// SshSession. Results go back through SshSession's post* methods.
class SshIoThread : public QThread
{
public:
    SshIoThread(SshSession* owner, SshTarget target);
    ~SshIoThread() override;

    // Thread-safe requests.
    void requestExec(quint64 id, const QByteArray& commandLine, const QByteArray& stdinData, int timeoutMs);
    void requestCancel(quint64 id);
    void requestTunnel(
        quint64 id, int listenFd, const QString& remoteHost, quint16 remotePort, const QString& remotePath);
    void requestCloseTunnel(quint64 id);
    void requestConnect();
    void requestDisconnect();
    void requestStop();
    void setSecret(const QString& secret);
    void acceptHostKey(const QString& sha256);
    void setConnectTimeout(int seconds);

protected:
    void run() override;

private:
    struct Exec
    {
        quint64 id = 0;
        QByteArray commandLine;
        QByteArray stdinData;
        int timeoutMs = 0;
        ssh_channel channel = nullptr;
        QElapsedTimer clock;
        ExecResult result;
        PidAnnouncement announcement; // the command's process group, from stderr
        qsizetype stdinOffset = 0;
        bool stdinSent = false;
        int exitStatus = -1; // set by onExitStatus
        QString exitSignal; // set by onExitSignal
        ssh_channel_callbacks_struct callbacks {};
        std::optional<SshError> stopping; // cancel or timeout asked for; reported once the process is stopped
        QElapsedTimer stopClock;
    };
    static constexpr qsizetype kClientBufferLimit = 1 << 20; // per direction, before reading stops

    struct TunnelClient
    {
        int fd = -1;
        ssh_channel channel = nullptr;
        QByteArray toClient; // channel data not yet written to the client socket
        QByteArray toRemote; // client data not yet taken by the remote window
        bool clientEof = false;
        bool eofSent = false;
        bool remoteWriteFailed = false;
        bool wantsClientData() const
        {
            return !clientEof && !remoteWriteFailed && toRemote.size() < kClientBufferLimit;
        }
    };
    struct Tunnel
    {
        quint64 id = 0;
        int listenFd = -1;
        QString remoteHost;
        quint16 remotePort = 0;
        QString remotePath;
        QList<TunnelClient> clients;
    };
    struct Requests
    {
        QList<Exec> execs;
        QList<quint64> cancels;
        QList<Tunnel> tunnels;
        QList<quint64> closeTunnels;
        bool connect = false;
        bool disconnect = false;
        bool stop = false;
    };

    void wake();
    bool takeRequests();
    bool connectSession(SshError* error);
    bool checkHostKey(SshError* error);
    bool authenticate(SshError* error);
    void closeSession();
    void tryConnect();
    void startExecs();
    void openForwards();
    void pollOnce();
    bool pumpExec(Exec& exec, QString* dropped);
    bool writeStdin(Exec& exec, QString* dropped);
    void stop(Exec& exec, const SshError& why);
    bool hasConnectDemand() const;
    static void onExitStatus(ssh_session session, ssh_channel channel, int status, void* userdata);
    static void onExitSignal(ssh_session session,
        ssh_channel channel,
        const char* signal,
        int core,
        const char* errmsg,
        const char* lang,
        void* userdata);
    bool pumpTunnelClient(const Tunnel& tunnel, TunnelClient& client);
    void acceptClients(Tunnel& tunnel);
    void handleDrop(const QString& why, bool unexpected);
    void finishExec(Exec& exec, SshError error);
    void terminate(Exec& exec);
    void stopExecChannel(Exec& exec);
    void stopChannel(ssh_channel& channel);
    void closeClient(TunnelClient& client);
    void closeTunnelNow(Tunnel& tunnel);
    void publishState(SshSession::State state, const SshError& error);
    QString where() const;
    QString sessionError() const;

    SshSession* m_owner;
    SshTarget m_target;
    // A blocking libssh call (connect, a channel open, an exec request) reads whatever packets arrive meanwhile,
    // for any channel, into libssh's buffers, where poll() cannot see them: the next poll must not wait.
    bool m_pumpNow = false;
    int m_wakePipe[2] = { -1, -1 };

    QMutex m_mutex; // guards m_requests, m_secret, m_acceptedKey, m_connectTimeout
    Requests m_requests;
    QString m_secret;
    QString m_acceptedKey;
    int m_connectTimeout = 10;

    // I/O thread state only.
    ssh_session m_session = nullptr;
    ssh_event m_event = nullptr; // drives packet handling for m_session while connected
    bool m_connected = false;
    bool m_connectWanted = false;
    // The last attempt was refused for good (login, host key): only an explicit request (connect, a command, a new
    // tunnel) tries again, never a tunnel client alone, so a login the server refused is not repeated behind the
    // admin's back.
    bool m_refused = false;
    bool m_autoReconnect = false; // after a drop, reconnect with backoff until told otherwise
    int m_failedAttempts = 0;
    QElapsedTimer m_sinceAttempt;
    QElapsedTimer m_lastKeepalive;
    qint64 m_backoffMs = 0;
    HostKeyInfo m_hostKey;
    QList<Exec> m_waiting; // not started: waiting for a connection
    std::map<quint64, Exec> m_running;
    std::map<quint64, Tunnel> m_tunnels;
};

} // namespace opsdeck
