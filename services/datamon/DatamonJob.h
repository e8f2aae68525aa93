#pragma once

#include "datamon/DatamonHost.h"
#include "datamon/DatamonOutput.h"
#include "datamon/DatamonTarget.h"
#include "datamon/DetachedJob.h"
#include "kube/KubeClient.h"
#include "kube/KubeJob.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace opsdeck {

class RunContext;

// One datamon2 command of an operation run as a DetachedJob on the context's host (runDir/jobs/<step>), or, when the
// context has `jobs:`, as a Kubernetes Job in its cluster (KubeJob `opsdeck-<run id>-<step>`, labelled with the run
// and the step, the work dir's volume mounted at workDir), and followed until it ends: stdout collected (the
// summaries), stderr read for progress and shown in the run's current step as it changes, a cancel stopping the job
// (SIGINT to its group, then TERM, then KILL; or the Job deleted, which signals its pod). The job outlives the console
// and its connection; follow() picks up a job another console (or this one before a restart) started.
class DatamonJob
{
public:
    DatamonJob(DatamonHost& host, const DatamonTarget& target, const QString& runId, const QString& step);
    ~DatamonJob();

    const DetachedJob& job() const { return m_job; }
    QString cwd() const { return m_cwd; }
    // Where the job runs, for messages: its directory on the host, or the Kubernetes Job.
    QString where() const;

    struct Ended
    {
        bool started = false; // the job directory exists on the host
        bool finished = false; // its exit status is known
        bool vanished = false; // it ended without one (its supervisor was killed; the host rebooted)
        bool cancelled = false; // the run was cancelled and the job stopped (or found ended meanwhile)
        QString error; // the host could not be read (after the retries), or the job could not start
        DatamonExit exit; // when finished
        QByteArray out; // all its stdout
        QString errTail; // the end of its stderr, for the step
    };

    // Starts datamon2 `words` (plus the target's flags) detached and follows it. A start whose answer was lost
    // (dropped connection) is checked by polling: the job either exists or does not, never twice.
    Ended run(const QStringList& words, RunContext& context);
    // Follows the job until it ends, or reads how it ended. Its output and progress lines go to `context`'s step and
    // to `show`; either may be null.
    Ended follow(RunContext* context, const std::function<void(const QString& text)>& show = {});
    // What the job's directory says now, without waiting: a poll of everything.
    Ended inspect();
    // SIGINT, then TERM after 10 s, then KILL after 30 s, until no process of its group is left; a Kubernetes Job is
    // deleted with its pod, until both are gone.
    bool stop(QString* error);

    // The jobs of `steps` that any run started for this target's datamon context (its --context and --config),
    // ended or not, with the start of their stdout: what a purge finds its prepared dry run in. On the host, its
    // work dir's runs; in Job mode, the namespace's Jobs that opsdeck made (kept a week after they end), their stdout
    // from their pods' logs.
    static std::optional<QList<DetachedJob::Found>> find(
        DatamonHost& host, const DatamonTarget& target, const QStringList& steps, QString* error);

    // Where find() looks, for messages.
    static QString findsIn(DatamonHost& host, const DatamonTarget& target);

private:
    static std::optional<QList<DetachedJob::Found>> findOnHost(
        DatamonHost& host, const DatamonTarget& target, const QStringList& steps, QString* error);
    static std::optional<QList<DetachedJob::Found>> findJobs(
        const DatamonTarget& target, const QStringList& steps, QString* error);
    std::optional<DetachedJob::State> poll(
        qint64 outOffset, qint64 errOffset, QString* error, int waitMs = 0, int settleMs = 0);
    Ended ended(const DetachedJob::State& state, const QByteArray& out, DatamonStderrParser& errors) const;
    // Once the run is cancelled: stops the job (once: *stopped says) and says so.
    bool stopOnCancel(RunContext* context, bool* stopped);

    // The same for a Kubernetes Job.
    Ended runKube(const QStringList& words, RunContext& context);
    Ended followKube(RunContext* context, const std::function<void(const QString& text)>& show);
    Ended inspectKube();
    // The Job's state, read again while the API server does not answer (for up to as long as a host may take to
    // come back), or the failure that needs the admin.
    std::optional<KubeJob::State> inspectRetrying(QString* error);
    Ended endedKube(
        const KubeJob::State& state, const QByteArray& out, const QByteArray& err, DatamonStderrParser& errors) const;

    DatamonHost& m_host;
    const DatamonTarget& m_target;
    DetachedJob m_job;
    QString m_cwd;
    QString m_runId;
    QString m_step;
    std::unique_ptr<KubeClient> m_kube; // with the Job: context.jobs set
    std::unique_ptr<KubeJob> m_kubeJob;
};

} // namespace opsdeck
