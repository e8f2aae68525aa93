#pragma once

#include "pulumi/PulumiPurgePlan.h"
#include "pulumi/PulumiRows.h"

#include <QSqlDatabase>

namespace opsdeck {

// One batch of the purge, as one short transaction on planned stacks, in one of the runbook's two phases. It
// locks the batch's Programs rows first (SELECT ... FOR UPDATE, so nobody undeletes one meanwhile); then,
// bound to the ids still soft-deleted:
// - Stacks phase: clears Stacks.active_update_id (the circular key) and deletes the Stacks rows (cascading to
//   Updates and below), for programs that still name their planned stack, and never a Stacks row that a live
//   program also names (Programs.stack_id is not unique; every program naming a planned stack is locked too);
// - Programs phase: deletes the Programs rows (cascading to ProgramUpdates and Resources).
// A batch is all or nothing. With an undo window, every row its deletes will take is read (and locked) first and
// written to a restore file, synced, before the commit.
namespace PulumiPurgeBatch {

enum class Phase
{
    Stacks,
    Programs,
};

struct Skipped
{
    qsizetype index; // in the batch
    QString reason;
};

struct Result
{
    QList<qsizetype> purged; // indices in the batch: purged by this transaction
    QList<qsizetype> gone; // Programs phase: no Programs row any more (an earlier attempt's commit was not
                           // acknowledged, or someone else deleted it); the Stacks row went in the first phase
    QList<Skipped> skipped; // undeleted since the plan, changed, or (Stacks phase) its Programs row gone
    qint64 rows = 0; // the phase's table's rows deleted (the server does not count cascaded rows)
    qint64 slowestMs = 0; // the batch's slowest statement, commit included
    qint64 exportedRows = 0; // rows written to the restore file
    bool fileWritten = false; // the restore file exists
    bool commitSent = false; // the COMMIT was sent: if it failed, whether it took effect is unknown
};

// The undo window's part of a batch.
struct Export
{
    const QList<PulumiRows::TableShape>* tables = nullptr; // the phase's, in the order a restore inserts them
    QString path; // the restore file to write; it must not exist
};

enum class Failure
{
    None,
    Lock, // deadlock or lock wait timeout: rolled back by the server, try again on the same connection
    Other, // the connection or the server went away, or the statement was killed: reconnect and try again
};

// Runs the batch; on failure the transaction is rolled back and nothing of the batch was changed (unless the
// failure was the COMMIT's own: then result->commitSent tells that it may have been). With `undo`, the restore file
// is written before the commit, and left in place whatever happens next.
Failure run(QSqlDatabase db,
    Phase phase,
    const QList<PlannedStack>& batch,
    Result* result,
    QString* error,
    const Export* undo = nullptr);

} // namespace PulumiPurgeBatch

// Sizes the batches so that no statement runs longer than about kTargetMs: in proportion when a batch's
// slowest statement took longer, up by a quarter while it stays well under, never above the maximum set.
class PurgeBatchSizer
{
public:
    static constexpr qint64 kTargetMs = 400;
    static constexpr int kStart = 50;

    explicit PurgeBatchSizer(int maximum);
    int size() const { return static_cast<int>(m_size); }
    void record(int size, qint64 slowestMs);

private:
    int m_maximum;
    double m_size;
};

} // namespace opsdeck
