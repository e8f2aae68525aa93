#include "datamon/DatamonJob.h"

#include "datamon/DatamonLogging.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QThread>
#include <QUrlQuery>

namespace opsdeck {

namespace {

constexpr qint64 kPollLimit = 4 << 20; // bytes of each stream per poll
constexpr int kPollTimeoutMs = 60000;
constexpr int kFirstPollMs = 100; // a short step ends without waiting long
constexpr int kMaxPollMs = 2000; // the longest a poll waits on the host for the job to change
constexpr int kSettleMs = 1000; // a chatty job's output is read once a second, not line by line
constexpr int kUnreachableMs = 5 * 60 * 1000; // the host may reboot; the job's files stay
constexpr int kStopWaitMs = 10000;
constexpr qint64 kPastTheEnd = qint64(1) << 60; // a poll offset that reads no output, only the state
// A pod's deletion gives its container terminationGracePeriodSeconds (30 s by default) before SIGKILL.
constexpr int kStopJobMs = 90000;
// A finished Job (and its pod's log, where a dry run's summary is) is kept this long: the purge that follows a count is
// planned from it.
constexpr int kJobTtlSeconds = 7 * 24 * 3600;
constexpr int kWrapperRefused = 125; // KubeJob's wrapper did not start the command
const QString kManagedBy = QStringLiteral("app.kubernetes.io/managed-by");
const QString kRunLabel = QStringLiteral("opsdeck.io/run");
const QString kStepLabel = QStringLiteral("opsdeck.io/step");

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

// What a job has printed so far, its progress shown in the run's step as it changes.
struct Followed
{
    QByteArray out;
    QByteArray err;
    DatamonStderrParser errors;
    QString shown;

