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
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$"));
    return pattern;
}

// Stack names in Pulumi: letters, digits, '-', '_' and '.', at most 100.
const QRegularExpression& stackPattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_.-]{1,100}$"));
    return pattern;
}

// The soft-deleted Programs of the scope, as a subquery selecting `column` (id or stack_id); its values are
// bound in order: the organisations, then the stacks kept.
QString scopeSubquery(const PulumiPurgeScope& scope, const QString& column)
{
    QString sql = QStringLiteral("SELECT p.%1 FROM Programs AS p JOIN Organizations AS o ON p.org_id = o.id "
                                 "WHERE o.github_login IN %2 AND p.deleted_at > 0")
                      .arg(column, PulumiPurgePlan::placeholders(scope.orgs.size()));
    if (!scope.keepStacks.isEmpty())
        sql += QStringLiteral(" AND p.stack_name NOT IN %1")
                   .arg(PulumiPurgePlan::placeholders(scope.keepStacks.size()));
    return sql;
}

void bindScope(QSqlQuery& query, const PulumiPurgeScope& scope)
{
    for (const QString& org : scope.orgs)
        query.addBindValue(org);
    for (const QString& stack : scope.keepStacks)
        query.addBindValue(stack);
}

// COUNT(*) of `table` rows reached from the scope's root rows along the cascade path.
QString cascadeCount(const PulumiQueries::CascadeTable& table, const QString& rootKey, const QString& subquery)
{
    const qsizetype depth = table.path.size();
    QString sql = QStringLiteral("SELECT COUNT(*) FROM `%1` AS t%2").arg(table.table).arg(depth);
    for (qsizetype i = depth; i > 0; --i) {
        const PulumiQueries::ForeignKey& key = table.path[i - 1];
        sql += QStringLiteral(" JOIN `%1` AS t%2 ON t%3.`%4` = t%2.`%5`")
                   .arg(key.parent)
                   .arg(i - 1)
                   .arg(i)
                   .arg(key.column, key.referencedColumn);
    }
    return sql + QStringLiteral(" WHERE t0.`%1` IN (%2)").arg(rootKey, subquery);
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

std::optional<Plan> PulumiPurgePlan::make(
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
    QJsonArray perOrg;
    qint64 stacks = 0;
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
    QSqlQuery perOrgQuery(db);
    perOrgQuery.prepare(QStringLiteral("SELECT o.github_login, COUNT(*) FROM Programs AS p JOIN Organizations AS o "
                                       "ON p.org_id = o.id WHERE p.id IN (%1) GROUP BY o.github_login")
                            .arg(scopeSubquery(scope, QStringLiteral("id"))));
    bindScope(perOrgQuery, scope);
    if (!perOrgQuery.exec()) {
        *error = perOrgQuery.lastError().text();
        return std::nullopt;
    }
    QStringList lines;
    while (perOrgQuery.next()) {
        stacks += perOrgQuery.value(1).toLongLong();
        perOrg.append(QJsonObject { { QStringLiteral("org"), perOrgQuery.value(0).toString() },
            { QStringLiteral("stacks"), perOrgQuery.value(1).toLongLong() } });
        lines << QStringLiteral("%1: %2 soft-deleted stacks")
                     .arg(perOrgQuery.value(0).toString())
                     .arg(perOrgQuery.value(1).toLongLong());
    }
    plan.counts << Plan::Count { QStringLiteral("stacks"), QStringLiteral("Soft-deleted stacks"), stacks };

    // Rows per table through the cascades: the Stacks delete first, then the Programs delete.
    QJsonObject rows;
    for (const auto& [root, key] : { std::pair(QStringLiteral("Stacks"), QStringLiteral("stack_id")),
             std::pair(QStringLiteral("Programs"), QStringLiteral("id")) }) {
        for (const PulumiQueries::CascadeTable& table : PulumiQueries::cascadeFrom(root, *keys)) {
            if (rows.contains(table.table))
                continue;
            QSqlQuery count(db);
            count.prepare(cascadeCount(table, QStringLiteral("id"), scopeSubquery(scope, key)));
            bindScope(count, scope);
            if (!count.exec() || !count.next()) {
                *error = QStringLiteral("counting %1: %2").arg(table.table, count.lastError().text());
                return std::nullopt;
            }
            const qint64 n = count.value(0).toLongLong();
            rows.insert(table.table, n);
            plan.counts << Plan::Count { QStringLiteral("rows.") + table.table,
                QStringLiteral("%1 rows%2")
                    .arg(table.table,
                        table.path.isEmpty() ? QString()
                                             : QStringLiteral(" (cascade from %1)").arg(table.path.back().parent)),
                n };
        }
    }
    // The checkpoints that stay on S3 (the runbook's backup step).
    QSqlQuery keysQuery(db);
    keysQuery.prepare(QStringLiteral("SELECT COUNT(c.data_key) FROM UpdateCheckpointInfo AS c JOIN Updates AS u ON "
                                     "c.update_id = u.id WHERE u.stack_id IN (%1)")
                          .arg(scopeSubquery(scope, QStringLiteral("stack_id"))));
    bindScope(keysQuery, scope);
    if (!keysQuery.exec() || !keysQuery.next()) {
        *error = QStringLiteral("counting the checkpoint data keys: %1").arg(keysQuery.lastError().text());
        return std::nullopt;
    }
    plan.counts << Plan::Count { QStringLiteral("dataKeys"), QStringLiteral("Checkpoint data keys left on S3"),
        keysQuery.value(0).toLongLong() };

    QJsonObject baselineJson;
    for (auto it = baseline->cbegin(); it != baseline->cend(); ++it)
        baselineJson.insert(it.key(), it.value());
    plan.details = { { QStringLiteral("perOrg"), perOrg }, { QStringLiteral("rows"), rows },
        { QStringLiteral("tableRowsBefore"), baselineJson } };
    plan.detailText = lines.join(u'\n');
    plan.steps = {
        { QStringLiteral("export-keys"), QStringLiteral("Export the checkpoint data keys beside the report"),
            QStringLiteral("SELECT c.data_key FROM UpdateCheckpointInfo ... (the runbook's backup query)"),
            QStringLiteral("one line per key, as many as counted") },
        { QStringLiteral("clear-active"), QStringLiteral("Set Stacks.active_update_id NULL for the planned stacks"),
            QStringLiteral("UPDATE Stacks SET active_update_id = NULL WHERE id IN (<batch of planned ids>)"),
            QStringLiteral("no planned stack has an active update") },
        { QStringLiteral("delete-stacks"), QStringLiteral("Delete the planned Stacks (cascades to Updates and below)"),
            QStringLiteral("DELETE FROM Stacks WHERE id IN (<batch of planned ids>), in batches"),
            QStringLiteral("none of the planned stacks is left") },
        { QStringLiteral("delete-programs"),
            QStringLiteral("Delete the planned Programs (cascades to ProgramUpdates and Resources)"),
            QStringLiteral("DELETE FROM Programs WHERE id IN (<batch of planned ids>) AND deleted_at > 0, in batches"),
            QStringLiteral("none of the planned programs is left") },
    };
    if (!scope.keepStacks.isEmpty())
        plan.warnings << QStringLiteral("kept (not purged): %1").arg(scope.keepStacks.join(QStringLiteral(", ")));
    plan.warnings << QStringLiteral("the checkpoint files stay on S3 (versioned bucket): their keys are exported");
    return plan;
}

} // namespace opsdeck
