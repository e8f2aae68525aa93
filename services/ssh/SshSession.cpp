#include "ssh/SshSession.h"

#include "core/ShellQuote.h"
#include "ssh/SshIoThread.h"
#include "ssh/SshLogging.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QEventLoop>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace opsdeck {

SshTarget SshTarget::fromHost(const Host& host)
{
    SshTarget target;
    target.name = host.name;
    target.address = host.address;
    target.port = host.port;
    target.user = host.user;
    target.method = host.auth.method;
    target.identityFile = host.auth.identityFile;
    target.knownHostsFile = host.knownHostsFile;
    return target;
}

QString SshTarget::display() const
{
    return QStringLiteral("%1@%2 (%3:%4)").arg(user, name, address).arg(port);
}

QString SshTarget::knownHostsPath() const
{
    return knownHostsFile.isEmpty() ? QDir::homePath() + QStringLiteral("/.ssh/known_hosts") : knownHostsFile;
}

QString ExecResult::describe() const
{
    if (error.isError())
        return error.message;
    const QString err = QString::fromUtf8(stderrData).trimmed();
    return QStringLiteral("exit status %1%2")
        .arg(exitStatus)
        .arg(err.isEmpty() ? QString() : QStringLiteral(": ") + err);
}

QString SshError::kindName(Kind kind)
{
    switch (kind) {
    case Kind::None:
        return QStringLiteral("none");
    case Kind::HostKeyUnknown:
        return QStringLiteral("host-key-unknown");
    case Kind::HostKeyChanged:
        return QStringLiteral("host-key-changed");
    case Kind::SecretRequired:
        return QStringLiteral("secret-required");
    case Kind::AuthFailed:
        return QStringLiteral("auth-failed");
    case Kind::ConnectFailed:
        return QStringLiteral("connect-failed");
    case Kind::Disconnected:
        return QStringLiteral("disconnected");
    case Kind::Timeout:
        return QStringLiteral("timeout");
    case Kind::Cancelled:
        return QStringLiteral("cancelled");
    case Kind::ChannelFailed:
        return QStringLiteral("channel-failed");
    case Kind::InvalidRequest:
        return QStringLiteral("invalid-request");
    }
    return {};
}

QString HostKeyInfo::statusName(Status status)
{
    switch (status) {
    case Status::NotChecked:
        return QStringLiteral("not-checked");
    case Status::Known:
        return QStringLiteral("known");
    case Status::Unknown:
        return QStringLiteral("unknown");
    case Status::Changed:
        return QStringLiteral("changed");
    }
    return {};
}

// --- SshCommand

SshCommand::SshCommand(SshSession* session, quint64 id, QString commandLine)
    : m_session(session)
    , m_id(id)
    , m_commandLine(std::move(commandLine))
{
}

SshCommand::~SshCommand()
{
    if (!m_finished && m_session)
        m_session->cancelCommand(m_id);
}

void SshCommand::cancel()
{
    if (!m_finished && m_session)
        m_session->cancelCommand(m_id);
}

bool SshCommand::waitForFinished(int timeoutMs)
{
    if (m_finished)
        return true;
    QEventLoop loop;
    connect(this, &SshCommand::finished, &loop, &QEventLoop::quit);
    if (timeoutMs >= 0)
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return m_finished;
}

void SshCommand::deliverOutput(int stream, const QByteArray& data)
{
    if (stream == 0)
        emit stdoutReceived(data);
    else
        emit stderrReceived(data);
}

void SshCommand::deliverResult(const ExecResult& result)
{
    m_finished = true;
    m_result = result;
    emit finished(m_result);
}

// --- SshTunnel

SshTunnel::SshTunnel(SshSession* session, quint64 id, quint16 localPort, QString remote)
    : m_session(session)
    , m_id(id)
    , m_localPort(localPort)
    , m_remote(std::move(remote))
{
}

SshTunnel::~SshTunnel()
{
    if (m_session)
        m_session->closeTunnel(m_id);
}

// --- SshSession

SshSession::SshSession(const SshTarget& target, QObject* parent)
    : QObject(parent)
    , m_target(target)
    , m_io(std::make_unique<SshIoThread>(this, target))
{
    static const bool initialised = [] {
        qRegisterMetaType<SshError>();
        qRegisterMetaType<ExecResult>();
        qRegisterMetaType<HostKeyInfo>();
        return ssh_init() == SSH_OK;
    }();
    Q_UNUSED(initialised)
    m_io->start();
}

SshSession::~SshSession()
{
    m_io.reset(); // joins the I/O thread before the members it posts to go away
    // Results the thread posted while stopping die with this object; whoever still waits hears it here.
    ExecResult closed;
    closed.error
        = { SshError::Kind::Cancelled, QStringLiteral("the session to %1 was closed").arg(m_target.display()) };
    for (const QPointer<SshCommand>& command : std::as_const(m_commands)) {
        if (command && !command->isFinished())
            command->deliverResult(closed);
    }
}

void SshSession::setSecret(const QString& secret)
{
    m_io->setSecret(secret);
}

void SshSession::acceptHostKey(const QString& sha256)
{
    m_io->acceptHostKey(sha256);
}

