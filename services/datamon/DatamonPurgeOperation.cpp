#include "datamon/DatamonPurgeOperation.h"

#include "datamon/DatamonHost.h"
#include "datamon/DatamonJob.h"
#include "datamon/DatamonLogging.h"
#include "runbook/RunContext.h"

#include <QJsonArray>
#include <QLocale>

namespace opsdeck {

namespace {

constexpr int kReadTimeoutMs = 2 * 60 * 1000;

QString utc(const QDateTime& time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

QString age(const QDateTime& since)
{
    const qint64 minutes = since.secsTo(QDateTime::currentDateTimeUtc()) / 60;
    if (minutes < 120)
        return QStringLiteral("%1 min").arg(minutes);
    if (minutes < 48 * 60)
        return QStringLiteral("%1 h").arg(minutes / 60);
    return QStringLiteral("%1 days").arg(minutes / (24 * 60));
}

QString lockDescription(const QString& bucket, const DatamonQueries::StoreState& state)
{
    return state.lockedAt.isValid()
        ? QStringLiteral("gs://%1/purge.lock, taken %2 (%3 ago)").arg(bucket, utc(state.lockedAt), age(state.lockedAt))
        : QStringLiteral("gs://%1/purge.lock (%2)").arg(bucket, state.lockText);
}

} // namespace

DatamonPurgeOperation::DatamonPurgeOperation(DatamonTarget target, Options options)
    : m_target(std::move(target))
    , m_options(options)
{
}

DatamonPurgeOperation::~DatamonPurgeOperation() = default;

std::unique_ptr<DatamonPurgeOperation> DatamonPurgeOperation::recovery(
    DatamonTarget target, const QString& runId, const QDateTime& startedAt)
{
    auto operation = std::make_unique<DatamonPurgeOperation>(std::move(target), Options {});
    operation->m_recovering = runId;
    operation->m_recoveringSince = startedAt;
    return operation;
}

QStringList DatamonPurgeOperation::stepWords(const QString& step, const QString& index, bool force) const
{
    QStringList words { QStringLiteral("purge") };
    if (step == QStringLiteral("drop-stale-index"))
        words << QStringLiteral("delete-reverse-lookup");
    else if (step == QStringLiteral("build-index"))
        words << QStringLiteral("build-reverse-lookup") << QStringLiteral("--local-work-dir") << index;
    else
        words << QStringLiteral("delete-unused") << QStringLiteral("--dry-run") << QStringLiteral("--local-work-dir")
              << index;
    if (force)
        words << QStringLiteral("--force");
    return words;
}

QStringList DatamonPurgeOperation::freeSpaceArgv(const QString& dir)
{
    return { QStringLiteral("/bin/sh"), QStringLiteral("-c"),
        QStringLiteral("d=$1; while [ ! -d \"$d\" ]; do d=${d%/*}; [ -n \"$d\" ] || d=/; done; "
                       "df -Pk -- \"$d\" | awk 'NR == 2 { print $4 }'"),
        QStringLiteral("sh"), dir };
}

bool DatamonPurgeOperation::connect(QString* error)
{
    Q_UNUSED(error);
    if (!m_host) {
        m_host = std::make_unique<DatamonHost>(
            m_target.context, m_target.host ? &*m_target.host : nullptr, m_target.sshSecret);
        m_queries = std::make_unique<DatamonQueries>(*m_host, m_target);
    }
    return true;
}

std::optional<qint64> DatamonPurgeOperation::freeKiB(QString* error)
{
    const ExecResult result = m_host->run(freeSpaceArgv(m_target.context.workDir), kReadTimeoutMs);
    bool ok = false;
    const qint64 kib = result.stdoutData.trimmed().toLongLong(&ok);
    if (!result.succeeded() || !ok) {
        *error = QStringLiteral("reading the free space of %1 on %2 failed: %3")
                     .arg(m_target.context.workDir, m_host->where(), result.describe());
        return std::nullopt;
    }
    return kib;
}

bool DatamonPurgeOperation::makePlan(Plan* plan, QString* error)
{
    connect(error);
    const auto sharing = m_queries->sharingBlobBucket(error);
    if (!sharing)
        return false;
    m_sharing = *sharing;
    const DatamonContextBuckets& own = m_sharing.front();
    // A purge from any context on this blob bucket, by any console, holds its own metadata bucket's lock.
    for (const DatamonContextBuckets& context : std::as_const(m_sharing)) {
        const auto state = m_queries->storeState(context.metadata, error);
        if (!state)
            return false;
        if (context.name == own.name) {
            m_state = *state;
            continue;
        }
        if (state->locked) {
            *error = QStringLiteral("context %1 shares blob bucket gs://%2/ and its purge lock is held: %3. A purge "
                                    "there deletes blobs of this context too: wait until it has ended")
                         .arg(context.name, own.blob, lockDescription(context.metadata, *state));
            return false;
        }
    }
    if (!m_recovering.isEmpty()) {
        plan->operation = name();
        plan->target = QStringLiteral("%1 (blob bucket gs://%2/)").arg(m_target.context.name, own.blob);
        plan->targetName = m_target.context.name;
        plan->lock = QStringLiteral("datamon-blob:gs://%1/").arg(own.blob);
        plan->verb = QStringLiteral("Recover");
        plan->irreversible = false;
        plan->production = m_target.context.tags.production;
        plan->readOnly = m_target.context.tags.readOnly;
        QStringList sharingNames;
        for (const DatamonContextBuckets& context : std::as_const(m_sharing))
            sharingNames << context.name;
        plan->parameters = { { QStringLiteral("context"), m_target.context.name },
            { QStringLiteral("recovers"), m_recovering }, { QStringLiteral("dryRunOnly"), true },
            { QStringLiteral("sharing"), QJsonArray::fromStringList(sharingNames) } };
        for (const QString& step :
            { QStringLiteral("drop-stale-index"), QStringLiteral("build-index"), QStringLiteral("dry-run") })
            plan->steps << Plan::Step { step,
                QStringLiteral("Re-attach to run %1's %2 job, or start it if it never started").arg(m_recovering, step),
                m_target.datamon(stepWords(step, QStringLiteral("<run dir>/index"), false)).join(u' '),
                QStringLiteral("datamon2 exits 0") };
        plan->detailText = m_state.locked ? QStringLiteral("Now: %1.").arg(lockDescription(own.metadata, m_state))
                                          : QStringLiteral("Now: no purge lock.");
        return true;
    }
    if (m_state.locked && !m_options.forceStaleLock) {
        *error = QStringLiteral("the purge lock is held: %1. Another purge may be running on context %2; if you know "
                                "that none is (the job that took it is gone), plan again with --force-stale-lock")
                     .arg(lockDescription(own.metadata, m_state), m_target.context.name);
        return false;
    }
    if (!m_state.locked && m_options.forceStaleLock) {
        *error = QStringLiteral("--force-stale-lock: gs://%1/purge.lock does not exist; plan without it")
                     .arg(own.metadata);
        return false;
    }
    const auto free = freeKiB(error);
    if (!free)
        return false;
    const qint64 needKiB = qint64(m_target.context.minFreeGiB) * 1024 * 1024;
    if (*free < needKiB) {
        *error = QStringLiteral("%1 on %2 has %3 GiB free; the context's minFreeGiB is %4 (datamon's index of every "
                                "blob key in use): free space there or set workDir to a larger disk")
                     .arg(m_target.context.workDir, m_host->where())
                     .arg(double(*free) / (1024 * 1024), 0, 'f', 1)
                     .arg(m_target.context.minFreeGiB);
        return false;
    }

    QStringList sharingNames;
    for (const DatamonContextBuckets& context : std::as_const(m_sharing))
        sharingNames << context.name;
    plan->operation = name();
    plan->target = QStringLiteral("%1 (blob bucket gs://%2/)").arg(m_target.context.name, own.blob);
    plan->targetName = m_target.context.name;
    plan->lock = QStringLiteral("datamon-blob:gs://%1/").arg(own.blob);
    plan->verb = QStringLiteral("Build index and dry run");
    plan->irreversible = false;
    plan->production = m_target.context.tags.production;
    plan->readOnly = m_target.context.tags.readOnly;
    plan->parameters = { { QStringLiteral("context"), m_target.context.name },
        { QStringLiteral("datamonContext"), m_target.context.context },
        { QStringLiteral("config"), m_target.context.config }, { QStringLiteral("metadata"), own.metadata },
        { QStringLiteral("blob"), own.blob }, { QStringLiteral("sharing"), QJsonArray::fromStringList(sharingNames) },
        { QStringLiteral("dryRunOnly"), true }, { QStringLiteral("forceStaleLock"), m_options.forceStaleLock } };
    plan->counts << Plan::Count { QStringLiteral("contexts"),
        QStringLiteral("Contexts indexed (share the blob bucket)"), m_sharing.size() };
    const QString index = QStringLiteral("%1/index").arg(QStringLiteral("<run dir>"));
    plan->steps << Plan::Step { QStringLiteral("check"),
        QStringLiteral("Check the purge lock and the free space in %1").arg(m_target.context.workDir),
        QStringLiteral("gcloud storage ls --json gs://%1/; df -Pk %2").arg(own.metadata, m_target.context.workDir),
        QStringLiteral("no purge.lock (or the one planned, with --force-stale-lock); %1 GiB free")
            .arg(m_target.context.minFreeGiB) };
    if (m_state.indexed)
        plan->steps << Plan::Step { QStringLiteral("drop-stale-index"),
            QStringLiteral("Drop the index left by an earlier purge (%1)")
                .arg(m_state.indexTime.isValid() ? QStringLiteral("built ") + utc(m_state.indexTime)
                                                 : m_state.indexProblem),
            m_target.datamon({ QStringLiteral("purge"), QStringLiteral("delete-reverse-lookup") }).join(u' '),
            QStringLiteral("datamon2 exits 0") };
    plan->steps << Plan::Step { QStringLiteral("build-index"),
        QStringLiteral("Build the index of every blob key in use (%1)").arg(sharingNames.join(QStringLiteral(", "))),
        m_target
            .datamon({ QStringLiteral("purge"), QStringLiteral("build-reverse-lookup"),
                QStringLiteral("--local-work-dir"), index })
            .join(u' '),
        QStringLiteral("datamon2 exits 0 and prints the index's entries") };
    plan->steps << Plan::Step { QStringLiteral("dry-run"), QStringLiteral("Count what a purge would delete"),
        m_target
            .datamon({ QStringLiteral("purge"), QStringLiteral("delete-unused"), QStringLiteral("--dry-run"),
                QStringLiteral("--local-work-dir"), index })
            .join(u' '),
        QStringLiteral("datamon2 exits 0 and prints its summary (Dry-run: true)") };
    plan->warnings << QStringLiteral(
        "Nothing is deleted: this builds the index and counts what a purge of unused blobs "
        "would delete. The purge itself is confirmed on those counts.");
    plan->warnings << QStringLiteral("From the index's build until the purge ends, an upload to any of %1 can lose "
                                     "blobs (datamon skips uploading a blob that exists, so a new bundle can rely on "
                                     "one the index does not list): hold uploads to gs://%2/ until then.")
                          .arg(sharingNames.join(QStringLiteral(", ")), own.blob);
    if (m_options.forceStaleLock)
        plan->warnings << QStringLiteral("--force-stale-lock: the first step overrides %1. Make sure no purge job "
                                         "runs on context %2 (a Kubernetes Job, a process on a bastion).")
                              .arg(lockDescription(own.metadata, m_state), m_target.context.name);
    plan->detailText = QStringLiteral("Work dir: %1 on %2, %3 GiB free.\nContexts sharing blob bucket gs://%4/: %5.")
                           .arg(m_target.context.workDir, m_host->where())
                           .arg(double(*free) / (1024 * 1024), 0, 'f', 1)
                           .arg(own.blob, sharingNames.join(QStringLiteral(", ")));
    return true;
}

QString DatamonPurgeOperation::releaseLeftLock(RunContext& context, const QString& step, const QDateTime& since)
{
    const DatamonContextBuckets& own = m_sharing.front();
    context.beginRecovery(QStringLiteral("recover-lock-") + step,
        QStringLiteral("Read purge.lock after %1 ended badly").arg(step),
        QStringLiteral("gcloud storage ls --json gs://%1/").arg(own.metadata));
    QString error;
    const auto state = m_queries->storeState(own.metadata, &error);
    if (!state) {
        context.fail(error);
        return QStringLiteral("purge.lock could not be read (%1): check gs://%2/purge.lock before the next purge")
            .arg(error, own.metadata);
    }
    if (!state->locked) {
        context.succeed(QStringLiteral("no lock left"));
        return QStringLiteral("datamon's lock was released");
    }
    // Ours only when taken since the step (or the run) began; its job has ended (follow() returned), so nothing of
    // this run holds it. The journal's lock on the blob bucket keeps other opsdeck consoles out meanwhile.
    if (!state->lockedAt.isValid() || !since.isValid() || state->lockedAt < since.addSecs(-5)) {
        context.succeed(QStringLiteral("a lock not taken by this run: left alone"));
        return QStringLiteral("%1 is held and was not taken by this run: it was left alone")
            .arg(lockDescription(own.metadata, *state));
    }
    const ExecResult removed = m_host->run(
        m_target.gcloudStorage({ QStringLiteral("rm"), QStringLiteral("--if-generation-match=") + state->lockGeneration,
            QStringLiteral("gs://%1/purge.lock").arg(own.metadata) }),
        kReadTimeoutMs);
    if (!removed.succeeded()) {
        context.fail(removed.describe());
        return QStringLiteral("datamon left %1 behind and removing it failed (%2): remove it once no purge job runs")
            .arg(lockDescription(own.metadata, *state), removed.describe());
    }
    context.succeed(QStringLiteral("removed the lock datamon left (generation %1)").arg(state->lockGeneration));
    return QStringLiteral("datamon left its lock behind; this run's job had ended, so the lock was removed");
}

bool DatamonPurgeOperation::runStep(
    RunContext& context, const QString& step, const QString& jobRun, const QStringList& words, QByteArray* out)
{
    context.begin(step);
    QDateTime since = QDateTime::currentDateTimeUtc();
    for (const StepRecord& s : std::as_const(context.record().steps)) {
        if (s.id == step)
            since = s.startedAt;
    }
    DatamonJob job(*m_host, m_target, jobRun, step);
    // A recovery re-attaches to a job the dead console started, and starts only what never started.
    DatamonJob::Ended ended;
    if (!m_recovering.isEmpty()) {
        ended = job.inspect();
        if (ended.started) {
            since = m_recoveringSince;
            ended = job.follow(&context);
        }
    }
    if (m_recovering.isEmpty() || (!ended.started && ended.error.isEmpty()))
        ended = job.run(words, context);
    if (ended.finished && ended.exit.kind == DatamonExit::Kind::Ok) {
        *out = ended.out;
        context.succeed(QString::fromUtf8(ended.out));
        return true;
    }
    const QString why = !ended.error.isEmpty() ? ended.error
        : ended.cancelled                      ? QStringLiteral("cancelled: datamon2 was stopped")
        : ended.vanished ? QStringLiteral("datamon2's job ended without an exit status (killed with its supervisor)")
                         : ended.exit.message;
    context.fail(why, ended.errTail);
    if (!ended.error.isEmpty() && ended.started) {
        // The host could not be read: the job may still run, and its lock is its own.
        context.leaveOpen(QStringLiteral("the %1 job on %2 could not be followed").arg(step, m_host->where()));
        context.record().summary
            = QStringLiteral("%1: %2. The job may still run on %3 (%4): run `opsdeck recover %5 "
                             "--confirm %6` once the host answers.")
                  .arg(step, why, m_host->where(), job.job().dir(), context.record().id, m_target.context.name);
        return false;
    }
    const QString lock = releaseLeftLock(context, step, since);
    context.record().summary
        = QStringLiteral("The purge's %1 step failed: %2. %3. No blob was deleted.").arg(step, why, lock);
    return false;
}

bool DatamonPurgeOperation::execute(const Plan& plan, RunContext& context)
{
    if (!m_recovering.isEmpty())
        return finish(plan, context, m_recovering);
    QString error;
    const DatamonContextBuckets& own = m_sharing.front();
    context.begin(QStringLiteral("check"));
    const auto state = m_queries->storeState(own.metadata, &error);
    const auto free = state ? freeKiB(&error) : std::nullopt;
    if (!state || !free) {
        context.fail(error);
        context.record().summary = QStringLiteral("Nothing ran: %1.").arg(error);
        return false;
    }
    if (state->locked && (!m_options.forceStaleLock || state->lockGeneration != m_state.lockGeneration)) {
        const QString why = QStringLiteral("the purge lock is held now: %1").arg(lockDescription(own.metadata, *state));
        context.fail(why);
        context.record().summary = QStringLiteral("Nothing ran: %1. Plan again.").arg(why);
        return false;
    }
    context.succeed(QStringLiteral("%1 GiB free").arg(double(*free) / (1024 * 1024), 0, 'f', 1));
    return finish(plan, context, context.record().id);
}

bool DatamonPurgeOperation::finish(const Plan& plan, RunContext& context, const QString& jobRun)
{
    QString error;
    const DatamonContextBuckets& own = m_sharing.front();
    const QString index = m_target.runDir(jobRun) + QStringLiteral("/index");
    bool force = m_options.forceStaleLock; // only the first step overrides the stale lock
    QByteArray out;
    const bool hasDropStep = std::any_of(plan.steps.cbegin(), plan.steps.cend(),
        [](const Plan::Step& s) { return s.id == QStringLiteral("drop-stale-index"); });
    if (hasDropStep) {
        const QString step = QStringLiteral("drop-stale-index");
        // A recovery's drop step only follows a job the run started: an index built since is the run's own.
        DatamonJob dropped(*m_host, m_target, jobRun, step);
        if (m_recovering.isEmpty() || dropped.inspect().started) {
            if (!runStep(context, step, jobRun, stepWords(step, index, force), &out))
                return false;
        } else {
            context.begin(step);
            context.succeed(QStringLiteral("never started by run %1: not needed now").arg(jobRun));
        }
        force = false;
    }
    if (context.cancelled()) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Cancelled before the index was built; no blob was deleted.");
        return false;
    }
    if (!runStep(context, QStringLiteral("build-index"), jobRun, stepWords(QStringLiteral("build-index"), index, force),
            &out))
        return false;
    const auto built = DatamonOutput::parseIndexSummary(out, &error);
    if (!built) {
        context.record().summary
            = QStringLiteral("The index was built, but its summary could not be read (%1); no blob "
                             "was deleted.")
                  .arg(error);
        return false;
    }
    context.record().after.insert(QStringLiteral("indexEntries"), qint64(built->entries));
    if (context.cancelled()) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Cancelled after the index was built (%1 keys in use); no blob was "
                                                  "deleted.")
                                       .arg(built->entries);
        return false;
    }
    if (!runStep(context, QStringLiteral("dry-run"), jobRun, stepWords(QStringLiteral("dry-run"), index, false), &out))
        return false;
    const auto summary = DatamonOutput::parsePurgeSummary(out, &error);
    if (!summary || !summary->dryRun) {
        context.record().summary = QStringLiteral("The dry run ended, but its summary could not be read (%1); no blob "
                                                  "was deleted.")
                                       .arg(summary ? QStringLiteral("it says Dry-run: false") : error);
        return false;
    }
    context.record().after.insert(QStringLiteral("keysScanned"), qint64(summary->scanned));
    context.record().after.insert(QStringLiteral("keysInUse"), qint64(summary->inUse));
    context.record().after.insert(QStringLiteral("keysNewerThanIndex"), qint64(summary->newerThanIndex));
    context.record().after.insert(QStringLiteral("keysToDelete"), qint64(summary->deleted));
    context.record().after.insert(QStringLiteral("bytesToDelete"), qint64(summary->bytesRelinquished));
    const QLocale locale(QLocale::English);
    context.record().summary
        = QStringLiteral("Index built at %1 over %2. A purge of gs://%3/ would delete %4 of %5 blobs (%6 bytes): %7 "
                         "are in use and %8 are newer than the index. Nothing was deleted.")
              .arg(utc(summary->indexTime),
                  QStringList(plan.parameters.value(QStringLiteral("sharing")).toVariant().toStringList())
                      .join(QStringLiteral(", ")),
                  own.blob, locale.toString(qint64(summary->deleted)), locale.toString(qint64(summary->scanned)),
                  locale.toString(qint64(summary->bytesRelinquished)), locale.toString(qint64(summary->inUse)),
                  locale.toString(qint64(summary->newerThanIndex)));
    qCInfo(lcDatamon) << "purge dry run of" << own.blob << summary->deleted << "to delete";
    return true;
}

} // namespace opsdeck
