#include "pulumi/PulumiPurgeOperation.h"

#include "core/SyncedFile.h"
#include "pulumi/PulumiLogging.h"
#include "pulumi/PulumiPurgeBatch.h"
#include "pulumi/PulumiQueries.h"
#include "pulumi/PulumiUndoFiles.h"
#include "runbook/RunContext.h"
#include "sql/DatabaseConnection.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace opsdeck {

namespace {

// A dropped tunnel or a restarting server: try the batch again this many times, waiting longer each time.
constexpr int kReconnectAttempts = 8;

} // namespace

PulumiPurgeOperation::PulumiPurgeOperation(
    DatabaseTarget target, PulumiPurgeScope scope, QString exportDir, QString undoBase, int batchSize, int lanes)
    : m_target(std::move(target))
    , m_scope(std::move(scope))
    , m_exportDir(std::move(exportDir))
    , m_batchSize(std::clamp(batchSize, 1, kMaxBatch))
    , m_lanes(std::clamp(lanes, 1, kMaxLanes))
    , m_undoBase(std::move(undoBase))
{
}

PulumiPurgeOperation::~PulumiPurgeOperation() = default;

bool PulumiPurgeOperation::connect(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<DatabaseConnection>(m_target);
    return m_connection->open(error);
}

bool PulumiPurgeOperation::makePlan(Plan* plan, QString* error)
{
    if (!connect(error))
        return false;
    const auto made = PulumiPurgePlan::make(
        m_connection->database(), m_scope, m_connection->describe(), m_target.database.tags, error);
    if (!made)
        return false;
    *plan = made->plan;
    const auto shape = PulumiRows::readShape(m_connection->database(), made->keys, error);
    if (!shape)
        return false;
    m_shape = *shape;
    m_rowsPlanned = plan->details.value(QStringLiteral("rows")).toObject();
    m_fileTag = QUuid::createUuid().toString(QUuid::Id128).left(8);
    // A name of its own, known before the run has an id: a recovery run finds it in this plan's parameters.
    m_undoDir = !m_adoptedUndoDir.isEmpty()
        ? m_adoptedUndoDir
        : PulumiUndoFiles::dirFor(m_undoBase,
            QStringLiteral("purge-%1-%2")
                .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")),
                    QUuid::createUuid().toString(QUuid::Id128).left(8)));
    plan->parameters.insert(QStringLiteral("database"), m_target.database.name);
    plan->parameters.insert(QStringLiteral("batch"), m_batchSize);
    plan->parameters.insert(QStringLiteral("parallel"), m_lanes);
    plan->parameters.insert(QStringLiteral("undoDir"), m_undoDir);
    m_planned = made->stacks;
    m_bytesEstimate = -1;
    if (const auto averages = PulumiQueries::averageRowBytes(m_connection->database(), error)) {
        m_bytesEstimate = 0;
        for (auto it = m_rowsPlanned.constBegin(); it != m_rowsPlanned.constEnd(); ++it)
            m_bytesEstimate += it.value().toInteger() * averages->value(it.key());
    }
    planUndo(plan, m_connection->describe());
    m_tables = plan->details.value(QStringLiteral("tableRowsBefore")).toObject().keys();
    // Rows per stack in each phase, for its rows/s.
    const QJsonObject fromRoot = plan->details.value(QStringLiteral("rowsFromRoot")).toObject();
    const double stacks = std::max<double>(1, static_cast<double>(m_planned.size()));
    m_rowsPerStack[0] = static_cast<double>(fromRoot.value(QStringLiteral("Stacks")).toInteger()) / stacks;
    m_rowsPerStack[1] = static_cast<double>(fromRoot.value(QStringLiteral("Programs")).toInteger()) / stacks;
    return true;
}

