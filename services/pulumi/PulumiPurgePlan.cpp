#include "pulumi/PulumiPurgePlan.h"

#include "pulumi/PulumiQueries.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

namespace opsdeck {

namespace {

// GitHub logins (what Organizations.github_login holds): letters, digits and single hyphens, at most 39.
const QRegularExpression& loginPattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\\z"));
    return pattern;
}

// Stack names in Pulumi: letters, digits, '-', '_' and '.', at most 100.
const QRegularExpression& stackPattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_.-]{1,100}\\z"));
    return pattern;
}

// The table and column the runbook's backup step reads: the checkpoints left on S3.
const QString kDataKeyTable = QStringLiteral("UpdateCheckpointInfo");
const QString kDataKeyColumn = QStringLiteral("data_key");

// The scope's soft-deleted stacks, in Stacks primary-key order.
std::optional<QList<PlannedStack>> listStacks(const QSqlDatabase& db, const PulumiPurgeScope& scope, QString* error)
{
    QString sql
        = QStringLiteral("SELECT p.id, p.stack_id, p.stack_name, o.github_login, p.org_id FROM Programs AS p JOIN "
                         "Organizations AS o ON p.org_id = o.id WHERE o.github_login IN %1 AND p.deleted_at > 0")
              .arg(PulumiPurgePlan::placeholders(scope.orgs.size()));
    if (!scope.keepStacks.isEmpty())
        sql += QStringLiteral(" AND p.stack_name NOT IN %1")
                   .arg(PulumiPurgePlan::placeholders(scope.keepStacks.size()));
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(sql + QStringLiteral(" ORDER BY p.stack_id"));
    for (const QString& org : scope.orgs)
        query.addBindValue(org);
    for (const QString& stack : scope.keepStacks)
        query.addBindValue(stack);
    if (!query.exec()) {
        *error = QStringLiteral("listing the soft-deleted stacks: %1").arg(query.lastError().text());
        return std::nullopt;
    }
    QList<PlannedStack> stacks;
    while (query.next())
        stacks << PlannedStack { query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
            query.value(3).toString(), query.value(4).toString() };
    return stacks;
}

// SELECT COUNT(*) of `table`'s rows reached from the root rows whose id is in a chunk of planned ids (the %1
// placeholder list), along the cascade path; with `extra` as a second column.
QString cascadeCount(const PulumiQueries::CascadeTable& table, const QString& extra)
{
    return QStringLiteral("SELECT COUNT(*)%1 ").arg(extra.isEmpty() ? QString() : QStringLiteral(", ") + extra)
        + PulumiQueries::cascadeJoin(table);
}

// Runs a counting statement over the ids chunk by chunk and sums each column.
std::optional<QList<qint64>> sumByChunks(
    const QSqlDatabase& db, const QString& sql, const QStringList& ids, int columns, QString* error)
{
    QList<qint64> sums(columns, 0);
    for (qsizetype from = 0; from < ids.size(); from += PulumiPurgePlan::kCountChunk) {
        const QStringList chunk = ids.mid(from, PulumiPurgePlan::kCountChunk);
        QSqlQuery query(db);
        PulumiPurgePlan::prepareWithIds(query, sql, chunk);
        if (!query.exec() || !query.next()) {
            *error = query.lastError().text();
            return std::nullopt;
        }
        for (int c = 0; c < columns; ++c)
            sums[c] += query.value(c).toLongLong();
    }
    return sums;
}

} // namespace

QString PulumiPurgeScope::error() const
{
    if (orgs.isEmpty())
        return QStringLiteral("orgs is empty: give the organisations' github_login values, e.g. moolumi,pulumi");
    for (const QString& org : orgs) {
        if (orgs.count(org) > 1)
            return QStringLiteral("organisation \"%1\" is given twice").arg(org);
        if (!loginPattern().match(org).hasMatch())
            return QStringLiteral("organisation \"%1\" is not allowed: use a github_login of letters, digits and "
                                  "single hyphens (at most 39)")
                .arg(org);
    }
    for (const QString& stack : keepStacks) {
        if (!stackPattern().match(stack).hasMatch())
            return QStringLiteral("stack to keep \"%1\" is not allowed: use a stack name of letters, digits, '-', '_' "
                                  "and '.' (at most 100)")
                .arg(stack);
    }
    return {};
}

QString PulumiPurgePlan::placeholders(qsizetype n)
{
    QStringList marks;
    for (qsizetype i = 0; i < n; ++i)
        marks << QStringLiteral("?");
    return QStringLiteral("(") + marks.join(QStringLiteral(", ")) + QStringLiteral(")");
}

void PulumiPurgePlan::prepareWithIds(QSqlQuery& query, const QString& sql, const QStringList& ids)
{
    query.prepare(sql.arg(placeholders(ids.size())));
    for (const QString& id : ids)
        query.addBindValue(id);
}

