#include "packit/PackitRestoreOperation.h"

#include "core/ShellQuote.h"
#include "packit/PackitBundle.h"
#include "packit/PackitLogging.h"
#include "packit/PackitQueries.h"
#include "packit/PackitTrashOperation.h"
#include "packit/PackitUnitSteps.h"
#include "packit/PackitWipeOperation.h"
#include "runbook/RunContext.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

constexpr int kListedPackets = 50; // packets named one by one in the plan

// The packets a database holds, as one value the host's copy of a bundle gives too (see bundleDigest).
const QString kPacketDigestSql
    = QStringLiteral("SELECT md5(coalesce(string_agg(id, ',' ORDER BY id), '')), count(*) FROM packet");

} // namespace

PackitRestoreOperation::PackitRestoreOperation(PackitTarget target)
    : m_target(std::move(target))
{
}

PackitRestoreOperation::~PackitRestoreOperation() = default;

QStringList PackitRestoreOperation::restoredOperations()
{
    return { QStringLiteral("packit-wipe"), QStringLiteral("packit-wipe-recover"), QStringLiteral("packit-restore"),
        QStringLiteral("packit-restore-recover") };
}

std::unique_ptr<PackitRestoreOperation> PackitRestoreOperation::fromParameters(
    PackitTarget target, const QJsonObject& parameters, QString* error)
{
    auto operation = std::unique_ptr<PackitRestoreOperation>(new PackitRestoreOperation(std::move(target)));
    PackitRestoreOperation& op = *operation;
    op.m_restores = parameters.value(QStringLiteral("window")).toString();
    op.m_keptRoot = parameters.value(QStringLiteral("keptRoot")).toString();
    op.m_bundle = parameters.value(QStringLiteral("bundle")).toString();
    op.m_sums = UndoWindows::sumsFrom(parameters.value(QStringLiteral("sums")).toObject());
    op.m_flywayRank = parameters.value(QStringLiteral("flywayRank")).toInteger(-1);
    op.m_tag = parameters.value(QStringLiteral("tag")).toString();
    // They come from the journal, and name paths this operation moves and deletes: each is checked for its shape.
    static const QRegularExpression tag(QStringLiteral("^[0-9a-f]{8}\\z"));
    QString problem = PackitBundle::checkSums(op.m_sums);
    const QString paths = PackitBundle::keptPathError(
        op.m_target.host.outpackBase, op.m_target.instance.name, op.m_keptRoot, op.m_bundle);
    if (op.m_restores.isEmpty())
        problem = QStringLiteral("it names no run");
    else if (!paths.isEmpty())
        problem = paths;
    else if (op.m_flywayRank < 0)
        problem = QStringLiteral("it records no schema version");
    else if (!tag.match(op.m_tag).hasMatch())
        problem = QStringLiteral("it names no valid set-aside tag (\"%1\")").arg(op.m_tag);
    if (!problem.isEmpty()) {
        *error = QStringLiteral("the undo window of %1 cannot be used: %2").arg(op.m_target.id(), problem);
        return nullptr;
    }
    op.m_bundleDigest = parameters.value(QStringLiteral("bundleDigest")).toString();
    op.m_currentDigest = parameters.value(QStringLiteral("currentDigest")).toString();
    op.m_setsAside = parameters.value(QStringLiteral("setsAside")).toBool();
    op.m_now = parameters.value(QStringLiteral("now")).toObject();
    return operation;
}

std::unique_ptr<PackitRestoreOperation> PackitRestoreOperation::fromWindow(
    PackitTarget target, const UndoWindow& window, QString* error)
{
    QJsonObject parameters = window.restore;
    parameters.insert(QStringLiteral("window"), window.runId);
    parameters.insert(QStringLiteral("tag"), QUuid::createUuid().toString(QUuid::Id128).left(8));
    return fromParameters(std::move(target), parameters, error);
}

std::unique_ptr<PackitRestoreOperation> PackitRestoreOperation::recovering(
    PackitTarget target, const QString& runId, const QJsonObject& parameters, QString* error)
{
    auto operation = fromParameters(std::move(target), parameters, error);
    if (operation && (operation->m_bundleDigest.isEmpty() || operation->m_currentDigest.isEmpty())) {
        *error
            = QStringLiteral("run %1 records no packet digests: check %2 by hand").arg(runId, operation->m_target.id());
        return nullptr;
    }
    if (operation)
        operation->m_recovers = runId;
    return operation;
}

QString PackitRestoreOperation::asideRoot() const
{
    return m_target.host.outpackBase + QStringLiteral("/.opsdeck-restore-") + m_target.instance.name + u'-' + m_tag;
}

QString PackitRestoreOperation::asideBundle() const
{
    return asideRoot() + QStringLiteral(".restore");
}

bool PackitRestoreOperation::connection(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    return m_connection->openDatabase(error);
}

