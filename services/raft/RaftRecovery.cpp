#include "RaftRecovery.h"

#include "RaftResetOperation.h"
#include "RaftTarget.h"
#include "kube/KubeSecrets.h"

#include <QTimer>

#include <algorithm>

namespace opsdeck {

QStringList raftRecoveredOperations()
{
    return { QStringLiteral("raft-reset") };
}

void resolveRaftRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done)
{
    const QJsonObject& saved = run.parameters;
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    const auto target = RaftTarget::resolve(inventory, saved.value(QStringLiteral("cluster")).toString(),
        saved.value(QStringLiteral("namespace")).toString(), &problem, &error);
    if (!target) {
        QTimer::singleShot(0, context, [done, error] { done(nullptr, error); });
        return;
    }
    resolveKubeSecrets(store, *target, context, [done, run](std::optional<RaftTarget> resolved, const QString& why) {
        if (!resolved) {
            done(nullptr, why);
            return;
        }
        RaftResetOperation::Options options;
        options.podTimeoutSeconds
            = std::clamp(run.parameters.value(QStringLiteral("podTimeoutSeconds")).toInt(300), 1, 3600);
        QString invalid;
        auto operation = RaftResetOperation::recovery(*resolved, run.runId, run.parameters, options, &invalid);
        done(std::move(operation), invalid);
    });
}

} // namespace opsdeck