// What the plan says of the undo window: on unless the inventory turns it off for this database, or the schema has
// a delete a restore could not take back exactly.
void PulumiPurgeOperation::planUndo(Plan* plan, const QString& where) const
{
    const UndoPolicy& policy = m_target.database.undo;
    Plan::Undo& undo = plan->undo;
    undo.retentionSeconds = policy.retentionSeconds;
    undo.until = QDateTime::currentDateTimeUtc().addSecs(policy.retentionSeconds);
    undo.where = QStringLiteral("%1:%2 (on this console, not on %3)").arg(PulumiUndoFiles::machine(), m_undoDir, where);
    if (policy.off()) {
        undo.notRestorable << QStringLiteral("the inventory turns undo windows off for %1 (undo.retention: off)")
                                  .arg(m_target.database.name);
        return;
    }
    if (!m_shape.problem.isEmpty()) {
        undo.notRestorable << QStringLiteral("the purged rows: on this schema a restore could not put them back "
                                             "exactly (%1)")
                                  .arg(m_shape.problem);
        return;
    }
    if (m_planned.isEmpty())
        return;
    QStringList tables;
    qint64 rows = 0;
    for (const QList<PulumiRows::TableShape>* phase : { &m_shape.stacks, &m_shape.programs }) {
        for (const PulumiRows::TableShape& table : *phase) {
            tables << table.table;
            rows += m_rowsPlanned.value(table.table).toInteger();
        }
    }
    undo.available = true;
    // The text export takes about what the rows take in the database; information_schema's average row lengths give
    // that within a factor of two, which is what an admin needs to know about the space.
    undo.bytesHeld = m_bytesEstimate;
    undo.bytesEstimated = true;
    undo.restorable << QStringLiteral("the %1 purged stacks, soft-deleted as they were, with all %2 rows the purge "
                                      "deletes (%3)")
                           .arg(m_planned.size())
                           .arg(rows)
                           .arg(tables.join(QStringLiteral(", ")));
    undo.notRestorable << QStringLiteral("rows whose key is taken again before the restore: it never overwrites a "
                                         "row, it skips them and names them in its report");
    // Each batch writes its restore file before it deletes.
    for (Plan::Step& step : plan->steps) {
        if (step.id.startsWith(QStringLiteral("delete-")))
            step.command.replace(QStringLiteral(" FOR UPDATE; "),
                QStringLiteral(" FOR UPDATE; SELECT every row the deletes take, FOR UPDATE, into a restore file, "
                               "synced; "));
    }
    plan->steps << Plan::Step { QStringLiteral("keep-undo"),
        QStringLiteral("Keep the restore files as this run's undo window"),
        QStringLiteral("sha256 of every restore file in %1, journaled").arg(m_undoDir),
        QStringLiteral("one file per batch, each checked by its own trailer") };
}

bool PulumiPurgeOperation::execute(const Plan& plan, RunContext& context)
{
    const bool keep = plan.undo.opens();
    context.setCancelHook(m_connection->interrupter());
    measure(context, false);
    const bool ok = exportKeys(context) && purge(context, keep);
    context.setCancelHook({});
    // Whatever the outcome: the rows the committed batches took are in the files, and only the window gets them back.
    const bool kept = !keep || keepUndo(context);
    measure(context, true);
    const qint64 done = context.record().after.value(QStringLiteral("purgedStacks")).toInteger();
    const qint64 skipped = context.record().after.value(QStringLiteral("skippedStacks")).toInteger();
    if (ok)
        context.record().summary
            = QStringLiteral("%1 soft-deleted stacks of %2 were purged%3.")
                  .arg(done)
                  .arg(m_scope.orgs.join(QStringLiteral(", ")),
                      skipped ? QStringLiteral("; %1 undeleted or changed since the plan were skipped").arg(skipped)
                              : QString());
    else
        context.record().summary
            = QStringLiteral("The purge of %1 stopped: %2 of %3 stacks were purged, %4 more have lost their Stacks "
                             "rows but keep their soft-deleted Programs rows (as between the runbook's steps), the "
                             "rest is untouched. Run the same command again to finish it.")
                  .arg(m_scope.orgs.join(QStringLiteral(", ")))
                  .arg(done)
                  .arg(m_planned.size())
                  .arg(context.record().after.value(QStringLiteral("stacksRowsOnly")).toInteger());
    if (keep && kept)
        context.record().summary += QStringLiteral(" It can be undone until %1: opsdeck restore %2.")
                                        .arg(utcMinuteText(context.record().undo.until), context.record().id);
    return ok && kept;
}

