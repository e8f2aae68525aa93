#include "packit/PackitWipeOperation.h"

#include "config/CommandTemplates.h"
#include "config/NameRules.h"
#include "core/Counted.h"
#include "core/ShellQuote.h"
#include "packit/PackitBundle.h"
#include "packit/PackitConnection.h"
#include "packit/PackitLogging.h"
#include "packit/PackitQueries.h"
#include "packit/PackitRestoreOperation.h"
#include "packit/PackitTrashOperation.h"
#include "packit/PackitUnitSteps.h"
#include "runbook/RunContext.h"

#include <QDir>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

using PackitUnitSteps::kRecoveryWindowMs;
using PackitUnitSteps::withBackoff;
constexpr int kCheckStartedAttempts = 60; // polls 0.5 s apart
constexpr int kJournalLines = 20;

QString commandText(const Host& host, const QString& templateName, const QMap<QString, QStringList>& values)
{
    return ShellQuote::join(CommandTemplates::expand(host.commands.value(templateName), values));
}

// After the parents' DELETEs without triggers: the rows that would still point at a deleted packet or group.
const QString kOrphanCheck = QStringLiteral(
    "SELECT (SELECT count(*) FROM one_time_token) + (SELECT count(*) FROM pin) + (SELECT count(*) FROM packet_tag) + "
    "(SELECT count(*) FROM role_permission WHERE packet_id IS NOT NULL OR packet_group_id IS NOT NULL)");

} // namespace

// Whether the parents may be deleted with the triggers off: only a superuser may, and only while the schema has
// exactly the five foreign keys the set-based deletes cover and no trigger of its own on packet or packet_group.
std::optional<bool> PackitWipeOperation::parentsWithoutTriggers(QSqlDatabase& db)
{
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AND (SELECT count(*) FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid IN ('packet'::regclass, 'packet_group'::regclass)) = 0 AND (SELECT "
            "count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid IN ('packet'::regclass, "
            "'packet_group'::regclass)) = 5"))
        || !query.next())
        return std::nullopt;
    return query.value(0).toBool();
}

PackitWipeOperation::PackitWipeOperation(PackitTarget target)
    : m_target(std::move(target))
{
}

PackitWipeOperation::~PackitWipeOperation() = default;

std::unique_ptr<PackitWipeOperation> PackitWipeOperation::recovering(
    PackitTarget target, const QString& runId, const QString& runTag, QString* error)
{
    // Both come from the journal file: the tag becomes part of a path that recovery may delete.
    static const QRegularExpression tag(QStringLiteral("^[0-9a-f]{8}\\z"));
    if (!tag.match(runTag).hasMatch() || runId.isEmpty()) {
        *error = QStringLiteral("run %1 of %2 names no valid moved-aside root (runTag \"%3\"); check %4 by hand")
                     .arg(runId, target.id(), runTag, target.host.outpackBase);
        return nullptr;
    }
    auto operation = std::make_unique<PackitWipeOperation>(std::move(target));
    operation->m_recovers = runId;
    operation->m_runTag = runTag;
    return operation;
}

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

QString PackitWipeOperation::keptRootPath(const PackitTarget& target, const QString& runTag)
{
    return target.host.outpackBase + QStringLiteral("/.opsdeck-wipe-") + target.instance.name + u'-' + runTag;
}

QString PackitWipeOperation::bundlePath(const PackitTarget& target, const QString& runTag)
{
    return keptRootPath(target, runTag) + QStringLiteral(".restore");
}

QString PackitWipeOperation::trashPath() const
{
    return keptRootPath(m_target, m_runTag);
}

QString PackitWipeOperation::bundlePath() const
{
    return bundlePath(m_target, m_runTag);
}

QString PackitWipeOperation::unitStateCommands() const
{
    QStringList commands;
    for (const QString& unit : m_target.units())
        commands << commandText(m_target.host, QStringLiteral("unitState"), { { QStringLiteral("unit"), { unit } } });
    return commands.join(QStringLiteral("; "));
}

QStringList PackitWipeOperation::restoreRootArgv() const
{
    return { QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), trashPath(),
        m_target.instance.outpackRoot };
}

QList<Plan::Step> PackitWipeOperation::recoverySteps() const
{
    const QString startCommand
        = commandText(m_target.host, QStringLiteral("startUnits"), { { QStringLiteral("units"), m_target.units() } });
    const QString observe = QStringList { ShellQuote::join({ QStringLiteral("test"), QStringLiteral("-e"),
                                              m_target.instance.outpackRoot }),
        ShellQuote::join({ QStringLiteral("test"), QStringLiteral("-e"), trashPath() }), unitStateCommands(),
        QStringLiteral("SELECT count(*) FROM packet, packet_group (and the plan's other counts)") }
                                .join(QStringLiteral("; "));
    return {
        { QStringLiteral("observe"), QStringLiteral("Read the instance's real state"), observe,
            QStringLiteral("both paths, the counts and both units' ActiveState are read (retried while the host "
                           "reconnects)") },
        { QStringLiteral("restore-root"), QStringLiteral("Put the outpack root back"),
            ShellQuote::join(restoreRootArgv()),
            QStringLiteral("only when every row is still there and the root was moved aside; then %1 exists")
                .arg(m_target.instance.outpackRoot) },
        { QStringLiteral("recover-start-units"),
            QStringLiteral("Start %1 and %2 again").arg(m_target.outpackUnit(), m_target.apiUnit()), startCommand,
            QStringLiteral("only when a unit is not active; the command exits 0") },
        { QStringLiteral("recover-check-started"), QStringLiteral("Check that both units are active"),
            unitStateCommands(), QStringLiteral("ActiveState is active for both units") },
        { QStringLiteral("remove-old-root"), QStringLiteral("Delete the old outpack root"),
            commandText(m_target.host, QStringLiteral("removeTree"), { { QStringLiteral("path"), { trashPath() } } }),
            QStringLiteral("only when the rows are gone and the units are active; then %1 no longer exists")
                .arg(trashPath()) },
        { QStringLiteral("keep-old-root"),
            QStringLiteral("Keep the old outpack root and the bundle for the undo window"),
            QStringLiteral("du of %1 and %2; journal the undo window").arg(trashPath(), bundlePath()),
            QStringLiteral("only when the rows are gone and the bundle checks against its SHA256SUMS") },
    };
}

