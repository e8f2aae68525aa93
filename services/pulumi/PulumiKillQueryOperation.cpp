#include "pulumi/PulumiKillQueryOperation.h"

#include "pulumi/PulumiLogging.h"
#include "pulumi/PulumiQueries.h"
#include "runbook/RunContext.h"
#include "sql/DatabaseConnection.h"

#include <QJsonArray>
#include <QThread>

namespace opsdeck {

namespace {

// After KILL QUERY the server needs a moment to stop the statement and roll it back.
constexpr int kStopChecks = 50;
constexpr int kStopCheckMs = 100;

QString field(const QJsonObject& process, const char* key)
{
    return process.value(QLatin1String(key)).toString();
}

} // namespace

PulumiKillQueryOperation::PulumiKillQueryOperation(DatabaseTarget target, qint64 processId)
    : m_target(std::move(target))
    , m_processId(processId)
{
}

PulumiKillQueryOperation::~PulumiKillQueryOperation() = default;

bool PulumiKillQueryOperation::connect(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<DatabaseConnection>(m_target);
    return m_connection->open(error);
}

bool PulumiKillQueryOperation::makePlan(Plan* plan, QString* error)
{
    if (m_processId <= 0) {
        *error = QStringLiteral("the process id must be a positive integer, not %1").arg(m_processId);
        return false;
    }
    if (!connect(error))
        return false;
    const QString where = m_connection->describe();
    QString queryError;
    const auto process = PulumiQueries::process(m_connection->database(), m_processId, &queryError);
    if (!process) {
        *error = QStringLiteral("reading the process list of %1 failed: %2").arg(where, queryError);
        return false;
    }
    if (process->isEmpty()) {
        *error = QStringLiteral("%1 has no process %2 (it has ended, or the id is wrong): nothing to kill. Refresh "
                                "the process list to see the current ones.")
                     .arg(where)
                     .arg(m_processId);
        return false;
    }
    if (field(*process, "info").isEmpty()) {
        *error = QStringLiteral("process %1 on %2 runs no statement now (%3): nothing to kill")
                     .arg(m_processId)
                     .arg(where, field(*process, "command"));
        return false;
    }
    m_planned = *process;
    const QString statement = field(*process, "info");
    plan->operation = name();
    plan->target = QStringLiteral("process %1 on %2").arg(m_processId).arg(where);
    plan->targetName = QString::number(m_processId);
    plan->verb = QStringLiteral("Kill query");
    plan->irreversible = true;
    plan->production = m_target.database.tags.production;
    plan->readOnly = m_target.database.tags.readOnly;
    plan->parameters = { { QStringLiteral("database"), m_target.database.name },
        { QStringLiteral("processId"), m_processId }, { QStringLiteral("user"), field(*process, "user") },
        { QStringLiteral("schema"), field(*process, "db") }, { QStringLiteral("statement"), statement } };
    plan->counts << Plan::Count { QStringLiteral("statements"), QStringLiteral("Statements stopped"), 1,
        QStringLiteral("Planned: the statement to stop. Before and after: whether the process still runs it (1) or "
                       "not (0).") };
    plan->steps << Plan::Step { QStringLiteral("recheck"),
        QStringLiteral("Check that process %1 still runs the planned statement").arg(m_processId),
        QStringLiteral("SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO FROM information_schema.PROCESSLIST "
                       "WHERE ID = %1")
            .arg(m_processId),
        QStringLiteral("same user, database and statement as planned; otherwise nothing is killed") };
    plan->steps << Plan::Step { QStringLiteral("kill"),
        QStringLiteral("Stop the statement of process %1").arg(m_processId),
        QStringLiteral("KILL QUERY %1").arg(m_processId),
        QStringLiteral("the process no longer runs the statement (its session stays)") };
    plan->details = { { QStringLiteral("process"), *process } };
    plan->detailText = QStringLiteral("Process %1: user %2 from %3, database %4, %5 for %6 s (%7):\n%8")
                           .arg(m_processId)
                           .arg(field(*process, "user"), field(*process, "host"),
                               field(*process, "db").isEmpty() ? QStringLiteral("(none)") : field(*process, "db"),
                               field(*process, "command"))
                           .arg(process->value(QStringLiteral("time")).toInteger())
                           .arg(field(*process, "state"), statement);
    plan->warnings << QStringLiteral("The statement rolls back: what it changed so far is undone, and its client is "
                                     "told it was interrupted.");
    return true;
}

QString PulumiKillQueryOperation::changedSincePlan(const QJsonObject& process) const
{
    if (process.isEmpty())
        return QStringLiteral("process %1 has ended since the plan").arg(m_processId);
    for (const char* key : { "user", "db", "info" }) {
        if (field(process, key) != field(m_planned, key)) {
            return QStringLiteral("process %1 now runs something else (%2, user %3): %4")
                .arg(m_processId)
                .arg(field(process, "command"), field(process, "user"),
                    field(process, "info").isEmpty() ? QStringLiteral("no statement") : field(process, "info"));
        }
    }
    return {};
}

bool PulumiKillQueryOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    const QString statement = field(m_planned, "info");
    context.begin(QStringLiteral("recheck"));
    QString error;
    if (!connect(&error)) {
        context.fail(QStringLiteral("%1; nothing was killed").arg(error));
        context.record().summary
            = QStringLiteral("Process %1 was not touched: %2. Check the connection, then plan again.")
                  .arg(m_processId)
                  .arg(error);
        return false;
    }
    const auto now = PulumiQueries::process(m_connection->database(), m_processId, &error);
    if (!now) {
        context.fail(QStringLiteral("reading the process list failed: %1; nothing was killed").arg(error));
        context.record().summary = QStringLiteral("Process %1 was not touched: the process list could not be read "
                                                  "(%2). Plan again.")
                                       .arg(m_processId)
                                       .arg(error);
        return false;
    }
    if (const QString changed = changedSincePlan(*now); !changed.isEmpty()) {
        context.fail(QStringLiteral("%1; nothing was killed").arg(changed));
        context.record().summary
            = QStringLiteral("Nothing was killed: %1. Refresh the process list and plan again if it still needs "
                             "stopping.")
                  .arg(changed);
        return false;
    }
    context.record().before.insert(QStringLiteral("statements"), 1);
    context.succeed(statement);

