#include "packit/PackitWipeOperation.h"

#include "config/CommandTemplates.h"
#include "config/NameRules.h"
#include "packit/PackitConnection.h"
#include "packit/PackitLogging.h"
#include "packit/PackitQueries.h"
#include "runbook/RunContext.h"
#include "ssh/ShellQuote.h"

#include <QDir>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

constexpr int kRecoveryAttempts = 30; // ~60 s for the host to come back before recovery gives up
constexpr int kJournalLines = 20;

QString commandText(const Host& host, const QString& templateName, const QMap<QString, QStringList>& values)
{
    return ShellQuote::join(CommandTemplates::expand(host.commands.value(templateName), values));
}

} // namespace

PackitWipeOperation::PackitWipeOperation(PackitTarget target)
    : m_target(std::move(target))
{
}

PackitWipeOperation::~PackitWipeOperation() = default;

QStringList PackitWipeOperation::deleteStatements()
{
    // The runbook's DELETEs cascade into these tables row by row (one_time_token.packet_id has no index, so
    // each cascaded delete scans it). Deleting the children first, set-based, leaves exactly the same rows.
    return { QStringLiteral("DELETE FROM one_time_token WHERE packet_id IS NOT NULL"),
        QStringLiteral("DELETE FROM pin WHERE packet_id IS NOT NULL"),
        QStringLiteral("DELETE FROM packet_tag WHERE packet_id IS NOT NULL"),
        QStringLiteral("DELETE FROM role_permission WHERE packet_id IS NOT NULL OR packet_group_id IS NOT NULL"),
        QStringLiteral("DELETE FROM packet"), QStringLiteral("DELETE FROM packet_group") };
}

QString PackitWipeOperation::trashPath() const
{
    return m_target.host.outpackBase + QStringLiteral("/.opsdeck-wipe-") + m_target.instance.name + u'-' + m_runTag;
}

bool PackitWipeOperation::connection(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    return m_connection->openDatabase(error);
}