// During a wipe, recovery adds its steps to the run; a recovery run has them in its plan.
void PackitWipeOperation::beginRecoveryStep(RunContext& context, const QString& id) const
{
    if (!m_recovers.isEmpty()) {
        context.begin(id);
        return;
    }
    for (const Plan::Step& step : recoverySteps()) {
        if (step.id == id)
            context.beginRecovery(step.id, step.title, step.command);
    }
}

bool PackitWipeOperation::connection(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    return m_connection->openDatabase(error);
}

// What the wipe's plan and its recovery's share: the target, its tags, and the parameters a recovery is made from.
void PackitWipeOperation::describeIn(Plan* plan, const QString& verb) const
{
    const Host& host = m_target.host;
    plan->operation = name();
    plan->target = m_target.id();
    plan->targetName = m_target.instance.name; // the confirmation, for the wipe and its recovery alike
    plan->verb = verb;
    plan->production = host.tags.production;
    plan->readOnly = host.tags.readOnly;
    plan->parameters = { { QStringLiteral("host"), host.name }, { QStringLiteral("instance"), m_target.instance.name },
        { QStringLiteral("root"), m_target.instance.outpackRoot }, { QStringLiteral("runTag"), m_runTag } };
}

bool PackitWipeOperation::makeRecoveryPlan(Plan* plan, QString* error)
{
    const auto seen = observe(error);
    if (!seen)
        return false;
    const Host& host = m_target.host;
    plan->operation = name();
    plan->target = m_target.id();
    plan->targetName = m_target.instance.name;
    plan->verb = QStringLiteral("Recover");
    plan->production = host.tags.production;
    plan->readOnly = host.tags.readOnly;
    plan->parameters = { { QStringLiteral("host"), host.name }, { QStringLiteral("instance"), m_target.instance.name },
        { QStringLiteral("root"), m_target.instance.outpackRoot }, { QStringLiteral("runTag"), m_runTag },
        { QStringLiteral("recovers"), m_recovers } };
    plan->counts = { { QStringLiteral("packets"), QStringLiteral("Packets"),
                         seen->counts.value(QStringLiteral("packets")).toInteger(),
                         QStringLiteral("Packets in the database now, as recovery reads them.") },
        { QStringLiteral("groups"), QStringLiteral("Packet groups"),
            seen->counts.value(QStringLiteral("groups")).toInteger(),
            QStringLiteral("Packet groups in the database now.") } };
    plan->measures = PackitQueries::countMeasures();
    // A whole bundle next to the old root means the export finished before the DELETE: finishing keeps both.
    const bool keeps = seen->rowsGone() && seen->trashExists && !seen->bundleSums.isEmpty();
    plan->irreversible = seen->rowsGone() && !keeps;
    plan->undo.retentionSeconds = m_target.host.undo.retentionSeconds;
    plan->undo.available = keeps && !m_target.host.undo.off();
    plan->undo.until = QDateTime::currentDateTimeUtc().addSecs(plan->undo.retentionSeconds);
    plan->undo.where = QStringLiteral("%1:%2 and %3").arg(m_target.host.name, trashPath(), bundlePath());
    if (plan->undo.available)
        plan->undo.restorable << QStringLiteral("every packet, group and row the wipe deleted, and the old root");
    else if (seen->rowsGone())
        plan->undo.notRestorable << QStringLiteral("the wipe kept no whole restore bundle: the old root is deleted");
    plan->warnings << QStringLiteral("Run %1 ended without an outcome. Now: %2.")
                          .arg(m_recovers, seen->describe(m_target.units()).replace(u'\n', QStringLiteral("; ")));
    plan->warnings << (seen->rowsGone()
            ? QStringLiteral("The rows are gone: recovery finishes the wipe (units started, the old root deleted).")
            : QStringLiteral("The rows are there: recovery leaves them and puts the root back if it was moved."));
    plan->steps = recoverySteps();
    return true;
}

