#pragma once

#include "datamon/DatamonOutput.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonTarget.h"
#include "runbook/Operation.h"

#include <memory>

namespace opsdeck {

class DatamonHost;
class DatamonJob;

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
    ~DatamonPurgeOperation() override;

    QString name() const override { return QStringLiteral("datamon-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // The shell command that prints the free space (KiB) of a directory's nearest existing ancestor on the host.
    static QStringList freeSpaceArgv(const QString& dir);

private:
    bool connect(QString* error);
    std::optional<qint64> freeKiB(QString* error);
    // Runs `words` as the step's job; false (with the step failed and the lock handled) unless datamon exited 0.
    bool runStep(RunContext& context, const QString& step, const QStringList& words, DatamonJob* job, QByteArray* out);
    // After a step that did not end well: datamon's lock left by this run's job is removed (from what is observed).
    QString releaseLeftLock(RunContext& context, const QString& step, const DatamonJob& job);

    DatamonTarget m_target;
    Options m_options;
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
    std::unique_ptr<DatamonQueries> m_queries;
    QList<DatamonContextBuckets> m_sharing; // this context first
    DatamonQueries::StoreState m_state; // as planned
};

} // namespace opsdeck