QJsonObject PackitRestoreOperation::parameters() const
{
    QJsonObject parameters
        = { { QStringLiteral("host"), m_target.host.name }, { QStringLiteral("instance"), m_target.instance.name },
              { QStringLiteral("root"), m_target.instance.outpackRoot }, { QStringLiteral("window"), m_restores },
              { QStringLiteral("keptRoot"), m_keptRoot }, { QStringLiteral("bundle"), m_bundle },
              { QStringLiteral("sums"), UndoWindows::sumsJson(m_sums) }, { QStringLiteral("flywayRank"), m_flywayRank },
              { QStringLiteral("tag"), m_tag }, { QStringLiteral("bundleDigest"), m_bundleDigest },
              { QStringLiteral("currentDigest"), m_currentDigest }, { QStringLiteral("setsAside"), m_setsAside } };
    // The runner checks, under the lock, that this window is still open, and ends it once the restore succeeded. A
    // recovery ends it itself, and only if it finds the rows restored.
    if (m_recovers.isEmpty())
        parameters.insert(QStringLiteral("restores"), m_restores);
    else
        parameters.insert(QStringLiteral("recovers"), m_recovers);
    return parameters;
}

// Every file of the bundle still has the sha256 the journal recorded when it was written.
bool PackitRestoreOperation::checkBundle(QString* error)
{
    const auto kept = m_connection->exists(m_keptRoot, error);
    const auto bundle = kept ? m_connection->exists(m_bundle, error) : std::nullopt;
    if (!bundle)
        return false;
    if (!*kept || !*bundle) {
        *error = QStringLiteral("%1 is gone from %2: this window cannot be restored")
                     .arg(*kept ? m_bundle : m_keptRoot, m_target.host.name);
        return false;
    }
    QStringList argv = { QStringLiteral("sha256sum"), QStringLiteral("--") };
    for (auto it = m_sums.cbegin(); it != m_sums.cend(); ++it)
        argv << m_bundle + u'/' + it.key();
    const ExecResult result = m_connection->run(argv, 600000);
    static const QRegularExpression line(QStringLiteral("^([0-9a-f]{64})  (.+)$"));
    QMap<QString, QString> found;
    for (const QString& text : QString::fromUtf8(result.stdoutData).split(u'\n')) {
        if (const auto m = line.match(text); m.hasMatch())
            found.insert(m.captured(2).mid(m_bundle.size() + 1), m.captured(1));
    }
    for (auto it = m_sums.cbegin(); it != m_sums.cend(); ++it) {
        if (found.value(it.key()) != it.value()) {
            *error = QStringLiteral("%1/%2 %3 (the journal recorded sha256 %4): the bundle is not what the wipe wrote, "
                                    "so nothing is restored from it")
                         .arg(m_bundle, it.key(),
                             found.contains(it.key()) ? QStringLiteral("has sha256 ") + found.value(it.key())
                                                      : QStringLiteral("cannot be read (%1)").arg(result.describe()),
                             it.value());
            return false;
        }
    }
    return true;
}

// The rows in each file of the bundle (COPY text: one line per row).
std::optional<QMap<QString, qint64>> PackitRestoreOperation::bundleRows(QString* error)
{
    QStringList argv = { QStringLiteral("wc"), QStringLiteral("-l"), QStringLiteral("--") };
    for (auto it = m_sums.cbegin(); it != m_sums.cend(); ++it)
        argv << m_bundle + u'/' + it.key();
    const ExecResult result = m_connection->run(argv, 600000);
    if (!result.succeeded()) {
        *error = QStringLiteral("cannot count the rows of %1: %2").arg(m_bundle, result.describe());
        return std::nullopt;
    }
    QMap<QString, qint64> rows;
    for (const QString& line : QString::fromUtf8(result.stdoutData).split(u'\n')) {
        const QString path = line.trimmed().section(u' ', 1);
        if (path.startsWith(m_bundle + u'/'))
            rows.insert(path.mid(m_bundle.size() + 1), line.trimmed().section(u' ', 0, 0).toLongLong());
    }
    return rows;
}

// The packet ids of the bundle, joined as kPacketDigestSql joins them (the files are in the database's id order).
std::optional<QString> PackitRestoreOperation::bundleDigest(QString* error)
{
    QStringList argv = { QStringLiteral("sh"), QStringLiteral("-c"),
        QStringLiteral("cat -- \"$@\" </dev/null | cut -f1 | paste -sd, - | tr -d '\\n' | md5sum"),
        QStringLiteral("sh") };
    for (const QString& part : PackitBundle::packetParts(m_sums))
        argv << m_bundle + u'/' + part;
    const ExecResult result = m_connection->run(argv, 600000);
    const QString digest = QString::fromUtf8(result.stdoutData).section(u' ', 0, 0);
    if (!result.succeeded() || digest.size() != 32) {
        *error = QStringLiteral("cannot read the packet ids of %1: %2").arg(m_bundle, result.describe());
        return std::nullopt;
    }
    return digest;
}