bool PackitWipeOperation::makePlan(Plan* plan, QString* error)
{
    if (!connection(error))
        return false;
    if (!m_recovers.isEmpty())
        return makeRecoveryPlan(plan, error);
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
    describeIn(plan, QStringLiteral("Wipe"));
    const qint64 scoped = counts->value(QStringLiteral("scopedPacketGrants")).toInteger()
        + counts->value(QStringLiteral("scopedGroupGrants")).toInteger();
    const auto count = [&counts](const QString& key) { return counts->value(key).toInteger(); };
    plan->counts = {
        { QStringLiteral("packets"), QStringLiteral("Packets"), count(QStringLiteral("packets")),
            QStringLiteral("Every packet of the instance: deleted.") },
        { QStringLiteral("groups"), QStringLiteral("Packet groups"), count(QStringLiteral("groups")),
            QStringLiteral("The names packets are grouped under: deleted with them.") },
        { QStringLiteral("files"), QStringLiteral("Files in the outpack root"), root->files,
            QStringLiteral("The packets' files on the host; the root is re-created empty.") },
        { QStringLiteral("bytes"), QStringLiteral("Bytes in the outpack root"), root->bytes,
            QStringLiteral("The space those files take.") },
        { QStringLiteral("scopedGrants"), QStringLiteral("Grants scoped to a packet or group"), scoped,
            QStringLiteral("Permissions a role holds on one packet or group: deleted with it.") },
        { QStringLiteral("pins"), QStringLiteral("Pins"), count(QStringLiteral("pins")),
            QStringLiteral("Packets pinned to the front page: deleted.") },
        { QStringLiteral("packetTags"), QStringLiteral("Packet tags"), count(QStringLiteral("packetTags")),
            QStringLiteral("Tags put on packets: deleted (the tags themselves are kept).") },
        { QStringLiteral("oneTimeTokens"), QStringLiteral("One-time tokens"), count(QStringLiteral("oneTimeTokens")),
            QStringLiteral("Single-use download tokens for packets: deleted.") },
        { QStringLiteral("runInfoLeft"), QStringLiteral("run_info rows left pointing at deleted packets"),
            count(QStringLiteral("runInfoWithPacket")),
            QStringLiteral("Records of packet runs that name a packet: the runbook leaves them, so they stay.") },
    };
    plan->measures = PackitQueries::countMeasures(QStringLiteral("runInfoLeft"));
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
    planUndo(plan, *root);
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
    const QString unitStates = unitStateCommands();
    plan->steps = {
        { QStringLiteral("stop-units"),
            QStringLiteral("Stop %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            commandText(host, QStringLiteral("stopUnits"), units), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-stopped"), QStringLiteral("Check that both units are inactive"), unitStates,
            QStringLiteral("ActiveState is not active for either unit") },
        { QStringLiteral("record"), QStringLiteral("Record what will be deleted"),
            QStringLiteral("SELECT the packet ids, the scoped grants and every count"),
            QStringLiteral("the queries succeed") },
        { QStringLiteral("move-root"), QStringLiteral("Move the outpack root aside (instant)"),
            ShellQuote::join({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), rootPath, trash }),
            QStringLiteral("%1 no longer exists").arg(rootPath) },
        { QStringLiteral("export-rows"),
            QStringLiteral("Write every row the delete takes to the restore bundle (only with the undo window on)"),
            QStringLiteral("mkdir -m 0700 %1; in the delete's transaction (REPEATABLE READ, the six tables locked): "
                           "psql \\copy of each table, the sequences and SHA256SUMS into it")
                .arg(bundlePath()),
            QStringLiteral("every file is written and synced and its sha256 journaled before any row is deleted") },
        { QStringLiteral("delete-rows"), QStringLiteral("Delete every packet and packet group, in one transaction"),
            QStringLiteral("BEGIN; ") + deleteStatements().join(QStringLiteral("; "))
                + QStringLiteral("; COMMIT (as a superuser, the last two with the cascade triggers off, as nothing is "
                                 "left to cascade to, then a check that no row points at a deleted packet)"),
            QStringLiteral("packet and packet_group are empty") },
        { QStringLiteral("start-units"),
            QStringLiteral("Start %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            commandText(host, QStringLiteral("startUnits"), units), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-started"), QStringLiteral("Check that both units are active and the root is back"),
            unitStates, QStringLiteral("ActiveState is active for both units and %1/.outpack exists").arg(rootPath) },
        { QStringLiteral("remove-old-root"),
            QStringLiteral("Delete the old outpack root (only with the undo window off)"),
            commandText(host, QStringLiteral("removeTree"), { { QStringLiteral("path"), { trash } } }),
            QStringLiteral("its files are counted, then %1 no longer exists").arg(trash) },
        { QStringLiteral("keep-old-root"),
            QStringLiteral("Keep the old outpack root and the bundle for the undo window (only with it on)"),
            QStringLiteral("du of %1 and %2; journal the undo window").arg(trash, bundlePath()),
            QStringLiteral("both exist; the journal has the window") },
        { QStringLiteral("journal"), QStringLiteral("Show the units' last journal lines"),
            commandText(host, QStringLiteral("journal"),
                { { QStringLiteral("unitFlags"),
                      { QStringLiteral("-u"), m_target.outpackUnit(), QStringLiteral("-u"), m_target.apiUnit() } },
                    { QStringLiteral("lines"), { QString::number(kJournalLines) } } }),
            QStringLiteral("shown for the admin to read") },
    };
    return true;
}

bool PackitWipeOperation::execute(const Plan& plan, RunContext& context)
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
    if (!m_recovers.isEmpty()) {
        const bool safe = recover(context);
        context.setCancelHook({});
        return safe;
    }

    // The admin's choice, as confirmed: the window's export and kept root, or the runbook's end state.
    const bool keep = plan.undo.opens();
    PackitConnection& host = *m_connection;
    const bool ok = PackitUnitSteps::stop(host, context)
        && PackitUnitSteps::check(host, context, QStringLiteral("inactive"), 20) && recordBefore(context)
        && moveRoot(context) && deleteRows(context, keep) && PackitUnitSteps::start(host, context)
        && PackitUnitSteps::check(host, context, QStringLiteral("active"), 60)
        && (keep ? keepOldRoot(plan, context) : removeOldRoot(context));
    if (ok) {
        showJournal(context);
        QSqlDatabase db = m_connection->database();
        if (const auto after = PackitQueries::counts(db, &error))
            context.record().after = *after;
        if (const auto root = m_connection->rootStats(m_target.instance.outpackRoot, &error)) {
            context.record().after.insert(QStringLiteral("files"), root->files);
            context.record().after.insert(QStringLiteral("bytes"), root->bytes);
        }
        context.record().summary = QStringLiteral("%1 was wiped: %2 and %3 deleted, the outpack root re-created, both "
                                                  "units active.")
                                       .arg(m_target.id(),
                                           counted(context.record().before.value(QStringLiteral("packets")).toInteger(),
                                               QStringLiteral("packet")),
                                           counted(context.record().before.value(QStringLiteral("groups")).toInteger(),
                                               QStringLiteral("group")));
        if (context.record().undoOpened)
            context.record().summary += QStringLiteral(" The old root and every deleted row are kept until %1: "
                                                       "opsdeck restore %2 puts them back.")
                                            .arg(utcMinuteText(context.record().undo.until), context.record().id);
    } else {
        recover(context);
    }
    context.setCancelHook({});
    return ok;
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
    context.record().before = *counts;
    // Recorded as deleted only once the commit is verified, or recovery sees the rows gone.
    m_toDelete = { { QStringLiteral("packets"), *packets }, { QStringLiteral("groups"), *groups },
        { QStringLiteral("scopedGrants"), *grants } };
    context.succeed(
        QStringLiteral("%1, %2, %3")
            .arg(counted(packets->size(), QStringLiteral("packet")), counted(groups->size(), QStringLiteral("group")),
                counted(grants->size(), QStringLiteral("scoped grant"))));
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

