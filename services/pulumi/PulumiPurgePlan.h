#pragma once

#include "config/Inventory.h"
#include "pulumi/PulumiQueries.h"
#include "runbook/Plan.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStringList>

#include <optional>

namespace opsdeck {

// What a purge of soft-deleted stacks covers: organisations by github_login (the runbook's IN list) and the
// soft-deleted stacks to keep, by name.
struct PulumiPurgeScope
{
    QStringList orgs;
    QStringList keepStacks;

    // Why the scope cannot be used, naming the field and what is allowed; empty if it can.
    QString error() const;
};

// A soft-deleted stack the plan will purge: its Programs row and the Stacks row it names.
struct PlannedStack
{
    QString programId;
    QString stackId;
    QString stackName;
    QString org; // github_login
    QString orgId;
};

// The plan and the stacks it covers, in Stacks primary-key order: every statement of the run is bound to them.
struct PlannedPurge
{
    Plan plan;
    QList<PlannedStack> stacks;
    QList<PulumiQueries::ForeignKey> keys; // the schema's, as the counts followed them
};

// The runbook's read-only steps as a plan: the stacks per organisation, rows per table counted through the
// schema's own cascades from Stacks and from Programs, the TABLE_ROWS baseline and the checkpoint data keys
// that stay on S3. Changes nothing. The counts go by chunks of planned ids, so no statement scans for long.
namespace PulumiPurgePlan {

// `target` names the database for people ("pulumi via bastion"); its tags make the plan production or read-only.
std::optional<PlannedPurge> make(
    const QSqlDatabase& db, const PulumiPurgeScope& scope, const QString& target, const Tags& tags, QString* error);

// Planned ids per counting or key-reading statement: a few hundred milliseconds at most on the 100,000-stack
// sandbox.
constexpr qsizetype kCountChunk = 1000;

// "(?, ?, ?)" for n bound values.
QString placeholders(qsizetype n);

// Prepares `sql`, whose "%1" stands for the list "(?, ?, ...)", and binds `ids` to it.
void prepareWithIds(QSqlQuery& query, const QString& sql, const QStringList& ids);

} // namespace PulumiPurgePlan
} // namespace opsdeck