// A recovery run finds the stopped run's files in its folder. A batch the console died in may have written its file
// and never committed: its root rows are still there, and this run deletes them again and writes them again. Such a
// file is removed, so that the window holds each deleted row once. Decided from the rows, not from what was reported.
bool PulumiPurgeOperation::pruneUncommittedFiles(RunContext& context, QString* error)
{
    const QDir dir(m_undoDir);
    for (const QString& name : dir.entryList({ QStringLiteral("*.rows") }, QDir::Files, QDir::Name)) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString());
            return false;
        }
        QString problem;
        const auto tables = PulumiRowFile::decode(file.readAll(), &problem);
        const PulumiRows::TableShape* root
            = tables && !tables->isEmpty() ? m_shape.find(tables->first().name) : nullptr;
        if (!root || tables->first().rows.isEmpty())
            continue; // not one this run can judge: the restore's plan checks it
        const auto there = PulumiRows::countExisting(m_connection->database(), *root, tables->first(), error);
        if (!there)
            return false;
        if (*there == tables->first().rows.size()) {
            if (!file.remove()) {
                *error = QStringLiteral("cannot remove %1: %2").arg(file.fileName(), file.errorString());
                return false;
            }
            context.output(QStringLiteral("%1: its batch never committed (all %2 %3 rows are still there); removed\n")
                               .arg(name)
                               .arg(*there)
                               .arg(root->table));
        }
    }
    return true;
}

bool PulumiPurgeOperation::keepUndo(RunContext& context)
{
    context.begin(QStringLiteral("keep-undo"));
    QString error;
    const auto listed = PulumiUndoFiles::list(m_undoDir, &error);
    if (!listed) {
        context.fail(
            QStringLiteral("%1: the restore files stay in %2, but no undo window names them").arg(error, m_undoDir));
        return false;
    }
    if (listed->sums.isEmpty()) {
        context.succeed(QStringLiteral("nothing was deleted: no undo window"));
        return true;
    }
    const QJsonObject& after = context.record().after;
    UndoWindow window;
    window.where = QStringLiteral("%1:%2").arg(PulumiUndoFiles::machine(), m_undoDir);
    window.bytes = listed->bytes;
    window.restorable << QStringLiteral("the stacks of %1 this purge deleted (%2 in this run), soft-deleted as they "
                                        "were, with every row their deletes took")
                             .arg(m_scope.orgs.join(QStringLiteral(", ")))
                             .arg(after.value(QStringLiteral("purgedStacks")).toInteger());
    window.notRestorable = context.plan().undo.notRestorable;
    window.confirmWith = m_scope.orgs.join(u',');
    window.restore = { { QStringLiteral("database"), m_target.database.name },
        { QStringLiteral("orgs"), QJsonArray::fromStringList(m_scope.orgs) },
        { QStringLiteral("machine"), PulumiUndoFiles::machine() }, { QStringLiteral("dir"), m_undoDir },
        { QStringLiteral("lock"), context.plan().lockName() },
        { QStringLiteral("files"), UndoWindows::sumsJson(listed->sums) } };
    if (!context.openUndoWindow(window)) {
        context.fail(QStringLiteral("%1: the restore files stay in %2, but no undo window names them")
                         .arg(context.journalError(), m_undoDir));
        return false;
    }
    context.succeed(
        QStringLiteral("%1 restore files (%2 bytes) in %3").arg(listed->sums.size()).arg(listed->bytes).arg(m_undoDir));
    return true;
}

bool PulumiPurgeOperation::endsExpired(const UndoWindow& window) const
{
    return keepingOperations().contains(window.operation)
        && window.restore.value(QStringLiteral("database")).toString() == m_target.database.name;
}

bool PulumiPurgeOperation::endWindow(const UndoWindow& window, QString* error)
{
    return PulumiUndoFiles::remove(m_undoBase, window, error);
}

void PulumiPurgeOperation::measure(RunContext& context, bool after)
{
    QString error;
    if (!connect(&error)) {
        context.note(QStringLiteral("measure"), { { QStringLiteral("error"), error } });
        return;
    }
    QJsonObject& into = after ? context.record().after : context.record().before;
    if (const auto rows = PulumiQueries::exactRows(m_connection->database(), m_tables, &error)) {
        for (auto it = rows->cbegin(); it != rows->cend(); ++it)
            into.insert(it.key(), it.value());
    }
    if (after) {
        if (const auto estimate = PulumiQueries::tableRows(m_connection->database(), &error)) {
            QJsonObject tableRows;
            for (auto it = estimate->cbegin(); it != estimate->cend(); ++it)
                tableRows.insert(it.key(), it.value());
            into.insert(QStringLiteral("tableRows"), tableRows);
        }
    }
}