std::optional<QString> PackitRestoreOperation::currentDigest(QString* error)
{
    QSqlQuery query(m_connection->database());
    if (!query.exec(kPacketDigestSql) || !query.next()) {
        *error = QStringLiteral("cannot read the packets of %1: %2").arg(m_target.id(), query.lastError().text());
        return std::nullopt;
    }
    return query.value(0).toString();
}

bool PackitRestoreOperation::makePlan(Plan* plan, QString* error)
{
    if (!connection(error))
        return false;
    const Host& host = m_target.host;
    plan->operation = name();
    plan->target = m_target.id();
    plan->targetName = m_target.instance.name;
    plan->production = host.tags.production;
    plan->readOnly = host.tags.readOnly;
    plan->verb = m_recovers.isEmpty() ? QStringLiteral("Restore") : QStringLiteral("Recover");
    plan->irreversible = false;
    if (!m_recovers.isEmpty()) {
        const auto seen = observe(error);
        if (!seen)
            return false;
        plan->parameters = parameters();
        planUndo(plan); // finishing it forward keeps what the restore set aside
        plan->warnings << QStringLiteral("Restore run %1 ended without an outcome. Now: the packets are %2; the "
                                         "outpack root %3; the kept root %4; the set-aside root %5.")
                              .arg(m_recovers,
                                  seen->digest == m_bundleDigest ? QStringLiteral("the restored ones")
                                      : seen->digest == m_currentDigest
                                      ? QStringLiteral("those from before the restore")
                                      : QStringLiteral("NEITHER the restored ones nor those from before"),
                                  seen->rootExists ? QStringLiteral("exists") : QStringLiteral("is missing"),
                                  seen->keptExists ? QStringLiteral("is still aside") : QStringLiteral("is gone"),
                                  seen->asideExists ? QStringLiteral("exists") : QStringLiteral("does not"));
        plan->steps = { { QStringLiteral("observe"), QStringLiteral("Read the instance's real state"),
                            QStringLiteral("test -e on the roots; SELECT the packets' digest; the units' ActiveState"),
                            QStringLiteral("read (retried while the host reconnects)") },
            { QStringLiteral("finish"), QStringLiteral("Finish the restore or take it back, as the rows say"),
                QStringLiteral("mv -T of the roots that are not where that state needs them"),
                QStringLiteral("the roots match the rows") },
            { QStringLiteral("recover-start-units"), QStringLiteral("Start both units"),
                QStringLiteral("systemctl start"), QStringLiteral("both units are active") } };
        return true;
    }
    if (!checkBundle(error))
        return false;
    QSqlDatabase db = m_connection->database();
    QSqlQuery schema(db);
    if (!schema.exec(QStringLiteral("SELECT coalesce(max(installed_rank), 0) FROM flyway_schema_history"))
        || !schema.next()) {
        *error = QStringLiteral("cannot read the schema's version: %1").arg(schema.lastError().text());
        return false;
    }
    if (schema.value(0).toLongLong() != m_flywayRank) {
        *error = QStringLiteral("Packit's schema on %1 changed since the rows were kept (migration %2, then %3): the "
                                "bundle's rows may not fit it, so nothing is restored")
                     .arg(m_target.id())
                     .arg(m_flywayRank)
                     .arg(schema.value(0).toLongLong());
        return false;
    }
    const auto counts = PackitQueries::counts(db, error);
    const auto ids = counts ? PackitQueries::packetIds(db, error) : std::nullopt;
    const auto now = ids ? currentDigest(error) : std::nullopt;
    const auto kept = now ? bundleDigest(error) : std::nullopt;
    if (!kept)
        return false;
    m_now = *counts;
    m_currentDigest = *now;
    m_bundleDigest = *kept;
    const qint64 packets = counts->value(QStringLiteral("packets")).toInteger();
    const qint64 groups = counts->value(QStringLiteral("groups")).toInteger();
    const qint64 grants = counts->value(QStringLiteral("scopedPacketGrants")).toInteger()
        + counts->value(QStringLiteral("scopedGroupGrants")).toInteger();
    if (m_currentDigest == m_bundleDigest && packets > 0) {
        *error = QStringLiteral("%1 already holds exactly the packets the bundle holds: there is nothing to restore")
                     .arg(m_target.id());
        return false;
    }
    m_setsAside = packets > 0 || groups > 0 || grants > 0;
    plan->parameters = parameters();
    const auto rows = bundleRows(error);
    if (!rows)
        return false;
    const auto table = [&rows](const QString& name) { return rows->value(name + QStringLiteral(".copy")); };
    qint64 bundlePackets = 0;
    for (const QString& part : PackitBundle::packetParts(m_sums))
        bundlePackets += rows->value(part);
    // Planned: what the wipe's bundle holds; before and after: what the instance holds (PackitQueries::counts).
    const QString inBundle = QStringLiteral("Planned: the %1 in the wipe's restore bundle. Before and after: the %1 in "
                                            "the instance.");
    plan->counts = { { QStringLiteral("packets"), QStringLiteral("Packets put back"), bundlePackets,
                         inBundle.arg(QStringLiteral("packets")) },
        { QStringLiteral("groups"), QStringLiteral("Packet groups put back"), table(QStringLiteral("packet_group")),
            inBundle.arg(QStringLiteral("packet groups")) },
        { QStringLiteral("scopedGrants"), QStringLiteral("Scoped grants put back (if their role is there)"),
            table(QStringLiteral("role_permission")),
            inBundle.arg(QStringLiteral("permissions roles held on one packet or group")) },
        { QStringLiteral("pins"), QStringLiteral("Pins put back"), table(QStringLiteral("pin")),
            inBundle.arg(QStringLiteral("pinned packets")) },
        { QStringLiteral("packetTags"), QStringLiteral("Packet tags put back (if their tag is there)"),
            table(QStringLiteral("packet_tag")), inBundle.arg(QStringLiteral("tags on packets")) },
        { QStringLiteral("oneTimeTokens"), QStringLiteral("One-time tokens put back"),
            table(QStringLiteral("one_time_token")), inBundle.arg(QStringLiteral("one-time download tokens")) } };
    plan->measures = PackitQueries::countMeasures();
    if (m_setsAside)
        plan->counts << Plan::Count { QStringLiteral("packetsNow"), QStringLiteral("Packets there now, set aside"),
            packets,
            QStringLiteral("Packets pushed or made since the wipe: moved aside, kept as this run's undo "
                           "window.") }
                     << Plan::Count { QStringLiteral("groupsNow"), QStringLiteral("Packet groups there now, set aside"),
                            groups, QStringLiteral("Their packet groups, set aside with them.") }
                     << Plan::Count { QStringLiteral("grantsNow"), QStringLiteral("Scoped grants there now, set aside"),
                            grants, QStringLiteral("Permissions on those packets and groups, set aside with them.") };
    if (m_setsAside) {
        // Nothing there now is overwritten without a confirmation that names it.
        plan->typedConfirmation = true;
        plan->targetName = QStringLiteral("%1:set-aside-%2-packets").arg(m_target.instance.name).arg(packets);
        plan->warnings << QStringLiteral(
            "%1 holds %2 packets and %3 groups now (pushed or made since the wipe). They "
            "are not mixed in: they are set aside, with the root they are in, to %4 and "
            "kept as this run's undo window; opsdeck restore of this run brings them back.")
                              .arg(m_target.id())
                              .arg(packets)
                              .arg(groups)
                              .arg(asideRoot());
        QStringList listed;
        for (const QJsonValue& id : *ids) {
            if (listed.size() == kListedPackets) {
                listed << QStringLiteral("  … and %1 more").arg(ids->size() - kListedPackets);
                break;
            }
            listed << QStringLiteral("  %1  %2")
                          .arg(id.toObject().value(QStringLiteral("id")).toString(),
                              id.toObject().value(QStringLiteral("name")).toString());
        }
        plan->detailText = QStringLiteral("Packets there now, set aside:\n") + listed.join(u'\n');
        plan->details = { { QStringLiteral("packetsSetAside"), *ids } };
    }
    plan->warnings << QStringLiteral("Both units are stopped while the rows and the root go back (seconds).")
                   << QStringLiteral("Grants and packet tags whose role, permission or tag was deleted since the wipe "
                                     "cannot go back: they are skipped, and the report lists each one.");
    planUndo(plan);

    const QString psql = QStringLiteral("psql %1 (one transaction)").arg(m_target.database.database);
    plan->steps = {
        { QStringLiteral("stop-units"),
            QStringLiteral("Stop %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            QStringLiteral("systemctl stop"), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-stopped"), QStringLiteral("Check that both units are inactive"),
            QStringLiteral("systemctl show -p ActiveState"), QStringLiteral("ActiveState is not active for either") },
        { QStringLiteral("set-aside-root"), QStringLiteral("Move the outpack root there now aside"),
            ShellQuote::join({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"),
                m_target.instance.outpackRoot, asideRoot() }),
            QStringLiteral("%1 no longer exists").arg(m_target.instance.outpackRoot) },
        { QStringLiteral("restore-rows"), QStringLiteral("Set the rows there now aside and put the bundle's back"),
            QStringLiteral("%1: lock the six tables; \\copy what is there to %2; delete it; \\copy the bundle %3 back "
                           "with its ids; raise the sequences")
                .arg(psql, asideBundle(), m_bundle),
            QStringLiteral("the packets are exactly the bundle's") },
        { QStringLiteral("restore-root"), QStringLiteral("Put the kept outpack root back"),
            ShellQuote::join({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), m_keptRoot,
                m_target.instance.outpackRoot }),
            QStringLiteral("%1 exists").arg(m_target.instance.outpackRoot) },
        { QStringLiteral("start-units"),
            QStringLiteral("Start %1 and %2").arg(m_target.outpackUnit(), m_target.apiUnit()),
            QStringLiteral("systemctl start"), QStringLiteral("the command exits 0") },
        { QStringLiteral("check-started"), QStringLiteral("Check that both units are active and the root is back"),
            QStringLiteral("systemctl show -p ActiveState"),
            QStringLiteral("ActiveState is active for both, and %1/.outpack exists")
                .arg(m_target.instance.outpackRoot) },
        { QStringLiteral("remove-bundle"), QStringLiteral("Delete the bundle, now restored"),
            QStringLiteral("rm -r %1").arg(m_bundle), QStringLiteral("%1 no longer exists").arg(m_bundle) },
        { QStringLiteral("keep-set-aside"),
            m_setsAside ? QStringLiteral("Keep what was set aside for this run's undo window")
                        : QStringLiteral("Delete the empty root and bundle set aside"),
            QStringLiteral("%1 and %2").arg(asideRoot(), asideBundle()),
            m_setsAside ? QStringLiteral("both exist; the journal has the window")
                        : QStringLiteral("neither exists any more") },
    };
    return true;
}

