#include "ssh/SshIoThread.h"

#include "ssh/KnownHostsFile.h"
#include "ssh/LoopbackPeer.h"
#include "ssh/SshLogging.h"

#include <QDir>
#include <QFileInfo>
#include <QMutexLocker>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace opsdeck {

namespace {

constexpr int kPollIntervalMs = 50; // how often timeouts, backoff and keepalives are looked at when all is quiet
constexpr qint64 kMaxBackoffMs = 30000; // reconnect backoff doubles from 500 ms up to this
constexpr int kReadChunk = 32768;
constexpr qint64 kStopWaitMs = 5000; // how long a stop waits for the command's pid before giving up on killing it
constexpr int kMaxPumpPasses = 16;
constexpr qint64 kKeepaliveMs = 30000;

QString fingerprintOf(ssh_key key)
{
    unsigned char* hash = nullptr;
    size_t length = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != SSH_OK)
        return {};
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
    ssh_clean_pubkey_hash(&hash);
    QString result = QString::fromLatin1(text);
    ssh_string_free_char(text);
    return result;
}

void setNonBlocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

} // namespace

SshIoThread::SshIoThread(SshSession* owner, SshTarget target)
    : m_owner(owner)
    , m_target(std::move(target))
{
    if (::pipe2(m_wakePipe, O_CLOEXEC | O_NONBLOCK) != 0)
        qFatal("opsdeck: cannot create a pipe: %s", std::strerror(errno));
    setObjectName(QStringLiteral("ssh:") + m_target.name);
}

SshIoThread::~SshIoThread()
{
    requestStop();
    wait();
    ::close(m_wakePipe[0]);
    ::close(m_wakePipe[1]);
}

void SshIoThread::wake()
{
    const char byte = 1;
    [[maybe_unused]] auto written = ::write(m_wakePipe[1], &byte, 1);
}

void SshIoThread::requestExec(quint64 id, const QByteArray& commandLine, const QByteArray& stdinData, int timeoutMs)
{
    Exec exec;
    exec.id = id;
    exec.commandLine = commandLine;
    exec.stdinData = stdinData;
    exec.timeoutMs = timeoutMs;
    exec.clock.start();
    QMutexLocker lock(&m_mutex);
    m_requests.execs << exec;
    wake();
}

void SshIoThread::requestCancel(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    m_requests.cancels << id;
    wake();
}

void SshIoThread::requestTunnel(
    quint64 id, int listenFd, const QString& remoteHost, quint16 remotePort, const QString& remotePath)
{
    Tunnel tunnel;
    tunnel.id = id;
    tunnel.listenFd = listenFd;
    tunnel.remoteHost = remoteHost;
    tunnel.remotePort = remotePort;
    tunnel.remotePath = remotePath;
    QMutexLocker lock(&m_mutex);
    m_requests.tunnels << tunnel;
    wake();
}

void SshIoThread::requestCloseTunnel(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    m_requests.closeTunnels << id;
    wake();
}

void SshIoThread::requestConnect()
{
    QMutexLocker lock(&m_mutex);
    m_requests.connect = true;
    wake();
}

void SshIoThread::requestDisconnect()
{
    QMutexLocker lock(&m_mutex);
    m_requests.disconnect = true;
    wake();
}

void SshIoThread::requestStop()
{
    QMutexLocker lock(&m_mutex);
    m_requests.stop = true;
    wake();
}

void SshIoThread::setSecret(const QString& secret)
{
    QMutexLocker lock(&m_mutex);
    m_secret = secret;
}

void SshIoThread::acceptHostKey(const QString& sha256)
{
    QMutexLocker lock(&m_mutex);
    m_acceptedKey = sha256;
}

void SshIoThread::setConnectTimeout(int seconds)
{
    QMutexLocker lock(&m_mutex);
    m_connectTimeout = seconds;
}

QString SshIoThread::where() const
{
    return m_target.display();
}

// Never empty, so that it can mark a drop.
QString SshIoThread::sessionError() const
{
    const QString error = QString::fromUtf8(ssh_get_error(m_session));
    return error.isEmpty() ? QStringLiteral("connection lost") : error;
}