// Writes every row the delete will take into the bundle on the host, inside the delete's own transaction: it
// locks the six tables against writers and exports its snapshot, which the host's psql reads with. So the bundle
// holds exactly the rows the DELETEs then take, and its sums are journaled before the first one runs.
bool PackitWipeOperation::exportRows(RunContext& context, QSqlDatabase& db)
{
    context.begin(QStringLiteral("export-rows"));
    QSqlQuery query(db);
    const auto fail = [&](const QString& why, const QString& output = {}) {
        db.rollback();
        if (context.cancelled())
            context.cancelStep(QStringLiteral("cancelled; the transaction was rolled back, no row was deleted"));
        else
            context.fail(why + QStringLiteral("; the transaction was rolled back, no row was deleted"), output);
        return false;
    };
    if (!query.exec(QStringLiteral("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        || !query.exec(QStringLiteral(
            "LOCK TABLE packet, packet_group, role_permission, packet_tag, pin, one_time_token IN SHARE ROW "
            "EXCLUSIVE MODE"))
        || !query.exec(QStringLiteral("SELECT pg_export_snapshot()")) || !query.next())
        return fail(QStringLiteral("cannot lock the tables: %1").arg(query.lastError().text()));
    const QString snapshot = query.value(0).toString();
    const QString bundle = bundlePath();
    const ExecResult made = m_connection->run(
        { QStringLiteral("mkdir"), QStringLiteral("-m"), QStringLiteral("0700"), QStringLiteral("--"), bundle });
    if (!made.succeeded())
        return fail(QStringLiteral("cannot create the bundle directory %1: %2").arg(bundle, made.describe()));
    const QStringList commands = PackitBundle::sessionSettings(QStringLiteral("opsdeck-wipe-export-") + m_runTag)
        + QStringList { QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
              QStringLiteral("SET TRANSACTION SNAPSHOT '%1'").arg(snapshot) }
        + PackitBundle::exportCommands(bundle) + QStringList { QStringLiteral("COMMIT") };
    const ExecResult result
        = m_connection->run(PackitBundle::psqlArgv(m_target.host, m_target.database.database, commands), 600000);
    const QString output = QString::fromUtf8(result.stdoutData + result.stderrData);
    if (!result.succeeded())
        return fail(QStringLiteral("the export failed: %1").arg(result.describe()), output);
    const PackitBundle::Output exported = PackitBundle::parse(result.stdoutData);
    const QString incomplete = PackitBundle::checkSums(exported.sums);
    // One COPY per table, one for the sequences, one for the sums.
    if (!incomplete.isEmpty() || exported.copied.size() != PackitBundle::tables().size() + 2)
        return fail(QStringLiteral("the export did not write a whole bundle: %1")
                        .arg(incomplete.isEmpty() ? QStringLiteral("unexpected psql output") : incomplete),
            output);
    m_exported = {};
    for (qsizetype i = 0; i < PackitBundle::tables().size(); ++i)
        m_exported.insert(PackitBundle::tables()[i].name, exported.copied[i]);
    QJsonObject sums;
    for (auto it = exported.sums.cbegin(); it != exported.sums.cend(); ++it)
        sums.insert(it.key(), it.value());
    // Before any DELETE: the journal holds the bundle's checksums.
    context.note(QStringLiteral("undo-bundle"),
        { { QStringLiteral("bundle"), bundle }, { QStringLiteral("rows"), m_exported },
            { QStringLiteral("sums"), sums } });
    if (!context.journalError().isEmpty())
        return fail(context.journalError());
    QStringList lines;
    for (auto it = m_exported.constBegin(); it != m_exported.constEnd(); ++it)
        lines << QStringLiteral("%1: %2 rows").arg(it.key()).arg(it.value().toInteger());
    context.succeed(QStringLiteral("%1 files written to %2 and synced\n").arg(exported.sums.size()).arg(bundle)
        + lines.join(u'\n'));
    return true;
}