// What was there when the restore was planned is kept as the run's window, if there was anything.
void PackitRestoreOperation::planUndo(Plan* plan) const
{
    const Host& host = m_target.host;
    const UndoPolicy& policy = host.undo;
    plan->undo.retentionSeconds = policy.retentionSeconds;
    plan->undo.where = QStringLiteral("%1:%2 and %3").arg(host.name, asideRoot(), asideBundle());
    plan->undo.until = QDateTime::currentDateTimeUtc().addSecs(policy.retentionSeconds);
    plan->undo.available = m_setsAside && !policy.off();
    if (plan->undo.available)
        plan->undo.restorable << QStringLiteral("the %1 packets and %2 groups set aside, with their root")
                                     .arg(m_now.value(QStringLiteral("packets")).toInteger())
                                     .arg(m_now.value(QStringLiteral("groups")).toInteger());
    else
        plan->undo.notRestorable << (m_setsAside
                ? QStringLiteral("the inventory turns undo windows off for %1").arg(host.name)
                : QStringLiteral("nothing is set aside: %1 holds no packet or group now; to take this back, wipe it")
                      .arg(m_target.id()));
}

bool PackitRestoreOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan)
    QString error;
    if (!connection(&error)) {
        context.record().summary = QStringLiteral("Nothing was changed: %1").arg(error);
        return false;
    }
    context.setCancelHook(m_connection->interrupter());
    if (!m_recovers.isEmpty()) {
        const bool safe = recover(context);
        context.setCancelHook({});
        return safe;
    }
    PackitConnection& host = *m_connection;
    const bool ok = PackitUnitSteps::stop(host, context)
        && PackitUnitSteps::check(host, context, QStringLiteral("inactive"), 20) && setAsideRoot(context)
        && restoreRows(context) && restoreRoot(context) && PackitUnitSteps::start(host, context)
        && PackitUnitSteps::check(host, context, QStringLiteral("active"), 60) && removeRestoredBundle(context)
        && keepSetAside(context);
    if (ok) {
        QSqlDatabase db = m_connection->database();
        if (const auto after = PackitQueries::counts(db, &error))
            context.record().after = *after;
        context.record().before = m_now;
        context.record().summary
            = QStringLiteral("%1 is back as run %2 kept it: %3 packets and %4 groups, and the outpack root; both units "
                             "active.%5%6")
                  .arg(m_target.id(), m_restores)
                  .arg(context.record().after.value(QStringLiteral("packets")).toInteger())
                  .arg(context.record().after.value(QStringLiteral("groups")).toInteger())
                  .arg(!m_setsAside ? QString()
                          : context.record().undoOpened
                          ? QStringLiteral(" What was there (%1 packets) is set aside until %2: opsdeck restore "
                                           "%3 brings it back.")
                                .arg(m_now.value(QStringLiteral("packets")).toInteger())
                                .arg(utcMinuteText(context.record().undo.until), context.record().id)
                          : QStringLiteral(" What was there (%1 packets) is deleted: this run's undo window was "
                                           "turned off.")
                                .arg(m_now.value(QStringLiteral("packets")).toInteger()),
                      m_skipped.isEmpty() ? QString()
                                          : QStringLiteral(" Skipped, their role, permission or tag being gone: %1.")
                                                .arg(m_skipped.join(QStringLiteral(", "))));
    } else {
        recover(context);
    }
    context.setCancelHook({});
    return ok;
}