    context.begin(QStringLiteral("kill"));
    qCInfo(lcPulumi) << "KILL QUERY" << m_processId << "on" << m_target.database.name;
    if (!PulumiQueries::killQuery(m_connection->database(), m_processId, &error)) {
        context.fail(QStringLiteral("KILL QUERY %1 failed: %2").arg(m_processId).arg(error));
        context.record().summary
            = QStringLiteral("The statement of process %1 was not stopped: KILL QUERY failed (%2).")
                  .arg(m_processId)
                  .arg(error);
        return false;
    }
    // The statement is gone once the process runs no statement, another one, or has ended.
    bool stopped = false;
    for (int check = 0; check < kStopChecks && !stopped; ++check) {
        const auto row = PulumiQueries::process(m_connection->database(), m_processId, &error);
        stopped = row && field(*row, "info") != statement;
        if (!stopped)
            QThread::msleep(kStopCheckMs);
    }
    if (!stopped) {
        context.fail(QStringLiteral("process %1 still runs its statement %2 s after KILL QUERY; it may be rolling back "
                                    "a large change: watch the process list")
                         .arg(m_processId)
                         .arg(kStopChecks * kStopCheckMs / 1000));
        context.record().summary = QStringLiteral("KILL QUERY %1 was sent, but the statement had not stopped when "
                                                  "checked; it may still be rolling back.")
                                       .arg(m_processId);
        return false;
    }
    context.record().after.insert(QStringLiteral("statements"), 0);
    context.record().deleted.insert(QStringLiteral("killed queries"),
        QJsonArray { QJsonObject { { QStringLiteral("process"), m_processId },
            { QStringLiteral("user"), field(m_planned, "user") },
            { QStringLiteral("database"), field(m_planned, "db") }, { QStringLiteral("statement"), statement } } });
    context.succeed();
    context.record().summary
        = QStringLiteral("The statement of process %1 (user %2, database %3) was stopped: %4")
              .arg(m_processId)
              .arg(field(m_planned, "user"), field(m_planned, "db"), statement.simplified().left(200));
    return true;
}

} // namespace opsdeck
