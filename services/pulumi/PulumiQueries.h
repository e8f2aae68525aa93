#pragma once

#include "core/RowSource.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// The Pulumi Service database as the runbook pulumi-purge-soft-deleted.md reads it. Every value is a bound
// parameter; table and column names come from information_schema and are checked before they go into SQL.
namespace PulumiQueries {

struct Organization
{
    QString githubLogin;
    QString name;
    qint64 softDeleted = 0; // Programs with deleted_at > 0
    qint64 live = 0;
};

// The runbook's first query, for every organisation (those without soft-deleted stacks too), by github_login.
std::optional<QList<Organization>> organizations(const QSqlDatabase& db, QString* error);

// A foreign key as information_schema describes it: child.column -> parent.referencedColumn.
struct ForeignKey
{
    QString child;
    QString column;
    QString parent;
    QString referencedColumn;
    QString deleteRule; // CASCADE, RESTRICT, NO ACTION, SET NULL
};
std::optional<QList<ForeignKey>> foreignKeys(const QSqlDatabase& db, QString* error);

// The tables a delete from `root` reaches through ON DELETE CASCADE keys, each with the chain of keys from the
// root to it (the root itself has an empty chain). Found from the keys, so a cascade child added to the
// service's schema later is counted with no change here.
struct CascadeTable
{
    QString table;
    QList<ForeignKey> path; // root -> ... -> table
};
QList<CascadeTable> cascadeFrom(const QString& root, const QList<ForeignKey>& keys);
// "FROM `<table>` AS t<depth> JOIN ... WHERE t0.id IN %1": the table's rows reached from the root rows whose id is in
// the placeholder list %1, along the cascade path. The table's own alias is t<path.size()>.
QString cascadeJoin(const CascadeTable& table);

// information_schema's TABLE_ROWS per table of the schema (InnoDB's estimate, as the runbook's baseline).
std::optional<QMap<QString, qint64>> tableRows(const QSqlDatabase& db, QString* error);

// information_schema's AVG_ROW_LENGTH per table of the schema (data only, InnoDB's estimate).
std::optional<QMap<QString, qint64>> averageRowBytes(const QSqlDatabase& db, QString* error);

// Exact rows per table, over the whole schema.
std::optional<QMap<QString, qint64>> exactRows(const QSqlDatabase& db, const QStringList& tables, QString* error);

// The soft-deleted stacks a page at a time: each row's fields in this order (deletedAt in epoch seconds; the
// Programs id is the unique tie-breaker of every sort). Filtered on the stack name or the organisation's login (a
// substring), sorted by org, name, project or deletedAt (any other field sorts by name); keyset paging, so the last
// page of 100,000 costs what the first does.
enum StackField
{
    StackOrg,
    StackName,
    StackProject,
    StackDeletedAt,
    StackStackId,
    StackProgramId,
    StackFieldCount
};
std::optional<QList<RowValues>> softDeletedStacks(const QSqlDatabase& db, const PageRequest& request, QString* error);
std::optional<qint64> softDeletedStackCount(const QSqlDatabase& db, const QString& filter, QString* error);

// The server's sessions, as SHOW FULL PROCESSLIST shows them: [{id, user, host, db, command, time, state, info}],
// but for the session `db` is (CONNECTION_ID()), whose only statement is this one.
std::optional<QJsonArray> processList(const QSqlDatabase& db, QString* error);
// One session of the process list, {id, user, host, db, command, time, state, info} as processList gives them;
// an empty object when the server has no session with that id.
std::optional<QJsonObject> process(const QSqlDatabase& db, qint64 id, QString* error);
// KILL QUERY <id>: stops the statement, keeps the session (the runbook says KILL; this is the gentler form).
bool killQuery(const QSqlDatabase& db, qint64 id, QString* error);

// A name from information_schema that may go into SQL as an identifier (backquoted).
bool isPlainIdentifier(const QString& name);

} // namespace PulumiQueries
} // namespace opsdeck