bool PackitWipeOperation::deleteRows(RunContext& context, bool keep)
{
    if (context.cancelled())
        return false;
    QSqlDatabase db = m_connection->database();
    // The session that runs the delete, so that recovery can make sure it has ended before it counts rows.
    QSqlQuery session(db);
    if (!session.exec(QStringLiteral("SELECT pg_backend_pid()")) || !session.next()) {
        context.begin(QStringLiteral("delete-rows"));
        context.fail(QStringLiteral("cannot read the database session: %1").arg(session.lastError().text()));
        return false;
    }
    m_deleteSession = session.value(0).toLongLong();
    if (!db.transaction()) {
        context.begin(QStringLiteral("delete-rows"));
        context.fail(QStringLiteral("cannot begin a transaction: %1").arg(db.lastError().text()));
        return false;
    }
    if (keep && !exportRows(context, db))
        return false;
    context.begin(QStringLiteral("delete-rows"));
    QStringList output;
    QStringList statements = deleteStatements();
    // The children are gone once the set-based deletes ran, but PostgreSQL still fires each cascade trigger once per
    // packet (seconds at 100,000 packets; one_time_token.packet_id has no index). With nothing else to cascade
    // into, a superuser deletes the parents with those triggers off, then checks that no child row is left.
    const auto fast = parentsWithoutTriggers(db);
    if (!fast) {
        db.rollback();
        context.fail(QStringLiteral("cannot read the schema's triggers and keys: %1; the transaction was rolled back, "
                                    "no row was deleted")
                         .arg(db.lastError().text()));
        return false;
    }
    if (*fast) {
        statements.insert(statements.indexOf(QStringLiteral("DELETE FROM packet")),
            QStringLiteral("SET LOCAL session_replication_role = replica"));
        statements << QStringLiteral("SET LOCAL session_replication_role = origin") << kOrphanCheck;
    }
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
        if (statements[i] == kOrphanCheck) {
            if (!query.next() || query.value(0).toLongLong() != 0) {
                db.rollback();
                context.fail(QStringLiteral("%1 rows still point at deleted packets or groups; the transaction was "
                                            "rolled back, no row was deleted")
                                 .arg(query.value(0).toLongLong()),
                    output.join(u'\n'));
                return false;
            }
            output << QStringLiteral("no row points at a deleted packet or group");
            continue;
        }
        if (!statements[i].startsWith(QStringLiteral("DELETE"))) {
            output << statements[i];
            continue;
        }
        output << QStringLiteral("%1: %2 rows").arg(statements[i]).arg(query.numRowsAffected());
        // The bundle must hold every row deleted: a count that differs from the export's stops the delete.
        const QString table = statements[i].section(u' ', 2, 2);
        if (keep && m_exported.value(table).toInteger(-1) != query.numRowsAffected()) {
            db.rollback();
            context.fail(QStringLiteral("%1 took %2 rows but the bundle holds %3; the transaction was rolled back, no "
                                        "row was deleted")
                             .arg(statements[i])
                             .arg(query.numRowsAffected())
                             .arg(m_exported.value(table).toInteger(-1)),
                output.join(u'\n'));
            return false;
        }
        context.progress(double(i + 1) / double(statements.size()));
    }
    if (!db.commit()) {
        // The server may have committed before its answer was lost: recovery reads the rows back.
        context.fail(QStringLiteral("COMMIT did not answer success: %1; whether the rows were deleted is read back "
                                    "by recovery")
                         .arg(db.lastError().text()),
            output.join(u'\n'));
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
    context.record().deleted = m_toDelete;
    context.succeed(output.join(u'\n'));
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

// What the plan says of the undo window: on unless the inventory turns it off for this host.
void PackitWipeOperation::planUndo(Plan* plan, const PackitConnection::RootStats& root) const
{
    const UndoPolicy& policy = m_target.host.undo;
    Plan::Undo& undo = plan->undo;
    undo.retentionSeconds = policy.retentionSeconds;
    undo.bytesHeld = root.bytes;
    undo.where = QStringLiteral("%1:%2 (the old root) and %3 (every deleted row)")
                     .arg(m_target.host.name, trashPath(), bundlePath());
    undo.until = QDateTime::currentDateTimeUtc().addSecs(policy.retentionSeconds);
    if (policy.off()) {
        undo.notRestorable << QStringLiteral("the inventory turns undo windows off for %1 (undo.retention: off)")
                                  .arg(m_target.host.name);
        return;
    }
    undo.available = true;
    undo.restorable << QStringLiteral("the outpack root as it was (%1 files)").arg(root.files)
                    << QStringLiteral("every packet and packet group, with their ids")
                    << QStringLiteral("the grants scoped to them, their pins, packet tags and one-time tokens");
    undo.notRestorable << QStringLiteral("a grant or packet tag whose role, permission or tag is deleted before the "
                                         "restore (skipped, and named in its report)");
    plan->warnings << QStringLiteral("A restore does not mix packets pushed after the wipe in with the restored ones: "
                                     "it sets them aside (kept, restorable in turn) and names them before it asks.");
}

// With the window on, the old root stays where the move put it: its size is what the window holds, with the bundle.
bool PackitWipeOperation::keepOldRoot(const Plan& plan, RunContext& context)
{
    context.begin(QStringLiteral("keep-old-root"));
    QString error;
    const auto trash = m_connection->rootStats(trashPath(), &error);
    const auto bundle = trash ? m_connection->rootStats(bundlePath(), &error) : std::nullopt;
    if (!bundle || !trash->exists || !bundle->exists) {
        context.fail(bundle ? QStringLiteral("%1 is missing").arg(trash->exists ? bundlePath() : trashPath()) : error);
        return false;
    }
    context.record().before.insert(QStringLiteral("files"), trash->files);
    context.record().before.insert(QStringLiteral("bytes"), trash->bytes);
    const auto seen = observe(&error);
    if (!seen || seen->bundleSums.isEmpty()) {
        context.fail(QStringLiteral("the bundle %1 does not check against its sums: %2").arg(bundlePath(), error));
        return false;
    }
    openWindow(context, plan.undo.notRestorable, *seen, trash->bytes + bundle->bytes);
    context.succeed(QStringLiteral("kept: %1 (%2 files, %3 bytes) and %4 (%5 bytes)")
                        .arg(trashPath())
                        .arg(trash->files)
                        .arg(trash->bytes)
                        .arg(bundlePath())
                        .arg(bundle->bytes));
    return true;
}

// The journal's undo window of this wipe: what a restore needs to find, check and put back.
void PackitWipeOperation::openWindow(
    RunContext& context, const QStringList& notRestorable, const Observed& seen, qint64 bytes)
{
    UndoWindow window;
    window.where = QStringLiteral("%1:%2 and %3").arg(m_target.host.name, trashPath(), bundlePath());
    window.bytes = bytes;
    const QJsonObject& deleted = context.record().deleted;
    if (deleted.isEmpty()) // a recovery run: this console did not record the rows, the bundle holds them
        window.restorable << QStringLiteral("every packet, packet group and scoped grant the wipe deleted, with their "
                                            "pins, packet tags and one-time tokens");
    else
        window.restorable << QStringLiteral("%1, %2 and %3, with their pins, packet tags and one-time tokens")
                                 .arg(counted(deleted.value(QStringLiteral("packets")).toArray().size(),
                                          QStringLiteral("packet")),
                                     counted(deleted.value(QStringLiteral("groups")).toArray().size(),
                                         QStringLiteral("packet group")),
                                     counted(deleted.value(QStringLiteral("scopedGrants")).toArray().size(),
                                         QStringLiteral("scoped grant")));
    window.restorable << QStringLiteral("the outpack root (%1)")
                             .arg(counted(context.record().before.value(QStringLiteral("files")).toInteger(),
                                 QStringLiteral("file")));
    window.notRestorable = notRestorable;
    window.confirmWith = m_target.instance.name;
    window.restore = { { QStringLiteral("host"), m_target.host.name },
        { QStringLiteral("instance"), m_target.instance.name }, { QStringLiteral("runTag"), m_runTag },
        { QStringLiteral("keptRoot"), trashPath() }, { QStringLiteral("bundle"), bundlePath() },
        { QStringLiteral("sums"), UndoWindows::sumsJson(seen.bundleSums) },
        { QStringLiteral("flywayRank"), seen.flywayRank } };
    context.openUndoWindow(window);
}

bool PackitWipeOperation::removeBundle(RunContext& context)
{
    QString error;
    const auto there = m_connection->exists(bundlePath(), &error);
    if (there && !*there)
        return true;
    const ExecResult result = m_connection->runTemplate(
        QStringLiteral("removeTree"), { { QStringLiteral("path"), { bundlePath() } } }, 600000);
    const auto after = m_connection->exists(bundlePath(), &error);
    if (result.succeeded() && after && !*after)
        return true;
    context.note(QStringLiteral("recovery-state"),
        { { QStringLiteral("bundleLeft"), bundlePath() },
            { QStringLiteral("error"), result.succeeded() ? error : result.describe() } });
    return false;
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

bool PackitWipeOperation::Observed::rowsGone() const
{
    return counts.value(QStringLiteral("packets")).toInteger() == 0
        && counts.value(QStringLiteral("groups")).toInteger() == 0;
}

bool PackitWipeOperation::Observed::unitsActive() const
{
    return std::all_of(
        unitStates.cbegin(), unitStates.cend(), [](const QString& state) { return state == QStringLiteral("active"); });
}

QString PackitWipeOperation::Observed::describe(const QStringList& units) const
{
    QStringList lines = { QStringLiteral("outpack root: %1").arg(rootExists ? u"present" : u"missing"),
        QStringLiteral("moved-aside root: %1").arg(trashExists ? u"present" : u"absent"),
        QStringLiteral("packets: %1, groups: %2")
            .arg(counts.value(QStringLiteral("packets")).toInteger())
            .arg(counts.value(QStringLiteral("groups")).toInteger()) };
    for (qsizetype i = 0; i < units.size() && i < unitStates.size(); ++i)
        lines << QStringLiteral("%1: %2").arg(units[i], unitStates[i]);
    return lines.join(u'\n');
}

// A connection lost during the delete may leave its server session running: still sleeping in a lock, or still
// committing. Counting rows meanwhile would read the state before a commit that lands later, so that session is
// ended first (which rolls back whatever it had not committed) and waited for.
bool PackitWipeOperation::settleDelete(QSqlDatabase& db, QString* error)
{
    if (m_deleteSession <= 0)
        return true;
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("SELECT pg_backend_pid()")) || !query.next()) {
        *error = query.lastError().text();
        return false;
    }
    if (query.value(0).toLongLong() == m_deleteSession)
        return true; // the same session: the delete's statements have all answered
    if (!PackitUnitSteps::endSessions(db, QStringLiteral("pid"), m_deleteSession, error))
        return false;
    m_deleteSession = 0;
    return true;
}

