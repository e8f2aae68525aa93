#include "packit/PackitUnitSteps.h"

#include "packit/PackitConnection.h"
#include "runbook/RunContext.h"

#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

namespace opsdeck::PackitUnitSteps {

namespace {

// A unit is stopped only once systemd says so: "deactivating" still runs (and may still write to the root).
bool isStopped(const QString& state)
{
    return state == QStringLiteral("inactive") || state == QStringLiteral("failed");
}

} // namespace

bool withBackoff(const std::function<bool()>& attempt)
{
    QElapsedTimer clock;
    clock.start();
    unsigned long delay = 500;
    while (!attempt()) {
        if (clock.elapsed() + qint64(delay) > kRecoveryWindowMs)
            return false;
        QThread::msleep(delay);
        delay = std::min(delay * 2, 5000UL);
    }
    return true;
}

bool endSessions(QSqlDatabase& db, const QString& column, const QVariant& value, QString* error)
{
    Q_ASSERT(column == u"pid" || column == u"application_name");
    QSqlQuery query(db);
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < kRecoveryWindowMs) {
        query.prepare(QStringLiteral("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE %1 = ? AND pid <> "
                                     "pg_backend_pid()")
                          .arg(column));
        query.addBindValue(value);
        if (!query.exec()) {
            *error = QStringLiteral("cannot end the session whose %1 is %2: %3")
                         .arg(column, value.toString(), query.lastError().text());
            return false;
        }
        if (!query.next())
            return true;
        QThread::msleep(200);
    }
    *error = QStringLiteral("the database session whose %1 is %2 did not end").arg(column, value.toString());
    return false;
}

bool stop(PackitConnection& connection, RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("stop-units"));
    const ExecResult result = connection.runTemplate(
        QStringLiteral("stopUnits"), { { QStringLiteral("units"), connection.target().units() } });
    if (!result.succeeded()) {
        context.fail(QStringLiteral("stopping the units failed: %1").arg(result.describe()),
            QString::fromUtf8(result.stdoutData + result.stderrData));
        return false;
    }
    context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
    return true;
}

// Polls both units until their ActiveState is `wanted` (and, when starting, the root is back).
bool check(PackitConnection& connection, RunContext& context, const QString& wanted, int attempts)
{
    if (context.cancelled())
        return false;
    const bool starting = wanted == QStringLiteral("active");
    context.begin(starting ? QStringLiteral("check-started") : QStringLiteral("check-stopped"));
    QString report;
    QString error;
    for (int attempt = 0; attempt < attempts && !context.cancelled(); ++attempt) {
        report.clear();
        bool all = true;
        for (const QString& unit : connection.target().units()) {
            const QString state = connection.unitState(unit, &error);
            if (state.isEmpty()) {
                context.fail(error);
                return false;
            }
            report += QStringLiteral("%1: %2\n").arg(unit, state);
            // Starting wants exactly active; stopping wants inactive or failed (a unit that failed has stopped).
            all = all && (starting ? state == wanted : isStopped(state));
        }
        if (all && starting) {
            const auto root
                = connection.rootStats(connection.target().instance.outpackRoot + QStringLiteral("/.outpack"), &error);
            all = root && root->exists;
            report
                += all ? QStringLiteral("outpack root re-created\n") : QStringLiteral("outpack root not there yet\n");
        }
        if (all) {
            context.succeed(report);
            return true;
        }
        context.progress(double(attempt + 1) / attempts);
        QThread::msleep(500);
    }
    if (context.cancelled())
        context.cancelStep(QStringLiteral("cancelled"));
    else
        context.fail(QStringLiteral("the units did not become %1 within %2 s").arg(wanted).arg(attempts / 2), report);
    return false;
}

bool start(PackitConnection& connection, RunContext& context)
{
    // Runs even after a cancel: once the units were stopped, bringing them back is the only safe way out.
    context.begin(QStringLiteral("start-units"));
    const ExecResult result = connection.runTemplate(
        QStringLiteral("startUnits"), { { QStringLiteral("units"), connection.target().units() } });
    if (!result.succeeded()) {
        context.fail(QStringLiteral("starting the units failed: %1").arg(result.describe()),
            QString::fromUtf8(result.stdoutData + result.stderrData));
        return false;
    }
    context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
    return true;
}

} // namespace opsdeck::PackitUnitSteps