bool PackitWipeOperation::makePlan(Plan* plan, QString* error)
{
    if (!connection(error))
        return false;
    QSqlDatabase db = m_connection->database();
    const auto counts = PackitQueries::counts(db, error);
    const auto grants = counts ? PackitQueries::scopedGrants(db, error) : std::nullopt;
    const auto root = grants ? m_connection->rootStats(m_target.instance.outpackRoot, error) : std::nullopt;
    if (!root)
        return false;

    const Host& host = m_target.host;
    const QString rootPath = m_target.instance.outpackRoot;
    // Names the moved-aside root, so that the plan shows the exact commands the run will use.
    m_runTag = QUuid::createUuid().toString(QUuid::Id128).left(8);
    const QString trash = trashPath();
    plan->operation = name();
    plan->target = m_target.id();
    plan->targetName = m_target.instance.name;
    plan->verb = QStringLiteral("Wipe");
    plan->production = host.tags.production;
    plan->readOnly = host.tags.readOnly;
    plan->parameters = { { QStringLiteral("host"), host.name }, { QStringLiteral("instance"), m_target.instance.name },
        { QStringLiteral("root"), rootPath } };
    const qint64 scoped = counts->value(QStringLiteral("scopedPacketGrants")).toInteger()
        + counts->value(QStringLiteral("scopedGroupGrants")).toInteger();
    plan->counts = {
        { QStringLiteral("packets"), QStringLiteral("Packets"), counts->value(QStringLiteral("packets")).toInteger() },
        { QStringLiteral("groups"), QStringLiteral("Packet groups"),
            counts->value(QStringLiteral("groups")).toInteger() },
        { QStringLiteral("files"), QStringLiteral("Files in the outpack root"), root->files },
        { QStringLiteral("bytes"), QStringLiteral("Bytes in the outpack root"), root->bytes },
        { QStringLiteral("scopedGrants"), QStringLiteral("Grants scoped to a packet or group"), scoped },
        { QStringLiteral("pins"), QStringLiteral("Pins"), counts->value(QStringLiteral("pins")).toInteger() },
        { QStringLiteral("packetTags"), QStringLiteral("Packet tags"),
            counts->value(QStringLiteral("packetTags")).toInteger() },
        { QStringLiteral("oneTimeTokens"), QStringLiteral("One-time tokens"),
            counts->value(QStringLiteral("oneTimeTokens")).toInteger() },
        { QStringLiteral("runInfoLeft"), QStringLiteral("run_info rows left pointing at deleted packets"),
            counts->value(QStringLiteral("runInfoWithPacket")).toInteger() },
    };
    if (scoped > 0)
        plan->warnings << QStringLiteral(
            "%1 grants scoped to a packet or group are deleted with them; the runbook says "
            "permissions are preserved, but only global grants are. The report lists "
            "every one.")
                              .arg(scoped);
    if (const qint64 left = plan->count(QStringLiteral("runInfoLeft")); left > 0)
        plan->warnings << QStringLiteral("%1 run_info rows stay behind, pointing at packets that will no longer "
                                         "exist (the runbook leaves them too).")
                              .arg(left);
    plan->warnings << QStringLiteral("Users (%1), roles (%2) and global grants (%3) are kept.")
                          .arg(counts->value(QStringLiteral("users")).toInteger())
                          .arg(counts->value(QStringLiteral("roles")).toInteger())
                          .arg(counts->value(QStringLiteral("globalGrants")).toInteger());
    plan->details = { { QStringLiteral("scopedGrants"), *grants } };
    QStringList grantLines;
    for (const QJsonValue& value : *grants) {
        const QJsonObject grant = value.toObject();
        const bool onPacket = grant.value(QStringLiteral("scope")).toString() == QStringLiteral("packet");
        grantLines << QStringLiteral("  %1  %2  on %3 %4")
                          .arg(grant.value(QStringLiteral("role")).toString(),
                              grant.value(QStringLiteral("permission")).toString(),
                              onPacket ? QStringLiteral("packet") : QStringLiteral("group"),
                              grant.value(onPacket ? QStringLiteral("packet") : QStringLiteral("group")).toString());
    }
    if (!grantLines.isEmpty())
        plan->detailText
            = QStringLiteral("Grants deleted with them (role, permission, scope):\n") + grantLines.join(u'\n');

    const QMap<QString, QStringList> units = { { QStringLiteral("units"), m_target.units() } };
    QStringList stateCommands;
    for (const QString& unit : m_target.units())
        stateCommands << commandText(host, QStringLiteral("unitState"), { { QStringLiteral("unit"), { unit } } });
    const QString unitStates = stateCommands.join(QStringLiteral("; "));
    plan->steps = {
        { QStringLiteral("stop-units"),
            QStringLiteral("Stop %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            commandText(host, QStringLiteral("stopUnits"), units), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-stopped"), QStringLiteral("Check that both units are inactive"), unitStates,
            QStringLiteral("ActiveState is not active for either unit") },
        { QStringLiteral("record"), QStringLiteral("Record what will be deleted"),
            QStringLiteral("SELECT the packet ids, the scoped grants and every count"),
            QStringLiteral("the queries succeed") },
        { QStringLiteral("move-root"),
            QStringLiteral("Move the outpack root aside (instant; deleted after the restart)"),
            ShellQuote::join({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), rootPath, trash }),
            QStringLiteral("%1 no longer exists").arg(rootPath) },
        { QStringLiteral("delete-rows"), QStringLiteral("Delete every packet and packet group, in one transaction"),
            QStringLiteral("BEGIN; ") + deleteStatements().join(QStringLiteral("; ")) + QStringLiteral("; COMMIT"),
            QStringLiteral("packet and packet_group are empty") },
        { QStringLiteral("start-units"),
            QStringLiteral("Start %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            commandText(host, QStringLiteral("startUnits"), units), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-started"), QStringLiteral("Check that both units are active and the root is back"),
            unitStates, QStringLiteral("ActiveState is active for both units and %1/.outpack exists").arg(rootPath) },
        { QStringLiteral("remove-old-root"), QStringLiteral("Delete the old outpack root"),
            commandText(host, QStringLiteral("removeTree"), { { QStringLiteral("path"), { trash } } }),
            QStringLiteral("its files are counted, then %1 no longer exists").arg(trash) },
        { QStringLiteral("journal"), QStringLiteral("Show the units' last journal lines"),
            commandText(host, QStringLiteral("journal"),
                { { QStringLiteral("unitFlags"),
                      { QStringLiteral("-u"), m_target.outpackUnit(), QStringLiteral("-u"), m_target.apiUnit() } },
                    { QStringLiteral("lines"), { QString::number(kJournalLines) } } }),
            QStringLiteral("shown for the admin to read") },
    };
    return true;
}

