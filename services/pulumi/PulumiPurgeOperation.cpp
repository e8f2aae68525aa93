#include "pulumi/PulumiPurgeOperation.h"

#include "core/Logging.h"
#include "pulumi/PulumiQueries.h"
#include "runbook/RunContext.h"
#include "sql/DatabaseConnection.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

namespace opsdeck {

namespace {

// A dropped tunnel or a restarting server: try the batch again this many times, waiting longer each time.
constexpr int kReconnectAttempts = 8;

QString placeholders(qsizetype n)
{
    return PulumiPurgePlan::placeholders(n);
}

} // namespace

PulumiPurgeOperation::PulumiPurgeOperation(
    DatabaseTarget target, PulumiPurgeScope scope, QString exportDir, int batchSize)
    : m_target(std::move(target))
    , m_scope(std::move(scope))
    , m_exportDir(std::move(exportDir))
    , m_batchSize(std::clamp(batchSize, 1, kMaxBatch))
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
    QSqlDatabase db = m_connection->database();
    const auto made = PulumiPurgePlan::make(db, m_scope, m_connection->describe(), m_target.database.tags, error);
    if (!made)
        return false;
    *plan = *made;
    plan->parameters.insert(QStringLiteral("database"), m_target.database.name);
    plan->parameters.insert(QStringLiteral("batch"), m_batchSize);