std::optional<PackitWipeOperation::Observed> PackitWipeOperation::observe(QString* error)
{
    Observed seen;
    const auto root = m_connection->exists(m_target.instance.outpackRoot, error);
    const auto trash = root ? m_connection->exists(trashPath(), error) : std::nullopt;
    if (!trash)
        return std::nullopt;
    const auto bundle = m_connection->exists(bundlePath(), error);
    if (!bundle)
        return std::nullopt;
    seen.rootExists = *root;
    seen.trashExists = *trash;
    seen.bundleExists = *bundle;
    if (seen.bundleExists) {
        // Whole only if every file matches the sums synced before the DELETE, and the sums name every file.
        const ExecResult check
            = m_connection->run({ QStringLiteral("sh"), QStringLiteral("-c"),
                                    QStringLiteral("cd \"$1\" && sha256sum -c --quiet SHA256SUMS >&2 "
                                                   "&& cat SHA256SUMS"),
                                    QStringLiteral("sh"), bundlePath() },
                600000);
        if (check.error.isError()) {
            *error = QStringLiteral("cannot check the bundle %1: %2").arg(bundlePath(), check.describe());
            return std::nullopt;
        }
        const auto sums = PackitBundle::parse(check.stdoutData).sums;
        if (check.succeeded() && PackitBundle::checkSums(sums).isEmpty())
            seen.bundleSums = sums;
    }
    for (const QString& unit : m_target.units()) {
        seen.unitStates << m_connection->unitState(unit, error);
        if (seen.unitStates.last().isEmpty())
            return std::nullopt;
    }
    if (!m_connection->openDatabase(error))
        return std::nullopt;
    QSqlDatabase db = m_connection->database();
    if (!settleDelete(db, error))
        return std::nullopt;
    const auto counts = PackitQueries::counts(db, error);
    if (!counts)
        return std::nullopt;
    seen.counts = *counts;
    QSqlQuery schema(db);
    if (!schema.exec(QStringLiteral("SELECT coalesce(max(installed_rank), 0) FROM flyway_schema_history"))
        || !schema.next()) {
        *error = schema.lastError().text();
        return std::nullopt;
    }
    seen.flywayRank = schema.value(0).toLongLong();
    return seen;
}

