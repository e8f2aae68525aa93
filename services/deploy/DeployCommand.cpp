#include "deploy/DeployCommand.h"

#include "core/ChildEnvironment.h"
#include "core/ProcessIdentity.h"
#include "deploy/DeployLogging.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QProcess>
#include <QStringDecoder>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace opsdeck::DeployCommand {

namespace {

constexpr int kGraceMs = 10000;

void signalGroup(const QProcess& process, int signal)
{
    if (process.processId() > 0)
        ::kill(-static_cast<pid_t>(process.processId()), signal);
}

} // namespace

Result run(const QStringList& argv, const QStringList& passThrough, RunContext& context, int timeoutMs)
{
    Result result;
    QProcess process;
    // It runs the deployed repository's code, a pull request's too: none of the console's secrets.
    process.setProcessEnvironment(ChildEnvironment::allowlisted(passThrough));
    process.setProgram(argv.front());
    process.setArguments(argv.mid(1));
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setStandardInputFile(QProcess::nullDevice());
    // Its own process group, so that a cancel reaches everything it started. A console that dies (even by SIGKILL)
    // cancels it as Ctrl-C would: nothing would read its output or check the machine after it. The signal comes when
    // the thread that started it ends, which is this one, after the command.
    process.setChildProcessModifier([console = ::getpid()] {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != console)
            ::raise(SIGTERM); // it died before the signal was asked for
    });
    process.start();
    if (!process.waitForStarted(10000)) {
        result.error = QStringLiteral("cannot start %1: %2; check deploy.command in the inventory and that %1 is "
                                      "installed")
                           .arg(argv.front(), process.errorString());
        return result;
    }
    // Journaled, so that the recovery of a run whose console died waits until what it started has ended (a
    // machine's activation is not interrupted) before it reads the machines.
    if (const auto started = ProcessIdentity::of(process.processId())) {
        QJsonObject data = started->toJson();
        data.insert(QStringLiteral("program"), argv.front());
        context.note(QStringLiteral("process"), data);
    }
    // A character may be split across reads.
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QDeadlineTimer deadline(timeoutMs);
    QDeadlineTimer killAt(QDeadlineTimer::Forever);
    bool timedOut = false;
    while (process.state() != QProcess::NotRunning) {
        process.waitForReadyRead(200);
        if (const QByteArray data = process.readAll(); !data.isEmpty())
            context.output(decoder.decode(data));
        const bool stop = context.cancelled() || deadline.hasExpired();
        if (stop && killAt.isForever()) {
            timedOut = !context.cancelled();
            qCInfo(lcDeploy) << "stopping" << argv.front() << (timedOut ? "(timed out)" : "(cancelled)");
            signalGroup(process, SIGTERM);
            killAt = QDeadlineTimer(kGraceMs);
        } else if (!killAt.isForever() && killAt.hasExpired()) {
            signalGroup(process, SIGKILL);
            killAt = QDeadlineTimer(kGraceMs);
        }
    }
    if (const QByteArray rest = process.readAll(); !rest.isEmpty())
        context.output(decoder.decode(rest));
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.cancelled = context.cancelled();
    result.ok = !result.cancelled && !timedOut && result.exitCode == 0;
    if (result.cancelled)
        result.error = QStringLiteral("cancelled: the deploy command was stopped");
    else if (timedOut)
        result.error
            = QStringLiteral("the deploy command did not finish within %1 min and was stopped").arg(timeoutMs / 60000);
    else if (process.exitStatus() != QProcess::NormalExit)
        result.error = QStringLiteral("the deploy command crashed");
    else if (result.exitCode != 0)
        result.error
            = QStringLiteral("the deploy command failed with exit status %1: see its output").arg(result.exitCode);
    return result;
}

} // namespace opsdeck::DeployCommand
