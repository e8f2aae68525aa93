#include "datamon/DatamonHost.h"

#include "core/ChildEnvironment.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QMutex>
#include <QMutexLocker>
#include <QProcess>

#include <algorithm>
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace opsdeck {

namespace {

constexpr int kGraceMs = 5000;

// Runs commands given as "<number of words> <words>..." each in the background with its output in files, waits for
// all, then prints each behind a header with its exit status and the sizes of its stdout and stderr. The `for`
// loop keeps a command's first n words and drops the rest: POSIX sh has no array slices. A subshell resets the EXIT
// trap, so only the top shell removes the files.
const QString kTogether = QStringLiteral(
    "t=$(mktemp -d) || exit 125\n"
    "trap 'rm -rf \"$t\"' EXIT\n"
    "k=0\n"
    "while [ $# -gt 0 ]; do\n"
    "  n=$1; shift; k=$((k + 1))\n"
    "  (\n"
    "    j=$#; i=0\n"
    "    for a do [ $i -ge \"$n\" ] || set -- \"$@\" \"$a\"; i=$((i + 1)); done\n"
    "    shift \"$j\"\n"
    "    \"$@\" > \"$t/$k.out\" 2> \"$t/$k.err\" < /dev/null\n"
    "    echo $? > \"$t/$k.rc\"\n"
    "  ) &\n"
    "  shift \"$n\"\n"
    "done\n"
    "wait\n"
    "i=1\n"
    "while [ $i -le $k ]; do\n"
    "  echo \"@@opsdeck-part $i $(cat \"$t/$i.rc\") $(wc -c < \"$t/$i.out\") $(wc -c < \"$t/$i.err\")\"\n"
    "  cat \"$t/$i.out\" \"$t/$i.err\"\n"
    "  i=$((i + 1))\n"
    "done\n");

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

QList<ExecResult> DatamonHost::runTogether(const QList<QStringList>& argvs, int timeoutMs)
{
    QStringList argv { QStringLiteral("/bin/sh"), QStringLiteral("-c"), kTogether, QStringLiteral("sh") };
    for (const QStringList& command : argvs)
        argv << QString::number(command.size()) << command;
    const ExecResult whole = run(argv, timeoutMs);
    QString error;
    if (whole.succeeded()) {
        if (auto results = parseTogether(whole.stdoutData, argvs.size(), &error))
            return *results;
    } else {
        error = whole.describe();
    }
    ExecResult failed;
    failed.error = whole.error.isError() ? whole.error : SshError { SshError::Kind::ChannelFailed, error };
    return QList<ExecResult>(argvs.size(), failed);
}

std::optional<QList<ExecResult>> DatamonHost::parseTogether(const QByteArray& out, qsizetype count, QString* error)
{
    QList<ExecResult> results;
    qsizetype at = 0;
    while (results.size() < count) {
        const qsizetype eol = out.indexOf('\n', at);
        const QList<QByteArray> head = out.mid(at, eol < 0 ? 0 : eol - at).split(' ');
        bool ok[4] = {};
        ExecResult result;
        if (eol >= 0 && head.size() == 5 && head[0] == "@@opsdeck-part") {
            ok[0] = head[1].toLongLong() == results.size() + 1;
            result.exitStatus = head[2].toInt(&ok[1]);
            const qsizetype outSize = head[3].toLongLong(&ok[2]);
            const qsizetype errSize = head[4].toLongLong(&ok[3]);
            if (std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; }) && outSize >= 0 && errSize >= 0
                && eol + 1 + outSize + errSize <= out.size()) {
                result.stdoutData = out.mid(eol + 1, outSize);
                result.stderrData = out.mid(eol + 1 + outSize, errSize);
                results << result;
                at = eol + 1 + outSize + errSize;
                continue;
            }
        }
        *error = QStringLiteral("unexpected output for command %1 of %2 run together: %3")
                     .arg(results.size() + 1)
                     .arg(count)
                     .arg(QString::fromUtf8(out.mid(at, 120)));
        return std::nullopt;
    }
    if (at != out.size()) {
        *error = QStringLiteral("%1 bytes after the output of the %2 commands run together")
                     .arg(out.size() - at)
                     .arg(count);
        return std::nullopt;
    }
    return results;
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