bool PackitWipeOperation::observeStep(RunContext& context, Observed* seen)
{
    beginRecoveryStep(context, QStringLiteral("observe"));
    QString error;
    const bool read = withBackoff([&] {
        const auto state = observe(&error);
        if (state)
            *seen = *state;
        return state.has_value();
    });
    if (!read) {
        context.fail(QStringLiteral("could not read the state of %1 within %2 s: %3")
                         .arg(m_target.id())
                         .arg(kRecoveryWindowMs / 1000)
                         .arg(error));
        return false;
    }
    context.succeed(seen->describe(m_target.units()));
    return true;
}

bool PackitWipeOperation::restoreRoot(RunContext& context)
{
    const QStringList argv = restoreRootArgv();
    beginRecoveryStep(context, QStringLiteral("restore-root"));
    ExecResult result;
    QString error;
    std::optional<bool> back;
    // A move whose answer was lost may have happened: what counts is where the root is afterwards.
    withBackoff([&] {
        result = m_connection->run(argv, 60000);
        back = m_connection->exists(m_target.instance.outpackRoot, &error);
        return back.has_value();
    });
    if (back && *back) {
        context.succeed();
        return true;
    }
    context.fail(
        QStringLiteral("could not put %1 back to %2: %3. Put it back by hand before starting the units: %4")
            .arg(trashPath(), m_target.instance.outpackRoot, back ? result.describe() : error, ShellQuote::join(argv)));
    return false;
}

// Starts the units unless both are active, then waits until both are: only "active" counts.
bool PackitWipeOperation::startUnitsForRecovery(RunContext& context, const Observed& seen)
{
    const QMap<QString, QStringList> units = { { QStringLiteral("units"), m_target.units() } };
    const QString startCommand = commandText(m_target.host, QStringLiteral("startUnits"), units);
    if (!seen.unitsActive()) {
        beginRecoveryStep(context, QStringLiteral("recover-start-units"));
        ExecResult result;
        withBackoff([&] {
            result = m_connection->runTemplate(QStringLiteral("startUnits"), units, 60000);
            return result.succeeded() || !result.error.isError();
        });
        if (!result.succeeded()) {
            context.fail(QStringLiteral("could not start the units: %1. Start them by hand: %2")
                             .arg(result.describe(), startCommand),
                QString::fromUtf8(result.stdoutData + result.stderrData));
            return false;
        }
        context.succeed(QString::fromUtf8(result.stdoutData + result.stderrData));
    }
    beginRecoveryStep(context, QStringLiteral("recover-check-started"));
    QString report;
    for (int attempt = 0; attempt < kCheckStartedAttempts; ++attempt) {
        QString error;
        QStringList states;
        const bool read = withBackoff([&] {
            states.clear();
            for (const QString& unit : m_target.units()) {
                states << m_connection->unitState(unit, &error);
                if (states.last().isEmpty())
                    return false;
            }
            return true;
        });
        if (!read) {
            context.fail(QStringLiteral("%1. Check the units by hand: %2").arg(error, unitStateCommands()), report);
            return false;
        }
        report.clear();
        for (qsizetype i = 0; i < states.size(); ++i)
            report += QStringLiteral("%1: %2\n").arg(m_target.units().value(i), states[i]);
        if (states.size() == m_target.units().size()
            && std::all_of(states.cbegin(), states.cend(), [](const QString& s) { return s == u"active"; })) {
            context.succeed(report);
            return true;
        }
        QThread::msleep(500);
    }
    context.fail(QStringLiteral("the units are not active after %1 s. Start them by hand: %2")
                     .arg(kCheckStartedAttempts / 2)
                     .arg(startCommand),
        report);
    return false;
}

// After a failure, a dropped connection or a cancel: read what the instance really is, then bring it to one of the
// two safe states, untouched (rows and root as before) or wiped (the runbook's end state), with its units running.
// Nothing here trusts which step reported success: a move or a COMMIT whose answer was lost may have happened.
bool PackitWipeOperation::recover(RunContext& context)
{
    RunRecord& record = context.record();
    Observed seen;
    if (!observeStep(context, &seen)) {
        record.summary = QStringLiteral("%1: the run stopped and its state could not be read back, so recovery "
                                        "changed nothing. Check by hand: %2 (packets, packet groups), %3, %4, "
                                        "and the units %5 and %6.")
                             .arg(m_target.id(), m_target.instance.name, m_target.instance.outpackRoot, trashPath(),
                                 m_target.outpackUnit(), m_target.apiUnit());
        return false;
    }
    qCWarning(lcPackit) << "recovering" << m_target.id() << "from what it observed:"
                        << seen.describe(m_target.units()).replace(u'\n', QStringLiteral("; "));
    QStringList done;
    bool rootReady = seen.rootExists;
    if (seen.rowsGone()) {
        // The DELETEs committed, whatever their step said: the run's end state is the wipe's.
        record.deleted = m_toDelete;
    } else if (!seen.rootExists && seen.trashExists) {
        rootReady = restoreRoot(context);
        if (rootReady)
            done << QStringLiteral("the outpack root was put back");
    }
    // With rows left and no root, starting outpack would create an empty root under them: better left stopped.
    const bool unitsUp = (seen.rowsGone() || rootReady) && startUnitsForRecovery(context, seen);
    if (unitsUp && !seen.unitsActive())
        done << QStringLiteral("both units were started again");
    if (seen.rowsGone() && seen.trashExists) {
        if (keepForRecovery(context, seen))
            done << QStringLiteral("the old outpack root and every deleted row are kept for the undo window");
        else if (unitsUp && removeOldRoot(context) && removeBundle(context))
            done << QStringLiteral("the old outpack root was deleted");
    }
    // An export cut short leaves a partial bundle of rows that were never deleted.
    if (!seen.rowsGone() && seen.bundleExists && removeBundle(context))
        done << QStringLiteral("the partial restore bundle was deleted");

    QString error;
    Observed end;
    const auto last = observe(&error);
    if (last) {
        end = *last;
        record.after = end.counts;
    }
    record.summary = recoverySummary(record, last ? end : seen, done);
    context.note(QStringLiteral("recovery-state"),
        { { QStringLiteral("observed"), seen.describe(m_target.units()) },
            { QStringLiteral("end"), last ? end.describe(m_target.units()) : error },
            { QStringLiteral("summary"), record.summary } });
    const Observed& now = last ? end : seen;
    const bool kept = context.record().undoOpened;
    return last && now.unitsActive() && (!now.trashExists || kept) && (now.bundleExists == kept)
        && (now.rowsGone() || now.rootExists);
}