bool PulumiPurgeOperation::exportKeys(RunContext& context)
{
    context.begin(QStringLiteral("export-keys"));
    // Synced to disk before the first delete: the keys are what is left to find the checkpoints by afterwards.
    SyncedFile file(
        QDir(m_exportDir)
            .filePath(QStringLiteral("pulumi-data-keys-%1-%2.txt")
                          .arg(m_target.database.name,
                              QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")))));
    QString error;
    if (!file.open(&error)) {
        context.fail(error + QStringLiteral("; nothing was deleted"));
        return false;
    }
    qint64 written = 0;
    // By chunks of planned stacks: the ids the deletes are bound to.
    for (qsizetype from = 0; from < m_planned.size(); from += PulumiPurgePlan::kCountChunk) {
        QStringList stackIds;
        for (const PlannedStack& p : m_planned.mid(from, PulumiPurgePlan::kCountChunk))
            stackIds << p.stackId;
        if (!connect(&error)) {
            context.fail(QStringLiteral("%1; nothing was deleted").arg(error));
            return false;
        }
        QSqlQuery query(m_connection->database());
        query.setForwardOnly(true);
        PulumiPurgePlan::prepareWithIds(query,
            QStringLiteral("SELECT c.data_key FROM UpdateCheckpointInfo AS c JOIN Updates AS u ON c.update_id = u.id "
                           "WHERE u.stack_id IN %1 ORDER BY c.data_key"),
            stackIds);
        if (!query.exec()) {
            context.fail(
                QStringLiteral("reading the data keys: %1; nothing was deleted").arg(query.lastError().text()));
            return false;
        }
        while (query.next()) {
            file.write(query.value(0).toString().toUtf8() + '\n');
            ++written;
        }
        context.progress(double(from + stackIds.size()) / double(std::max<qsizetype>(1, m_planned.size())));
    }
    if (!file.commit(&error)) {
        context.fail(error + QStringLiteral("; nothing was deleted"));
        return false;
    }
    context.record().after.insert(QStringLiteral("dataKeysFile"), file.path());
    context.record().after.insert(QStringLiteral("dataKeys"), written);
    context.succeed(QStringLiteral("%1 data keys written and synced to %2").arg(written).arg(file.path()));
    return true;
}

// The purge's lanes and what they tell the runner thread, which alone touches the RunContext (but for
// cancelled(), which is atomic). Shared with the cancel hook, which may run after purge() returned.
struct PulumiPurgeOperation::Lanes
{
    struct Event
    {
        QString text; // a line for the step's output, or else:
        qsizetype from = -1; // a batch done: its first planned stack
        qsizetype size = 0;
        PulumiPurgeBatch::Result result;
    };

    const RunContext* context = nullptr; // for cancelled() only, while the phase runs
    PulumiPurgeBatch::Phase phase = PulumiPurgeBatch::Phase::Stacks;
    const QList<PlannedStack>* stacks = nullptr; // the phase's, in the order its batches go
    const QList<PulumiRows::TableShape>* keptTables = nullptr; // with an undo window: the phase's tables
    QString undoDir;
    QString fileTag; // this run's, in its files' names
    std::vector<std::unique_ptr<DatabaseConnection>> connections; // one per lane, used on its thread only
    std::mutex mutex;
    std::condition_variable changed;
    qsizetype next = 0; // the first planned stack not handed out yet
    int running = 0;
    QString failure; // a lane gave up: the others stop after their batch
    QList<Event> events;

    void post(const QString& text) { post(Event { text, -1, 0, {} }); }
    void post(Event event)
    {
        const std::lock_guard lock(mutex);
        events << std::move(event);
        changed.notify_all();
    }
};

void PulumiPurgeOperation::runLane(Lanes& lanes, int lane)
{
    DatabaseConnection& connection = *lanes.connections[static_cast<size_t>(lane)];
    const RunContext* context = lanes.context;
    const QList<PlannedStack>& stacks = *lanes.stacks;
    PurgeBatchSizer sizer(m_batchSize);
    const auto stamp = [] { return QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")); };
    for (;;) {
        qsizetype from = 0, size = 0;
        {
            const std::lock_guard lock(lanes.mutex);
            if (!lanes.failure.isEmpty() || context->cancelled() || lanes.next >= stacks.size())
                break;
            from = lanes.next;
            size = std::min<qsizetype>(sizer.size(), stacks.size() - from);
            lanes.next += size;
        }
        const QList<PlannedStack> batch = stacks.mid(from, size);
        PulumiPurgeBatch::Result result;
        QString error;
        bool done = false;
        for (int attempt = 1; attempt <= kReconnectAttempts && !done && !context->cancelled(); ++attempt) {
            const bool connected = connection.open(&error);
            if (const QString reason = connection.takeReconnectReason(); !reason.isEmpty()) {
                qCWarning(lcPulumi) << "purge lost its connection to" << connection.describe() << "-" << reason;
                lanes.post(QStringLiteral("%1 the connection to %2 was lost (%3); reconnecting: %4\n")
                               .arg(stamp(), connection.describe(), reason,
                                   connected ? QStringLiteral("connected again") : error));
            }
            // A cancel that came while connecting (its KILL QUERY may have hit the ping) stops here.
            if (context->cancelled())
                break;
            // One file per run and attempt (a recovery run writes into the folder of the run it recovers): an attempt
            // that surely rolled back removes its own below.
            const PulumiPurgeBatch::Export undo { lanes.keptTables,
                QStringLiteral("%1/%2-%3-%4-%5.rows")
                    .arg(lanes.undoDir,
                        lanes.phase == PulumiPurgeBatch::Phase::Stacks ? QStringLiteral("stacks")
                                                                       : QStringLiteral("programs"),
                        lanes.fileTag)
                    .arg(from, 7, 10, QLatin1Char('0'))
                    .arg(attempt) };
            const auto failure = connected ? PulumiPurgeBatch::run(connection.database(), lanes.phase, batch, &result,
                                     &error, lanes.keptTables ? &undo : nullptr)
                                           : PulumiPurgeBatch::Failure::Other;
            if (failure != PulumiPurgeBatch::Failure::None && result.fileWritten && !result.commitSent)
                QFile::remove(undo.path);
            if (failure == PulumiPurgeBatch::Failure::None) {
                done = true;
                break;
            }
            if (context->cancelled())
                break;
            lanes.post(QStringLiteral("%1 the batch from stack %2 failed (%3); %4, attempt %5 of %6\n")
                           .arg(stamp(), batch.front().stackName)
                           .arg(error,
                               failure == PulumiPurgeBatch::Failure::Lock ? QStringLiteral("trying again")
                                                                          : QStringLiteral("reconnecting"))
                           .arg(attempt)
                           .arg(kReconnectAttempts));
            // The batch rolled back. A lock conflict clears by itself; a dropped tunnel or a restarting server
            // needs a new connection, and time.
            if (failure == PulumiPurgeBatch::Failure::Lock) {
                QThread::msleep(50UL * static_cast<unsigned long>(attempt));
                continue;
            }
            connection.reset();
            QThread::msleep(500UL * static_cast<unsigned long>(attempt));
        }
        if (!done) {
            if (!context->cancelled()) {
                const std::lock_guard lock(lanes.mutex);
                lanes.failure = QStringLiteral("the batch from stack %1 failed %2 times: %3")
                                    .arg(batch.front().stackName)
                                    .arg(kReconnectAttempts)
                                    .arg(error);
            }
            break;
        }
        sizer.record(static_cast<int>(size), result.slowestMs);
        lanes.post({ {}, from, size, result });
        {
            // No pause after the last batch: nothing is left to spare the database from.
            const std::lock_guard lock(lanes.mutex);
            if (lanes.next >= stacks.size())
                break;
        }
        // Read once: the pane may change it meanwhile.
        const int pause = std::max(0, m_throttleMs.load());
        for (int waited = 0; waited < pause && !context->cancelled(); waited += 50)
            QThread::msleep(static_cast<unsigned long>(std::min(50, pause - waited)));
    }
    // The connection belongs to this thread: close it here.
    connection.reset();
    const std::lock_guard lock(lanes.mutex);
    --lanes.running;
    lanes.changed.notify_all();
}

PulumiPurgeOperation::PhaseResult PulumiPurgeOperation::runPhase(
    RunContext& context, PulumiPurgeBatch::Phase phase, const QList<PlannedStack>& stacks, bool keep)
{
    auto lanes = std::make_shared<Lanes>();
    for (int i = 0; i < m_lanes; ++i)
        lanes->connections.push_back(std::make_unique<DatabaseConnection>(m_target));
    // Cancel kills the statements in flight on every lane (KILL QUERY from a second connection).
    QList<std::function<void()>> interrupters;
    for (const auto& connection : lanes->connections)
        interrupters << connection->interrupter();
    context.setCancelHook([interrupters] {
        for (const auto& interrupt : interrupters)
            interrupt();
    });
    lanes->context = &context;
    lanes->phase = phase;
    lanes->stacks = &stacks;
    if (keep) {
        lanes->keptTables = phase == PulumiPurgeBatch::Phase::Stacks ? &m_shape.stacks : &m_shape.programs;
        lanes->undoDir = m_undoDir;
        lanes->fileTag = m_fileTag;
    }
    lanes->running = m_lanes;
    std::vector<std::thread> threads;
    for (int i = 0; i < m_lanes; ++i)
        threads.emplace_back([this, lanes, i] { runLane(*lanes, i); });

    PhaseResult done;
    QElapsedTimer clock;
    clock.start();
    std::unique_lock lock(lanes->mutex);
    for (;;) {
        lanes->changed.wait_for(
            lock, std::chrono::milliseconds(250), [&] { return !lanes->events.isEmpty() || lanes->running == 0; });
        const QList<Lanes::Event> events = std::exchange(lanes->events, {});
        // Every lane posts before it stops running: with none running, these are the last events.
        const bool finished = lanes->running == 0;
        lock.unlock();
        for (const Lanes::Event& e : events) {
            if (e.from < 0) {
                context.output(e.text);
                continue;
            }
            const PulumiPurgeBatch::Result& r = e.result;
            for (qsizetype i : r.purged)
                done.purged << e.from + i;
            for (qsizetype i : r.gone)
                done.gone << e.from + i;
            for (const PulumiPurgeBatch::Skipped& skipped : r.skipped) {
                done.skipped << PulumiPurgeBatch::Skipped { e.from + skipped.index, skipped.reason };
                const PlannedStack& stack = stacks[e.from + skipped.index];
                context.output(QStringLiteral("skipped %1/%2: %3\n").arg(stack.org, stack.stackName, skipped.reason));
            }
            done.rows += r.rows;
            done.slowestMs = std::max(done.slowestMs, r.slowestMs);
            done.processed += e.size;
            ++done.batches;
            const double seconds = std::max(0.001, static_cast<double>(clock.elapsed()) / 1000.0);
            const double rate = static_cast<double>(done.processed) / seconds;
            const qint64 eta
                = static_cast<qint64>(static_cast<double>(stacks.size() - done.processed) / std::max(rate, 0.001));
            context.output(QStringLiteral("batch %1: %2 stacks (slowest statement %3 ms); %4 of %5 done, %6 stacks/s, "
                                          "~%7 rows/s, ETA %8:%9\n")
                               .arg(done.batches)
                               .arg(e.size)
                               .arg(r.slowestMs)
                               .arg(done.processed)
                               .arg(stacks.size())
                               .arg(rate, 0, 'f', 0)
                               .arg(rate * m_rowsPerStack[phase == PulumiPurgeBatch::Phase::Stacks ? 0 : 1], 0, 'f', 0)
                               .arg(eta / 60)
                               .arg(eta % 60, 2, 10, QLatin1Char('0')));
            context.progress(
                static_cast<double>(done.processed) / static_cast<double>(std::max<qsizetype>(1, stacks.size())));
        }
        if (finished)
            break;
        lock.lock();
    }
    for (std::thread& t : threads)
        t.join();
    context.setCancelHook(m_connection->interrupter());
    lanes->context = nullptr;
    done.failure = lanes->failure;
    if (done.failure.isEmpty() && !context.cancelled() && done.processed != stacks.size())
        done.failure = QStringLiteral("the step stopped early");
    return done;
}

bool PulumiPurgeOperation::purge(RunContext& context, bool keep)
{
    QList<PlannedStack> purged; // wholly: Stacks and Programs rows gone
    QJsonArray skipped;
    qint64 gone = 0;
    const auto skip = [&](const PlannedStack& stack, const QString& reason) {
        skipped.append(
            QJsonObject { { QStringLiteral("id"), stack.stackId }, { QStringLiteral("name"), stack.stackName },
                { QStringLiteral("org"), stack.org }, { QStringLiteral("reason"), reason } });
    };
    // Ends a phase's step; false when the purge must stop.
    const auto finish = [&](const PhaseResult& r, const QString& table, qsizetype planned, const QString& rest) {
        if (context.cancelled()) {
            context.cancelStep(QStringLiteral("cancelled: any statement in flight was killed and its batch rolled "
                                              "back; %1 of %2 done in this step")
                                   .arg(r.processed)
                                   .arg(planned));
            return false;
        }
        if (!r.failure.isEmpty()) {
            context.fail(QStringLiteral("%1; %2 of %3 done in this step, %4: run the purge again to finish")
                             .arg(r.failure)
                             .arg(r.processed)
                             .arg(planned)
                             .arg(rest));
            return false;
        }
        context.output(QStringLiteral("%1 %2 rows deleted in %3 batches (slowest statement %4 ms)%5\n")
                           .arg(r.rows)
                           .arg(table)
                           .arg(r.batches)
                           .arg(r.slowestMs)
                           .arg(r.gone.isEmpty() ? QString()
                                                 : QStringLiteral("; %1 stacks were already gone").arg(r.gone.size())));
        context.succeed();
        return true;
    };

    // The runbook's order: every planned Stacks row (by Stacks id), then the Programs rows (by Programs id). Each
    // phase touches only its own tables' pages, which the database's cache keeps better than the two mixed.
    context.begin(QStringLiteral("delete-stacks"));
    QString error;
    if (keep && (!PulumiUndoFiles::create(m_undoDir, &error) || !pruneUncommittedFiles(context, &error))) {
        context.fail(error + QStringLiteral("; nothing was deleted"));
        return false;
    }
    const PhaseResult first = runPhase(context, PulumiPurgeBatch::Phase::Stacks, m_planned, keep);
    QList<PlannedStack> programs;
    for (qsizetype i : first.purged)
        programs << m_planned[i];
    for (const PulumiPurgeBatch::Skipped& s : first.skipped)
        skip(m_planned[s.index], s.reason);
    qint64 slowest = first.slowestMs;
    bool ok = finish(first, QStringLiteral("Stacks"), m_planned.size(), QStringLiteral("the rest is untouched"));
    qsizetype programsDone = 0;
    if (ok) {
        std::sort(programs.begin(), programs.end(),
            [](const PlannedStack& a, const PlannedStack& b) { return a.programId < b.programId; });
        context.begin(QStringLiteral("delete-programs"));
        const PhaseResult second = runPhase(context, PulumiPurgeBatch::Phase::Programs, programs, keep);
        for (const QList<qsizetype>& went : { second.purged, second.gone })
            for (qsizetype i : went)
                purged << programs[i];
        for (const PulumiPurgeBatch::Skipped& s : second.skipped)
            skip(programs[s.index], s.reason);
        gone += second.gone.size();
        programsDone = second.purged.size() + second.gone.size() + second.skipped.size();
        slowest = std::max(slowest, second.slowestMs);
        ok = finish(second, QStringLiteral("Programs"), programs.size(),
            QStringLiteral("the rest have lost their Stacks rows but keep their soft-deleted Programs rows"));
    }

    // The report lists the purged stacks per organisation: one "deleted" kind each.
    QMap<QString, QJsonArray> purgedByOrg;
    for (const PlannedStack& stack : purged)
        purgedByOrg[stack.org].append(
            QJsonObject { { QStringLiteral("id"), stack.stackId }, { QStringLiteral("name"), stack.stackName } });
    for (auto it = purgedByOrg.cbegin(); it != purgedByOrg.cend(); ++it)
        context.record().deleted.insert(QStringLiteral("stacks of ") + it.key(), it.value());
    context.record().after.insert(QStringLiteral("purgedStacks"), purged.size());
    context.record().after.insert(QStringLiteral("skippedStacks"), skipped.size());
    context.record().after.insert(QStringLiteral("skipped"), skipped);
    context.record().after.insert(QStringLiteral("alreadyGone"), gone);
    // Stopped between the phases (or in the second): these stacks' Stacks rows are gone, their Programs rows still
    // soft-deleted, as between the runbook's own steps; the next run plans and finishes them.
    context.record().after.insert(QStringLiteral("stacksRowsOnly"), programs.size() - programsDone);
    context.record().after.insert(QStringLiteral("slowestStatementMs"), slowest);
    return ok;
}

} // namespace opsdeck