bool PackitWipeOperation::execute(const Plan&, RunContext& context)
{
    QString error;
    if (!NameRules::isStrictlyUnder(m_target.instance.outpackRoot, m_target.host.outpackBase)
        || !NameRules::isStrictlyUnder(trashPath(), m_target.host.outpackBase)) {
        context.record().summary = QStringLiteral("Refused: the outpack root of %1 is not strictly under %2.")
                                       .arg(m_target.id(), m_target.host.outpackBase);
        return false;
    }
    if (!connection(&error)) {
        context.record().summary = QStringLiteral("Nothing was changed: %1").arg(error);
        return false;
    }
    // Not the connection itself: the hook may still run on a pool thread once this operation is gone.
    context.setCancelHook(m_connection->interrupter());

    const bool ok = stopUnits(context) && checkUnits(context, QStringLiteral("inactive"), 20) && recordBefore(context)
        && moveRoot(context) && deleteRows(context) && startUnits(context)
        && checkUnits(context, QStringLiteral("active"), 60) && removeOldRoot(context);
    if (ok) {
        showJournal(context);
        QSqlDatabase db = m_connection->database();
        if (const auto after = PackitQueries::counts(db, &error))
            context.record().after = *after;
        if (const auto root = m_connection->rootStats(m_target.instance.outpackRoot, &error)) {
            context.record().after.insert(QStringLiteral("files"), root->files);
            context.record().after.insert(QStringLiteral("bytes"), root->bytes);
        }
        context.record().summary = QStringLiteral("%1 was wiped: %2 packets and %3 groups deleted, the outpack root "
                                                  "re-created, both units active.")
                                       .arg(m_target.id())
                                       .arg(context.record().before.value(QStringLiteral("packets")).toInteger())
                                       .arg(context.record().before.value(QStringLiteral("groups")).toInteger());
    } else {
        recover(context);
    }
    context.setCancelHook({});
    return ok;
}

bool PackitWipeOperation::stopUnits(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("stop-units"));
    const ExecResult result
        = m_connection->runTemplate(QStringLiteral("stopUnits"), { { QStringLiteral("units"), m_target.units() } });
    if (!result.succeeded()) {
        context.fail(QStringLiteral("stopping the units failed: %1").arg(result.describe()),
            QString::fromUtf8(result.stdoutData + result.stderrData));
        return false;
    }
    context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
    return true;
}

// Polls both units until their ActiveState is `wanted` (and, when starting, the root is back).
bool PackitWipeOperation::checkUnits(RunContext& context, const QString& wanted, int attempts)
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
        for (const QString& unit : m_target.units()) {
            const QString state = m_connection->unitState(unit, &error);
            if (state.isEmpty()) {
                context.fail(error);
                return false;
            }
            report += QStringLiteral("%1: %2\n").arg(unit, state);
            // A unit that failed to stop still counts as not running; starting wants exactly active.
            all = all && (starting ? state == wanted : state != QStringLiteral("active"));
        }
        if (all && starting) {
            const auto root
                = m_connection->rootStats(m_target.instance.outpackRoot + QStringLiteral("/.outpack"), &error);
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

bool PackitWipeOperation::recordBefore(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("record"));
    QString error;
    QSqlDatabase db = m_connection->database();
    auto counts = PackitQueries::counts(db, &error);
    const auto packets = counts ? PackitQueries::packetIds(db, &error) : std::nullopt;
    const auto grants = packets ? PackitQueries::scopedGrants(db, &error) : std::nullopt;
    const auto groups = grants ? PackitQueries::groups(db, &error) : std::nullopt;
    if (!groups) {
        context.fail(error);
        return false;
    }
    // The root's files and bytes are measured on the moved-aside copy once the instance is back (remove-old-root):
    // walking a large tree here would lengthen the outage.
    RunRecord& record = context.record();
    record.before = *counts;
    record.deleted = { { QStringLiteral("packets"), *packets }, { QStringLiteral("groups"), *groups },
        { QStringLiteral("scopedGrants"), *grants } };
    context.succeed(QStringLiteral("%1 packets, %2 groups, %3 scoped grants")
                        .arg(packets->size())
                        .arg(groups->size())
                        .arg(grants->size()));
    return true;
}

