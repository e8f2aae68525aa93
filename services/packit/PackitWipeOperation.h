#pragma once

#include "packit/PackitTarget.h"
#include "runbook/Operation.h"

#include <QJsonObject>
#include <QSqlDatabase>

#include <memory>
#include <optional>

namespace opsdeck {

class PackitConnection;
struct RunRecord;

// The runbook packit-wipe-instance.md: stop both units, delete the outpack root and every packet and packet
// group, start the units again. Same end state as the runbook, reached with a shorter outage: the root is moved
// aside (instant) and deleted once the instance is back, and the cascade children go in set-based deletes in
// the same transaction as the runbook's two DELETEs.
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

    // The SQL of the delete step, in order: cascade children first, then the runbook's two statements.
    static QStringList deleteStatements();

private:
    bool connection(QString* error);
    bool stopUnits(RunContext& context);
    bool checkUnits(RunContext& context, const QString& wanted, int attempts);
    bool recordBefore(RunContext& context);
    bool moveRoot(RunContext& context);
    bool deleteRows(RunContext& context);
    bool startUnits(RunContext& context);
    bool removeOldRoot(RunContext& context);
    void showJournal(RunContext& context);

    // What recovery reads of the instance before it decides anything (never which step reported success).
    struct Observed
    {
        bool rootExists = false;
        bool trashExists = false;
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
    QString trashPath() const;

    PackitTarget m_target;
    std::unique_ptr<PackitConnection> m_connection;
    QString m_runTag; // names the moved-aside root
    QString m_recovers; // the run a recovery run recovers; empty for a wipe
    QJsonObject m_toDelete;
    qint64 m_deleteSession = 0; // pg_backend_pid() of the delete's connection, until recovery saw it end // what the
                                // record step found; the run's `deleted` once the rows are seen gone
};

} // namespace opsdeck
