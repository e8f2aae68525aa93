#include "datamon/DatamonJob.h"

#include "datamon/DatamonLogging.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QThread>

namespace opsdeck {

namespace {

constexpr qint64 kPollLimit = 4 << 20; // bytes of each stream per poll
constexpr int kPollTimeoutMs = 60000;
constexpr int kFirstPollMs = 100; // a short step ends without waiting long
constexpr int kMaxPollMs = 2000; // the longest a poll waits on the host for the job to change
constexpr int kMinPollMs = 250;
constexpr int kUnreachableMs = 5 * 60 * 1000; // the host may reboot; the job's files stay
constexpr int kStopWaitMs = 10000;
constexpr qint64 kPastTheEnd = qint64(1) << 60; // a poll offset that reads no output, only the state

QString tail(const QByteArray& bytes, int lines)
{
    const QStringList all = QString::fromUtf8(bytes).split(u'\n', Qt::SkipEmptyParts);
    return all.mid(std::max<qsizetype>(0, all.size() - lines)).join(u'\n');
}

// One line for the step from what the stderr parser has accumulated: the phase, the counts, the rate.
QString progressLine(const DatamonProgress& p)
{
    QString phase = p.phase;
    while (phase.endsWith(u'.'))
        phase.chop(1);
    QStringList parts { phase };
    if (p.keys >= 0)
        parts << QStringLiteral("%1 keys scanned").arg(p.keys);
    if (p.deletedSoFar >= 0)
        parts << QStringLiteral("%1 deleted so far").arg(p.deletedSoFar);
    if (p.chunksUploaded > 0)
        parts << QStringLiteral("%1 index chunks uploaded").arg(p.chunksUploaded);
    if (p.throughput >= 0)
        parts << QStringLiteral("%1 keys/s").arg(p.throughput);
    parts.removeAll(QString());
    return parts.join(QStringLiteral(", "));
}

} // namespace

DatamonJob::DatamonJob(DatamonHost& host, const DatamonTarget& target, const QString& runId, const QString& step)
    : m_host(host)
    , m_target(target)
    , m_job(target.runDir(runId) + QStringLiteral("/jobs/") + step)
    , m_cwd(target.runDir(runId))
{
}

std::optional<DetachedJob::State> DatamonJob::poll(qint64 outOffset, qint64 errOffset, QString* error, int waitMs)
{
    // A dropped connection or a rebooting host: the job's files outlast both, so keep asking for a while.
    const QDeadlineTimer giveUp(kUnreachableMs);
    int retryMs = 500;
    for (;;) {
        const ExecResult result
            = m_host.run(m_job.pollArgv(outOffset, errOffset, kPollLimit, waitMs), kPollTimeoutMs + waitMs);
        if (result.succeeded())
            return DetachedJob::parsePoll(result.stdoutData, error);
        *error = QStringLiteral("reading job %1 on %2 failed: %3").arg(m_job.dir(), m_host.where(), result.describe());
        if (result.error.isPermanent() || result.error.kind == SshError::Kind::Cancelled || giveUp.hasExpired()
            || (!result.error.isError()))
            return std::nullopt;
        qCInfo(lcDatamon) << *error << "- retrying";
        QThread::msleep(retryMs);
        retryMs = std::min(retryMs * 2, 10000);
    }
}

DatamonJob::Ended DatamonJob::ended(
    const DetachedJob::State& state, const QByteArray& out, DatamonStderrParser& errors) const
{
    Ended result;
    result.started = state.exists;
    result.finished = state.exitCode.has_value() && !state.alive;
    result.vanished = state.vanished();
    result.out = out;
    if (result.finished)
        result.exit = DatamonOutput::classifyExit(*state.exitCode, errors);
    return result;
}

DatamonJob::Ended DatamonJob::run(const QStringList& words, RunContext& context)
{
    const QStringList command = m_target.datamon(words);
    const ExecResult started = m_host.run(m_job.startArgv(command, m_cwd), kPollTimeoutMs);
    if (!started.succeeded()) {
        // The start may have happened with its answer lost: the job directory says.
        QString error;
        const auto state = poll(0, 0, &error);
        if (!state || !state->exists) {
            Ended failed;
            failed.error = QStringLiteral("could not start %1 on %2: %3")
                               .arg(words.mid(0, 2).join(u' '), m_host.where(),
                                   started.error.isError() ? started.error.message
                                                           : QString::fromUtf8(started.stderrData).trimmed());
            return failed;
        }
    }
    context.note(QStringLiteral("job"),
        { { QStringLiteral("dir"), m_job.dir() }, { QStringLiteral("where"), m_host.where() },
            { QStringLiteral("pid"), QString::fromUtf8(started.stdoutData).trimmed().toLongLong() } });
    return follow(&context);
}

DatamonJob::Ended DatamonJob::follow(RunContext* context, const std::function<void(const QString& text)>& show)
{
    QByteArray out;
    QByteArray err;
    DatamonStderrParser errors;
    QString shown;
    if (context)
        context->progressUnknown(); // datamon prints no total: its counts and rate are the progress
    int waitMs = kFirstPollMs;
    bool stopped = false;
    bool more = false; // the last poll stopped at its limit: read on at once
    for (;;) {
        QString error;
        // Waits on the host (not here): the step's end is seen at once; a cancel within a wait.
        const auto state = poll(out.size(), err.size(), &error, stopped || more ? 0 : waitMs);
        if (!state) {
            Ended failed;
            failed.started = true;
            failed.error = error;
            failed.out = out;
            return failed;
        }
        out += state->out;
        err += state->err;
        errors.feed(state->err);
        more = state->out.size() == kPollLimit || state->err.size() == kPollLimit;
        const auto emitText = [&](const QString& text) {
            if (context)
                context->output(text);
            if (show)
                show(text);
        };
        if (!state->out.isEmpty())
            emitText(QString::fromUtf8(state->out));
        if (const QString line = progressLine(errors.progress()); !line.isEmpty() && line != shown) {
            emitText(line + u'\n');
            shown = line;
        }
        if (!state->exists || ((state->exitCode || state->vanished()) && !state->alive && !more)) {
            errors.finish();
            Ended result = ended(*state, out, errors);
            result.cancelled = stopped;
            result.errTail = tail(err, 12);
            return result;
        }
        if (context && context->cancelled() && !stopped) {
            QString stopError;
            if (!stop(&stopError))
                qCWarning(lcDatamon) << stopError;
            stopped = true;
            continue;
        }
        if (!more && (!state->out.isEmpty() || !state->err.isEmpty()))
            QThread::msleep(kMinPollMs); // a chatty job (zap lines per key) is not polled back to back
        waitMs = std::min(waitMs * 2, kMaxPollMs);
    }
}

DatamonJob::Ended DatamonJob::inspect()
{
    QString error;
    const auto state = poll(0, 0, &error);
    if (!state) {
        Ended failed;
        failed.error = error;
        return failed;
    }
    DatamonStderrParser errors;
    errors.feed(state->err);
    errors.finish();
    Ended result = ended(*state, state->out, errors);
    result.errTail = tail(state->err, 12);
    return result;
}

bool DatamonJob::stop(QString* error)
{
    for (const QString& signal : { QStringLiteral("INT"), QStringLiteral("TERM"), QStringLiteral("KILL") }) {
        const ExecResult sent = m_host.run(m_job.stopArgv(signal), kPollTimeoutMs);
        if (!sent.succeeded()) {
            *error
                = QStringLiteral("stopping job %1 on %2 failed: %3").arg(m_job.dir(), m_host.where(), sent.describe());
            return false;
        }
        qCInfo(lcDatamon) << "sent" << signal << "to job" << m_job.dir();
        const QDeadlineTimer deadline(signal == QStringLiteral("TERM") ? 3 * kStopWaitMs : kStopWaitMs);
        while (!deadline.hasExpired()) {
            QString pollError;
            const auto state = poll(kPastTheEnd, kPastTheEnd, &pollError);
            if (state && !state->alive)
                return true;
            QThread::msleep(200);
        }
    }
    *error = QStringLiteral("job %1 on %2 still runs after SIGKILL").arg(m_job.dir(), m_host.where());
    return false;
}

std::optional<QList<DetachedJob::Found>> DatamonJob::find(
    DatamonHost& host, const DatamonTarget& target, const QStringList& steps, QString* error)
{
    constexpr qint64 kSummaryLimit = 64 * 1024; // a summary is a few hundred bytes
    const QString runs = target.context.workDir + QStringLiteral("/runs");
    const ExecResult result = host.run(DetachedJob::findArgv(runs, steps, kSummaryLimit), kPollTimeoutMs);
    if (!result.succeeded()) {
        *error = QStringLiteral("listing the jobs in %1 on %2 failed: %3").arg(runs, host.where(), result.describe());
        return std::nullopt;
    }
    auto found = DetachedJob::parseFound(result.stdoutData, error);
    if (!found)
        return std::nullopt;
    // The work dir may serve several contexts: a job is this one's when its argv names its context and config.
    const auto names = [](const QStringList& argv, const QString& flag, const QString& value) {
        const qsizetype at = argv.indexOf(flag);
        return at >= 0 && argv.value(at + 1) == value;
    };
    found->removeIf([&](const DetachedJob::Found& job) {
        return !names(job.argv, QStringLiteral("--context"), target.context.context)
            || !names(job.argv, QStringLiteral("--config"), target.context.config);
    });
    return found;
}

} // namespace opsdeck
