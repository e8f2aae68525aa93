#include "pulumi/PulumiPurgeBatch.h"

#include "core/SyncedFile.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <future>

namespace opsdeck {

namespace {

// MariaDB's ER_LOCK_DEADLOCK and ER_LOCK_WAIT_TIMEOUT: the server rolled the transaction back.
bool isLockError(const QSqlError& error)
{
    const QString code = error.nativeErrorCode();
    return code == QStringLiteral("1213") || code == QStringLiteral("1205");
}

class Transaction
{
public:
    Transaction(QSqlDatabase db, PulumiPurgeBatch::Result* result, QString* error)
        : m_db(std::move(db))
        , m_result(result)
        , m_error(error)
    {
    }
    ~Transaction()
    {
        if (m_open)
            m_db.rollback();
    }

    bool begin()
    {
        // Row locks only, no gap locks: concurrent batches (and the live service) touch other stacks.
        QSqlQuery isolation(m_db);
        if (!isolation.exec(QStringLiteral("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")))
            return fail(isolation.lastError());
        if (!m_db.transaction())
            return fail(m_db.lastError());
        m_open = true;
        return true;
    }

    // Runs `sql` with one "%1" for the placeholders of `ids`, timed.
    bool exec(QSqlQuery& query, const QString& sql, const QStringList& ids)
    {
        query.setForwardOnly(true);
        PulumiPurgePlan::prepareWithIds(query, sql, ids);
        QElapsedTimer clock;
        clock.start();
        const bool ok = query.exec();
        m_result->slowestMs = std::max(m_result->slowestMs, clock.elapsed());
        return ok || fail(query.lastError());
    }

    bool commit()
    {
        QElapsedTimer clock;
        clock.start();
        m_result->commitSent = true;
        if (!m_db.commit())
            return fail(m_db.lastError());
        m_open = false;
        m_result->slowestMs = std::max(m_result->slowestMs, clock.elapsed());
        return true;
    }

    PulumiPurgeBatch::Failure failure() const { return m_failure; }
    PulumiPurgeBatch::Failure failWith(const QString& error)
    {
        *m_error = error;
        return PulumiPurgeBatch::Failure::Other;
    }

private:
    bool fail(const QSqlError& error)
    {
        *m_error = error.text();
        m_failure = isLockError(error) ? PulumiPurgeBatch::Failure::Lock : PulumiPurgeBatch::Failure::Other;
        return false;
    }

    QSqlDatabase m_db;
    PulumiPurgeBatch::Result* m_result;
    QString* m_error;
    bool m_open = false;
    PulumiPurgeBatch::Failure m_failure = PulumiPurgeBatch::Failure::None;
};

// A batch's restore file, encoded, written and synced on a thread of its own while the batch's deletes run: only the
// commit has to wait for it (the sync alone takes tens of milliseconds). However the batch ends, it is waited for,
// and Result::fileWritten says whether the file exists, so that a batch that did not commit has its file removed.
class PendingFile
{
public:
    explicit PendingFile(PulumiPurgeBatch::Result* result)
        : m_result(result)
    {
    }
    ~PendingFile()
    {
        QString ignored;
        wait(&ignored);
    }