// The rows are gone: with a whole bundle beside the old root (the export was on and finished before the DELETE),
// the wipe keeps both for the undo window, as a finished wipe would; else the runbook's end state.
bool PackitWipeOperation::keepForRecovery(RunContext& context, const Observed& seen)
{
    if (seen.bundleSums.isEmpty() || m_target.host.undo.off() || !context.plan().undo.enabled)
        return false;
    beginRecoveryStep(context, QStringLiteral("keep-old-root"));
    QString error;
    const auto trash = m_connection->rootStats(trashPath(), &error);
    const auto bundle = trash ? m_connection->rootStats(bundlePath(), &error) : std::nullopt;
    if (!bundle) {
        context.fail(error);
        return false;
    }
    context.record().before.insert(QStringLiteral("files"), trash->files);
    context.record().before.insert(QStringLiteral("bytes"), trash->bytes);
    openWindow(context, context.plan().undo.notRestorable, seen, trash->bytes + bundle->bytes);
    if (!context.record().undoOpened) {
        context.fail(QStringLiteral("the journal did not take the undo window: %1").arg(context.journalError()));
        return false;
    }
    context.succeed(QStringLiteral("kept: %1 and %2").arg(trashPath(), bundlePath()));
    return true;
}

QString PackitWipeOperation::recoverySummary(
    const RunRecord& record, const Observed& seen, const QStringList& done) const
{
    QString failedStep = QStringLiteral("cancelled");
    for (const StepRecord& step : record.steps) {
        if (!step.recovery && (step.state == StepRecord::State::Failed || step.state == StepRecord::State::Cancelled)) {
            failedStep = step.title + QStringLiteral(": ") + step.error;
            break;
        }
    }
    QString endState;
    if (seen.rowsGone() && record.undoOpened)
        endState = QStringLiteral("wiped (every packet and group deleted); the old outpack root (%1) and every deleted "
                                  "row (%2) are kept until %3, and opsdeck restore %4 puts them back")
                       .arg(trashPath(), bundlePath(), utcMinuteText(record.undo.until), record.id);
    else if (seen.rowsGone() && !seen.trashExists)
        endState = QStringLiteral("wiped (every packet and group deleted, the outpack root re-created empty)");
    else if (seen.rowsGone())
        endState = QStringLiteral("wiped (every packet and group deleted); the old outpack root is still at %1: "
                                  "delete it by hand")
                       .arg(trashPath());
    else if (seen.rootExists && !seen.trashExists)
        endState = QStringLiteral("untouched (no packet or group deleted, the outpack root in place)");
    else
        endState = QStringLiteral("NOT SAFE: the rows are still there but the outpack root is %1%2; put %3 back to "
                                  "%4 by hand with the units stopped")
                       .arg(seen.rootExists ? QStringLiteral("a new one") : QStringLiteral("missing"),
                           seen.trashExists ? QStringLiteral(", the old one is at ") + trashPath() : QString(),
                           trashPath(), m_target.instance.outpackRoot);
    const QString units = seen.unitsActive() ? QStringLiteral("Both units are active.")
                                             : QStringLiteral("The units are NOT running (%1); start them by hand: %2")
                                                   .arg(seen.unitStates.join(QStringLiteral(", ")),
                                                       commandText(m_target.host, QStringLiteral("startUnits"),
                                                           { { QStringLiteral("units"), m_target.units() } }));
    const QString what = m_recovers.isEmpty()
        ? QStringLiteral("%1 was not wiped as planned (%2).").arg(m_target.id(), failedStep)
        : QStringLiteral("%1: recovery of wipe run %2, which ended without an outcome.").arg(m_target.id(), m_recovers);
    return QStringLiteral("%1 End state: %2. %3 %4")
        .arg(what, endState,
            done.isEmpty() ? QStringLiteral("Recovery changed nothing.")
                           : QStringLiteral("Recovery: ") + done.join(QStringLiteral("; ")) + u'.',
            units);
}

// The windows of wipes and restores on this instance: their kept root and bundle.
bool PackitWipeOperation::endsExpired(const UndoWindow& window) const
{
    return PackitRestoreOperation::restoredOperations().contains(window.operation) && window.target == m_target.id();
}

bool PackitWipeOperation::endWindow(const UndoWindow& window, QString* error)
{
    return connection(error) && PackitTrashOperation::removeKept(*m_connection, window, error);
}

} // namespace opsdeck