std::optional<PlannedPurge> PulumiPurgePlan::make(
    const QSqlDatabase& db, const PulumiPurgeScope& scope, const QString& target, const Tags& tags, QString* error)
{
    if (const QString problem = scope.error(); !problem.isEmpty()) {
        *error = problem;
        return std::nullopt;
    }
    const auto orgs = PulumiQueries::organizations(db, error);
    if (!orgs)
        return std::nullopt;
    QStringList known;
    for (const PulumiQueries::Organization& o : *orgs)
        known << o.githubLogin;
    for (const QString& org : scope.orgs) {
        if (!known.contains(org)) {
            *error = QStringLiteral("organisation \"%1\" is not in %2: known are %3")
                         .arg(org, target, known.join(QStringLiteral(", ")));
            return std::nullopt;
        }
    }
    const auto keys = PulumiQueries::foreignKeys(db, error);
    if (!keys)
        return std::nullopt;
    const auto baseline = PulumiQueries::tableRows(db, error);
    if (!baseline)
        return std::nullopt;
    const auto stacks = listStacks(db, scope, error);
    if (!stacks)
        return std::nullopt;

    Plan plan;
    plan.operation = QStringLiteral("pulumi-purge");
    plan.target = QStringLiteral("%1 on %2").arg(scope.orgs.join(QStringLiteral(", ")), target);
    // One purge per database at a time, whatever its organisations.
    plan.lock = QStringLiteral("pulumi:") + target;
    plan.targetName = scope.orgs.join(u',');
    plan.verb = QStringLiteral("Purge");
    plan.irreversible = true;
    plan.production = tags.production;
    plan.readOnly = tags.readOnly;
    plan.parameters = { { QStringLiteral("orgs"), QJsonArray::fromStringList(scope.orgs) },
        { QStringLiteral("keepStacks"), QJsonArray::fromStringList(scope.keepStacks) } };

    // Stacks per organisation, as the runbook's first query.
    QMap<QString, qint64> perOrgCount;
    QStringList stackIds, programIds;
    for (const PlannedStack& s : *stacks) {
        ++perOrgCount[s.org];
        stackIds << s.stackId;
        programIds << s.programId;
    }
    QJsonArray perOrg;
    QStringList lines;
    for (auto it = perOrgCount.cbegin(); it != perOrgCount.cend(); ++it) {
        perOrg.append(QJsonObject { { QStringLiteral("org"), it.key() }, { QStringLiteral("stacks"), it.value() } });
        lines << QStringLiteral("%1: %2 soft-deleted stacks").arg(it.key()).arg(it.value());
    }
    plan.counts << Plan::Count { QStringLiteral("stacks"), QStringLiteral("Soft-deleted stacks"), stacks->size(),
        QStringLiteral("Planned: the organisations' stacks deleted in the Pulumi Service (Programs.deleted_at set), "
                       "less the stacks to keep. After: the stacks this run purged.") };

    // Rows per table through the cascades: the Stacks delete first, then the Programs delete. The checkpoint
    // data keys are counted with their table's rows.
    QJsonObject rows, rowsFromRoot;
    std::optional<qint64> dataKeys;
    for (const auto& [root, ids] :
        { std::pair(QStringLiteral("Stacks"), &stackIds), std::pair(QStringLiteral("Programs"), &programIds) }) {
        for (const PulumiQueries::CascadeTable& table : PulumiQueries::cascadeFrom(root, *keys)) {
            if (rows.contains(table.table))
                continue;
            const bool keyTable = table.table == kDataKeyTable;
            const QString extra
                = keyTable ? QStringLiteral("COUNT(t%1.`%2`)").arg(table.path.size()).arg(kDataKeyColumn) : QString();
            const auto sums = sumByChunks(db, cascadeCount(table, extra), *ids, keyTable ? 2 : 1, error);
            if (!sums) {
                *error = QStringLiteral("counting %1: %2").arg(table.table, *error);
                return std::nullopt;
            }
            if (keyTable)
                dataKeys = sums->at(1);
            rows.insert(table.table, sums->at(0));
            rowsFromRoot.insert(root, rowsFromRoot.value(root).toInteger() + sums->at(0));
            plan.counts << Plan::Count { QStringLiteral("rows.") + table.table,
                QStringLiteral("%1 rows%2")
                    .arg(table.table,
                        table.path.isEmpty() ? QString()
                                             : QStringLiteral(" (cascade from %1)").arg(table.path.back().parent)),
                sums->at(0),
                QStringLiteral("Planned: the rows it deletes; before, after: all rows of %1.").arg(table.table) };
        }
    }
    // The backup step reads the keys through the cascade from Stacks: a schema where it does not reach them is
    // not the one the runbook was written for.
    if (!dataKeys) {
        *error = QStringLiteral("%1 is not reached by the cascade from Stacks in %2: the schema is not the "
                                "runbook's; check it before purging")
                     .arg(kDataKeyTable, target);
        return std::nullopt;
    }
    plan.counts << Plan::Count { QStringLiteral("dataKeys"), QStringLiteral("Checkpoint data keys left on S3"),
        *dataKeys,
        QStringLiteral("Keys of the checkpoint files the deleted updates leave on S3. Planned: counted; after: "
                       "written to the data keys file.") };
    // The run's snapshots: an exact count of every table before and after (beside its planned count where the plan
    // has one), the runbook's TABLE_ROWS estimates after, and what the batches did.
    for (auto it = baseline->cbegin(); it != baseline->cend(); ++it) {
        if (rows.contains(it.key()))
            plan.measures << Plan::Measure { it.key(), QStringLiteral("%1 rows").arg(it.key()), {}, false,
                QStringLiteral("rows.") + it.key() };
        else
            plan.measures << Plan::Measure { it.key(), QStringLiteral("%1 rows").arg(it.key()),
                QStringLiteral("Every row of %1 (exact count): the purge does not reach it.").arg(it.key()) };
    }
    plan.measures
        << Plan::Measure { QStringLiteral("tableRows"), QStringLiteral("Rows per table after the purge"),
               QStringLiteral("information_schema TABLE_ROWS, as the runbook's last step reads it: InnoDB's estimate "
                              "from sampled pages, which can be far off (the exact counts are above)."),
               true }
        << Plan::Measure { QStringLiteral("purgedStacks"), QStringLiteral("Stacks purged"), {}, false,
               QStringLiteral("stacks") }
        << Plan::Measure { QStringLiteral("dataKeysFile"), QStringLiteral("Data keys file"),
               QStringLiteral("Where the checkpoint data keys were written, beside the report.") }
        << Plan::Measure { QStringLiteral("skippedStacks"), QStringLiteral("Stacks skipped"),
               QStringLiteral("Undeleted or changed since the plan, or named by a live program: left as they are.") }
        << Plan::Measure { QStringLiteral("skipped"), QStringLiteral("Stacks skipped, and why") }
        << Plan::Measure { QStringLiteral("alreadyGone"), QStringLiteral("Stacks already gone"),
               QStringLiteral("Planned stacks another run or person deleted before this run reached them.") }
        << Plan::Measure { QStringLiteral("stacksRowsOnly"), QStringLiteral("Stacks half purged"),
               QStringLiteral("Stacks rows deleted whose soft-deleted Programs row is still there (the run stopped "
                              "between the runbook's two phases); the next purge finishes them.") }
        << Plan::Measure { QStringLiteral("slowestStatementMs"), QStringLiteral("Slowest statement (ms)"),
               QStringLiteral("How long the slowest single delete statement took, in milliseconds: how long another "
                              "writer could have waited on its locks.") };

    QJsonObject baselineJson;
    for (auto it = baseline->cbegin(); it != baseline->cend(); ++it)
        baselineJson.insert(it.key(), it.value());
    plan.details = { { QStringLiteral("perOrg"), perOrg }, { QStringLiteral("rows"), rows },
        { QStringLiteral("rowsFromRoot"), rowsFromRoot }, { QStringLiteral("tableRowsBefore"), baselineJson } };
    plan.detailText = lines.join(u'\n');
    plan.steps = {
        { QStringLiteral("export-keys"), QStringLiteral("Export the checkpoint data keys beside the report"),
            QStringLiteral("SELECT c.data_key FROM UpdateCheckpointInfo ... (the runbook's backup query)"),
            QStringLiteral("one line per key, as many as counted") },
        { QStringLiteral("delete-stacks"),
            QStringLiteral("Delete the planned Stacks in batches by Stacks id (cascades to Updates and below)"),
            QStringLiteral("per batch, one transaction: SELECT ... FROM Programs WHERE id IN (<batch>) FOR UPDATE; "
                           "UPDATE Stacks SET active_update_id = NULL WHERE id IN (<still soft-deleted>); DELETE FROM "
                           "Stacks WHERE id IN (...); COMMIT"),
            QStringLiteral("none of the planned Stacks rows is left, but for stacks undeleted since the plan") },
        { QStringLiteral("delete-programs"),
            QStringLiteral(
                "Delete their Programs in batches by Programs id (cascades to ProgramUpdates and Resources)"),
            QStringLiteral("per batch, one transaction: SELECT ... FOR UPDATE; DELETE FROM Programs WHERE id IN "
                           "(<still soft-deleted>) AND deleted_at > 0; COMMIT"),
            QStringLiteral("none of the planned programs is left, except undeleted ones") },
    };
    if (!scope.keepStacks.isEmpty())
        plan.warnings << QStringLiteral("kept (not purged): %1").arg(scope.keepStacks.join(QStringLiteral(", ")));
    plan.warnings << QStringLiteral("the checkpoint files stay on S3 (versioned bucket): their keys are exported");
    return PlannedPurge { plan, *stacks, *keys };
}

} // namespace opsdeck
