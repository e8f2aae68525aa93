#include "datamon/DatamonHost.h"

#include "core/ChildEnvironment.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QMutex>
#include <QMutexLocker>
#include <QProcess>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace opsdeck {

namespace {

constexpr int kGraceMs = 5000;

} // namespace

// The local command in flight, shared with interrupters: its process group and whether it was asked to stop.
struct DatamonHost::Local
{
    QMutex mutex;
    qint64 group = 0;
    bool interrupted = false;

    void interrupt()
    {
        QMutexLocker lock(&mutex);
        interrupted = true;
        if (group > 0)
            ::kill(-static_cast<pid_t>(group), SIGTERM);
    }
};

DatamonHost::DatamonHost(const DatamonContext& context, const Host* host, const QString& sshSecret)
    : m_context(context)
    , m_local(std::make_shared<Local>())
{
    if (host)
        m_connection = std::make_unique<HostConnection>(*host, sshSecret);
}

DatamonHost::~DatamonHost() = default;

QString DatamonHost::where() const
{
    return m_connection ? QStringLiteral("host %1").arg(m_connection->host().name) : QStringLiteral("this machine");
}

ExecResult DatamonHost::run(const QStringList& argv, int timeoutMs, const HostConnection::OutputSink& sink)
{
    {
        QMutexLocker lock(&m_local->mutex);
        m_local->interrupted = false;
    }
    if (!m_connection)
        return runLocally(argv, timeoutMs, sink);
    return m_connection->run(ChildEnvironment::remoteWrapper(m_context.environment) + argv, timeoutMs, sink);
}

std::function<void()> DatamonHost::interrupter() const
{
    if (m_connection)
        return m_connection->interrupter();
    return [local = m_local] { local->interrupt(); };
}

ExecResult DatamonHost::runLocally(const QStringList& argv, int timeoutMs, const HostConnection::OutputSink& sink)
{
    ExecResult result;
    QElapsedTimer clock;
    clock.start();
    QProcess process;
    process.setProcessEnvironment(ChildEnvironment::allowlisted(m_context.environment));
    process.setProgram(argv.front());
    process.setArguments(argv.mid(1));
    process.setStandardInputFile(QProcess::nullDevice());
    // Its own process group, so a stop reaches what it started; and it ends with the console, as an SSH command
    // ends with its channel. (Long purge steps do not run this way: DetachedJob starts them.)
    process.setChildProcessModifier([console = ::getpid()] {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != console)
            ::raise(SIGTERM);
    });
    process.start();
    if (!process.waitForStarted(10000)) {
        result.error = { SshError::Kind::ChannelFailed,
            QStringLiteral("cannot start %1 on this machine: %2").arg(argv.front(), process.errorString()) };
        return result;
    }
    {
        QMutexLocker lock(&m_local->mutex);
        m_local->group = process.processId();
        if (m_local->interrupted)
            ::kill(-static_cast<pid_t>(m_local->group), SIGTERM);
    }
    const auto take = [&] {
        if (const QByteArray out = process.readAllStandardOutput(); !out.isEmpty()) {
            result.stdoutData += out;
            if (sink)
                sink(0, out);
        }
        if (const QByteArray err = process.readAllStandardError(); !err.isEmpty()) {
            result.stderrData += err;
            if (sink)
                sink(1, err);
        }
    };
    const QDeadlineTimer deadline(timeoutMs);
    QDeadlineTimer killAt(QDeadlineTimer::Forever);
    bool timedOut = false;
    bool interrupted = false;
    while (process.state() != QProcess::NotRunning) {
        process.waitForReadyRead(100);
        take();
        {
            QMutexLocker lock(&m_local->mutex);
            interrupted = m_local->interrupted;
        }
        if (!timedOut && !interrupted && deadline.hasExpired()) {
            timedOut = true;
            ::kill(-static_cast<pid_t>(process.processId()), SIGTERM);
        }
        if ((timedOut || interrupted) && killAt.isForever())
            killAt = QDeadlineTimer(kGraceMs);
        else if (!killAt.isForever() && killAt.hasExpired())
            ::kill(-static_cast<pid_t>(process.processId()), SIGKILL);
    }
    take();
    {
        QMutexLocker lock(&m_local->mutex);
        m_local->group = 0;
    }
    result.elapsedMs = clock.elapsed();
    if (timedOut)
        result.error = { SshError::Kind::Timeout,
            QStringLiteral("%1 did not finish within %2 s and was stopped").arg(argv.front()).arg(timeoutMs / 1000) };
    else if (interrupted)
        result.error = { SshError::Kind::Cancelled, QStringLiteral("%1 was stopped").arg(argv.front()) };
    else if (process.exitStatus() != QProcess::NormalExit)
        result.error = { SshError::Kind::Disconnected,
            QStringLiteral("%1 was killed by a signal; what it did is unknown").arg(argv.front()) };
    else
        result.exitStatus = process.exitCode();
    return result;
}

} // namespace opsdeck
