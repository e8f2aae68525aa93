#pragma once

#include "datamon/DatamonOutput.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonTarget.h"
#include "runbook/Operation.h"

#include <QJsonObject>

#include <memory>

namespace opsdeck {

class DatamonHost;

// The runbook's purge of unused blobs, in two runs so that the delete is confirmed on datamon's own counts:
//
// Prepare (--dry-run-only): drop a stale index first (a rebuild leaves an earlier, larger index's higher chunks
// behind), `purge build-reverse-lookup` (over every context that shares the blob bucket), then `purge delete-unused
// --dry-run`, whose summary is the impact: keys scanned, in use, newer than the index, to delete, and bytes. Nothing
// is deleted; the index stays for the delete.
//
// Delete: planned from that dry run, found on the host (the newest one of this context whose index is the one in the
// store now, with no delete run since), and refused while there is none, while bundles were committed since the index
// was built (datamon skips uploading a blob that exists, so a new bundle may rely on a blob the index does not list),
// or without an index (datamon2 would panic and leave its lock). Then `purge delete-unused`; a second dry run that
// must find nothing left to delete (v2.6.9 counts a failed delete as deleted, so exit 0 alone proves nothing); the
// bundle listing again, to show that nothing was committed during the window; and `purge delete-reverse-lookup`.
//
// Each datamon step is a detached job (DatamonJob) that outlives the console. Refused before anything runs:
// purge.lock held on the metadata bucket (`forceStaleLock` passes --force to the first step, for a lock whose age the
// admin has checked) or on a context that shares the blob bucket, or less free space in the work dir than the
// context's minFreeGiB. The journal lock is the blob bucket's, so contexts that share it are purged one at a time. A
// step that fails or is cancelled leaves datamon's lock behind when datamon was killed (it has no signal handling):
// the lock is read, and removed only when it is this run's (taken while the step's job ran, and the job has ended),
// matching its generation so that a newer lock is never removed.
class DatamonPurgeOperation : public Operation
{
public:
    struct Options
    {
        bool dryRunOnly = false;
        bool forceStaleLock = false;
    };
    DatamonPurgeOperation(DatamonTarget target, Options options);
    // `opsdeck recover` of a run whose console died: it re-attaches to the run's jobs on the host (following each to
    // its end) and removes a lock the run's datamon left behind. A prepare's recovery starts the steps that never
    // started; a delete's never starts a delete the dead run did not start, and checks what one that ran left.
    // `saved`: the run's plan parameters (its mode, its index); `startedAt`: when it began (a lock taken before is
    // not its own).
    static std::unique_ptr<DatamonPurgeOperation> recovery(
        DatamonTarget target, const QString& runId, const QDateTime& startedAt, const QJsonObject& saved);
    ~DatamonPurgeOperation() override;

