#include "datamon/DatamonPurgeOperation.h"

#include "core/Counted.h"
#include "datamon/DatamonDeleteRepoOperation.h"
#include "datamon/DatamonHost.h"
#include "datamon/DatamonJob.h"
#include "datamon/DatamonLogging.h"
#include "datamon/DatamonTrash.h"
#include "runbook/RunContext.h"

#include <QHash>
#include <QJsonArray>

#include <algorithm>

namespace opsdeck {

namespace {

constexpr int kReadTimeoutMs = 2 * 60 * 1000;
constexpr int kListTimeoutMs = 15 * 60 * 1000; // every bundle.yaml of the sharing contexts
const QString kDropStale = QStringLiteral("drop-stale-index");
const QString kBuild = QStringLiteral("build-index");
const QString kDryRun = QStringLiteral("dry-run");
const QString kDelete = QStringLiteral("delete-unused");
const QString kVerify = QStringLiteral("verify");
const QString kWrites = QStringLiteral("writes");
const QString kDropIndex = QStringLiteral("drop-index");

QString utc(const QDateTime& time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

// "1 bundle was committed", "3 bundles were committed".
QString committedText(qsizetype bundles)
{
    return counted(bundles, QStringLiteral("bundle"))
        + (bundles == 1 ? QStringLiteral(" was committed") : QStringLiteral(" were committed"));
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

QString gib(qint64 kib)
{
    return QString::number(double(kib) / (1024 * 1024), 'f', 1);
}

bool sameTime(const QDateTime& a, const QDateTime& b)
{
    return a.isValid() && b.isValid() && a.toMSecsSinceEpoch() == b.toMSecsSinceEpoch();
}

} // namespace

DatamonPurgeOperation::DatamonPurgeOperation(DatamonTarget target, Options options)
    : m_target(std::move(target))
    , m_options(options)
{
}

DatamonPurgeOperation::~DatamonPurgeOperation() = default;

std::unique_ptr<DatamonPurgeOperation> DatamonPurgeOperation::recovery(
    DatamonTarget target, const QString& runId, const QDateTime& startedAt, const QJsonObject& saved)
{
    const Options options { saved.value(QStringLiteral("dryRunOnly")).toBool(true), false };
    auto operation = std::make_unique<DatamonPurgeOperation>(std::move(target), options);
    operation->m_recovering = runId;
    operation->m_recoveringSince = startedAt;
    operation->m_recoveringIndex
        = QDateTime::fromString(saved.value(QStringLiteral("indexTime")).toString(), Qt::ISODateWithMs);
    return operation;
}

QStringList DatamonPurgeOperation::stepWords(const QString& step, const QString& index, bool force) const
{
    QStringList words { QStringLiteral("purge") };
    if (step == kDropStale || step == kDropIndex)
        words << QStringLiteral("delete-reverse-lookup");
    else if (step == kBuild)
        words << QStringLiteral("build-reverse-lookup") << QStringLiteral("--local-work-dir") << index;
    else if (step == kDelete)
        words << QStringLiteral("delete-unused") << QStringLiteral("--local-work-dir") << index;
    else
        words << QStringLiteral("delete-unused") << QStringLiteral("--dry-run") << QStringLiteral("--local-work-dir")
              << index;
    if (force)
        words << QStringLiteral("--force");
    return words;
}

QStringList DatamonPurgeOperation::jobSteps()
{
    return { kDropStale, kBuild, kDryRun, kDelete, kVerify, kDropIndex };
}

QStringList DatamonPurgeOperation::freeSpaceArgv(const QString& dir)
{
    return { QStringLiteral("/bin/sh"), QStringLiteral("-c"),
        QStringLiteral("d=$1; while [ ! -d \"$d\" ]; do d=${d%/*}; [ -n \"$d\" ] || d=/; done; "
                       "df -Pk -- \"$d\" | awk 'NR == 2 { print $4 }'"),
        QStringLiteral("sh"), dir };
}

void DatamonPurgeOperation::connect()
{
    if (!m_host) {
        m_host = std::make_unique<DatamonHost>(
            m_target.context, m_target.host ? &*m_target.host : nullptr, m_target.sshSecret);
        m_queries = std::make_unique<DatamonQueries>(*m_host, m_target);
    }
}

std::optional<qint64> DatamonPurgeOperation::readFreeKiB(const ExecResult& result, QString* error) const
{
    bool ok = false;
    const qint64 kib = result.stdoutData.trimmed().toLongLong(&ok);
    if (!result.succeeded() || !ok) {
        *error = QStringLiteral("reading the free space of %1 on %2 failed: %3")
                     .arg(m_target.context.workDir, m_host->where(), result.describe());
        return std::nullopt;
    }
    return kib;
}

QString DatamonPurgeOperation::spaceError(qint64 freeKiB) const
{
    const qint64 needKiB = qint64(m_target.context.minFreeGiB) * 1024 * 1024;
    if (freeKiB == kCheckedByEachJob || freeKiB >= needKiB)
        return {};
    return QStringLiteral("%1 on %2 has %3 GiB free; the context's minFreeGiB is %4 (datamon's index of every blob "
                          "key in use): free space there or set workDir to a larger disk")
        .arg(m_target.context.workDir, m_host->where(), gib(freeKiB))
        .arg(m_target.context.minFreeGiB);
}

QStringList DatamonPurgeOperation::metadataBuckets() const
{
    QStringList buckets;
    for (const DatamonContextBuckets& context : std::as_const(m_sharing))
        buckets << context.metadata;
    return buckets;
}

std::optional<DatamonPurgeOperation::Observed> DatamonPurgeOperation::observe(bool withBundles, QString* error)
{
    // Another context's lock matters, not its index; a delete needs this one's.
    const auto index = m_options.dryRunOnly ? DatamonQueries::IndexRead::IfListed : DatamonQueries::IndexRead::Expected;
    const QStringList buckets = metadataBuckets();
    QList<QStringList> reads { m_queries->storeStateArgv(buckets, index) };
    if (!m_target.cluster)
        reads << freeSpaceArgv(m_target.context.workDir);
    if (withBundles)
        reads << m_queries->bundleObjectsArgv(buckets);
    const QList<ExecResult> results = m_host->runTogether(reads, withBundles ? kListTimeoutMs : kReadTimeoutMs);
    Observed observed;
    const auto states = m_queries->readStoreStates(results[0], buckets, error);
    if (!states)
        return std::nullopt;
    observed.states = *states;
    qsizetype next = 1;
    if (!m_target.cluster) {
        const auto kib = readFreeKiB(results[next++], error);
        if (!kib)
            return std::nullopt;
        observed.freeKiB = *kib;
    }
    if (withBundles) {
        auto objects = m_queries->readBundleObjects(results[next++], buckets, error);
        if (!objects)
            return std::nullopt;
        observed.bundles = std::move(*objects);
    }
    // A purge from any context on this blob bucket, by any console, holds its own metadata bucket's lock.
    for (qsizetype i = 1; i < m_sharing.size(); ++i) {
        if (observed.states[i].locked) {
            *error = QStringLiteral("context %1 shares blob bucket gs://%2/ and its purge lock is held: %3. A purge "
                                    "there deletes blobs of this context too: wait until it has ended")
                         .arg(m_sharing[i].name, m_sharing.front().blob,
                             lockDescription(m_sharing[i].metadata, observed.states[i]));
            return std::nullopt;
        }
    }
    return observed;
}

QString DatamonPurgeOperation::freeSpaceCommand() const
{
    return m_target.cluster ? QStringLiteral("(in each Job, before datamon2) df -Pk %1").arg(m_target.context.workDir)
                            : QStringLiteral("df -Pk %1").arg(m_target.context.workDir);
}

QString DatamonPurgeOperation::workDirText(qint64 freeKiB) const
{
    if (freeKiB == kCheckedByEachJob) {
        const QString& claim = m_target.context.jobs->volumeClaim;
        return QStringLiteral("Work dir: %1 on the Jobs' volume (%2) in namespace %3 of cluster %4; each Job checks "
                              "that %5 GiB are free there before datamon2 starts.")
            .arg(m_target.context.workDir,
                claim.isEmpty() ? QStringLiteral("an emptyDir of each Job's own")
                                : QStringLiteral("PersistentVolumeClaim %1").arg(claim),
                m_target.cluster->ns, m_target.cluster->cluster.name)
            .arg(m_target.context.minFreeGiB);
    }
    return QStringLiteral("Work dir: %1 on %2, %3 GiB free.")
        .arg(m_target.context.workDir, m_host->where(), gib(freeKiB));
}

bool DatamonPurgeOperation::readSharing(bool withBundles, QString* error)
{
    const auto sharing = m_queries->sharingBlobBucket(error);
    if (!sharing)
        return false;
    m_sharing = *sharing;
    auto observed = observe(withBundles, error);
    if (!observed)
        return false;
    m_state = observed->states.front();
    m_freeKiB = observed->freeKiB;
    m_bundles = std::move(observed->bundles);
    return true;
}

bool DatamonPurgeOperation::checkLockAndSpace(QString* error) const
{
    const QString& metadata = m_sharing.front().metadata;
    if (m_state.locked && !m_options.forceStaleLock) {
        *error = QStringLiteral("the purge lock is held: %1. Another purge may be running on context %2; if you know "
                                "that none is (the job that took it is gone), plan again with --force-stale-lock")
                     .arg(lockDescription(metadata, m_state), m_target.context.name);
        return false;
    }
    if (!m_state.locked && m_options.forceStaleLock) {
        *error = QStringLiteral("--force-stale-lock: gs://%1/purge.lock does not exist; plan without it").arg(metadata);
        return false;
    }
    *error = spaceError(m_freeKiB);
    return error->isEmpty();
}

void DatamonPurgeOperation::describe(Plan* plan, const QString& verb) const
{
    const DatamonContextBuckets& own = m_sharing.front();
    QStringList sharingNames;
    for (const DatamonContextBuckets& context : std::as_const(m_sharing))
        sharingNames << context.name;
    plan->operation = name();
    plan->target = QStringLiteral("%1 (blob bucket gs://%2/)").arg(m_target.context.name, own.blob);
    plan->targetName = m_target.context.name;
    plan->lock = QStringLiteral("datamon-blob:gs://%1/").arg(own.blob);
    plan->verb = verb;
    plan->irreversible = false;
    plan->production = m_target.context.tags.production;
    plan->readOnly = m_target.context.tags.readOnly;
    plan->parameters = { { QStringLiteral("context"), m_target.context.name },
        { QStringLiteral("datamonContext"), m_target.context.context },
        { QStringLiteral("config"), m_target.context.config }, { QStringLiteral("metadata"), own.metadata },
        { QStringLiteral("blob"), own.blob }, { QStringLiteral("sharing"), QJsonArray::fromStringList(sharingNames) },
        { QStringLiteral("dryRunOnly"), m_options.dryRunOnly },
        { QStringLiteral("forceStaleLock"), m_options.forceStaleLock } };
    plan->detailText = QStringLiteral("Contexts sharing blob bucket gs://%1/: %2.")
                           .arg(own.blob, sharingNames.join(QStringLiteral(", ")));
}

bool DatamonPurgeOperation::makePlan(Plan* plan, QString* error)
{
    connect();
    if (!readSharing(m_recovering.isEmpty() && !m_options.dryRunOnly, error))
        return false;
    if (!m_recovering.isEmpty()) {
        planRecovery(plan);
        return true;
    }
    if (!checkLockAndSpace(error))
        return false;
    if (m_options.dryRunOnly) {
        planPrepare(plan);
        return true;
    }
    return planDelete(plan, error);
}

void DatamonPurgeOperation::planRecovery(Plan* plan) const
{
    describe(plan, QStringLiteral("Recover"));
    plan->parameters.insert(QStringLiteral("recovers"), m_recovering);
    if (m_recoveringIndex.isValid())
        plan->parameters.insert(QStringLiteral("indexTime"), m_recoveringIndex.toString(Qt::ISODateWithMs));
    const QStringList steps = m_options.dryRunOnly ? QStringList { kDropStale, kBuild, kDryRun }
                                                   : QStringList { kDelete, kVerify, kWrites, kDropIndex };
    for (const QString& step : steps) {
        const QString how = step == kWrites ? QStringLiteral("List the bundles committed since the index was built")
            : step == kDelete
            ? QStringLiteral("Re-attach to run %1's %2 job; never start it").arg(m_recovering, step)
            : QStringLiteral("Re-attach to run %1's %2 job, or start it if it never started").arg(m_recovering, step);
        plan->steps << Plan::Step { step, how,
            step == kWrites ? QStringLiteral("gcloud storage objects list gs://<metadata>/bundles/*/*/bundle.yaml")
                            : m_target.purgeStep(stepWords(step, QStringLiteral("<run dir>/index"), false)).join(u' '),
            QStringLiteral("datamon2 exits 0") };
    }
    plan->detailText += m_state.locked
        ? QStringLiteral("\nNow: %1.").arg(lockDescription(m_sharing.front().metadata, m_state))
        : QStringLiteral("\nNow: no purge lock.");
}

// The words for every count a count's or a purge's plan and snapshots hold: datamon's dry-run summary, the index, the
// bundles read around the delete.
QList<Plan::Measure> DatamonPurgeOperation::countMeasures()
{
    using M = Plan::Measure;
    return {
        M { QStringLiteral("keysToDelete"), QStringLiteral("Unused blobs to delete (older than the index)"),
            QStringLiteral("Blobs no bundle of the sharing contexts uses, written before the index was built: "
                           "delete-unused deletes them. Planned: the dry run's count.") },
        M { QStringLiteral("keysLeftToDelete"), QStringLiteral("Unused blobs left"),
            QStringLiteral("The verification dry run's count after the delete: 0 when every one went."), false,
            QStringLiteral("keysToDelete") },
        M { QStringLiteral("bytesToDelete"), QStringLiteral("Bytes they hold"),
            QStringLiteral("The space those blobs take in the bucket.") },
        M { QStringLiteral("keysInUse"), QStringLiteral("Blobs in use (kept)"),
            QStringLiteral("Blobs a bundle uses, by the index.") },
        M { QStringLiteral("keysNewerThanIndex"), QStringLiteral("Blobs newer than the index (kept)"),
            QStringLiteral("Written after the index was built: a new bundle may use them.") },
        M { QStringLiteral("keysScanned"), QStringLiteral("Blobs scanned"),
            QStringLiteral("Every blob in the bucket the dry run looked at.") },
        M { QStringLiteral("indexEntries"), QStringLiteral("Index entries"),
            QStringLiteral("Blobs the built index lists as used by some bundle.") },
        M { QStringLiteral("bundles"), QStringLiteral("Bundles in the sharing contexts"),
            QStringLiteral("bundle.yaml objects listed in their metadata buckets.") },
        M { QStringLiteral("bundlesSinceIndex"), QStringLiteral("Bundles committed since the index"),
            QStringLiteral("Must be 0: a newer bundle may use a blob the index does not list.") },
    };
}

void DatamonPurgeOperation::planPrepare(Plan* plan) const
{
    const DatamonContextBuckets& own = m_sharing.front();
    describe(plan, QStringLiteral("Build index and dry run"));
    const QStringList sharingNames = plan->parameters.value(QStringLiteral("sharing")).toVariant().toStringList();
    plan->counts << Plan::Count { QStringLiteral("contexts"),
        QStringLiteral("Contexts indexed (share the blob bucket)"), m_sharing.size(),
        QStringLiteral("Every context whose bundles use this blob bucket: a blob any of them uses is kept.") };
    plan->measures = countMeasures();
    const QString index = QStringLiteral("<run dir>/index");
    plan->steps << Plan::Step { QStringLiteral("check"),
        QStringLiteral("Check the purge lock and the free space in %1").arg(m_target.context.workDir),
        QStringLiteral("gcloud storage ls --json gs://%1/; %2")
            .arg(metadataBuckets().join(QStringLiteral("/ gs://")), freeSpaceCommand()),
        QStringLiteral("no purge.lock (or the one planned, with --force-stale-lock); %1 GiB free")
            .arg(m_target.context.minFreeGiB) };
    if (m_state.indexed)
        plan->steps << Plan::Step { kDropStale,
            QStringLiteral("Drop the index left by an earlier purge (%1)")
                .arg(m_state.indexTime.isValid() ? QStringLiteral("built ") + utc(m_state.indexTime)
                                                 : m_state.indexProblem),
            m_target.purgeStep(stepWords(kDropStale, index, false)).join(u' '), QStringLiteral("datamon2 exits 0") };
    plan->steps << Plan::Step { kBuild,
        QStringLiteral("Build the index of every blob key in use (%1)").arg(sharingNames.join(QStringLiteral(", "))),
        m_target.purgeStep(stepWords(kBuild, index, false)).join(u' '),
        QStringLiteral("datamon2 exits 0 and prints the index's entries") };
    plan->steps << Plan::Step { kDryRun, QStringLiteral("Count what a purge would delete"),
        m_target.purgeStep(stepWords(kDryRun, index, false)).join(u' '),
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
    plan->detailText = workDirText(m_freeKiB) + u'\n' + plan->detailText;
}

std::optional<DatamonPurgeOperation::DryRun> DatamonPurgeOperation::findDryRun(QString* error)
{
    const auto jobs = DatamonJob::find(*m_host, m_target, { kDryRun, kVerify, kDelete }, error);
    if (!jobs)
        return std::nullopt;
    const DatamonContextBuckets& own = m_sharing.front();
    std::optional<DryRun> newest;
    const DetachedJob::Found* lastDelete = nullptr;
    for (const DetachedJob::Found& job : *jobs) {
        if (job.step == kDelete) {
            if (!lastDelete || job.startedAt > lastDelete->startedAt)
                lastDelete = &job;
            continue;
        }
        QString ignored;
        const auto summary = job.exitCode == 0 ? DatamonOutput::parsePurgeSummary(job.out, &ignored) : std::nullopt;
        if (!summary || !summary->dryRun || summary->metadataStore != QStringLiteral("gs://%1/").arg(own.metadata)
            || summary->blobStore != QStringLiteral("gs://%1/").arg(own.blob)
            || !sameTime(summary->indexTime, m_state.indexTime))
            continue;
        if (!newest || job.endedAt > newest->endedAt)
            newest = DryRun { job.runId, job.step, job.endedAt, *summary };
    }
    const QString prepare = QStringLiteral("opsdeck run datamon-purge --context %1 --dry-run-only --confirm %1")
                                .arg(m_target.context.name);
    if (!newest) {
        *error = QStringLiteral("no dry run of the index built %1 was found in %2: count what the purge would delete "
                                "first with `%3`")
                     .arg(utc(m_state.indexTime), DatamonJob::findsIn(*m_host, m_target), prepare);
        return std::nullopt;
    }
    if (lastDelete && lastDelete->startedAt > newest->endedAt) {
        *error
            = QStringLiteral("run %1 started delete-unused at %2, after the last dry run (run %3, %4), so its counts "
                             "are out of date: count again with `%5`")
                  .arg(lastDelete->runId, utc(lastDelete->startedAt), newest->runId, utc(newest->endedAt), prepare);
        return std::nullopt;
    }
    return newest;
}

QStringList DatamonPurgeOperation::committedSince(
    const QList<DatamonBundleObject>& objects, const QDateTime& since) const
{
    const QDateTime second = QDateTime::fromSecsSinceEpoch(since.toSecsSinceEpoch(), Qt::UTC);
    QHash<QString, QString> contextOf;
    for (const DatamonContextBuckets& context : std::as_const(m_sharing))
        contextOf.insert(context.metadata, context.name);
    QStringList committed;
    for (const DatamonBundleObject& object : objects) {
        if (object.created >= second)
            committed << QStringLiteral("%1: %2/%3 (%4)")
                             .arg(contextOf.value(object.bucket, object.bucket), object.repo, object.bundleId,
                                 utc(object.created));
    }
    return committed;
}

bool DatamonPurgeOperation::planDelete(Plan* plan, QString* error)
{
    const DatamonContextBuckets& own = m_sharing.front();
    const QString prepare = QStringLiteral("opsdeck run datamon-purge --context %1 --dry-run-only --confirm %1")
                                .arg(m_target.context.name);
    // datamon2 v2.6.9 dereferences a nil index time without an index: a panic that leaves the lock.
    if (!m_state.indexed) {
        *error = QStringLiteral("gs://%1/reverse-index/ does not exist, and datamon2 delete-unused would panic without "
                                "it and leave its lock: build the index and count what the purge would delete first "
                                "with `%2`")
                     .arg(own.metadata, prepare);
        return false;
    }
    if (!m_state.indexTime.isValid()) {
        *error = QStringLiteral("the index in gs://%1/reverse-index/ is unusable (%2): build it again with `%3`")
                     .arg(own.metadata, m_state.indexProblem, prepare);
        return false;
    }
    m_dryRun = findDryRun(error);
    if (!m_dryRun)
        return false;
    const qint64 bundles = m_bundles.size();
    const QStringList committed = committedSince(m_bundles, m_state.indexTime);
    if (!committed.isEmpty()) {
        *error = QStringLiteral("%1 since the index was built at %2 (%3): they may rely on blobs the index does not "
                                "list. Hold uploads and build the index again with `%4`")
                     .arg(committedText(committed.size()), utc(m_state.indexTime),
                         committed.mid(0, 5).join(QStringLiteral("; ")), prepare);
        return false;
    }
    const DatamonPurgeSummary& counted = m_dryRun->summary;
    if (counted.deleted == 0) {
        *error = QStringLiteral("the dry run of run %1 (%2) finds no unused blob older than the index in gs://%3/: "
                                "there is nothing to purge")
                     .arg(m_dryRun->runId, utc(m_dryRun->endedAt), own.blob);
        return false;
    }

    describe(plan, QStringLiteral("Delete unused blobs"));
    plan->irreversible = true;
    plan->parameters.insert(QStringLiteral("indexTime"), m_state.indexTime.toString(Qt::ISODateWithMs));
    plan->parameters.insert(QStringLiteral("dryRun"), QStringLiteral("%1/%2").arg(m_dryRun->runId, m_dryRun->step));
    const QList<Plan::Measure> words = countMeasures();
    const auto count = [&](const QString& key, qint64 value) {
        const auto it
            = std::find_if(words.cbegin(), words.cend(), [&](const Plan::Measure& m) { return m.key == key; });
        plan->counts << Plan::Count { key, it->label, value, it->definition };
    };
    count(QStringLiteral("keysToDelete"), qint64(counted.deleted));
    count(QStringLiteral("bytesToDelete"), qint64(counted.bytesRelinquished));
    count(QStringLiteral("keysInUse"), qint64(counted.inUse));
    count(QStringLiteral("keysNewerThanIndex"), qint64(counted.newerThanIndex));
    count(QStringLiteral("keysScanned"), qint64(counted.scanned));
    plan->measures = words;
    const QString index = QStringLiteral("<run dir>/index");
    plan->steps << Plan::Step { QStringLiteral("check"),
        QStringLiteral("Check the lock, the index, the free space and that no bundle was committed since the index"),
        QStringLiteral("gcloud storage ls --json gs://%1/; %2; gcloud storage objects list "
                       "gs://<each sharing metadata bucket>/bundles/*/*/bundle.yaml")
            .arg(metadataBuckets().join(QStringLiteral("/ gs://")), freeSpaceCommand()),
        QStringLiteral("no purge.lock; the index built %1; no bundle since").arg(utc(m_state.indexTime)) };
    plan->steps << Plan::Step { kDelete,
        QStringLiteral("Delete the %1 unused blobs older than the index").arg(numberText(qint64(counted.deleted))),
        m_target.purgeStep(stepWords(kDelete, index, m_options.forceStaleLock)).join(u' '),
        QStringLiteral("datamon2 exits 0 and prints its summary (Dry-run: false)") };
    plan->steps << Plan::Step { kVerify, QStringLiteral("Count again: nothing may be left to delete"),
        m_target.purgeStep(stepWords(kVerify, index, false)).join(u' '),
        QStringLiteral("the dry run finds 0 blobs to delete (datamon2 v2.6.9 counts failed deletes as deleted)") };
    plan->steps << Plan::Step { kWrites, QStringLiteral("Check that no bundle was committed during the purge"),
        QStringLiteral("gcloud storage objects list gs://<each sharing metadata bucket>/bundles/*/*/bundle.yaml"),
        QStringLiteral("no bundle.yaml created since %1").arg(utc(m_state.indexTime)) };
    plan->steps << Plan::Step { kDropIndex, QStringLiteral("Drop the index"),
        m_target.purgeStep(stepWords(kDropIndex, index, false)).join(u' '), QStringLiteral("datamon2 exits 0") };

    const QStringList sharingNames = plan->parameters.value(QStringLiteral("sharing")).toVariant().toStringList();
    plan->warnings << QStringLiteral("This deletes %1 blobs (%2 bytes) from gs://%3/ for good: GCS keeps no copy "
                                     "unless the bucket has versioning or soft delete.")
                          .arg(numberText(qint64(counted.deleted)), numberText(qint64(counted.bytesRelinquished)),
                              own.blob);
    plan->warnings << QStringLiteral("Hold uploads to %1 until the purge ends: a bundle committed now can rely on a "
                                     "blob that is being deleted. The run lists the bundles again at its end.")
                          .arg(sharingNames.join(QStringLiteral(", ")));
    if (m_state.indexTime.secsTo(QDateTime::currentDateTimeUtc()) > 24 * 3600)
        plan->warnings
            << QStringLiteral("The index was built %1 ago; the counts are from then.").arg(age(m_state.indexTime));
    if (m_options.forceStaleLock)
        plan->warnings << QStringLiteral("--force-stale-lock: delete-unused overrides %1. Make sure no purge job "
                                         "runs on context %2 (a Kubernetes Job, a process on a bastion).")
                              .arg(lockDescription(own.metadata, m_state), m_target.context.name);
    plan->detailText = QStringLiteral("Counted by run %1's %2 at %3 on the index built %4; %5 bundles in %6, none "
                                      "committed since.\n%7\n")
                           .arg(m_dryRun->runId, m_dryRun->step, utc(m_dryRun->endedAt), utc(m_state.indexTime))
                           .arg(bundles)
                           .arg(sharingNames.join(QStringLiteral(", ")), workDirText(m_freeKiB))
        + plan->detailText;
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
        return QStringLiteral("purge.lock is not held");
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

std::optional<QByteArray> DatamonPurgeOperation::runStep(RunContext& context,
    const QString& step,
    const QString& jobRun,
    bool recoveryMayStart,
    const QString& consequence,
    bool* started)
{
    context.begin(step);
    QDateTime since = QDateTime::currentDateTimeUtc();
    DatamonJob job(*m_host, m_target, jobRun, step);
    const QString index = m_target.runDir(jobRun) + QStringLiteral("/index");
    // A recovery re-attaches to a job the dead console started, and starts only what never started.
    DatamonJob::Ended ended;
    if (!m_recovering.isEmpty()) {
        ended = job.inspect();
        if (ended.started) {
            since = m_recoveringSince;
            ended = job.follow(&context);
        } else if (ended.error.isEmpty() && !recoveryMayStart) {
            if (started)
                *started = false;
            context.succeed(QStringLiteral("never started by run %1: nothing to re-attach to").arg(jobRun));
            return std::nullopt;
        }
    }
    if (m_recovering.isEmpty() || (!ended.started && ended.error.isEmpty()))
        ended = job.run(stepWords(step, index, step == m_firstStep && m_options.forceStaleLock), context);
    if (started)
        *started = ended.started;
    if (ended.finished && ended.exit.kind == DatamonExit::Kind::Ok)
        return ended.out;
    QString why = !ended.error.isEmpty() ? ended.error
        : ended.cancelled                ? QStringLiteral("cancelled: datamon2 was stopped")
        : ended.vanished ? QStringLiteral("datamon2's job ended without an exit status (killed with its supervisor)")
                         : ended.exit.message;
    while (why.endsWith(u'.')) // it is a clause of the summary's sentences
        why.chop(1);
    context.fail(why, ended.errTail);
    if (!ended.error.isEmpty() && ended.started) {
        // The host (or the cluster) could not be read: the job may still run, and its lock is its own.
        context.leaveOpen(QStringLiteral("the %1 job (%2) could not be followed").arg(step, job.where()));
        context.record().summary = QStringLiteral("%1: %2. The job may still run (%3): run `opsdeck recover %4 "
                                                  "--confirm %5` once it can be reached.")
                                       .arg(step, why, job.where(), context.record().id, m_target.context.name);
        return std::nullopt;
    }
    const QString lock = releaseLeftLock(context, step, since);
    context.record().summary
        = QStringLiteral("The purge's %1 step failed: %2. %3. %4").arg(step, why, lock, consequence);
    return std::nullopt;
}

std::optional<DatamonPurgeSummary> DatamonPurgeOperation::readSummary(
    RunContext& context, const QByteArray& out, bool dryRun, const QString& consequence)
{
    QString error;
    auto summary = DatamonOutput::parsePurgeSummary(out, &error);
    if (summary && summary->dryRun != dryRun)
        error = QStringLiteral("it says Dry-run: %1").arg(summary->dryRun ? u"true" : u"false");
    else if (summary)
        return summary;
    context.fail(QStringLiteral("datamon2's summary could not be read: %1").arg(error), QString::fromUtf8(out));
    context.record().summary
        = QStringLiteral("datamon2 ended, but its summary could not be read (%1). %2").arg(error, consequence);
    return std::nullopt;
}

bool DatamonPurgeOperation::execute(const Plan& plan, RunContext& context)
{
    m_firstStep = plan.steps.value(plan.steps.first().id == QStringLiteral("check") ? 1 : 0).id;
    if (!m_recovering.isEmpty()) {
        return m_options.dryRunOnly ? finishPrepare(plan, context, m_recovering)
                                    : finishDelete(plan, context, m_recovering);
    }
    QString error;
    const DatamonContextBuckets& own = m_sharing.front();
    context.begin(QStringLiteral("check"));
    const auto refuse = [&](const QString& why) {
        context.fail(why);
        context.record().summary = QStringLiteral("Nothing ran: %1. Plan again.").arg(why);
        return false;
    };
    const auto now = observe(!m_options.dryRunOnly, &error);
    if (!now)
        return refuse(error);
    const DatamonQueries::StoreState& state = now->states.front();
    if (state.locked && (!m_options.forceStaleLock || state.lockGeneration != m_state.lockGeneration))
        return refuse(QStringLiteral("the purge lock is held now: %1").arg(lockDescription(own.metadata, state)));
    if (const QString space = spaceError(now->freeKiB); !space.isEmpty())
        return refuse(space);
    if (!m_options.dryRunOnly) {
        if (!sameTime(state.indexTime, m_state.indexTime))
            return refuse(
                QStringLiteral("the index is not the one planned (built %1) any more").arg(utc(m_state.indexTime)));
        const QStringList committed = committedSince(now->bundles, m_state.indexTime);
        if (!committed.isEmpty())
            return refuse(QStringLiteral("%1 since the index was built: %2")
                              .arg(committedText(committed.size()), committed.mid(0, 5).join(QStringLiteral("; "))));
        context.record().before.insert(QStringLiteral("bundles"), now->bundles.size());
        context.record().before.insert(QStringLiteral("bundlesSinceIndex"), 0);
    }
    context.succeed(now->freeKiB == kCheckedByEachJob
            ? QStringLiteral("no purge lock; each Job checks its volume's space")
            : QStringLiteral("%1 GiB free").arg(gib(now->freeKiB)));
    return m_options.dryRunOnly ? finishPrepare(plan, context, context.record().id)
                                : finishDelete(plan, context, context.record().id);
}

bool DatamonPurgeOperation::finishPrepare(const Plan& plan, RunContext& context, const QString& jobRun)
{
    QString error;
    const DatamonContextBuckets& own = m_sharing.front();
    const QString nothing = QStringLiteral("No blob was deleted.");
    const bool hasDropStep
        = std::any_of(plan.steps.cbegin(), plan.steps.cend(), [](const Plan::Step& s) { return s.id == kDropStale; });
    if (hasDropStep) {
        // A recovery's drop step only follows a job the run started: an index built since is the run's own.
        bool started = true;
        const auto dropped = runStep(context, kDropStale, jobRun, false, nothing, &started);
        if (!dropped && started)
            return false;
        if (dropped)
            context.succeed(QString::fromUtf8(*dropped));
    }
    if (context.cancelled()) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Cancelled before the index was built; no blob was deleted.");
        return false;
    }
    const auto builtOut = runStep(context, kBuild, jobRun, true, nothing);
    if (!builtOut)
        return false;
    const auto built = DatamonOutput::parseIndexSummary(*builtOut, &error);
    if (!built) {
        context.fail(QStringLiteral("datamon2's summary could not be read: %1").arg(error));
        context.record().summary
            = QStringLiteral("The index was built, but its summary could not be read (%1); no blob "
                             "was deleted.")
                  .arg(error);
        return false;
    }
    context.succeed(QString::fromUtf8(*builtOut));
    context.record().after.insert(QStringLiteral("indexEntries"), qint64(built->entries));
    if (context.cancelled()) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Cancelled after the index was built (%1 keys in use); no blob was "
                                                  "deleted.")
                                       .arg(built->entries);
        return false;
    }
    const auto dryOut = runStep(context, kDryRun, jobRun, true, nothing);
    if (!dryOut)
        return false;
    const auto summary = readSummary(context, *dryOut, true, nothing);
    if (!summary)
        return false;
    context.succeed(QString::fromUtf8(*dryOut));
    context.record().after.insert(QStringLiteral("keysScanned"), qint64(summary->scanned));
    context.record().after.insert(QStringLiteral("keysInUse"), qint64(summary->inUse));
    context.record().after.insert(QStringLiteral("keysNewerThanIndex"), qint64(summary->newerThanIndex));
    context.record().after.insert(QStringLiteral("keysToDelete"), qint64(summary->deleted));
    context.record().after.insert(QStringLiteral("bytesToDelete"), qint64(summary->bytesRelinquished));
    context.record().summary
        = QStringLiteral("Index built at %1 over %2. A purge of gs://%3/ would delete %4 of %5 blobs (%6 bytes): %7 "
                         "are in use and %8 are newer than the index. Nothing was deleted.")
              .arg(utc(summary->indexTime),
                  plan.parameters.value(QStringLiteral("sharing"))
                      .toVariant()
                      .toStringList()
                      .join(QStringLiteral(", ")),
                  own.blob, numberText(qint64(summary->deleted)), numberText(qint64(summary->scanned)),
                  numberText(qint64(summary->bytesRelinquished)), numberText(qint64(summary->inUse)),
                  numberText(qint64(summary->newerThanIndex)));
    qCInfo(lcDatamon) << "purge dry run of" << own.blob << summary->deleted << "to delete";
    return true;
}

bool DatamonPurgeOperation::finishDelete(const Plan& plan, RunContext& context, const QString& jobRun)
{
    QString error;
    const DatamonContextBuckets& own = m_sharing.front();
    const QDateTime indexTime = m_recovering.isEmpty() ? m_state.indexTime : m_recoveringIndex;
    const QString kept = QStringLiteral("The index is kept: `opsdeck plan datamon-purge --context %1` plans the "
                                        "purge again from the last dry run.")
                             .arg(m_target.context.name);

    bool started = true;
    const auto deletedOut = runStep(context, kDelete, jobRun, false,
        QStringLiteral("Some unused blobs may have been deleted; the rest are still there. %1").arg(kept), &started);
    if (!started) {
        context.skipRemaining();
        if (m_recovering.isEmpty())
            return false; // delete-unused could not start: the step says why; nothing was deleted
        context.record().summary = QStringLiteral("Run %1 never started deleting: no blob was deleted, and nothing is "
                                                  "left to recover.")
                                       .arg(jobRun);
        return true;
    }
    std::optional<DatamonPurgeSummary> deleted;
    if (deletedOut) {
        deleted = readSummary(context, *deletedOut, false, kept);
        if (!deleted)
            return false;
        context.succeed(QString::fromUtf8(*deletedOut));
        context.record().deleted.insert(QStringLiteral("keys"), qint64(deleted->deleted));
        context.record().deleted.insert(QStringLiteral("bytes"), qint64(deleted->bytesRelinquished));
    } else if (context.cancelled() || !context.leftOpen().isEmpty()) {
        context.skipRemaining();
        return false;
    }
    const QString deleteSummary = context.record().summary;

    // Exit 0 proves nothing in v2.6.9: a second dry run counts what is really left. After a failed delete it says
    // how far it got, and becomes the dry run the next purge plans from.
    const QString reported = deleted
        ? QStringLiteral("delete-unused reported %1 blobs deleted. %2").arg(numberText(qint64(deleted->deleted)), kept)
        : kept;
    const auto verifyOut = runStep(context, kVerify, jobRun, true, reported);
    if (!verifyOut)
        return false;
    const auto left = readSummary(context, *verifyOut, true, reported);
    if (!left)
        return false;
    context.record().after.insert(QStringLiteral("keysLeftToDelete"), qint64(left->deleted));
    context.record().after.insert(QStringLiteral("keysInUse"), qint64(left->inUse));
    context.record().after.insert(QStringLiteral("keysNewerThanIndex"), qint64(left->newerThanIndex));
    context.record().after.insert(QStringLiteral("keysScanned"), qint64(left->scanned));
    if (!deleted) {
        context.succeed(QString::fromUtf8(*verifyOut));
        context.skipRemaining();
        context.record().summary = QStringLiteral("%1 The verification dry run finds %2 unused blobs left in gs://%3/.")
                                       .arg(deleteSummary, numberText(qint64(left->deleted)), own.blob);
        return false;
    }
    if (left->deleted > 0) {
        context.fail(QStringLiteral("%1 unused blobs are still in gs://%2/ although delete-unused counted them as "
                                    "deleted (datamon2 v2.6.9 ignores failed deletes)")
                         .arg(numberText(qint64(left->deleted)), own.blob),
            QString::fromUtf8(*verifyOut));
        context.skipRemaining();
        context.record().summary
            = QStringLiteral("delete-unused reported %1 blobs deleted, but the verification dry run finds %2 of them "
                             "still in gs://%3/: their deletes failed (datamon2 v2.6.9 ignores delete errors; see the "
                             "GCS audit log). %4")
                  .arg(numberText(qint64(deleted->deleted)), numberText(qint64(left->deleted)), own.blob, kept);
        return false;
    }
    context.succeed(QString::fromUtf8(*verifyOut));

    context.begin(kWrites);
    const auto objects = m_queries->bundleObjects(metadataBuckets(), &error);
    if (!objects) {
        context.fail(error);
        context.skipRemaining();
        context.record().summary
            = QStringLiteral("Deleted %1 unused blobs; listing the bundles afterwards failed (%2): "
                             "check that none was committed since %3. %4")
                  .arg(numberText(qint64(deleted->deleted)), error, utc(indexTime), kept);
        return false;
    }
    const qint64 bundles = objects->size();
    const QStringList committed = committedSince(*objects, indexTime);
    context.record().after.insert(QStringLiteral("bundles"), bundles);
    context.record().after.insert(QStringLiteral("bundlesSinceIndex"), committed.size());
    if (!committed.isEmpty()) {
        context.fail(QStringLiteral("%1 during the purge").arg(committedText(committed.size())), committed.join(u'\n'));
        context.skipRemaining();
        context.record().summary
            = QStringLiteral("Deleted %1 unused blobs, but %2 while the index was in use (%3): check "
                             "that each one downloads (`datamon2 bundle download`), since a blob "
                             "it reuses may be gone. %4")
                  .arg(numberText(qint64(deleted->deleted)), committedText(committed.size()),
                      committed.mid(0, 5).join(QStringLiteral("; ")), kept);
        return false;
    }
    context.succeed(QStringLiteral("%1 bundles, none committed since %2").arg(bundles).arg(utc(indexTime)));

    const auto droppedOut = runStep(context, kDropIndex, jobRun, true,
        QStringLiteral("The unused blobs were deleted; the index is left and the next purge drops it first."));
    if (!droppedOut)
        return false;
    context.succeed(QString::fromUtf8(*droppedOut));
    context.record().summary
        = QStringLiteral("Deleted %1 unused blobs (%2 bytes) from gs://%3/; the verification dry run finds none left "
                         "(%4 in use, %5 newer than the index). No bundle was committed to %6 during the purge. The "
                         "index was dropped.")
              .arg(numberText(qint64(deleted->deleted)), numberText(qint64(deleted->bytesRelinquished)), own.blob,
                  numberText(qint64(left->inUse)), numberText(qint64(left->newerThanIndex)),
                  plan.parameters.value(QStringLiteral("sharing"))
                      .toVariant()
                      .toStringList()
                      .join(QStringLiteral(", ")));
    qCInfo(lcDatamon) << "purged" << deleted->deleted << "blobs of" << own.blob;
    return true;
}

QString DatamonPurgeOperation::endsOpen(const UndoWindow& window) const
{
    if (m_options.dryRunOnly || m_sharing.isEmpty()
        || !DatamonDeleteRepoOperation::keepingOperations().contains(window.operation)
        || window.restore.value(QStringLiteral("blob")).toString() != m_sharing.front().blob)
        return {};
    return QStringLiteral("this purge deletes the blobs of blob bucket %1 that only deleted repos use, so repo %2 "
                          "could come back without its data")
        .arg(m_sharing.front().blob, window.restore.value(QStringLiteral("repo")).toString());
}

bool DatamonPurgeOperation::endsExpired(const UndoWindow& window) const
{
    return DatamonDeleteRepoOperation::keptFor(window, m_target.context.name);
}

bool DatamonPurgeOperation::endWindow(const UndoWindow& window, QString* error)
{
    return DatamonTrash::removeWindowCopy(window.restore, *m_host, m_target, error);
}

} // namespace opsdeck