bool PackitWipeOperation::moveRoot(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("move-root"));
    const QString root = m_target.instance.outpackRoot;
    QString error;
    const auto before = m_connection->exists(root, &error);
    if (!before) {
        context.fail(error);
        return false;
    }
    if (!*before) {
        context.succeed(QStringLiteral("%1 did not exist; nothing to move").arg(root));
        return true;
    }
    const ExecResult result
        = m_connection->run({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), root, trashPath() });
    const auto after = result.succeeded() ? m_connection->exists(root, &error) : std::nullopt;
    if (!after || *after) {
        context.fail(QStringLiteral("moving %1 aside failed: %2")
                         .arg(root, result.succeeded() ? QStringLiteral("it still exists") : result.describe()));
        return false;
    }
    context.succeed(QStringLiteral("moved to %1").arg(trashPath()));
    return true;
}

bool PackitWipeOperation::deleteRows(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("delete-rows"));
    QSqlDatabase db = m_connection->database();
    if (!db.transaction()) {
        context.fail(QStringLiteral("cannot begin a transaction: %1").arg(db.lastError().text()));
        return false;
    }
    QStringList output;
    const QStringList statements = deleteStatements();
    for (qsizetype i = 0; i < statements.size(); ++i) {
        QSqlQuery query(db);
        if (!query.exec(statements[i])) {
            const QString why = query.lastError().text();
            db.rollback();
            if (context.cancelled())
                context.cancelStep(QStringLiteral("cancelled; the transaction was rolled back, no row was deleted"));
            else
                context.fail(QStringLiteral("%1 failed: %2; the transaction was rolled back, no row was deleted")
                                 .arg(statements[i], why),
                    output.join(u'\n'));
            return false;
        }
        output << QStringLiteral("%1: %2 rows").arg(statements[i]).arg(query.numRowsAffected());
        context.progress(double(i + 1) / double(statements.size()));
    }
    if (!db.commit()) {
        context.fail(
            QStringLiteral("COMMIT failed: %1; no row was deleted").arg(db.lastError().text()), output.join(u'\n'));
        return false;
    }
    QString error;
    const auto counts = PackitQueries::counts(db, &error);
    if (!counts || counts->value(QStringLiteral("packets")).toInteger() != 0
        || counts->value(QStringLiteral("groups")).toInteger() != 0) {
        context.fail(counts ? QStringLiteral("packet or packet_group is not empty after the commit") : error,
            output.join(u'\n'));
        return false;
    }
    context.succeed(output.join(u'\n'));
    return true;
}

bool PackitWipeOperation::startUnits(RunContext& context)
{
    // Runs even after a cancel: once the units were stopped, bringing them back is the only safe way out.
    context.begin(QStringLiteral("start-units"));
    const ExecResult result
        = m_connection->runTemplate(QStringLiteral("startUnits"), { { QStringLiteral("units"), m_target.units() } });
    if (!result.succeeded()) {
        context.fail(QStringLiteral("starting the units failed: %1").arg(result.describe()),
            QString::fromUtf8(result.stdoutData + result.stderrData));
        return false;
    }
    context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
    return true;
}

bool PackitWipeOperation::removeOldRoot(RunContext& context)
{
    context.begin(QStringLiteral("remove-old-root"));
    QString error;
    // The moved-aside tree is the old root as it was: its size is what the wipe deleted from disk.
    const auto trash = m_connection->rootStats(trashPath(), &error);
    if (!trash) {
        context.fail(error);
        return false;
    }
    context.record().before.insert(QStringLiteral("files"), trash->files);
    context.record().before.insert(QStringLiteral("bytes"), trash->bytes);
    if (trash->exists) {
        const ExecResult result = m_connection->runTemplate(
            QStringLiteral("removeTree"), { { QStringLiteral("path"), { trashPath() } } }, 3600000);
        const auto after = m_connection->exists(trashPath(), &error);
        if (!result.succeeded() || !after || *after) {
            context.fail(QStringLiteral("the instance is up again, but deleting the old root %1 failed: %2. Delete it "
                                        "by hand.")
                             .arg(trashPath(), result.succeeded() ? error : result.describe()));
            return false;
        }
    }
    context.succeed();
    return true;
}