bool PackitRestoreOperation::move(const QString& from, const QString& to, QString* error)
{
    const ExecResult result
        = m_connection->run({ QStringLiteral("mv"), QStringLiteral("-T"), QStringLiteral("--"), from, to }, 60000);
    const auto moved = m_connection->exists(to, error);
    if (moved && *moved)
        return true;
    if (moved)
        *error = QStringLiteral("moving %1 to %2 failed: %3").arg(from, to, result.describe());
    return false;
}

bool PackitRestoreOperation::removePath(const QString& path, QString* error)
{
    const ExecResult result
        = m_connection->runTemplate(QStringLiteral("removeTree"), { { QStringLiteral("path"), { path } } }, 3600000);
    const auto there = m_connection->exists(path, error);
    if (there && !*there)
        return true;
    if (there)
        *error = QStringLiteral("deleting %1 failed: %2").arg(path, result.describe());
    return false;
}

bool PackitRestoreOperation::setAsideRoot(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("set-aside-root"));
    QString error;
    const auto there = m_connection->exists(m_target.instance.outpackRoot, &error);
    if (there && !*there) {
        context.succeed(QStringLiteral("%1 did not exist; nothing to set aside").arg(m_target.instance.outpackRoot));
        return true;
    }
    if (!there || !move(m_target.instance.outpackRoot, asideRoot(), &error)) {
        context.fail(error);
        return false;
    }
    context.succeed(QStringLiteral("moved to %1").arg(asideRoot()));
    return true;
}

