#pragma once

#include "raft/RaftQueries.h"
#include "raft/RaftTarget.h"
#include "runbook/Operation.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace opsdeck {

class KubeExec;

// ../shared/runbooks/raft-reset.md as one operation on a StatefulSet: the service goes down onto the DR image, each
// pod's RAFT is deleted and its index reset (on its own data directory), the service is scaled to 0, the image
// trigger annotation goes back byte for byte (the image returns to the image stream's latest), and the service is
// scaled back to its replicas, pod 0 first (the runbook never scales back up). The annotation is removed and the
// DR image set in one patch, so the trigger cannot "stomp" the image. Everything the run changes is in the plan's
// parameters, journaled before the first write, so a recovery (this run's, or `opsdeck recover` of a console that
// died) can put it back; recovery decides from what it reads of the StatefulSet, its pods and their data.
class RaftResetOperation : public Operation
{
public:
    struct Options
    {
        int podTimeoutSeconds = 300; // how long one pod may take to become Running and Ready
    };

    RaftResetOperation(RaftTarget target, QString statefulSet, QString drImage, Options options);
    // The recovery of run `runId`, whose plan's parameters are `saved`.
    static std::unique_ptr<RaftResetOperation> recovery(
        RaftTarget target, const QString& runId, const QJsonObject& saved, Options options, QString* error);
    ~RaftResetOperation() override;

    QString name() const override { return QStringLiteral("raft-reset"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // Empty when `image` is a full reference (registry/path@sha256:<64 hex> or registry/path:tag), else why not.
    static QString imageReferenceError(const QString& image);
    // Why a read-only cluster is refused, before anything is read from it.
    static QString readOnlyError(const RaftTarget& target);

private:
    struct PodData
    {
        QString pod;
        QString dir; // /var/data/single/<pod>: data/ holds the store, raft/ the WAL
    };

    bool connect(QString* error);
    bool planReset(Plan* plan, QString* error);
    bool planRecovery(Plan* plan, QString* error);
    bool runReset(RunContext& context);
    bool recover(RunContext& context, const QString& why);

    // A poll of the cluster while waiting: done, still waiting (with how far it got), or failed.
    struct Poll
    {
        enum State
        {
            Waiting,
            Done,
            Failed
        } state
            = Waiting;
        int progress = 0; // pods done so far; a wait fails when it stays put for a pod's timeout
    };

    // A plan step (or a recovery step) around `action`, which says why it failed in *error (kept in m_failure).
    bool step(RunContext& context, const QString& id, const std::function<bool(QString*)>& action);
    // Runs the begun step's action and ends the step with its outcome.
    bool finishStep(RunContext& context, const std::function<bool(QString*)>& action);
    bool recoveryStep(RunContext& context,
        const QString& id,
        const QString& title,
        const QString& command,
        const std::function<bool(QString*)>& action);

    // The actions, shared by the run and its recovery. `inRecovery`: a cancel does not stop it.
    bool pollUntil(
        RunContext& context, bool inRecovery, const std::function<Poll(QString* status)>& check, QString* error);
    // Every pod Running, Ready, on the update revision and `image`, and kubectl's rollout status done.
    Poll servingState(const QString& image, int replicas, QString* status);
    // A strategic-merge patch with the resourceVersion just read, applied while `stillAsExpected` holds; a 409 reads
    // again and retries.
    bool patchStatefulSet(
        const QJsonObject& patch, const std::function<bool(const StatefulSetRow&)>& stillAsExpected, QString* error);
    bool scaleTo(RunContext& context, int replicas, bool inRecovery, QString* error);
    bool restoreTrigger(RunContext& context, bool inRecovery, QString* error);
    bool deleteStuckPods(RunContext& context, QString* error);
    // raftIndexGet, delete the RAFT and raftIndexSet, raftIndexGet again: the index must change. Without
    // `raftPresent` (a recovery found it deleted) only the set and the last get.
    bool resetPod(RunContext& context, const PodData& data, bool raftPresent, QString* error);
    // Every node reset holds the same index afterwards (raftIndexSet writes one value).
    bool checkResetIndexes(QString* error) const;
    bool verifyNodes(RunContext& context, QString* error);
    // Fills the record's nodes and `after` from a last read; returns the summary of the nodes and the state.
    QString finishRecord(RunContext& context);

    // Reads; `patient` retries for a while when the API does not answer (a dropped connection).
    std::optional<StatefulSetRow> readStatefulSet(QString* error, bool patient);
    std::optional<QList<PodRow>> readPods(const StatefulSetRow& statefulSet, QString* error, bool patient);
    // Runs a `sh -c` script in a pod's container.
    struct ExecAnswer
    {
        bool ran = false; // an exit status came
        int exitCode = -1;
        QString out;
        QString err;
        QString problem; // why there is no status
    };
    ExecAnswer shell(const QString& pod, const QString& script, int timeoutMs = 60000);
    std::optional<qint64> raftIndex(const PodData& data, QString* error);
    QString execCommandText(const QString& pod, const QString& script) const;
    QString summaryOfState(const StatefulSetRow& statefulSet, const QList<PodRow>& pods) const;
    // The kubectl commands that put the annotation (or image) and the replicas back, for a recovery that could not.
    QString finishByHand() const;

    RaftTarget m_target;
    QString m_name;
    QString m_drImage;
    Options m_options;
    QString m_recovers; // the run this recovers; empty for a reset

    // What the plan saw and the run changes; parameters of the plan.
    QString m_container;
    QString m_image;
    QString m_annotation;
    bool m_hadTrigger = false;
    bool m_imageFollowsTrigger = false; // a non-paused trigger traces the container
    int m_replicas = 0;
    QString m_resourceVersion;
    QList<PodData> m_data;

    std::unique_ptr<KubeClient> m_client;
    std::unique_ptr<KubeExec> m_exec;
    QString m_latestImage; // the image once the annotation is back (the trigger's latest)
    QMap<QString, QJsonObject> m_nodes; // pod -> {pod, dataDir, indexBefore, indexAfterReset, raftAfterRestart}
    QString m_failure; // why the last step failed
    std::optional<qint64> m_resetIndex; // what raftIndexSet wrote where it changed an index
    QStringList m_planSteps; // a recovery's planned steps (`opsdeck recover`)
};

} // namespace opsdeck
