#include "pulumi/PulumiPurgeOperation.h"

#include "core/Logging.h"
#include "pulumi/PulumiPurgeBatch.h"
#include "pulumi/PulumiQueries.h"
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
    DatabaseTarget target, PulumiPurgeScope scope, QString exportDir, int batchSize, int lanes)
    : m_target(std::move(target))
    , m_scope(std::move(scope))
    , m_exportDir(std::move(exportDir))
    , m_batchSize(std::clamp(batchSize, 1, kMaxBatch))
    , m_lanes(std::clamp(lanes, 1, kMaxLanes))
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
    plan->parameters.insert(QStringLiteral("database"), m_target.database.name);
    plan->parameters.insert(QStringLiteral("batch"), m_batchSize);
    plan->parameters.insert(QStringLiteral("parallel"), m_lanes);
    m_planned = made->stacks;
    m_tables = plan->details.value(QStringLiteral("tableRowsBefore")).toObject().keys();
    qint64 rows = 0;
    for (const QJsonValue& n : plan->details.value(QStringLiteral("rows")).toObject())
        rows += n.toInteger();
    m_rowsPerStack = m_planned.isEmpty() ? 0 : static_cast<double>(rows) / static_cast<double>(m_planned.size());
    return true;
}

bool PulumiPurgeOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    context.setCancelHook([connection = m_connection.get()] { connection->interrupt(); });
    measure(context, false);
    const bool ok = exportKeys(context) && purge(context);
    context.setCancelHook({});
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
            = QStringLiteral("The purge of %1 stopped after %2 of %3 stacks; every stack is either "
                             "wholly purged or untouched. Run the same command again to finish it.")
                  .arg(m_scope.orgs.join(QStringLiteral(", ")))
                  .arg(done)
                  .arg(m_planned.size());
    return ok;
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
    QDir().mkpath(m_exportDir);
    const QString path
        = QDir(m_exportDir)
              .filePath(QStringLiteral("pulumi-data-keys-%1-%2.txt")
                            .arg(m_target.database.name,
                                QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
        context.fail(QStringLiteral("cannot write %1: %2; nothing was deleted").arg(path, file.errorString()));
        return false;
    }
    qint64 written = 0;
    QString error;
    // By batches of planned stacks: the same ids the deletes use.
    for (qsizetype from = 0; from < m_planned.size(); from += PulumiPurgePlan::kCountChunk) {
        const QList<PlannedStack> batch = m_planned.mid(from, PulumiPurgePlan::kCountChunk);
        if (!connect(&error)) {
            context.fail(QStringLiteral("%1; nothing was deleted").arg(error));
            return false;
        }
        QSqlQuery query(m_connection->database());
        query.setForwardOnly(true);
        query.prepare(QStringLiteral("SELECT c.data_key FROM UpdateCheckpointInfo AS c JOIN Updates AS u ON "
                                     "c.update_id = u.id WHERE u.stack_id IN %1 ORDER BY c.data_key")
                          .arg(PulumiPurgePlan::placeholders(batch.size())));
        for (const PlannedStack& p : batch)
            query.addBindValue(p.stackId);
        if (!query.exec()) {
            context.fail(
                QStringLiteral("reading the data keys: %1; nothing was deleted").arg(query.lastError().text()));
            return false;
        }
        while (query.next()) {
            file.write(query.value(0).toString().toUtf8() + '\n');
            ++written;
        }
        context.progress(double(from + batch.size()) / double(std::max<qsizetype>(1, m_planned.size())));
    }
    if (!file.flush()) {
        context.fail(QStringLiteral("cannot write %1: %2; nothing was deleted").arg(path, file.errorString()));
        return false;
    }
    file.close();
    context.record().after.insert(QStringLiteral("dataKeysFile"), path);
    context.record().after.insert(QStringLiteral("dataKeys"), written);
    context.succeed(QStringLiteral("%1 data keys written to %2").arg(written).arg(path));
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

    const RunContext* context = nullptr; // for cancelled() only, while purge() runs
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
    PurgeBatchSizer sizer(m_batchSize);
    const auto stamp = [] { return QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")); };
    for (;;) {
        qsizetype from = 0, size = 0;
        {
            const std::lock_guard lock(lanes.mutex);
            if (!lanes.failure.isEmpty() || context->cancelled() || lanes.next >= m_planned.size())
                break;
            from = lanes.next;
            size = std::min<qsizetype>(sizer.size(), m_planned.size() - from);
            lanes.next += size;
        }
        const QList<PlannedStack> batch = m_planned.mid(from, size);
        PulumiPurgeBatch::Result result;
        QString error;
        bool done = false;
        for (int attempt = 1; attempt <= kReconnectAttempts && !done && !context->cancelled(); ++attempt) {
            const bool connected = connection.open(&error);
            if (const QString reason = connection.takeReconnectReason(); !reason.isEmpty())
                lanes.post(QStringLiteral("%1 the connection to %2 was lost (%3); reconnecting: %4\n")
                               .arg(stamp(), connection.describe(), reason,
                                   connected ? QStringLiteral("connected again") : error));
            const auto failure = connected ? PulumiPurgeBatch::run(connection.database(), batch, &result, &error)
                                           : PulumiPurgeBatch::Failure::Other;
            if (failure == PulumiPurgeBatch::Failure::None) {
                done = true;
                break;
            }
            if (context->cancelled())
                break;
            lanes.post(QStringLiteral("%1 batch at stack %2 failed (%3); %4, attempt %5 of %6\n")
                           .arg(stamp())
                           .arg(from)
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
                lanes.failure = QStringLiteral("the batch at stack %1 failed %2 times: %3")
                                    .arg(from)
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
            if (lanes.next >= m_planned.size())
                break;
        }
        for (int waited = 0; waited < m_throttleMs && !context->cancelled(); waited += 50)
            QThread::msleep(static_cast<unsigned long>(std::min(50, m_throttleMs - waited)));
    }
    // The connection belongs to this thread: close it here.
    connection.reset();
    const std::lock_guard lock(lanes.mutex);
    --lanes.running;
    lanes.changed.notify_all();
}

bool PulumiPurgeOperation::purge(RunContext& context)
{
    context.begin(QStringLiteral("purge"));
    auto lanes = std::make_shared<Lanes>();
    for (int i = 0; i < m_lanes; ++i)
        lanes->connections.push_back(std::make_unique<DatabaseConnection>(m_target));
    // Cancel kills the statements in flight on every lane (KILL QUERY from a second connection).
    context.setCancelHook([lanes] {
        for (const auto& connection : lanes->connections)
            connection->interrupt();
    });
    lanes->context = &context;
    lanes->running = m_lanes;
    std::vector<std::thread> threads;
    for (int i = 0; i < m_lanes; ++i)
        threads.emplace_back([this, lanes, i] { runLane(*lanes, i); });

    QElapsedTimer clock;
    clock.start();
    qsizetype processed = 0, batches = 0;
    qint64 stackRows = 0, slowest = 0, gone = 0;
    // The report lists the purged stacks per organisation: one "deleted" kind each.
    QMap<QString, QJsonArray> purgedByOrg;
    qint64 purged = 0;
    QJsonArray skipped;
    const auto stackJson = [](const PlannedStack& s) {
        return QJsonObject { { QStringLiteral("id"), s.stackId }, { QStringLiteral("name"), s.stackName } };
    };
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
            for (const QList<qsizetype>& went : { r.purged, r.gone }) {
                for (qsizetype i : went) {
                    const PlannedStack& stack = m_planned[e.from + i];
                    purgedByOrg[stack.org].append(stackJson(stack));
                    ++purged;
                }
            }
            for (const PulumiPurgeBatch::Skipped& s : r.skipped) {
                const PlannedStack& stack = m_planned[e.from + s.index];
                QJsonObject o = stackJson(stack);
                o.insert(QStringLiteral("org"), stack.org);
                o.insert(QStringLiteral("reason"), s.reason);
                skipped.append(o);
                context.output(QStringLiteral("skipped %1/%2: %3\n").arg(stack.org, stack.stackName, s.reason));
            }
            gone += r.gone.size();
            stackRows += r.stackRows;
            slowest = std::max(slowest, r.slowestMs);
            processed += e.size;
            ++batches;
            const double seconds = std::max(0.001, static_cast<double>(clock.elapsed()) / 1000.0);
            const double rate = static_cast<double>(processed) / seconds;
            const qint64 eta
                = static_cast<qint64>(static_cast<double>(m_planned.size() - processed) / std::max(rate, 0.001));
            context.output(QStringLiteral("batch %1: %2 stacks (slowest statement %3 ms); %4 of %5 done, %6 stacks/s, "
                                          "~%7 rows/s, ETA %8:%9\n")
                               .arg(batches)
                               .arg(e.size)
                               .arg(r.slowestMs)
                               .arg(processed)
                               .arg(m_planned.size())
                               .arg(rate, 0, 'f', 0)
                               .arg(rate * m_rowsPerStack, 0, 'f', 0)
                               .arg(eta / 60)
                               .arg(eta % 60, 2, 10, QLatin1Char('0')));
            context.progress(static_cast<double>(processed) / static_cast<double>(m_planned.size()));
        }
        if (finished)
            break;
        lock.lock();
    }
    for (std::thread& t : threads)
        t.join();
    context.setCancelHook([connection = m_connection.get()] { connection->interrupt(); });
    lanes->context = nullptr;

    for (auto it = purgedByOrg.cbegin(); it != purgedByOrg.cend(); ++it)
        context.record().deleted.insert(QStringLiteral("stacks of ") + it.key(), it.value());
    context.record().after.insert(QStringLiteral("purgedStacks"), purged);
    context.record().after.insert(QStringLiteral("skippedStacks"), skipped.size());
    context.record().after.insert(QStringLiteral("skipped"), skipped);
    context.record().after.insert(QStringLiteral("alreadyGone"), gone);
    context.record().after.insert(QStringLiteral("batches"), batches);
    context.record().after.insert(QStringLiteral("slowestStatementMs"), slowest);
    const QString failure = lanes->failure;
    if (context.cancelled()) {
        context.cancelStep(QStringLiteral("cancelled: the statements in flight were killed and their batches rolled "
                                          "back; %1 stacks were purged before")
                               .arg(purged));
        return false;
    }
    if (!failure.isEmpty() || processed != m_planned.size()) {
        context.fail(QStringLiteral("%1; %2 stacks were purged, the rest is untouched: run the purge again to finish")
                         .arg(failure.isEmpty() ? QStringLiteral("the purge stopped early") : failure)
                         .arg(purged));
        return false;
    }
    context.output(
        QStringLiteral("%1 Stacks rows and %2 Programs rows deleted in %3 batches (slowest statement %4 ms)%5\n")
            .arg(stackRows)
            .arg(purged - gone)
            .arg(batches)
            .arg(slowest)
            .arg(gone ? QStringLiteral("; %1 stacks were already gone").arg(gone) : QString()));
    context.succeed();
    return true;
}

} // namespace opsdeck