// One transaction on the host: what is there is written aside and deleted, the bundle goes back. The counts the plan
// saw are checked under the lock, so that nothing that arrived since the confirmation is set aside unnamed.
bool PackitRestoreOperation::restoreRows(RunContext& context)
{
    if (context.cancelled())
        return false;
    context.begin(QStringLiteral("restore-rows"));
    const ExecResult made = m_connection->run(
        { QStringLiteral("mkdir"), QStringLiteral("-m"), QStringLiteral("0700"), QStringLiteral("--"), asideBundle() });
    if (!made.succeeded()) {
        context.fail(QStringLiteral("cannot create %1: %2").arg(asideBundle(), made.describe()));
        return false;
    }
    const auto guard = [](const QString& sql, qint64 expected, const QString& what) {
        return QStringLiteral("SELECT CASE WHEN (%1) = %2 THEN 'checked' ELSE 'changed since the plan: ' || (%1) || ' "
                              "%3, planned %2' END AS guard, 1 / ((%1) = %2)::int AS ok")
            .arg(sql)
            .arg(expected)
            .arg(what);
    };
    const QStringList commands = PackitBundle::sessionSettings(QStringLiteral("opsdeck-restore-") + m_tag)
        + QStringList { QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ"),
              QStringLiteral("LOCK TABLE packet, packet_group, role_permission, packet_tag, pin, one_time_token IN "
                             "SHARE ROW EXCLUSIVE MODE"),
              guard(QStringLiteral("SELECT count(*) FROM packet"), m_now.value(QStringLiteral("packets")).toInteger(),
                  QStringLiteral("packets")),
              guard(QStringLiteral("SELECT count(*) FROM packet_group"),
                  m_now.value(QStringLiteral("groups")).toInteger(), QStringLiteral("groups")) }
        + PackitBundle::exportCommands(asideBundle()) + PackitWipeOperation::deleteStatements()
        + PackitBundle::importCommands(m_bundle, PackitBundle::packetParts(m_sums))
        + QStringList { QStringLiteral("COMMIT") };
    const ExecResult result
        = m_connection->run(PackitBundle::psqlArgv(m_target.host, m_target.database.database, commands), 1800000);
    const QString output = QString::fromUtf8(result.stdoutData + result.stderrData);
    if (!result.succeeded()) {
        context.fail(QStringLiteral("the restore transaction did not succeed: %1; whether it committed is read back by "
                                    "recovery")
                         .arg(result.describe()),
            output);
        return false;
    }
    const PackitBundle::Output parsed = PackitBundle::parse(result.stdoutData);
    m_skipped = parsed.skipped;
    QString error;
    const auto now = currentDigest(&error);
    if (!now || *now != m_bundleDigest) {
        context.fail(now ? QStringLiteral("the packets now are not the bundle's") : error, output);
        return false;
    }
    context.succeed(output);
    return true;
}

bool PackitRestoreOperation::restoreRoot(RunContext& context)
{
    context.begin(QStringLiteral("restore-root"));
    QString error;
    if (!move(m_keptRoot, m_target.instance.outpackRoot, &error)) {
        context.fail(error);
        return false;
    }
    context.succeed();
    return true;
}

