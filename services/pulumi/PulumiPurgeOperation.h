#pragma once

#include "pulumi/PulumiPurgeBatch.h"
#include "pulumi/PulumiPurgePlan.h"
#include "runbook/Operation.h"
#include "sql/DatabaseTarget.h"

#include <atomic>
#include <memory>

namespace opsdeck {

class DatabaseConnection;

// The runbook pulumi-purge-soft-deleted.md: export the checkpoint data keys, then, as the runbook orders it,
// delete the planned Stacks rows (by Stacks id), then their Programs rows (by Programs id), in bounded batches
// (PulumiPurgeBatch: one short transaction each, bound to the planned ids and re-checking deleted_at, so a stack
// undeleted since the plan is skipped and reported). Batches run on several connections at once, each sized so
// that its statements stay short (PurgeBatchSizer). A lost connection or a restarted server is reconnected and
// the batch tried again; run again after any other interruption, the same command plans what is left (Programs
// rows whose Stacks rows are already gone included) and finishes it.
//
// The undo window (on unless the inventory or the admin turns it off): each batch first reads and locks every row its
// deletes take and writes them to a restore file (PulumiRowFile) in the run's folder on this machine
// (PulumiUndoFiles), synced before it commits. Whatever the outcome, the files written make the run's window, which
// `opsdeck restore RUN_ID` (PulumiRestoreOperation) puts back. A recovery run adopts the folder of the run it
// recovers, so its window holds both runs' rows.
class PulumiPurgeOperation : public Operation
{
public:
    // `batchSize` is the most stacks a batch may hold; batches start smaller and grow while statements are quick.
    // `lanes`: connections deleting at once.
    // `undoBase`: the folder the runs' restore folders go in (the journal's local folder's "undo").
    PulumiPurgeOperation(DatabaseTarget target,
        PulumiPurgeScope scope,
        QString exportDir,
        QString undoBase,
        int batchSize = 500,
        int lanes = kDefaultLanes);
    ~PulumiPurgeOperation() override;

    QString name() const override { return QStringLiteral("pulumi-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;
    // A recovery run: keeps its rows in the folder of the run it recovers (that run's plan's "undoDir").
    void adoptUndoDir(const QString& dir) { m_adoptedUndoDir = dir; }
    // The operations whose undo windows a restore of this system takes back.
    static QStringList keepingOperations() { return { QStringLiteral("pulumi-purge") }; }

    // Pause after each batch, in milliseconds (the throttle); thread-safe, takes effect at the next batch.
    void setThrottle(int milliseconds) { m_throttleMs = milliseconds; }

    static constexpr int kMaxBatch = 5000;
    // Connections deleting at once. Each cascade delete runs on one server thread; two keep a second core busy
    // without crowding a production server.
    static constexpr int kDefaultLanes = 2;
    static constexpr int kMaxLanes = 4;

private:
    struct Lanes;
    // What a phase did: indices in its list of stacks.
    struct PhaseResult
    {
        QList<qsizetype> purged;
        QList<qsizetype> gone;
        QList<PulumiPurgeBatch::Skipped> skipped;
        qint64 rows = 0;
        qint64 slowestMs = 0;
        qsizetype processed = 0;
        qsizetype batches = 0;
        QString failure; // empty when every batch was done (or the run was cancelled)
    };
    bool connect(QString* error);
    bool exportKeys(RunContext& context);
    bool purge(RunContext& context, bool keep);
    PhaseResult runPhase(
        RunContext& context, PulumiPurgeBatch::Phase phase, const QList<PlannedStack>& stacks, bool keep);
    void planUndo(Plan* plan, const QString& where) const;
    bool keepUndo(RunContext& context);
    bool pruneUncommittedFiles(RunContext& context, QString* error);
    void runLane(Lanes& lanes, int lane);
    void measure(RunContext& context, bool after);

    DatabaseTarget m_target;
    PulumiPurgeScope m_scope;
    QString m_exportDir;
    int m_batchSize;
    int m_lanes;
    std::atomic_int m_throttleMs = 0;
    // The runner thread's: plan, key export, counts. The cancel hook holds its interrupter, never the connection.
    std::unique_ptr<DatabaseConnection> m_connection;
    QList<PlannedStack> m_planned; // the confirmed plan's stacks, in primary-key order
    double m_rowsPerStack[2] = { 0, 0 }; // the plan's rows over its stacks, per phase, for rows/s
    QStringList m_tables; // every table of the schema, for exact counts
    QString m_undoBase;
    QString m_undoDir; // this run's restore folder (the plan's "undoDir")
    QString m_adoptedUndoDir;
    QString m_fileTag; // names this run's restore files: "stacks-<tag>-<first stack>-<attempt>.rows"
    PulumiRows::Shape m_shape; // what the deletes take, as a restore needs it
    QJsonObject m_rowsPlanned; // rows per table the plan counted
    qint64 m_bytesEstimate = -1; // of the restore files
};

} // namespace opsdeck
