#pragma once

#include "pulumi/PulumiPurgePlan.h"
#include "runbook/Operation.h"
#include "sql/DatabaseTarget.h"

#include <atomic>
#include <memory>

namespace opsdeck {

class DatabaseConnection;

// The runbook pulumi-purge-soft-deleted.md: export the checkpoint data keys, then purge the planned soft-deleted
// stacks in bounded batches by primary key. Each batch is one short transaction that clears the batch's
// active_update_id, deletes its Stacks (cascading to Updates and below) and its Programs (cascading to
// ProgramUpdates and Resources), every statement bound to the batch's planned ids and re-checking deleted_at > 0,
// so a stack undeleted since the plan is skipped (and reported), and a stack is either wholly purged or
// untouched. Run again after any interruption, the same command plans what is left and finishes it.
class PulumiPurgeOperation : public Operation
{
public:
    PulumiPurgeOperation(DatabaseTarget target, PulumiPurgeScope scope, QString exportDir, int batchSize = 500);
    ~PulumiPurgeOperation() override;

    QString name() const override { return QStringLiteral("pulumi-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // Pause between batches, in milliseconds (the throttle); thread-safe, takes effect at the next batch.
    void setThrottle(int milliseconds) { m_throttleMs = milliseconds; }

    static constexpr int kMaxBatch = 5000;

private:
    struct Planned
    {
        QString programId;
        QString stackId;
        QString stackName;
        QString org;
    };
    bool connect(QString* error);
    bool exportKeys(RunContext& context);
    bool purge(RunContext& context);
    bool runBatch(const QList<Planned>& batch, qint64* stacksDeleted, qint64* programsDeleted, QString* error);
    void measure(RunContext& context, bool after);

    DatabaseTarget m_target;
    PulumiPurgeScope m_scope;
    QString m_exportDir;
    int m_batchSize;
    std::atomic_int m_throttleMs = 0;
    std::unique_ptr<DatabaseConnection> m_connection;
    QList<Planned> m_planned; // the confirmed plan's stacks, in primary-key order
    QStringList m_tables; // every table of the schema, for exact counts
};

} // namespace opsdeck