// What was set aside is kept as this run's window if it held anything; an empty root and bundle are deleted.
bool PackitRestoreOperation::keepSetAside(RunContext& context)
{
    if (!m_recovers.isEmpty())
        context.beginRecovery(QStringLiteral("keep-set-aside"), QStringLiteral("Keep or delete what was set aside"),
            QStringLiteral("%1 and %2").arg(asideRoot(), asideBundle()));
    else
        context.begin(QStringLiteral("keep-set-aside"));
    QString error;
    if (!m_setsAside || !context.plan().undo.opens()) {
        const auto root = m_connection->exists(asideRoot(), &error);
        const bool removed = root && (!*root || removePath(asideRoot(), &error)) && removePath(asideBundle(), &error);
        if (!removed) {
            context.fail(QStringLiteral("%1; delete %2 and %3 by hand").arg(error, asideRoot(), asideBundle()));
            return false;
        }
        context.succeed(QStringLiteral("deleted %1 and %2").arg(asideRoot(), asideBundle()));
        return true;
    }
    const ExecResult check
        = m_connection->run({ QStringLiteral("cat"), asideBundle() + QStringLiteral("/SHA256SUMS") });
    const auto sums = PackitBundle::parse(check.stdoutData).sums;
    const auto root = m_connection->rootStats(asideRoot(), &error);
    const auto bundle = root ? m_connection->rootStats(asideBundle(), &error) : std::nullopt;
    if (!bundle || !PackitBundle::checkSums(sums).isEmpty()) {
        context.fail(QStringLiteral("cannot read what was set aside (%1): it stays at %2 and %3")
                         .arg(bundle ? PackitBundle::checkSums(sums) : error, asideRoot(), asideBundle()));
        return false;
    }
    UndoWindow window;
    window.where = QStringLiteral("%1:%2 and %3").arg(m_target.host.name, asideRoot(), asideBundle());
    window.bytes = root->bytes + bundle->bytes;
    window.restorable << QStringLiteral("the %1 packets and %2 groups there before this restore, with their root")
                             .arg(m_now.value(QStringLiteral("packets")).toInteger())
                             .arg(m_now.value(QStringLiteral("groups")).toInteger());
    window.notRestorable = context.plan().undo.notRestorable;
    window.confirmWith = m_target.instance.name;
    window.restore = { { QStringLiteral("host"), m_target.host.name },
        { QStringLiteral("instance"), m_target.instance.name }, { QStringLiteral("runTag"), m_tag },
        { QStringLiteral("keptRoot"), asideRoot() }, { QStringLiteral("bundle"), asideBundle() },
        { QStringLiteral("sums"), UndoWindows::sumsJson(sums) }, { QStringLiteral("flywayRank"), m_flywayRank } };
    if (!context.openUndoWindow(window)) {
        context.fail(QStringLiteral("the journal did not take the undo window: %1").arg(context.journalError()));
        return false;
    }
    context.succeed(QStringLiteral("kept %1 (%2 files) and %3").arg(asideRoot()).arg(root->files).arg(asideBundle()));
    return true;
}

// Its rows are in the database again and its window ends with this run: the bundle has done its work.
bool PackitRestoreOperation::removeRestoredBundle(RunContext& context)
{
    if (!m_recovers.isEmpty())
        context.beginRecovery(QStringLiteral("remove-bundle"), QStringLiteral("Delete the bundle, now restored"),
            QStringLiteral("rm -r %1").arg(m_bundle));
    else
        context.begin(QStringLiteral("remove-bundle"));
    QString error;
    const auto there = m_connection->exists(m_bundle, &error);
    if (!there || (*there && !removePath(m_bundle, &error))) {
        context.fail(QStringLiteral("%1; the rows are restored, delete %2 by hand").arg(error, m_bundle));
        return false;
    }
    context.succeed();
    return true;
}

bool PackitRestoreOperation::Observed::unitsActive() const
{
    return !unitStates.isEmpty()
        && std::all_of(unitStates.cbegin(), unitStates.cend(), [](const QString& s) { return s == u"active"; });
}

// A psql session cut off may still run on the server (still deleting, or committing): it is ended, and waited for,
// before the rows are read, so that what recovery reads stays true.
bool PackitRestoreOperation::settleSession(QString* error)
{
    QSqlDatabase db = m_connection->database();
    return PackitUnitSteps::endSessions(
        db, QStringLiteral("application_name"), QStringLiteral("opsdeck-restore-") + m_tag, error);
}

std::optional<PackitRestoreOperation::Observed> PackitRestoreOperation::observe(QString* error)
{
    Observed seen;
    const auto root = m_connection->exists(m_target.instance.outpackRoot, error);
    const auto kept = root ? m_connection->exists(m_keptRoot, error) : std::nullopt;
    const auto aside = kept ? m_connection->exists(asideRoot(), error) : std::nullopt;
    const auto asideBundleThere = aside ? m_connection->exists(asideBundle(), error) : std::nullopt;
    if (!asideBundleThere)
        return std::nullopt;
    seen.rootExists = *root;
    seen.keptExists = *kept;
    seen.asideExists = *aside;
    seen.asideBundleExists = *asideBundleThere;
    for (const QString& unit : m_target.units()) {
        seen.unitStates << m_connection->unitState(unit, error);
        if (seen.unitStates.last().isEmpty())
            return std::nullopt;
    }
    if (!m_connection->openDatabase(error) || !settleSession(error))
        return std::nullopt;
    const auto digest = currentDigest(error);
    if (!digest)
        return std::nullopt;
    seen.digest = *digest;
    return seen;
}