    // The new output and progress line go to the context's step and to `show` (either may be null).
    void take(const QByteArray& newOut,
        const QByteArray& newErr,
        RunContext* context,
        const std::function<void(const QString& text)>& show)
    {
        out += newOut;
        err += newErr;
        errors.feed(newErr);
        const auto emitText = [&](const QString& text) {
            if (context)
                context->output(text);
            if (show)
                show(text);
        };
        if (!newOut.isEmpty())
            emitText(QString::fromUtf8(newOut));
        if (const QString line = progressLine(errors.progress()); !line.isEmpty() && line != shown) {
            emitText(line + u'\n');
            shown = line;
        }
    }
};

// A job that started but could not be followed to its end: it may still run.
DatamonJob::Ended unfollowed(const QString& error, const QByteArray& out)
{
    DatamonJob::Ended failed;
    failed.started = true;
    failed.error = error;
    failed.out = out;
    return failed;
}

} // namespace

DatamonJob::DatamonJob(DatamonHost& host, const DatamonTarget& target, const QString& runId, const QString& step)
    : m_host(host)
    , m_target(target)
    , m_job(target.runDir(runId) + QStringLiteral("/jobs/") + step)
    , m_cwd(target.runDir(runId))
    , m_runId(runId)
    , m_step(step)
{
    if (target.cluster) {
        m_kube = std::make_unique<KubeClient>(target.cluster->kube);
        m_kubeJob = std::make_unique<KubeJob>(
            *m_kube, target.cluster->ns, KubeJob::jobName({ QStringLiteral("opsdeck"), runId, step }));
    }
}

DatamonJob::~DatamonJob() = default;

QString DatamonJob::where() const
{
    return m_kubeJob ? m_kubeJob->where() : QStringLiteral("%1 on %2").arg(m_job.dir(), m_host.where());
}

std::optional<DetachedJob::State> DatamonJob::poll(
    qint64 outOffset, qint64 errOffset, QString* error, int waitMs, int settleMs)
{
    // A dropped connection or a rebooting host: the job's files outlast both, so keep asking for a while.
    const QDeadlineTimer giveUp(kUnreachableMs);
    int retryMs = 500;
    for (;;) {
        const ExecResult result
            = m_host.run(m_job.pollArgv(outOffset, errOffset, kPollLimit, waitMs, settleMs), kPollTimeoutMs + waitMs);
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
        result.exit = DatamonOutput::classifyExit(*state.exitCode, errors, true);
    return result;
}

DatamonJob::Ended DatamonJob::run(const QStringList& words, RunContext& context)
{
    if (m_kubeJob)
        return runKube(words, context);
    const QStringList command = m_target.purgeStep(words);
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
    if (context)
        context->progressUnknown(); // datamon prints no total: its counts and rate are the progress
    if (m_kubeJob)
        return followKube(context, show);
    Followed followed;
    int waitMs = kFirstPollMs;
    bool stopped = false;
    bool more = false; // the last poll stopped at its limit: read on at once
    for (;;) {
        QString error;
        // Waits on the host (not here): the step's end is seen at once; a cancel within a wait.
        const auto state
            = poll(followed.out.size(), followed.err.size(), &error, stopped || more ? 0 : waitMs, kSettleMs);
        if (!state)
            return unfollowed(error, followed.out);
        followed.take(state->out, state->err, context, show);
        more = state->out.size() == kPollLimit || state->err.size() == kPollLimit;
        if (!state->exists || ((state->exitCode || state->vanished()) && !state->alive && !more)) {
            followed.errors.finish();
            Ended result = ended(*state, followed.out, followed.errors);
            result.cancelled = stopped;
            result.errTail = tail(followed.err, 12);
            return result;
        }
        if (stopOnCancel(context, &stopped))
            continue;
        waitMs = std::min(waitMs * 2, kMaxPollMs);
    }
}

DatamonJob::Ended DatamonJob::inspect()
{
    if (m_kubeJob)
        return inspectKube();
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

bool DatamonJob::stopOnCancel(RunContext* context, bool* stopped)
{
    if (!context || !context->cancelled() || *stopped)
        return false;
    QString error;
    if (!stop(&error))
        qCWarning(lcDatamon) << error;
    *stopped = true;
    return true;
}

bool DatamonJob::stop(QString* error)
{
    if (m_kubeJob)
        return m_kubeJob->stop(kStopJobMs, error);
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
    auto found = target.cluster ? findJobs(target, steps, error) : findOnHost(host, target, steps, error);
    if (!found)
        return std::nullopt;
    // The work dir (or namespace) may serve several contexts: a job is this one's when its argv names its context
    // and config.
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

QString DatamonJob::findsIn(DatamonHost& host, const DatamonTarget& target)
{
    if (target.cluster)
        return QStringLiteral("opsdeck's Jobs in namespace %1 of cluster %2 (kept a week after they end)")
            .arg(target.cluster->ns, target.cluster->cluster.name);
    return QStringLiteral("%1/runs on %2").arg(target.context.workDir, host.where());
}

std::optional<QList<DetachedJob::Found>> DatamonJob::findOnHost(
    DatamonHost& host, const DatamonTarget& target, const QStringList& steps, QString* error)
{
    constexpr qint64 kSummaryLimit = 64 * 1024; // a summary is a few hundred bytes
    const QString runs = target.context.workDir + QStringLiteral("/runs");
    const ExecResult result = host.run(DetachedJob::findArgv(runs, steps, kSummaryLimit), kPollTimeoutMs);
    if (!result.succeeded()) {
        *error = QStringLiteral("listing the jobs in %1 on %2 failed: %3").arg(runs, host.where(), result.describe());
        return std::nullopt;
    }
    return DetachedJob::parseFound(result.stdoutData, error);
}

std::optional<QList<DetachedJob::Found>> DatamonJob::findJobs(
    const DatamonTarget& target, const QStringList& steps, QString* error)
{
    KubeClient client(target.cluster->kube);
    const QString& ns = target.cluster->ns;
    const QUrlQuery ours { { QStringLiteral("labelSelector"), kManagedBy + QStringLiteral("=opsdeck") } };
    const KubeResponse jobs = client.get(KubeClient::jobsPath(ns), ours);
    const KubeResponse pods = jobs.ok() ? client.get(KubeClient::podsPath(ns), ours) : jobs;
    if (!jobs.ok() || !pods.ok()) {
        *error = QStringLiteral("listing opsdeck's Jobs in namespace %1 on cluster %2 failed: %3")
                     .arg(ns, target.cluster->cluster.name, pods.message);
        return std::nullopt;
    }
    QHash<QString, QJsonArray> podsOf; // by their Job's name
    for (const QJsonValue& pod : pods.object.value(QStringLiteral("items")).toArray()) {
        const QJsonObject labels
            = pod.toObject().value(QStringLiteral("metadata")).toObject().value(QStringLiteral("labels")).toObject();
        podsOf[labels.value(QStringLiteral("job-name")).toString()].append(pod);
    }
    QList<DetachedJob::Found> found;
    for (const QJsonValue& item : jobs.object.value(QStringLiteral("items")).toArray()) {
        const QJsonObject metadata = item.toObject().value(QStringLiteral("metadata")).toObject();
        const QJsonObject labels = metadata.value(QStringLiteral("labels")).toObject();
        const QString step = labels.value(kStepLabel).toString();
        if (!steps.contains(step))
            continue;
        const QString name = metadata.value(QStringLiteral("name")).toString();
        const KubeJob::State state = KubeJob::stateOf(item.toObject(), podsOf.value(name));
        DetachedJob::Found job { labels.value(kRunLabel).toString(), step, name, state.startedAt, state.endedAt,
            state.exitCode, KubeJob::commandOf(item.toObject()), {} };
        if (state.exitCode == 0) {
            // Its stdout (a dry run's summary) is at the end of its pod's log.
            KubeJob ended(client, ns, name);
            QString logError;
            const auto now = ended.inspect(&logError);
            const auto out = now ? ended.readStdout(*now, &logError) : std::nullopt;
            if (out)
                job.out = *out;
            else
                qCInfo(lcDatamon).noquote() << "the stdout of" << ended.where() << "cannot be read:" << logError;
        }
        found << job;
    }
    return found;
}

DatamonJob::Ended DatamonJob::runKube(const QStringList& words, RunContext& context)
{
    KubeJob::Spec spec;
    spec.image = m_target.context.jobs->image;
    spec.serviceAccount = m_target.context.jobs->serviceAccount;
    spec.argv = m_target.purgeStep(words);
    spec.volumeClaim = m_target.context.jobs->volumeClaim;
    spec.mountPath = m_target.context.workDir;
    spec.stdoutFile = m_job.dir() + QStringLiteral("/stdout");
    spec.labels = { { kManagedBy, QStringLiteral("opsdeck") }, { kRunLabel, m_runId }, { kStepLabel, m_step } };
    spec.ttlSecondsAfterFinished = kJobTtlSeconds;
    spec.minFreeKiB = qint64(m_target.context.minFreeGiB) * 1024 * 1024;
    QString createError;
    if (!m_kubeJob->create(spec, &createError)) {
        // The create may have happened with its answer lost (or an earlier start of this step did it): the Job says.
        QString error;
        const auto state = inspectRetrying(&error);
        if (!state || (!state->exists && state->pod.isEmpty())) {
            Ended failed;
            failed.error = QStringLiteral("could not start %1 as %2: %3")
                               .arg(words.mid(0, 2).join(u' '), m_kubeJob->where(), createError);
            return failed;
        }
    }
    context.note(QStringLiteral("job"),
        { { QStringLiteral("kubernetesJob"), m_kubeJob->name() }, { QStringLiteral("namespace"), m_target.cluster->ns },
            { QStringLiteral("cluster"), m_target.cluster->cluster.name } });
    return follow(&context);
}

std::optional<KubeJob::State> DatamonJob::inspectRetrying(QString* error)
{
    // The API server may be unreachable for a while (a VPN dropping, a control plane upgrade); the Job runs on.
    const QDeadlineTimer giveUp(kUnreachableMs);
    int waitMs = 500;
    for (;;) {
        bool transient = false;
        const auto state = m_kubeJob->inspect(error, &transient);
        if (state || !transient || giveUp.hasExpired())
            return state;
        qCInfo(lcDatamon) << *error << "- retrying";
        QThread::msleep(waitMs);
        waitMs = std::min(waitMs * 2, 10000);
    }
}

DatamonJob::Ended DatamonJob::endedKube(
    const KubeJob::State& state, const QByteArray& out, const QByteArray& err, DatamonStderrParser& errors) const
{
    errors.finish();
    Ended result;
    result.started = true;
    result.finished = state.exitCode.has_value();
    result.vanished = state.vanished();
    result.out = out;
    result.errTail = tail(err, 12);
    if (result.finished)
        result.exit = DatamonOutput::classifyExit(*state.exitCode, errors, true);
    // The Job's wrapper refused before datamon2 started (the volume): no lock was taken.
    static const QRegularExpression refused(QStringLiteral("^opsdeck-job: (.*)$"), QRegularExpression::MultilineOption);
    if (const QRegularExpressionMatch why = refused.match(QString::fromUtf8(err));
        state.exitCode == kWrapperRefused && why.hasMatch()) {
        result.exit = { DatamonExit::Kind::Failed,
            QStringLiteral("%1 did not start datamon2: %2. Give the Jobs' volume (the context's jobs.volumeClaim) "
                           "more room, or lower its minFreeGiB if the index needs less, and run the step again.")
                .arg(m_kubeJob->where(), why.captured(1)) };
        return result;
    }
    // What Kubernetes knows and datamon cannot say: OOMKilled, a command that could not start, an evicted pod.
    const bool plain
        = result.finished && (state.reason == QStringLiteral("Completed") || state.reason == QStringLiteral("Error"));
    if (!plain) {
        const QString kube = QStringLiteral("%1: %2").arg(m_kubeJob->where(), state.describe());
        result.errTail = result.errTail.isEmpty() ? kube : kube + u'\n' + result.errTail;
        if (result.finished)
            result.exit.message += QStringLiteral(" (%1)").arg(kube);
    }
    return result;
}

DatamonJob::Ended DatamonJob::followKube(RunContext* context, const std::function<void(const QString& text)>& show)
{
    m_kubeJob->rewindLog();
    Followed followed;
    int waitMs = kFirstPollMs;
    bool stopped = false;
    bool seen = false;
    for (;;) {
        QString error;
        const auto state = inspectRetrying(&error);
        if (!state)
            return unfollowed(error, followed.out);
        if (!state->exists && state->pod.isEmpty()) {
            // Never created; or deleted, by stop() or by someone else, before it ended.
            Ended gone;
            gone.started = seen;
            gone.vanished = seen && !stopped;
            gone.cancelled = stopped;
            gone.out = followed.out;
            gone.errTail = tail(followed.err, 12);
            if (gone.vanished)
                gone.errTail.prepend(QStringLiteral("%1 was deleted before it ended\n").arg(m_kubeJob->where()));
            return gone;
        }
        seen = true;
        bool transient = false;
        const auto log = m_kubeJob->readLog(*state, &error, &transient);
        if (!log && !transient)
            return unfollowed(error, followed.out);
        if (log)
            followed.take(log->out, log->err, context, show);
        if (state->ended() && log) {
            Ended result = endedKube(*state, followed.out, followed.err, followed.errors);
            result.cancelled = stopped;
            return result;
        }
        if (state->cannotStart() && !stopped) {
            // The Job would wait for ever; nothing of datamon ran.
            QString stopError;
            if (!m_kubeJob->stop(kStopJobMs, &stopError))
                qCWarning(lcDatamon) << stopError;
            return unfollowed(QStringLiteral("%1: %2; the Job was deleted. Check the context's jobs image (and its "
                                             "pull secret, service account) and run the step again")
                                  .arg(m_kubeJob->where(), state->describe()),
                followed.out);
        }
        if (stopOnCancel(context, &stopped))
            continue;
        QThread::msleep(waitMs);
        waitMs = std::min(waitMs * 2, kMaxPollMs);
    }
}

DatamonJob::Ended DatamonJob::inspectKube()
{
    m_kubeJob->rewindLog();
    QString error;
    const auto state = inspectRetrying(&error);
    if (!state) {
        Ended failed;
        failed.error = error;
        return failed;
    }
    if (!state->exists && state->pod.isEmpty())
        return {};
    const auto log = m_kubeJob->readLog(*state, &error);
    if (!log)
        return unfollowed(error, {});
    DatamonStderrParser errors;
    errors.feed(log->err);
    if (state->ended())
        return endedKube(*state, log->out, log->err, errors);
    errors.finish();
    Ended running;
    running.started = true;
    running.out = log->out;
    running.errTail = tail(log->err, 12);
    return running;
}

} // namespace opsdeck
