#include "DatamonRecovery.h"

#include "DatamonDeleteRepoOperation.h"
#include "DatamonPurgeOperation.h"
#include "DatamonRestoreOperation.h"
#include "DatamonTarget.h"

#include <QTimer>

namespace opsdeck {

namespace {
const QString kDeleteRepo = QStringLiteral("datamon-delete-repo");
const QString kPurge = QStringLiteral("datamon-purge");
const QString kRestore = QStringLiteral("datamon-restore-repo");
const QString kRestoreRecover = QStringLiteral("datamon-restore-repo-recover");
} // namespace

QStringList datamonRecoveredOperations()
{
    return { kDeleteRepo, kPurge, kRestore, kRestoreRecover };
}

void resolveDatamonRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done)
{
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = datamonRecoveredOperations().contains(run.operation) ? DatamonTarget::resolve(
                            inventory, run.parameters.value(QStringLiteral("context")).toString(), &problem, &error)
                                                                             : std::nullopt;
    if (!target) {
        if (error.isEmpty())
            error = QStringLiteral("datamon does not recover %1 runs").arg(run.operation);
        QTimer::singleShot(0, context, [done, error] { done(nullptr, error); });
        return;
    }
    resolveDatamonSecrets(
        store, *target, context, [done, run](std::optional<DatamonTarget> resolved, const QString& why) {
            if (!resolved) {
                done(nullptr, why);
                return;
            }
            if (run.operation == kPurge) {
                done(DatamonPurgeOperation::recovery(*resolved, run.runId, run.startedAt, run.parameters), {});
                return;
            }
            QString invalid;
            if (run.operation == kRestore || run.operation == kRestoreRecover) {
                // The same restore again: it copies what is still missing.
                auto operation = DatamonRestoreOperation::recovering(*resolved, run.runId, run.parameters, &invalid);
                done(std::move(operation), invalid);
                return;
            }
            auto operation = DatamonDeleteRepoOperation::recovery(*resolved, run.runId, run.parameters, &invalid);
            done(std::move(operation), invalid);
        });
}

} // namespace opsdeck
