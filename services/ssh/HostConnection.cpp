#include "ssh/HostConnection.h"

#include "config/CommandTemplates.h"
#include "ssh/SshSession.h"

#include <QMutex>
#include <QMutexLocker>

namespace opsdeck {

// The command in flight, for interrupt() from another thread. run() sets it and clears it, under the mutex, before
// the command is deleted; so while it is set the command exists, and a cancel posted to it is either delivered or
// dropped with it.
struct HostConnection::Running
{
    QMutex mutex;
    SshCommand* command = nullptr;

    void interrupt()
    {
        QMutexLocker lock(&mutex);
        if (command)
            QMetaObject::invokeMethod(command, &SshCommand::cancel, Qt::QueuedConnection);
    }
};

HostConnection::HostConnection(Host host, const QString& secret)
    : m_host(std::move(host))
    , m_session(std::make_unique<SshSession>(SshTarget::fromHost(m_host)))
    , m_running(std::make_shared<Running>())
{
    m_session->setSecret(secret);
}

HostConnection::~HostConnection() = default;

ExecResult HostConnection::run(const QStringList& argv, int timeoutMs, const OutputSink& sink)
{
    std::unique_ptr<SshCommand> command(m_session->exec(argv, timeoutMs));
    if (sink) {
        QObject::connect(command.get(), &SshCommand::stdoutReceived, [&sink](const QByteArray& d) { sink(0, d); });
        QObject::connect(command.get(), &SshCommand::stderrReceived, [&sink](const QByteArray& d) { sink(1, d); });
    }
    {
        QMutexLocker lock(&m_running->mutex);
        m_running->command = command.get();
    }
    command->waitForFinished();
    {
        QMutexLocker lock(&m_running->mutex);
        m_running->command = nullptr;
    }
    return command->result();
}

ExecResult HostConnection::runTemplate(const QString& name, const QMap<QString, QStringList>& values, int timeoutMs)
{
    QString error;
    const QStringList argv = CommandTemplates::expand(m_host.commands.value(name), values, &error);
    if (argv.isEmpty()) {
        ExecResult result;
        result.error = { SshError::Kind::InvalidRequest,
            QStringLiteral("command template %1 of %2: %3").arg(name, m_host.name, error) };
        return result;
    }
    return run(argv, timeoutMs);
}

void HostConnection::interrupt()
{
    m_running->interrupt();
}

std::function<void()> HostConnection::interrupter() const
{
    return [running = m_running] { running->interrupt(); };
}

std::unique_ptr<SshTunnel> HostConnection::openTcpTunnel(const QString& remoteHost, quint16 remotePort, QString* error)
{
    return std::unique_ptr<SshTunnel>(m_session->openTcpTunnel(remoteHost, remotePort, error));
}

std::unique_ptr<SshTunnel> HostConnection::openUnixTunnel(const QString& remotePath, QString* error)
{
    return std::unique_ptr<SshTunnel>(m_session->openUnixTunnel(remotePath, error));
}

SshError HostConnection::lastError() const
{
    return m_session->lastError();
}

} // namespace opsdeck