    // The stacks themselves, in primary-key order: every statement of the run is bound to these ids.
    QSqlQuery query(db);
    query.setForwardOnly(true);
    QString sql
        = QStringLiteral("SELECT p.id, p.stack_id, p.stack_name, o.github_login FROM Programs AS p JOIN "
                         "Organizations AS o ON p.org_id = o.id WHERE o.github_login IN %1 AND p.deleted_at > 0")
              .arg(placeholders(m_scope.orgs.size()));
    if (!m_scope.keepStacks.isEmpty())
        sql += QStringLiteral(" AND p.stack_name NOT IN %1").arg(placeholders(m_scope.keepStacks.size()));
    query.prepare(sql + QStringLiteral(" ORDER BY p.stack_id"));
    for (const QString& org : m_scope.orgs)
        query.addBindValue(org);
    for (const QString& stack : m_scope.keepStacks)
        query.addBindValue(stack);
    if (!query.exec()) {
        *error = QStringLiteral("listing the stacks to purge: %1").arg(query.lastError().text());
        return false;
    }
    m_planned.clear();
    while (query.next())
        m_planned << Planned { query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
            query.value(3).toString() };
    const auto rows = PulumiQueries::tableRows(db, error);
    if (!rows)
        return false;
    m_tables = rows->keys();
    plan->counts << Plan::Count { QStringLiteral("batches"), QStringLiteral("Batches"),
        (m_planned.size() + m_batchSize - 1) / m_batchSize };
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
    QJsonArray purged;
    // The purged stack names per organisation, for the report.
    for (const QJsonValue& v : context.record().deleted.value(QStringLiteral("stacks")).toArray())
        purged.append(v);
    const qint64 done = purged.size();
    const qint64 skipped = context.record().after.value(QStringLiteral("skippedStacks")).toInteger();
    if (ok)
        context.record().summary
            = QStringLiteral("%1 soft-deleted stacks of %2 were purged%3.")
                  .arg(done)
                  .arg(m_scope.orgs.join(QStringLiteral(", ")),
                      skipped ? QStringLiteral("; %1 undeleted since the plan were skipped").arg(skipped) : QString());
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
    for (qsizetype from = 0; from < m_planned.size(); from += m_batchSize) {
        const QList<Planned> batch = m_planned.mid(from, m_batchSize);
        if (!connect(&error)) {
            context.fail(QStringLiteral("%1; nothing was deleted").arg(error));
            return false;
        }
        QSqlQuery query(m_connection->database());
        query.setForwardOnly(true);
        query.prepare(QStringLiteral("SELECT c.data_key FROM UpdateCheckpointInfo AS c JOIN Updates AS u ON "
                                     "c.update_id = u.id WHERE u.stack_id IN %1 ORDER BY c.data_key")
                          .arg(placeholders(batch.size())));
        for (const Planned& p : batch)
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

bool PulumiPurgeOperation::runBatch(
    const QList<Planned>& batch, qint64* stacksDeleted, qint64* programsDeleted, QString* error)
{
    QSqlDatabase db = m_connection->database();
    if (!db.transaction()) {
        *error = db.lastError().text();
        return false;
    }
    const QString ids = placeholders(batch.size());
    const auto bindStacks = [&batch](QSqlQuery& q) {
        for (const Planned& p : batch)
            q.addBindValue(p.stackId);
    };
    const auto fail = [&](QSqlQuery& q) {
        *error = q.lastError().text();
        db.rollback();
        return false;
    };
    // Only stacks whose program is still soft-deleted: one undeleted since the plan keeps everything.
    const QString stillDeleted
        = QStringLiteral("Stacks.id IN (SELECT p.stack_id FROM Programs AS p WHERE p.stack_id IN "
                         "%1 AND p.deleted_at > 0)")
              .arg(ids);
    QSqlQuery clear(db);
    clear.prepare(QStringLiteral("UPDATE Stacks SET active_update_id = NULL WHERE ") + stillDeleted);
    bindStacks(clear);
    if (!clear.exec())
        return fail(clear);
    QSqlQuery stacks(db);
    stacks.prepare(QStringLiteral("DELETE FROM Stacks WHERE ") + stillDeleted);
    bindStacks(stacks);
    if (!stacks.exec())
        return fail(stacks);
    QSqlQuery programs(db);
    programs.prepare(QStringLiteral("DELETE FROM Programs WHERE id IN %1 AND deleted_at > 0").arg(ids));
    for (const Planned& p : batch)
        programs.addBindValue(p.programId);
    if (!programs.exec())
        return fail(programs);
    *stacksDeleted = stacks.numRowsAffected();
    *programsDeleted = programs.numRowsAffected();
    if (!db.commit()) {
        *error = db.lastError().text();
        db.rollback();
        return false;
    }
    return true;
}

bool PulumiPurgeOperation::purge(RunContext& context)
{
    // The plan's three delete steps run together, batch by batch: each batch's transaction does all three.
    context.begin(QStringLiteral("clear-active"));
    context.succeed(QStringLiteral("done inside each batch's transaction, before its deletes"));
    context.begin(QStringLiteral("delete-stacks"));
    QElapsedTimer clock;
    clock.start();
    qint64 stacksDone = 0, programsDone = 0, skipped = 0;
    QJsonArray purged;
    QString error;
    for (qsizetype from = 0; from < m_planned.size(); from += m_batchSize) {
        if (context.cancelled()) {
            context.cancelStep(QStringLiteral("cancelled between batches after %1 stacks").arg(stacksDone));
            break;
        }
        const QList<Planned> batch = m_planned.mid(from, m_batchSize);
        bool done = false;
        for (int attempt = 1; attempt <= kReconnectAttempts && !done && !context.cancelled(); ++attempt) {
            qint64 stacks = 0, programs = 0;
            const bool connected = connect(&error);
            if (const QString reason = m_connection->takeReconnectReason(); !reason.isEmpty())
                context.output(QStringLiteral("%1 the connection to %2 was lost (%3); reconnecting: connected again\n")
                                   .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")),
                                       m_connection->describe(), reason));
            if (connected && runBatch(batch, &stacks, &programs, &error)) {
                done = true;
                stacksDone += stacks;
                programsDone += programs;
                skipped += batch.size() - programs;
                // Which stacks went: the ones whose Programs row is gone now.
                QSqlQuery left(m_connection->database());
                left.prepare(QStringLiteral("SELECT id FROM Programs WHERE id IN %1").arg(placeholders(batch.size())));
                for (const Planned& p : batch)
                    left.addBindValue(p.programId);
                QSet<QString> remaining;
                if (left.exec()) {
                    while (left.next())
                        remaining.insert(left.value(0).toString());
                }
                for (const Planned& p : batch) {
                    if (!remaining.contains(p.programId))
                        purged.append(QJsonObject { { QStringLiteral("org"), p.org },
                            { QStringLiteral("stack"), p.stackName }, { QStringLiteral("stackId"), p.stackId } });
                }
                break;
            }
            if (context.cancelled())
                break;
            // The server went away or the tunnel dropped: the batch rolled back; reconnect and do it again.
            context.output(QStringLiteral("%1 batch at stack %2 failed (%3); reconnecting, attempt %4 of %5\n")
                               .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")))
                               .arg(from)
                               .arg(error)
                               .arg(attempt)
                               .arg(kReconnectAttempts));
            m_connection->reset();
            QThread::msleep(500UL * static_cast<unsigned long>(attempt));
        }
        if (!done) {
            if (context.cancelled())
                context.cancelStep(QStringLiteral("cancelled: the statement in flight was killed and its batch rolled "
                                                  "back; %1 stacks were purged before")
                                       .arg(stacksDone));
            else
                context.fail(QStringLiteral("the batch at stack %1 failed %2 times: %3; %4 stacks were purged, the "
                                            "rest is untouched: run the purge again to finish")
                                 .arg(from)
                                 .arg(kReconnectAttempts)
                                 .arg(error)
                                 .arg(stacksDone));
            break;
        }
        const double seconds = std::max(0.001, static_cast<double>(clock.elapsed()) / 1000.0);
        const double fraction = double(from + batch.size()) / double(m_planned.size());
        context.output(QStringLiteral("batch %1: %2 stacks, %3 programs so far (%4 stacks/s)\n")
                           .arg(from / m_batchSize + 1)
                           .arg(stacksDone)
                           .arg(programsDone)
                           .arg(static_cast<double>(stacksDone) / seconds, 0, 'f', 0));
        context.progress(fraction);
        if (const int pause = m_throttleMs; pause > 0)
            QThread::msleep(static_cast<unsigned long>(pause));
    }
    context.record().deleted.insert(QStringLiteral("stacks"), purged);
    context.record().after.insert(QStringLiteral("skippedStacks"), skipped);
    const bool complete = purged.size() + skipped == m_planned.size();
    if (!complete)
        return false;
    // The streamed batch lines (and any reconnects) stay the step's output.
    context.output(QStringLiteral("%1 Stacks rows deleted\n").arg(stacksDone));
    context.succeed();
    context.begin(QStringLiteral("delete-programs"));
    context.succeed(
        QStringLiteral("%1 Programs rows deleted (with their stacks, batch by batch)%2")
            .arg(programsDone)
            .arg(skipped ? QStringLiteral("; %1 undeleted since the plan skipped").arg(skipped) : QString()));
    return true;
}

} // namespace opsdeck