void PackitWipeOperation::showJournal(RunContext& context)
{
    context.begin(QStringLiteral("journal"));
    const ExecResult result = m_connection->runTemplate(QStringLiteral("journal"),
        { { QStringLiteral("unitFlags"),
              { QStringLiteral("-u"), m_target.outpackUnit(), QStringLiteral("-u"), m_target.apiUnit() } },
            { QStringLiteral("lines"), { QString::number(kJournalLines) } } });
    if (result.succeeded())
        context.succeed(QString::fromUtf8(result.stdoutData));
    else
        context.fail(QStringLiteral("could not read the journal: %1").arg(result.describe()));
}

// After a failure or cancel: put back what can be put back, and never leave the instance down.
void PackitWipeOperation::recover(RunContext& context)
{
    RunRecord& record = context.record();
    // Once the stop was sent, whatever it answered, the units may be down.
    const bool stopped = std::any_of(record.steps.cbegin(), record.steps.cend(), [](const StepRecord& step) {
        return step.id == QStringLiteral("stop-units") && step.state != StepRecord::State::Pending;
    });
    const bool moved = context.anyStepSucceeded({ QStringLiteral("move-root") });
    const bool deleted = context.anyStepSucceeded({ QStringLiteral("delete-rows") });
    const bool started = context.anyStepSucceeded({ QStringLiteral("check-started") });
    qCWarning(lcPackit) << "recovering" << m_target.id() << "- units stopped:" << stopped << "root moved:" << moved
                        << "rows deleted:" << deleted;
    QStringList done;
    if (moved && !deleted) {
        // The rows are all still there: the root that matches them goes back.
        const QStringList argv = { QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), trashPath(),
            m_target.instance.outpackRoot };
        context.beginRecovery(
            QStringLiteral("restore-root"), QStringLiteral("Put the outpack root back"), ShellQuote::join(argv));
        ExecResult result;
        for (int attempt = 0; attempt < kRecoveryAttempts; ++attempt) {
            result = m_connection->run(argv, 60000);
            if (result.succeeded() || !result.error.isError())
                break;
            QThread::msleep(2000); // the session reconnects with backoff meanwhile
        }
        if (result.succeeded()) {
            context.succeed();
            done << QStringLiteral("the outpack root was put back");
        } else {
            context.fail(QStringLiteral("could not put %1 back to %2: %3")
                             .arg(trashPath(), m_target.instance.outpackRoot, result.describe()));
        }
    }
    if (stopped && !started) {
        const QMap<QString, QStringList> units = { { QStringLiteral("units"), m_target.units() } };
        context.beginRecovery(QStringLiteral("recover-start-units"),
            QStringLiteral("Start %1 and %2 again").arg(m_target.outpackUnit(), m_target.apiUnit()),
            commandText(m_target.host, QStringLiteral("startUnits"), units));
        ExecResult result;
        for (int attempt = 0; attempt < kRecoveryAttempts; ++attempt) {
            result = m_connection->runTemplate(QStringLiteral("startUnits"), units, 60000);
            if (result.succeeded() || !result.error.isError())
                break;
            QThread::msleep(2000);
        }
        if (result.succeeded()) {
            context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
            done << QStringLiteral("both units were started again");
        } else {
            context.fail(QStringLiteral("could not start the units: %1. Start them by hand: %2")
                             .arg(result.describe(), commandText(m_target.host, QStringLiteral("startUnits"), units)));
        }
    }
    QString failedStep;
    for (const StepRecord& step : record.steps) {
        if (!step.recovery && (step.state == StepRecord::State::Failed || step.state == StepRecord::State::Cancelled)) {
            failedStep = step.title + QStringLiteral(": ") + step.error;
            break;
        }
    }
    record.summary = QStringLiteral("%1 was not fully wiped (%2). %3")
                         .arg(m_target.id(), failedStep.isEmpty() ? QStringLiteral("cancelled") : failedStep,
                             done.isEmpty() ? QStringLiteral("Nothing needed recovery.")
                                            : QStringLiteral("Recovery: ") + done.join(QStringLiteral("; ")) + u'.');
    if (deleted && moved)
        record.summary += QStringLiteral(" The rows are deleted; the old root is at %1.").arg(trashPath());
}

} // namespace opsdeck
