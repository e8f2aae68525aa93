#pragma once

#include "packit/PackitConnection.h"
#include "packit/PackitTarget.h"
#include "runbook/Operation.h"

#include <QJsonObject>
#include <QSqlDatabase>

#include <memory>
#include <optional>

namespace opsdeck {

struct RunRecord;

// The runbook packit-wipe-instance.md: stop both units, delete the outpack root and every packet and packet
// group, start the units again. Same end state as the runbook, reached with a shorter outage: the root is moved
// aside (instant) and deleted once the instance is back, and the cascade children go in set-based deletes in
// the same transaction as the runbook's two DELETEs. With the undo window on (the default), the old root is kept
// instead, and every row the DELETEs take is first written to a restore bundle beside it (PackitBundle), from the
// same snapshot the DELETEs see; `opsdeck restore` (PackitRestoreOperation) puts both back.
class PackitWipeOperation : public Operation
{
public:
    explicit PackitWipeOperation(PackitTarget target);
    ~PackitWipeOperation() override;

    // The recovery of a wipe whose console died without an outcome (`opsdeck recover`): it reads the instance's
    // state and brings it to untouched or wiped, with both units active; confirmed with the instance's name, as
    // the wipe was. `runTag` names that run's moved-aside root (its plan's parameter); `runId` is that run, which
    // the journal closes once this one succeeds.
    static std::unique_ptr<PackitWipeOperation> recovering(
        PackitTarget target, const QString& runId, const QString& runTag, QString* error);

    QString name() const override
    {
        return m_recovers.isEmpty() ? QStringLiteral("packit-wipe") : QStringLiteral("packit-wipe-recover");
    }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

    // The SQL of the delete step, in order: cascade children first, then the runbook's two statements.
    static QStringList deleteStatements();
    // Where a wipe with tag `runTag` keeps the old root and its restore bundle.
    static QString keptRootPath(const PackitTarget& target, const QString& runTag);
    static QString bundlePath(const PackitTarget& target, const QString& runTag);

private:
    bool connection(QString* error);
    bool recordBefore(RunContext& context);
    bool moveRoot(RunContext& context);
    bool exportRows(RunContext& context, QSqlDatabase& db);
    static std::optional<bool> parentsWithoutTriggers(QSqlDatabase& db);
    bool deleteRows(RunContext& context, bool keep);
    bool removeOldRoot(RunContext& context);
    // The undo window: the kept root's size, then the journal's undo-window entry.
    bool keepOldRoot(const Plan& plan, RunContext& context);
    void planUndo(Plan* plan, const PackitConnection::RootStats& root) const;
    void showJournal(RunContext& context);

    // What recovery reads of the instance before it decides anything (never which step reported success).
    struct Observed
    {
        bool rootExists = false;
        bool trashExists = false;
        bool bundleExists = false;
        QMap<QString, QString> bundleSums; // its SHA256SUMS, when every file matches it and the bundle is whole
        qint64 flywayRank = -1; // the schema's last migration
        QJsonObject counts; // PackitQueries::counts
        QStringList unitStates; // ActiveState, in m_target.units() order
        bool rowsGone() const;
        bool unitsActive() const;
        QString describe(const QStringList& units) const;
    };
    bool recover(RunContext& context); // whether the instance ended untouched or wiped with both units active
    void describeIn(Plan* plan, const QString& verb) const;
    bool makeRecoveryPlan(Plan* plan, QString* error);
    QList<Plan::Step> recoverySteps() const;
    void beginRecoveryStep(RunContext& context, const QString& id) const;
    QString unitStateCommands() const;
    QStringList restoreRootArgv() const;
    std::optional<Observed> observe(QString* error);
    bool settleDelete(QSqlDatabase& db, QString* error);
    bool observeStep(RunContext& context, Observed* seen);
    bool restoreRoot(RunContext& context);
    bool startUnitsForRecovery(RunContext& context, const Observed& seen);
    QString recoverySummary(const RunRecord& record, const Observed& seen, const QStringList& done) const;
    bool keepForRecovery(RunContext& context, const Observed& seen);
    QString trashPath() const;
    QString bundlePath() const;
    bool removeBundle(RunContext& context);
    void openWindow(RunContext& context, const QStringList& notRestorable, const Observed& seen, qint64 bytes);

    PackitTarget m_target;
    std::unique_ptr<PackitConnection> m_connection;
    QString m_runTag; // names the moved-aside root
    QString m_recovers; // the run a recovery run recovers; empty for a wipe
    QJsonObject m_toDelete; // what the record step found; the run's `deleted` once the rows are seen gone
    QJsonObject m_exported; // rows per table the export wrote (the DELETEs must take exactly these)
    qint64 m_deleteSession = 0; // pg_backend_pid() of the delete's connection, until recovery saw it end
};

} // namespace opsdeck