void SshIoThread::run()
{
    bool stop = false;
    while (!stop) {
        stop = takeRequests();
        if (stop)
            break;
        tryConnect();
        if (m_connected) {
            startExecs();
            openForwards();
        }
        pollOnce();
    }
    // Shutting down: nothing in flight may look like a success.
    for (auto& [id, exec] : m_running)
        finishExec(exec, { SshError::Kind::Cancelled, QStringLiteral("the session to %1 was closed").arg(where()) });
    m_running.clear();
    for (Exec& exec : m_waiting)
        finishExec(exec, { SshError::Kind::Cancelled, QStringLiteral("the session to %1 was closed").arg(where()) });
    m_waiting.clear();
    for (auto& [id, tunnel] : m_tunnels)
        closeTunnelNow(tunnel);
    m_tunnels.clear();
    closeSession();
}

bool SshIoThread::takeRequests()
{
    char drain[64];
    while (::read(m_wakePipe[0], drain, sizeof drain) > 0) { }
    Requests requests;
    {
        QMutexLocker lock(&m_mutex);
        std::swap(requests, m_requests);
    }
    for (Exec& exec : requests.execs)
        m_waiting << exec;
    for (Tunnel& tunnel : requests.tunnels) {
        setNonBlocking(tunnel.listenFd);
        m_tunnels.emplace(tunnel.id, tunnel);
    }
    for (quint64 id : requests.closeTunnels) {
        auto it = m_tunnels.find(id);
        if (it != m_tunnels.end()) {
            closeTunnelNow(it->second);
            m_tunnels.erase(it);
        }
    }
    for (quint64 id : requests.cancels) {
        const SshError cancelled { SshError::Kind::Cancelled, QStringLiteral("cancelled on %1").arg(where()) };
        if (auto it = m_running.find(id); it != m_running.end())
            stop(it->second, cancelled);
        for (qsizetype i = 0; i < m_waiting.size(); ++i) {
            if (m_waiting[i].id == id) {
                finishExec(m_waiting[i], cancelled);
                m_waiting.removeAt(i);
                break;
            }
        }
    }
    // A new tunnel is about to get its client (the caller opens it to use it): connecting now overlaps the SSH
    // handshake with the client's own start (a SQL driver loading, say).
    if (requests.connect || !requests.tunnels.isEmpty()) {
        m_connectWanted = true;
        m_refused = false;
        m_failedAttempts = 0;
        m_backoffMs = 0;
    }
    if (requests.disconnect) {
        m_connectWanted = false;
        m_autoReconnect = false;
        handleDrop(QStringLiteral("disconnected on request"), false);
        publishState(SshSession::State::Disconnected, {});
    }
    return requests.stop;
}

void SshIoThread::tryConnect()
{
    if (m_connected)
        return;
    if (!hasConnectDemand())
        return;
    if (m_sinceAttempt.isValid() && m_sinceAttempt.elapsed() < m_backoffMs)
        return;

    publishState(m_autoReconnect ? SshSession::State::Reconnecting : SshSession::State::Connecting, {});
    SshError error;
    m_sinceAttempt.start();
    if (connectSession(&error)) {
        m_connected = true;
        m_refused = false;
        m_pumpNow = true;
        m_event = ssh_event_new();
        ssh_event_add_session(m_event, m_session);
        m_lastKeepalive.start();
        m_failedAttempts = 0;
        m_backoffMs = 0;
        m_autoReconnect = false;
        m_connectWanted = false;
        qCInfo(lcSsh) << "connected to" << where();
        publishState(SshSession::State::Connected, {});
        return;
    }
    closeSession();
    ++m_failedAttempts;
    m_backoffMs = std::min<qint64>(kMaxBackoffMs, 500LL << std::min(m_failedAttempts - 1, 10));
    qCWarning(lcSsh) << "connect to" << where() << "failed:" << error.message;
    m_connectWanted = false;
    m_refused = error.isPermanent();
    if (error.isPermanent())
        m_autoReconnect = false;
    SshError published = error;
    if (m_autoReconnect)
        published.message += QStringLiteral("; retrying in %1 s").arg(double(m_backoffMs) / 1000.0, 0, 'f', 1);
    publishState(m_autoReconnect ? SshSession::State::Reconnecting : SshSession::State::Failed, published);
    // Whoever waits for this connection learns why now, rather than after the next attempt; the state (and host
    // key) is published first so that they see it.
    for (Exec& exec : m_waiting)
        finishExec(exec, error);
    m_waiting.clear();
    for (auto& [id, tunnel] : m_tunnels) {
        for (TunnelClient& client : tunnel.clients)
            closeClient(client);
        tunnel.clients.clear();
    }
}