    QString name() const override { return QStringLiteral("datamon-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    // A purge that deletes ends the windows of repo deletes on its blob bucket: it deletes the blobs only deleted
    // repos use, so their metadata could come back without its data.
    QString endsOpen(const UndoWindow& window) const override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

    // The job of each datamon step a purge runs, in their order (DatamonJob's step names).
    static QStringList jobSteps();

    // The shell command that prints the free space (KiB) of a directory's nearest existing ancestor on the host.
    static QStringList freeSpaceArgv(const QString& dir);

private:
    static QList<Plan::Measure> countMeasures();
    // A dry run's summary on the host, and the job it came from.
    struct DryRun
    {
        QString runId;
        QString step;
        QDateTime endedAt;
        DatamonPurgeSummary summary;
    };

    // What the plan and the check read, in one round trip (DatamonHost::runTogether: each read starts a gcloud, a
    // second or more): every sharing context's purge.lock and index, the free space in the work dir, and, for a
    // delete, every bundle.yaml of the sharing contexts. Nullopt with *error when a read fails or another sharing
    // context's purge lock is held.
    struct Observed
    {
        QList<DatamonQueries::StoreState> states; // m_sharing's order: this context's first
        qint64 freeKiB = kCheckedByEachJob;
        QList<DatamonBundleObject> bundles; // read only when asked
    };
    static constexpr qint64 kCheckedByEachJob = -1;

    void connect();
    std::optional<Observed> observe(bool withBundles, QString* error);
    // The free KiB in the work dir from freeSpaceArgv's result. (In Job mode the work dir is the Jobs' volume, which
    // the console cannot read: KubeJob's wrapper checks it before datamon2 starts, and it is kCheckedByEachJob.)
    std::optional<qint64> readFreeKiB(const ExecResult& result, QString* error) const;
    // Why the free space is too little for the context's minFreeGiB; empty when it is enough (or checked by each Job).
    QString spaceError(qint64 freeKiB) const;
    QStringList metadataBuckets() const;
    // "Work dir: ... GiB free." for the plan.
    QString workDirText(qint64 freeKiB) const;
    // The check step's free-space command, for the plan.
    QString freeSpaceCommand() const;
    // The contexts sharing the blob bucket (this one first), then observe(): false when a read fails or another
    // context's lock is held.
    bool readSharing(bool withBundles, QString* error);
    // purge.lock against --force-stale-lock, and the free space.
    bool checkLockAndSpace(QString* error) const;
    void describe(Plan* plan, const QString& verb) const;
    void planRecovery(Plan* plan) const;
    void planPrepare(Plan* plan) const;
    bool planDelete(Plan* plan, QString* error);
    // The newest dry run of the index in the store now, with no delete-unused started after it.
    std::optional<DryRun> findDryRun(QString* error);
    // The bundles of the sharing contexts committed at or after `since` (the second it falls in: gcloud's times and
    // datamon's are not to the same precision), as "context: repo/bundle id (time)" lines.
    QStringList committedSince(const QList<DatamonBundleObject>& objects, const QDateTime& since) const;

    // The datamon2 words of each step (`force`: the stale lock's override, on the first datamon step only).
    QStringList stepWords(const QString& step, const QString& index, bool force) const;
    // Runs the step as a job of run `jobRun` (this run, or the one a recovery finishes); a recovery re-attaches to
    // the dead run's job, and starts it only when it never started and `recoveryMayStart`. Its stdout when datamon
    // exited 0, with the step still running for the caller to verify. Otherwise nullopt, with the step failed (or,
    // for a recovery's job that never started, done), the lock handled and the summary written, ending with
    // `consequence`; *started says whether the job ever ran.
    std::optional<QByteArray> runStep(RunContext& context,
        const QString& step,
        const QString& jobRun,
        bool recoveryMayStart,
        const QString& consequence,
        bool* started = nullptr);
    // After a step that did not end well: datamon's lock, when taken since `since` (by this run's job, which has
    // ended), is removed, matching its generation. What was done, for the summary.
    QString releaseLeftLock(RunContext& context, const QString& step, const QDateTime& since);
    std::optional<DatamonPurgeSummary> readSummary(
        RunContext& context, const QByteArray& out, bool dryRun, const QString& consequence);
    bool finishPrepare(const Plan& plan, RunContext& context, const QString& jobRun);
    bool finishDelete(const Plan& plan, RunContext& context, const QString& jobRun);

    DatamonTarget m_target;
    Options m_options;
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
    std::unique_ptr<DatamonQueries> m_queries;
    QList<DatamonContextBuckets> m_sharing; // this context first
    DatamonQueries::StoreState m_state; // as planned
    qint64 m_freeKiB = 0; // as planned
    QList<DatamonBundleObject> m_bundles; // as planned, for a delete
    std::optional<DryRun> m_dryRun; // the delete's, as planned
    QString m_recovering; // the run a recovery finishes; empty for a purge
    QDateTime m_recoveringSince; // when that run started
    QDateTime m_recoveringIndex; // the index a delete run planned on
    QString m_firstStep; // the first datamon step of the plan: the one that overrides a stale lock
};

} // namespace opsdeck