void PackitRestoreOperation::closeWindow(RunContext& context, const QString& summary)
{
    context.note(UndoWindow::kClosedKind, UndoWindows::closedData(m_restores, UndoWindow::State::Restored, summary));
}

// After a failure or a lost connection: the rows say which side of the one transaction the instance is on, and the
// roots are brought to match them (restored: the kept root in place; not restored: the root set aside back in place).
bool PackitRestoreOperation::recover(RunContext& context)
{
    const auto step = [&](const QString& id, const QString& title) {
        if (m_recovers.isEmpty())
            context.beginRecovery(id, title, QString());
        else
            context.begin(id);
    };
    RunRecord& record = context.record();
    step(QStringLiteral("observe"), QStringLiteral("Read the instance's real state"));
    QString error;
    Observed seen;
    if (!PackitUnitSteps::withBackoff([&] {
            const auto state = observe(&error);
            if (state)
                seen = *state;
            return state.has_value();
        })) {
        context.fail(error);
        record.summary
            = QStringLiteral("%1: the restore stopped and its state could not be read back (%2), so recovery "
                             "changed nothing. Check by hand: the packets, %3, %4, %5 and the units.")
                  .arg(m_target.id(), error, m_target.instance.outpackRoot, m_keptRoot, asideRoot());
        return false;
    }
    context.succeed();
    const bool restored = seen.digest == m_bundleDigest;
    const bool before = !restored && seen.digest == m_currentDigest;
    qCWarning(lcPackit) << "recovering restore of" << m_target.id()
                        << (restored        ? "after"
                                   : before ? "before"
                                            : "neither");
    step(QStringLiteral("finish"),
        restored ? QStringLiteral("Put the kept root back (the rows are restored)")
                 : QStringLiteral("Put the set-aside root back (the rows were not restored)"));
    bool rootsMatch = false;
    if (restored) {
        rootsMatch = (!seen.rootExists && seen.keptExists && move(m_keptRoot, m_target.instance.outpackRoot, &error))
            || (seen.rootExists && !seen.keptExists);
    } else if (before) {
        rootsMatch = (!seen.rootExists && seen.asideExists && move(asideRoot(), m_target.instance.outpackRoot, &error))
            || (seen.rootExists && !seen.asideExists) || (!seen.rootExists && !seen.asideExists && !m_setsAside);
        if (rootsMatch && seen.asideBundleExists)
            rootsMatch = removePath(asideBundle(), &error);
    }
    if (!rootsMatch) {
        const QString why = (restored || before) ? error
                                                 : QStringLiteral("the packets are neither the bundle's nor those "
                                                                  "there before");
        context.fail(why);
        record.summary = QStringLiteral("%1: NOT SAFE, the restore stopped midway and recovery could not match the "
                                        "roots to the rows (%2). The units stay stopped. Check %3, %4 and %5 by hand.")
                             .arg(m_target.id(), why, m_target.instance.outpackRoot, m_keptRoot, asideRoot());
        return false;
    }
    context.succeed();
    step(QStringLiteral("recover-start-units"), QStringLiteral("Start both units"));
    const ExecResult started = m_connection->runTemplate(
        QStringLiteral("startUnits"), { { QStringLiteral("units"), m_target.units() } }, 60000);
    bool up = false;
    for (int attempt = 0; started.succeeded() && attempt < 60 && !up; ++attempt) {
        const auto state = observe(&error);
        up = state && state->unitsActive();
        if (!up)
            QThread::msleep(500);
    }
    if (!up) {
        context.fail(
            QStringLiteral("the units are not active: %1").arg(started.succeeded() ? error : started.describe()));
        record.summary
            = QStringLiteral("%1: recovery put the roots right (%2), but the units are not active: start them "
                             "by hand.")
                  .arg(m_target.id(), restored ? QStringLiteral("restored") : QStringLiteral("not restored"));
        return false;
    }
    context.succeed();
    if (restored) {
        // The window last: a run killed before it leaves none, and its recovery opens the one window.
        if (!removeRestoredBundle(context) || !keepSetAside(context))
            return false;
        record.summary = QStringLiteral("%1: the restore of run %2 had committed; recovery finished it: the rows and "
                                        "the root are back, both units active.")
                             .arg(m_target.id(), m_restores);
        closeWindow(context, record.summary);
    } else {
        record.summary
            = QStringLiteral("%1: the restore of run %2 did not commit; recovery took it back: the instance is "
                             "as it was before the restore, both units active. The window of run %2 stays "
                             "open: restore it again.")
                  .arg(m_target.id(), m_restores);
    }
    return true;
}

// The windows of wipes and restores on this instance: their kept root and bundle.
bool PackitRestoreOperation::endsExpired(const UndoWindow& window) const
{
    return PackitRestoreOperation::restoredOperations().contains(window.operation) && window.target == m_target.id();
}

bool PackitRestoreOperation::endWindow(const UndoWindow& window, QString* error)
{
    return connection(error) && PackitTrashOperation::removeKept(*m_connection, window, error);
}

} // namespace opsdeck