bool SshIoThread::connectSession(SshError* error)
{
    long timeout = 10;
    {
        QMutexLocker lock(&m_mutex);
        timeout = m_connectTimeout;
    }
    m_hostKey = {}; // what an earlier connection saw says nothing about this one
    m_session = ssh_new();
    const QByteArray host = m_target.address.toUtf8();
    const QByteArray user = m_target.user.toUtf8();
    const QByteArray knownHosts = QDir::cleanPath(m_target.knownHostsPath()).toUtf8();
    unsigned int port = m_target.port;
    bool processConfig = false; // ~/.ssh/config and /etc/ssh must not change what the inventory says
    ssh_options_set(m_session, SSH_OPTIONS_HOST, host.constData());
    ssh_options_set(m_session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(m_session, SSH_OPTIONS_USER, user.constData());
    ssh_options_set(m_session, SSH_OPTIONS_PROCESS_CONFIG, &processConfig);
    ssh_options_set(m_session, SSH_OPTIONS_KNOWNHOSTS, knownHosts.constData());
    ssh_options_set(m_session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
    ssh_options_set(m_session, SSH_OPTIONS_TIMEOUT, &timeout);
    // Tunnelled SQL is many small request/response round trips: Nagle's algorithm against the server's delayed
    // ACK would hold each small packet back by up to 40 ms.
    int noDelay = 1;
    ssh_options_set(m_session, SSH_OPTIONS_NODELAY, &noDelay);

    if (ssh_connect(m_session) != SSH_OK) {
        *error = { SshError::Kind::ConnectFailed,
            QStringLiteral("cannot connect to %1: %2. Check that the host is up and the address and port "
                           "in the inventory are right.")
                .arg(where(), QString::fromUtf8(ssh_get_error(m_session))) };
        return false;
    }
    if (!checkHostKey(error))
        return false;
    return authenticate(error);
}

bool SshIoThread::checkHostKey(SshError* error)
{
    ssh_key serverKey = nullptr;
    if (ssh_get_server_publickey(m_session, &serverKey) != SSH_OK) {
        *error = { SshError::Kind::ConnectFailed, QStringLiteral("%1 sent no host key").arg(where()) };
        return false;
    }
    HostKeyInfo info;
    info.sha256 = fingerprintOf(serverKey);
    ssh_key_free(serverKey);

    QString accepted;
    {
        QMutexLocker lock(&m_mutex);
        accepted = m_acceptedKey;
    }
    const QString knownHosts = m_target.knownHostsPath();
    switch (ssh_session_is_known_server(m_session)) {
    case SSH_KNOWN_HOSTS_OK:
        info.status = HostKeyInfo::Status::Known;
        break;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER: {
        info.status = HostKeyInfo::Status::Changed;
        // libssh hands out the known_hosts entry only when it matches, so the conflicting one is read here.
        info.knownSha256 = KnownHostsFile::fingerprintsFor(knownHosts, m_target.address, m_target.port).join(u' ');
        *error = { SshError::Kind::HostKeyChanged,
            QStringLiteral("HOST KEY CHANGED for %1: known_hosts (%2) has %3, the server presented %4. "
                           "Nothing was run. If the host was really re-keyed, verify the new key out of band "
                           "and replace its line in known_hosts.")
                .arg(where(), knownHosts,
                    info.knownSha256.isEmpty() ? QStringLiteral("a key of another type") : info.knownSha256,
                    info.sha256) };
        break;
    }
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        info.status = HostKeyInfo::Status::Unknown;
        if (!accepted.isEmpty() && accepted == info.sha256) {
            QDir().mkpath(QFileInfo(knownHosts).absolutePath());
            if (ssh_session_update_known_hosts(m_session) != SSH_OK) {
                *error = { SshError::Kind::ConnectFailed,
                    QStringLiteral("cannot write %1 to accept the key of %2: %3")
                        .arg(knownHosts, where(), QString::fromUtf8(ssh_get_error(m_session))) };
                break;
            }
            qCInfo(lcSsh) << "accepted host key" << info.sha256 << "for" << where() << "into" << knownHosts;
            info.status = HostKeyInfo::Status::Known;
            break;
        }
        *error = { SshError::Kind::HostKeyUnknown,
            QStringLiteral("%1 is not in %2; its key fingerprint is %3. Nothing was run. Verify the "
                           "fingerprint out of band, then accept it.")
                .arg(where(), knownHosts, info.sha256) };
        break;
    case SSH_KNOWN_HOSTS_ERROR:
        *error = { SshError::Kind::ConnectFailed,
            QStringLiteral("cannot check the host key of %1 against %2: %3")
                .arg(where(), knownHosts, QString::fromUtf8(ssh_get_error(m_session))) };
        break;
    }
    m_hostKey = info;
    return !error->isError();
}

bool SshIoThread::authenticate(SshError* error)
{
    QString secret;
    {
        QMutexLocker lock(&m_mutex);
        secret = m_secret;
    }
    const QByteArray secretBytes = secret.toUtf8();
    int rc = SSH_AUTH_ERROR;
    QString method;
    switch (m_target.method) {
    case AuthMethod::Key: {
        method = QStringLiteral("key %1").arg(m_target.identityFile);
        if (!QFileInfo(m_target.identityFile).isReadable()) {
            *error = { SshError::Kind::AuthFailed,
                QStringLiteral("cannot read the identity file %1 for %2; fix auth.identityFile in the "
                               "inventory")
                    .arg(m_target.identityFile, where()) };
            return false;
        }
        ssh_key key = nullptr;
        const QByteArray path = m_target.identityFile.toUtf8();
        if (ssh_pki_import_privkey_file(
                path.constData(), secret.isEmpty() ? nullptr : secretBytes.constData(), nullptr, nullptr, &key)
            != SSH_OK) {
            *error = secret.isEmpty()
                ? SshError { SshError::Kind::SecretRequired,
                      QStringLiteral("the key %1 for %2 needs its passphrase").arg(m_target.identityFile, where()) }
                : SshError { SshError::Kind::AuthFailed,
                      QStringLiteral("cannot unlock the key %1 for %2: wrong passphrase, or not a private key")
                          .arg(m_target.identityFile, where()) };
            return false;
        }
        rc = ssh_userauth_publickey(m_session, nullptr, key);
        ssh_key_free(key);
        break;
    }
    case AuthMethod::Agent:
        method = QStringLiteral("ssh-agent");
        rc = ssh_userauth_agent(m_session, nullptr);
        break;
    case AuthMethod::Password:
        method = QStringLiteral("password");
        if (secret.isEmpty()) {
            *error = { SshError::Kind::SecretRequired, QStringLiteral("%1 needs a password").arg(where()) };
            return false;
        }
        rc = ssh_userauth_password(m_session, nullptr, secretBytes.constData());
        break;
    }
    if (rc == SSH_AUTH_SUCCESS)
        return true;
    *error = { SshError::Kind::AuthFailed,
        QStringLiteral("authentication to %1 by %2 was refused: %3")
            .arg(where(), method, QString::fromUtf8(ssh_get_error(m_session))) };
    return false;
}

void SshIoThread::closeSession()
{
    if (m_event) {
        ssh_event_remove_session(m_event, m_session);
        ssh_event_free(m_event);
        m_event = nullptr;
    }
    if (!m_session)
        return;
    if (m_connected)
        ssh_disconnect(m_session);
    ssh_free(m_session);
    m_session = nullptr;
    m_connected = false;
}

void SshIoThread::startExecs()
{
    while (!m_waiting.isEmpty()) {
        Exec pending = m_waiting.takeFirst();
        const quint64 id = pending.id;
        Exec& exec = m_running.emplace(id, std::move(pending)).first->second; // stable address for the callbacks
        m_pumpNow = true;
        // The login shell announces its pid, then execs the command in its place. sshd starts each session with
        // setsid(), so that pid also names the command's process group, which terminate() can kill.
        const QByteArray wire = exec.announcement.shellPrefix() + "exec " + exec.commandLine;
        exec.channel = ssh_channel_new(m_session);
        if (exec.channel) {
            ssh_callbacks_init(&exec.callbacks);
            exec.callbacks.userdata = &exec;
            exec.callbacks.channel_exit_status_function = onExitStatus;
            exec.callbacks.channel_exit_signal_function = onExitSignal;
            ssh_set_channel_callbacks(exec.channel, &exec.callbacks);
        }
        const bool opened = exec.channel && ssh_channel_open_session(exec.channel) == SSH_OK;
        const int rc = opened ? ssh_channel_request_exec(exec.channel, wire.constData()) : SSH_ERROR;
        if (rc == SSH_OK) {
            qCDebug(lcSsh) << where() << "exec" << exec.commandLine;
            continue;
        }
        const QString why = sessionError();
        stopExecChannel(exec);
        if (!ssh_is_connected(m_session)) {
            finishExec(exec,
                { SshError::Kind::Disconnected,
                    QStringLiteral("%1 dropped the connection before the command started: %2").arg(where(), why) });
            m_running.erase(id);
            handleDrop(why, true);
            return;
        }
        // Refused before the exec request, nothing ran; once it was sent, the server may have started it.
        finishExec(exec,
            { SshError::Kind::ChannelFailed,
                opened ? QStringLiteral("%1 did not confirm the start of the command (%2); whether it "
                                        "ran is unknown")
                             .arg(where(), why)
                       : QStringLiteral("%1 refused to open a channel for the command: %2").arg(where(), why) });
        m_running.erase(id);
    }
}

void SshIoThread::onExitStatus(ssh_session, ssh_channel, int status, void* userdata)
{
    static_cast<Exec*>(userdata)->exitStatus = status;
}

void SshIoThread::onExitSignal(
    ssh_session, ssh_channel, const char* signal, int, const char*, const char*, void* userdata)
{
    static_cast<Exec*>(userdata)->exitSignal = QString::fromUtf8(signal);
}

void SshIoThread::openForwards()
{
    for (auto& [id, tunnel] : m_tunnels) {
        for (qsizetype i = 0; i < tunnel.clients.size(); ++i) {
            TunnelClient& client = tunnel.clients[i];
            if (client.channel)
                continue;
            client.channel = ssh_channel_new(m_session);
            m_pumpNow = true;
            const int rc = tunnel.remotePath.isEmpty()
                ? ssh_channel_open_forward(
                    client.channel, tunnel.remoteHost.toUtf8().constData(), tunnel.remotePort, "127.0.0.1", 0)
                : ssh_channel_open_forward_unix(client.channel, tunnel.remotePath.toUtf8().constData(), "127.0.0.1", 0);
            if (rc != SSH_OK) {
                qCWarning(lcSsh) << where() << "refused a forward to"
                                 << (tunnel.remotePath.isEmpty() ? tunnel.remoteHost : tunnel.remotePath)
                                 << ssh_get_error(m_session);
                closeClient(client);
                tunnel.clients.removeAt(i--);
            }
        }
    }
}

void SshIoThread::pollOnce()
{
    std::vector<pollfd> fds;
    fds.push_back({ m_wakePipe[0], POLLIN, 0 });
    if (m_connected)
        fds.push_back({ ssh_get_fd(m_session), POLLIN, 0 });
    for (auto& [id, tunnel] : m_tunnels) {
        fds.push_back({ tunnel.listenFd, POLLIN, 0 });
        for (const TunnelClient& client : tunnel.clients) {
            short events = 0;
            if (client.channel && client.wantsClientData())
                events |= POLLIN;
            if (!client.toClient.isEmpty())
                events |= POLLOUT;
            fds.push_back({ client.fd, events, 0 });
        }
    }
    int timeout = kPollIntervalMs;
    if (!m_connected && hasConnectDemand())
        timeout = int(std::clamp<qint64>(m_backoffMs - m_sinceAttempt.elapsed(), 0, kPollIntervalMs));
    if (m_pumpNow)
        timeout = 0;
    m_pumpNow = false;
    ::poll(fds.data(), fds.size(), timeout);
    if (m_connected) {
        // sshd leaves Nagle's algorithm on for sessions without a terminal: a small packet it sends (a window
        // adjust, then the database's short reply) waits for our ACK of the one before, which the kernel
        // delays by 40 ms. Asking for quick ACKs before every read makes a tunnelled statement that sends
        // 200 KB take 3 ms instead of 40. The kernel drops out of quick-ACK mode by itself, hence every time.
        const int quickAck = 1;
        ::setsockopt(ssh_get_fd(m_session), IPPROTO_TCP, TCP_QUICKACK, &quickAck, sizeof quickAck);
    }

    for (auto& [id, tunnel] : m_tunnels)
        acceptClients(tunnel);
    if (!m_connected)
        return;

    // Reading one channel can pull another channel's packets into libssh's buffers: go round until quiet, but
    // not forever, so that a busy tunnel cannot starve cancels, timeouts and new requests.
    QString dropped;
    bool progress = true;
    for (int pass = 0; progress && dropped.isNull() && pass < kMaxPumpPasses; ++pass) {
        progress = false;
        // Channel reads stop handling packets once a channel saw EOF, yet the exit status and the close come
        // after it: let libssh process whatever has arrived.
        if (ssh_event_dopoll(m_event, 0) == SSH_ERROR && !ssh_is_connected(m_session)) {
            dropped = sessionError();
            break;
        }
        for (auto it = m_running.begin(); dropped.isNull() && it != m_running.end();) {
            const bool done = pumpExec(it->second, &dropped);
            progress = progress || done;
            it = done ? m_running.erase(it) : std::next(it);
        }
        for (auto& [id, tunnel] : m_tunnels) {
            for (qsizetype i = 0; dropped.isNull() && i < tunnel.clients.size(); ++i) {
                if (!tunnel.clients[i].channel)
                    continue;
                if (pumpTunnelClient(tunnel, tunnel.clients[i]))
                    progress = true;
                if (tunnel.clients[i].fd < 0)
                    tunnel.clients.removeAt(i--);
            }
        }
        if (dropped.isNull() && !ssh_is_connected(m_session))
            dropped = sessionError();
        // Cut short while still moving data: the rest may be in libssh's buffers already.
        m_pumpNow = progress && pass + 1 == kMaxPumpPasses;
    }
    if (!dropped.isNull()) {
        handleDrop(dropped, true);
        return;
    }
    for (auto& [id, exec] : m_running) {
        if (!exec.stopping && exec.timeoutMs > 0 && exec.clock.elapsed() > exec.timeoutMs) {
            stop(exec,
                { SshError::Kind::Timeout,
                    QStringLiteral("the command on %1 did not finish within %2 s and was stopped")
                        .arg(where())
                        .arg(exec.timeoutMs / 1000.0) });
        }
    }
    // Traffic now and then keeps NAT and firewall state for an idle session alive.
    if (m_lastKeepalive.elapsed() > kKeepaliveMs) {
        ssh_send_ignore(m_session, "");
        m_lastKeepalive.start();
    }
}

// Asks for the command to be stopped; pumpExec kills it and reports `why` once its pid is known.
void SshIoThread::stop(Exec& exec, const SshError& why)
{
    if (exec.stopping)
        return;
    exec.stopping = why;
    exec.stopClock.start();
}

bool SshIoThread::hasConnectDemand() const
{
    bool clientsWaiting = false;
    for (const auto& [id, tunnel] : m_tunnels)
        clientsWaiting = clientsWaiting || (!tunnel.clients.isEmpty() && !m_refused);
    return m_connectWanted || m_autoReconnect || !m_waiting.isEmpty() || clientsWaiting;
}

// Returns true when the command has finished (and was reported). A broken session sets *dropped instead; the
// caller then fails everything in flight.
bool SshIoThread::pumpExec(Exec& exec, QString* dropped)
{
    if (!writeStdin(exec, dropped))
        return false;
    char buffer[kReadChunk];
    for (int stream = 0; stream < 2; ++stream) {
        for (;;) {
            const int n = ssh_channel_read_nonblocking(exec.channel, buffer, sizeof buffer, stream);
            if (n == SSH_ERROR) {
                *dropped = sessionError();
                return false;
            }
            if (n <= 0)
                break;
            QByteArray data(buffer, n);
            if (stream == 1 && !exec.announcement.decided() && !exec.announcement.take(&data))
                continue;
            if (data.isEmpty())
                continue;
            (stream == 0 ? exec.result.stdoutData : exec.result.stderrData).append(data);
            m_owner->postOutput(exec.id, stream, data);
        }
    }
    if (exec.stopping) {
        // Wait briefly for the pid so the process can be killed, not just disconnected from.
        if (!exec.announcement.decided() && exec.stopClock.elapsed() < kStopWaitMs)
            return false;
        SshError why = *exec.stopping;
        if (exec.announcement.pid() <= 1)
            why.message += QStringLiteral("; the remote process could not be identified and may still be running");
        terminate(exec);
        finishExec(exec, why);
        return true;
    }
    // The exit status arrives through onExitStatus; EOF alone only means the command closed its output.
    const bool ended = exec.exitStatus >= 0 || !exec.exitSignal.isEmpty();
    const bool drained = ssh_channel_is_eof(exec.channel) || ssh_channel_is_closed(exec.channel);
    if (!(ended && drained) && !ssh_channel_is_closed(exec.channel))
        return false;
    if (const QByteArray held = exec.announcement.release(); !held.isEmpty()) {
        exec.result.stderrData += held;
        m_owner->postOutput(exec.id, 1, held);
    }
    stopExecChannel(exec);
    if (!ssh_is_connected(m_session)) {
        // No exit status from a live connection means we cannot know the command completed.
        finishExec(exec,
            { SshError::Kind::Disconnected,
                QStringLiteral("the connection to %1 dropped while the command ran").arg(where()) });
    } else if (exec.exitStatus >= 0) {
        exec.result.exitStatus = exec.exitStatus;
        finishExec(exec, {});
    } else {
        finishExec(exec,
            { SshError::Kind::ChannelFailed,
                exec.exitSignal.isEmpty()
                    ? QStringLiteral("the command on %1 ended without an exit status").arg(where())
                    : QStringLiteral("the command on %1 was killed by signal %2").arg(where(), exec.exitSignal) });
    }
    return true;
}

// Feeds stdin as the remote window allows, so the loop keeps reading output meanwhile; EOF follows the last
// byte. Returns false when the session broke (*dropped is set).
bool SshIoThread::writeStdin(Exec& exec, QString* dropped)
{
    if (exec.stdinSent)
        return true;
    while (exec.stdinOffset < exec.stdinData.size()) {
        const qsizetype window = qsizetype(ssh_channel_window_size(exec.channel));
        if (window == 0)
            return true; // more once the server reads
        const qsizetype chunk = std::min({ window, exec.stdinData.size() - exec.stdinOffset, qsizetype(kReadChunk) });
        const int n = ssh_channel_write(exec.channel, exec.stdinData.constData() + exec.stdinOffset, uint32_t(chunk));
        if (n == SSH_ERROR) {
            if (!ssh_is_connected(m_session)) {
                *dropped = sessionError();
                return false;
            }
            break; // the command closed its stdin; it decides what that means
        }
        exec.stdinOffset += n;
    }
    ssh_channel_send_eof(exec.channel);
    exec.stdinSent = true;
    return true;
}

bool SshIoThread::pumpTunnelClient(const Tunnel& tunnel, TunnelClient& client)
{
    bool progress = false;
    char buffer[kReadChunk];
    // Remote -> client, with backpressure: leave data in the SSH window while the client lags.
    bool remoteBroken = false;
    while (client.toClient.size() < kClientBufferLimit) {
        const int n = ssh_channel_read_nonblocking(client.channel, buffer, sizeof buffer, 0);
        if (n == SSH_ERROR) {
            remoteBroken = true;
            break;
        }
        if (n <= 0)
            break;
        client.toClient.append(buffer, n);
        progress = true;
    }
    while (!client.toClient.isEmpty()) {
        const ssize_t n = ::send(client.fd, client.toClient.constData(), size_t(client.toClient.size()), MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            closeClient(client); // the client went away: nothing left to deliver
            return true;
        }
        client.toClient.remove(0, n);
        progress = true;
    }
    // Client -> remote, only as much as the remote window takes, so a write never blocks this thread.
    if (client.wantsClientData()) {
        const ssize_t n = ::recv(client.fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            client.toRemote.append(buffer, n);
            progress = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            client.clientEof = true;
            progress = true;
        }
    }
    while (!client.toRemote.isEmpty() && !client.remoteWriteFailed) {
        const qsizetype window = qsizetype(ssh_channel_window_size(client.channel));
        if (window == 0)
            break;
        const int n = ssh_channel_write(
            client.channel, client.toRemote.constData(), uint32_t(std::min(window, client.toRemote.size())));
        if (n == SSH_ERROR) {
            // The remote end closed: stop taking from the client, but still hand it what the remote sent.
            client.remoteWriteFailed = true;
            client.toRemote.clear();
            break;
        }
        client.toRemote.remove(0, n);
        progress = true;
    }
    if (client.clientEof && client.toRemote.isEmpty() && !client.eofSent && !client.remoteWriteFailed) {
        ssh_channel_send_eof(client.channel);
        client.eofSent = true;
    }
    const bool remoteDone = remoteBroken || ssh_channel_is_eof(client.channel) || ssh_channel_is_closed(client.channel);
    if (remoteDone && client.toClient.isEmpty()) {
        qCDebug(lcSsh) << where() << "forward to" << tunnel.remoteHost << tunnel.remotePath << "closed";
        closeClient(client);
        return true;
    }
    return progress;
}

void SshIoThread::acceptClients(Tunnel& tunnel)
{
    for (;;) {
        const int fd = ::accept4(tunnel.listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (m_refused && !m_connected) {
            ::close(fd); // the login or host key was refused: the client learns it at once, from lastError()
            continue;
        }
        // Any local user can connect to 127.0.0.1, and the databases behind a tunnel trust their host's loopback.
        if (const std::optional<uid_t> owner = LoopbackPeer::uid(fd); !owner || *owner != ::geteuid()) {
            qCWarning(lcSsh) << where() << "refused a tunnel connection from"
                             << (owner ? QStringLiteral("uid %1").arg(*owner) : QStringLiteral("an unknown user"))
                             << "to" << tunnel.remoteHost + tunnel.remotePath << ": a tunnel serves only its own user";
            ::close(fd);
            continue;
        }
        // The local end too (see SSH_OPTIONS_NODELAY above).
        const int noDelay = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof noDelay);
        TunnelClient client;
        client.fd = fd;
        tunnel.clients << client; // the forward channel opens once the session is up
    }
}

void SshIoThread::handleDrop(const QString& why, bool unexpected)
{
    const bool wasConnected = m_connected;
    const SshError dropped { SshError::Kind::Disconnected,
        QStringLiteral("the connection to %1 dropped (%2); the command did not complete and "
                       "its effect on the host is unknown")
            .arg(where(), why) };
    for (auto& [id, exec] : m_running) {
        stopExecChannel(exec);
        finishExec(exec, dropped);
    }
    m_running.clear();
    for (auto& [id, tunnel] : m_tunnels) {
        for (TunnelClient& client : tunnel.clients)
            closeClient(client);
        tunnel.clients.clear();
    }
    closeSession();
    if (wasConnected && unexpected) {
        qCWarning(lcSsh) << "connection to" << where() << "dropped:" << why;
        m_autoReconnect = true;
        m_failedAttempts = 0;
        m_backoffMs = 500;
        m_sinceAttempt.start();
        publishState(SshSession::State::Reconnecting,
            { SshError::Kind::Disconnected, QStringLiteral("connection to %1 dropped: %2").arg(where(), why) });
    }
}

void SshIoThread::finishExec(Exec& exec, SshError error)
{
    exec.result.error = std::move(error);
    exec.result.elapsedMs = exec.clock.elapsed();
    if (exec.result.error.isError())
        exec.result.exitStatus = -1;
    m_owner->postResult(exec.id, exec.result);
}

// Closing the channel alone leaves the remote process running, and OpenSSH refuses "signal" requests in many
// setups; so the command's process group (sshd made it a session leader, see startExecs) is killed from a second
// channel.
void SshIoThread::terminate(Exec& exec)
{
    const qint64 group = exec.announcement.pid();
    if (m_connected && group > 1) {
        ssh_channel killer = ssh_channel_new(m_session);
        const QByteArray kill = "kill -TERM -- -" + QByteArray::number(group);
        // No need to wait for kill's own exit: sshd runs it once the request arrives.
        if (killer && ssh_channel_open_session(killer) == SSH_OK
            && ssh_channel_request_exec(killer, kill.constData()) == SSH_OK)
            qCInfo(lcSsh) << where() << "stopped process group" << group << "of" << exec.commandLine;
        else
            qCWarning(lcSsh) << where() << "could not stop process group" << group << sessionError();
        stopChannel(killer);
    }
    stopExecChannel(exec);
}

// libssh keeps a freed channel until the server's close arrives, and its callbacks with it: an exit status that
// comes meanwhile (a killed command's) would be written into an Exec that is gone.
void SshIoThread::stopExecChannel(Exec& exec)
{
    if (exec.channel)
        ssh_remove_channel_callbacks(exec.channel, &exec.callbacks);
    stopChannel(exec.channel);
}

void SshIoThread::stopChannel(ssh_channel& channel)
{
    if (!channel)
        return;
    if (m_connected && ssh_channel_is_open(channel))
        ssh_channel_close(channel);
    ssh_channel_free(channel);
    channel = nullptr;
}

void SshIoThread::closeClient(TunnelClient& client)
{
    stopChannel(client.channel);
    if (client.fd >= 0)
        ::close(client.fd);
    client.fd = -1;
}

void SshIoThread::closeTunnelNow(Tunnel& tunnel)
{
    for (TunnelClient& client : tunnel.clients)
        closeClient(client);
    tunnel.clients.clear();
    if (tunnel.listenFd >= 0)
        ::close(tunnel.listenFd);
    tunnel.listenFd = -1;
}

void SshIoThread::publishState(SshSession::State state, const SshError& error)
{
    m_owner->postState(state, error, m_hostKey);
}

} // namespace opsdeck