void SshSession::setConnectTimeout(int seconds)
{
    m_io->setConnectTimeout(seconds);
}

void SshSession::connectToHost()
{
    m_io->requestConnect();
}

void SshSession::disconnectFromHost()
{
    m_io->requestDisconnect();
}

SshCommand* SshSession::exec(const QStringList& argv, int timeoutMs, const QByteArray& stdinData)
{
    const QString commandLine = ShellQuote::join(argv);
    auto* command = new SshCommand(this, m_nextId++, commandLine);
    m_commands.insert(command->id(), command);
    if (argv.isEmpty() || argv.first().isEmpty()) {
        ExecResult result;
        result.error
            = { SshError::Kind::InvalidRequest, QStringLiteral("empty command for %1").arg(m_target.display()) };
        QTimer::singleShot(0, command, [command, result] { command->deliverResult(result); });
        return command;
    }
    m_io->requestExec(command->id(), commandLine.toUtf8(), stdinData, timeoutMs);
    return command;
}

SshTunnel* SshSession::openTcpTunnel(const QString& remoteHost, quint16 remotePort, QString* error)
{
    return openTunnel(remoteHost, remotePort, {}, error);
}

SshTunnel* SshSession::openUnixTunnel(const QString& remotePath, QString* error)
{
    return openTunnel({}, 0, remotePath, error);
}

SshTunnel* SshSession::openTunnel(
    const QString& remoteHost, quint16 remotePort, const QString& remotePath, QString* error)
{
    // The listener is bound here so the caller knows its port at once; the I/O thread accepts on it.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (error)
            *error = QStringLiteral("cannot listen on 127.0.0.1 for a tunnel to %1: %2")
                         .arg(m_target.display(), QString::fromLocal8Bit(std::strerror(errno)));
        if (fd >= 0)
            ::close(fd);
        return nullptr;
    }
    const QString remote = remotePath.isEmpty() ? QStringLiteral("%1:%2").arg(remoteHost).arg(remotePort) : remotePath;
    auto* tunnel = new SshTunnel(this, m_nextId++, ntohs(address.sin_port), remote);
    qCInfo(lcSsh) << "tunnel 127.0.0.1:" << tunnel->localPort() << "->" << remote << "via" << m_target.display();
    m_io->requestTunnel(tunnel->m_id, fd, remoteHost, remotePort, remotePath);
    return tunnel;
}

void SshSession::cancelCommand(quint64 id)
{
    m_io->requestCancel(id);
}

void SshSession::closeTunnel(quint64 id)
{
    m_io->requestCloseTunnel(id);
}

SshSession::State SshSession::state() const
{
    QMutexLocker lock(&m_stateMutex);
    return m_state;
}

SshError SshSession::lastError() const
{
    QMutexLocker lock(&m_stateMutex);
    return m_lastError;
}

HostKeyInfo SshSession::hostKey() const
{
    QMutexLocker lock(&m_stateMutex);
    return m_hostKey;
}

QString SshSession::stateName(State state)
{
    switch (state) {
    case State::Disconnected:
        return QStringLiteral("disconnected");
    case State::Connecting:
        return QStringLiteral("connecting");
    case State::Connected:
        return QStringLiteral("connected");
    case State::Reconnecting:
        return QStringLiteral("reconnecting");
    case State::Failed:
        return QStringLiteral("failed");
    }
    return {};
}

namespace {
int passphraseProbe(const char*, char*, size_t, int, int, void* userdata)
{
    *static_cast<bool*>(userdata) = true;
    return -1; // refuse: we only want to know that libssh asked
}
} // namespace

bool SshSession::keyNeedsPassphrase(const QString& identityFile)
{
    bool asked = false;
    ssh_key key = nullptr;
    const int rc
        = ssh_pki_import_privkey_file(identityFile.toUtf8().constData(), nullptr, passphraseProbe, &asked, &key);
    if (rc == SSH_OK)
        ssh_key_free(key);
    return asked;
}

void SshSession::postOutput(quint64 id, int stream, const QByteArray& data)
{
    QMetaObject::invokeMethod(
        this,
        [this, id, stream, data] {
            if (auto command = m_commands.value(id))
                command->deliverOutput(stream, data);
        },
        Qt::QueuedConnection);
}

void SshSession::postResult(quint64 id, const ExecResult& result)
{
    QMetaObject::invokeMethod(
        this,
        [this, id, result] {
            if (auto command = m_commands.take(id))
                command->deliverResult(result);
        },
        Qt::QueuedConnection);
}

void SshSession::postState(State state, const SshError& error, const HostKeyInfo& key)
{
    bool keyChanged = false;
    {
        QMutexLocker lock(&m_stateMutex);
        m_state = state;
        if (error.isError() || state == State::Connected)
            m_lastError = error;
        keyChanged = key.status != m_hostKey.status || key.sha256 != m_hostKey.sha256;
        m_hostKey = key;
    }
    QMetaObject::invokeMethod(
        this,
        [this, state, error, key, keyChanged] {
            if (keyChanged)
                emit hostKeyChecked(key);
            emit stateChanged(state, error);
        },
        Qt::QueuedConnection);
}

} // namespace opsdeck
