#include "PackitRecovery.h"

#include "PackitRestoreOperation.h"
#include "PackitSecrets.h"
#include "PackitWipeOperation.h"

#include <QTimer>

namespace opsdeck {

QStringList packitRecoveredOperations()
{
    return { QStringLiteral("packit-wipe"), QStringLiteral("packit-wipe-recover"), QStringLiteral("packit-restore"),
        QStringLiteral("packit-restore-recover") };
}

void resolvePackitRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done)
{
    const QJsonObject& parameters = run.parameters;
    PackitTarget::Problem problem = PackitTarget::Problem::None;
    QString error;
    const auto target = PackitTarget::resolve(inventory, parameters.value(QStringLiteral("host")).toString(),
        parameters.value(QStringLiteral("instance")).toString(), &problem, &error);
    if (!target) {
        // Answered as the secrets are, never inside this call.
        QTimer::singleShot(0, context, [done, error] { done(nullptr, error); });
        return;
    }
    resolvePackitSecrets(
        store, *target, context, [done, run](std::optional<PackitTarget> resolved, const QString& why) {
            if (!resolved) {
                done(nullptr, why);
                return;
            }
            QString invalid;
            std::unique_ptr<Operation> operation;
            if (run.operation.startsWith(QStringLiteral("packit-restore")))
                operation = PackitRestoreOperation::recovering(*resolved, run.runId, run.parameters, &invalid);
            else
                operation = PackitWipeOperation::recovering(
                    *resolved, run.runId, run.parameters.value(QStringLiteral("runTag")).toString(), &invalid);
            done(std::move(operation), invalid);
        });
}

} // namespace opsdeck
