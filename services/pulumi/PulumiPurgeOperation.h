#pragma once

#include "pulumi/PulumiPurgePlan.h"
#include "runbook/Operation.h"
#include "sql/DatabaseTarget.h"

#include <atomic>
#include <memory>

namespace opsdeck {

class DatabaseConnection;

// The runbook pulumi-purge-soft-deleted.md: export the checkpoint data keys, then purge the planned soft-deleted
// stacks in bounded batches (PulumiPurgeBatch: one short transaction each, bound to the planned ids, re-checking
// deleted_at, so a stack undeleted since the plan is skipped and reported, and a stack is either wholly purged or
// untouched). Batches run on several connections at once, each sized so that its statements stay short
// (PurgeBatchSizer). A lost connection or a restarted server is reconnected and the batch tried again; run again
// after any other interruption, the same command plans what is left and finishes it.
class PulumiPurgeOperation : public Operation
{
public:
    // `batchSize` is the most stacks a batch may hold; batches start smaller and grow while statements are quick.
    // `lanes`: connections deleting at once.
    PulumiPurgeOperation(DatabaseTarget target,
        PulumiPurgeScope scope,
        QString exportDir,
        int batchSize = 500,
        int lanes = kDefaultLanes);
    ~PulumiPurgeOperation() override;

    QString name() const override { return QStringLiteral("pulumi-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // Pause after each batch, in milliseconds (the throttle); thread-safe, takes effect at the next batch.
    void setThrottle(int milliseconds) { m_throttleMs = milliseconds; }

    static constexpr int kMaxBatch = 5000;
    // Connections deleting at once. Each cascade delete runs on one server thread; two keep a second core busy
    // without crowding a production server.
    static constexpr int kDefaultLanes = 2;
    static constexpr int kMaxLanes = 4;

private:
    struct Lanes;
    bool connect(QString* error);
    bool exportKeys(RunContext& context);
    bool purge(RunContext& context);
    void runLane(Lanes& lanes, int lane);
    void measure(RunContext& context, bool after);

    DatabaseTarget m_target;
    PulumiPurgeScope m_scope;
    QString m_exportDir;
    int m_batchSize;
    int m_lanes;
    std::atomic_int m_throttleMs = 0;
    std::unique_ptr<DatabaseConnection> m_connection; // the runner thread's: plan, key export, counts
    QList<PlannedStack> m_planned; // the confirmed plan's stacks, in primary-key order
    double m_rowsPerStack = 0; // the plan's rows over its stacks, for rows/s
    QStringList m_tables; // every table of the schema, for exact counts
};

} // namespace opsdeck
