#pragma once

#include "datamon/DatamonOutput.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonTarget.h"
#include "runbook/Operation.h"

#include <memory>

namespace opsdeck {

class DatamonHost;

// The runbook's purge of unused blobs, its first half: what a purge would delete, measured with datamon's own dry
// run on a fresh index, so that the purge itself can be confirmed on those counts. A step per runbook command, each a
// detached job (DatamonJob) that outlives the console: drop a stale index first (a rebuild leaves an earlier, larger
// index's higher chunks behind), `purge build-reverse-lookup` (every context that shares the blob bucket), then
// `purge delete-unused --dry-run`, whose summary is the impact: keys scanned, in use, newer than the index, to
// delete, and bytes. The index stays for the purge; datamon's lock is taken and released by each step.
//
// Refused before anything runs: purge.lock held on the metadata bucket (a purge runs, or one died and left it:
// `forceStaleLock` passes --force to the first step, for a lock whose age the admin has checked), or less free
// space in the work dir than the context's minFreeGiB. The journal lock is the blob bucket's, so contexts that share
// it are purged one at a time. A step that fails or is cancelled leaves datamon's lock behind when datamon was killed
// (it has no signal handling): recovery reads the lock, and removes it only when it is this run's (taken while the
// step's job ran, and the job has ended), matching its generation so that a newer lock is never removed.
class DatamonPurgeOperation : public Operation
{
public:
    struct Options
    {
        bool forceStaleLock = false;
    };
    DatamonPurgeOperation(DatamonTarget target, Options options);
    // `opsdeck recover` of a run whose console died: it re-attaches to the run's jobs on the host (following each to
    // its end), starts the steps that never started, and removes a lock the run's datamon left behind. `saved`: the
    // run's plan parameters; `startedAt`: when the run began (a lock taken before it is not the run's).
    static std::unique_ptr<DatamonPurgeOperation> recovery(
        DatamonTarget target, const QString& runId, const QDateTime& startedAt);
    ~DatamonPurgeOperation() override;

    QString name() const override { return QStringLiteral("datamon-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // The shell command that prints the free space (KiB) of a directory's nearest existing ancestor on the host.
    static QStringList freeSpaceArgv(const QString& dir);

private:
    bool connect(QString* error);
    std::optional<qint64> freeKiB(QString* error);
    // The datamon2 words of each step (`force`: the stale lock's override, on the first step only).
    QStringList stepWords(const QString& step, const QString& index, bool force) const;
    // Runs the step as a job of run `jobRun` (this run, or the one a recovery finishes), or follows that job when it
    // was started already; false (with the step failed and the lock handled) unless datamon exited 0.
    bool runStep(
        RunContext& context, const QString& step, const QString& jobRun, const QStringList& words, QByteArray* out);
    // After a step that did not end well: datamon's lock, when taken since `since` (by this run's job, which has
    // ended), is removed, matching its generation. What was done, for the summary.
    QString releaseLeftLock(RunContext& context, const QString& step, const QDateTime& since);
    // The steps after the check: a purge runs them all; a recovery re-attaches to those the dead run started.
    bool finish(const Plan& plan, RunContext& context, const QString& jobRun);

    DatamonTarget m_target;
    Options m_options;
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
    std::unique_ptr<DatamonQueries> m_queries;
    QList<DatamonContextBuckets> m_sharing; // this context first
    DatamonQueries::StoreState m_state; // as planned
    QString m_recovering; // the run a recovery finishes; empty for a purge
    QDateTime m_recoveringSince; // when that run started
};

} // namespace opsdeck