    void start(QList<PulumiRowFile::Table> rows, QString path)
    {
        m_written = std::async(std::launch::async, [rows = std::move(rows), path = std::move(path)]() -> QString {
            QString problem;
            SyncedFile file(path);
            if (!file.open(&problem))
                return problem;
            file.write(PulumiRowFile::encode(rows));
            if (!file.commit(&problem))
                return problem;
            // The service's data: for this user only, as the folder is.
            QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            return {};
        });
    }
    // True once the file is on disk (or none was started).
    bool wait(QString* problem)
    {
        if (!m_written.valid())
            return m_problem.isEmpty();
        m_problem = m_written.get();
        m_result->fileWritten = m_problem.isEmpty();
        *problem = m_problem;
        return m_problem.isEmpty();
    }

private:
    PulumiPurgeBatch::Result* m_result;
    std::future<QString> m_written;
    QString m_problem;
};

} // namespace

PulumiPurgeBatch::Failure PulumiPurgeBatch::run(
    QSqlDatabase db, Phase phase, const QList<PlannedStack>& batch, Result* result, QString* error, const Export* undo)
{
    *result = {};
    Transaction transaction(db, result, error);
    PendingFile file(result); // destroyed first: a batch that fails waits for its file before it rolls back
    if (!transaction.begin())
        return transaction.failure();

    QStringList programIds;
    for (const PlannedStack& s : batch)
        programIds << s.programId;
    QSqlQuery lock(db);
    if (!transaction.exec(lock,
            QStringLiteral(
                "SELECT id, stack_id, deleted_at, org_id, stack_name FROM Programs WHERE id IN %1 FOR UPDATE"),
            programIds))
        return transaction.failure();
    struct Current
    {
        QString stackId;
        qint64 deletedAt;
        QString orgId;
        QString stackName;
    };
    QHash<QString, Current> current;
    while (lock.next())
        current.insert(lock.value(0).toString(),
            { lock.value(1).toString(), lock.value(2).toLongLong(), lock.value(3).toString(),
                lock.value(4).toString() });

    // Programs.stack_id is not unique: a Stacks row may still be named by a live program (deleted_at 0 or NULL)
    // beside the soft-deleted one, and deleting it would take that program's updates and checkpoints with it. Every
    // program naming a planned stack is locked too, so none is undeleted or changed before the commit.
    QSet<QString> namedByLive;
    if (phase == Phase::Stacks) {
        QStringList stackIds;
        for (const PlannedStack& s : batch)
            stackIds << s.stackId;
        QSqlQuery namers(db);
        if (!transaction.exec(namers,
                QStringLiteral("SELECT stack_id, deleted_at FROM Programs WHERE stack_id IN %1 FOR UPDATE"), stackIds))
            return transaction.failure();
        while (namers.next()) {
            if (namers.isNull(1) || namers.value(1).toLongLong() <= 0)
                namedByLive.insert(namers.value(0).toString());
        }
    }

    QStringList ids; // of the phase's table
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const PlannedStack& s = batch[i];
        const auto it = current.constFind(s.programId);
        if (it == current.cend() && phase == Phase::Stacks)
            result->skipped << Skipped { i,
                QStringLiteral("its Programs row was deleted outside this purge: its Stacks row is left") };
        else if (it == current.cend())
            result->gone << i;
        else if (it->deletedAt <= 0)
            result->skipped << Skipped { i,
                phase == Phase::Stacks
                    ? QStringLiteral("undeleted since the plan (deleted_at is 0 again): left as it was")
                    : QStringLiteral("undeleted after its Stacks row was purged: its Programs row is left, but its "
                                     "update history and checkpoints are gone") };
        else if (it->stackId != s.stackId || it->orgId != s.orgId || it->stackName != s.stackName)
            result->skipped << Skipped { i,
                QStringLiteral("its program changed since the plan (stack %1, organisation %2, name %3): left as "
                               "it is")
                    .arg(it->stackId, it->orgId, it->stackName) };
        else if (namedByLive.contains(s.stackId))
            result->skipped << Skipped { i,
                QStringLiteral("a live program (deleted_at 0 or NULL) names its Stacks row too: both are left as they "
                               "are") };
        else {
            result->purged << i;
            ids << (phase == Phase::Stacks ? s.stackId : s.programId);
        }
    }
    if (undo && !ids.isEmpty()) {
        // Before any change: the rows every delete below takes, locked so that nothing is added under them first.
        QList<PulumiRowFile::Table> rows;
        for (const PulumiRows::TableShape& table : *undo->tables) {
            QSqlQuery read(db);
            if (!transaction.exec(read, PulumiRows::exportSql(table), ids))
                return transaction.failure();
            rows << PulumiRows::readRows(read, table);
        }
        for (const PulumiRowFile::Table& table : rows)
            result->exportedRows += table.rows.size();
        file.start(std::move(rows), undo->path);
    }
    if (!ids.isEmpty()) {
        if (phase == Phase::Stacks) {
            QSqlQuery clear(db), stacks(db);
            if (!transaction.exec(
                    clear, QStringLiteral("UPDATE Stacks SET active_update_id = NULL WHERE id IN %1"), ids)
                || !transaction.exec(stacks, QStringLiteral("DELETE FROM Stacks WHERE id IN %1"), ids))
                return transaction.failure();
            result->rows = stacks.numRowsAffected();
        } else {
            QSqlQuery programs(db);
            if (!transaction.exec(
                    programs, QStringLiteral("DELETE FROM Programs WHERE id IN %1 AND deleted_at > 0"), ids))
                return transaction.failure();
            // The rows are locked: anything else means the database is not what the lock said.
            if (programs.numRowsAffected() != ids.size()) {
                *error = QStringLiteral("%1 of %2 locked Programs rows were deleted; the batch was rolled back")
                             .arg(programs.numRowsAffected())
                             .arg(ids.size());
                return Failure::Other;
            }
            result->rows = programs.numRowsAffected();
        }
    }
    // The rows the deletes took are on disk before they are gone for good.
    if (QString problem; !file.wait(&problem))
        return transaction.failWith(QStringLiteral("the restore file: %1").arg(problem));
    if (!transaction.commit())
        return transaction.failure();
    return Failure::None;
}

PurgeBatchSizer::PurgeBatchSizer(int maximum)
    : m_maximum(std::max(1, maximum))
    , m_size(std::min(kStart, m_maximum))
{
}

void PurgeBatchSizer::record(int size, qint64 slowestMs)
{
    // Statement time grows about linearly with the stacks in it (each brings its cascade).
    if (slowestMs > kTargetMs)
        m_size = std::max(
            1.0, static_cast<double>(size) * static_cast<double>(kTargetMs) / static_cast<double>(slowestMs));
    else if (slowestMs < kTargetMs / 2 && size >= static_cast<int>(m_size))
        m_size = std::min(static_cast<double>(m_maximum), m_size * 1.25 + 1.0);
}

} // namespace opsdeck
