#pragma once

#include "pulumi/PulumiQueries.h"
#include "pulumi/PulumiRowFile.h"

#include <QSqlDatabase>

#include <optional>

namespace opsdeck {

// The rows a purge batch takes and a restore puts back: what the schema says of them (read from information_schema,
// as the plan's counts are), the locking export inside the batch's transaction, and the inserts of a restore.
namespace PulumiRows {

// One table a phase's delete reaches, as a restore needs it.
struct TableShape
{
    QString table;
    QList<PulumiQueries::ForeignKey> path; // from the phase's root (empty for the root)
    QStringList columns; // every stored column (generated ones are recomputed), in the table's order
    QList<bool> hex; // per column: binary, so exported as HEX() and inserted as UNHEX()
    QList<bool> floating; // per column: FLOAT or DOUBLE, exported with every digit
    QStringList key; // the primary key's columns
    QStringList deferred; // columns naming a row inserted later (the circular Stacks.active_update_id): inserted
                          // NULL, then set once the rows they name are back
};

// Both phases: the Stacks delete's tables, then the Programs delete's, each root first and every table after the
// one its cascade key names, which is the order a restore inserts them in.
struct Shape
{
    QList<TableShape> stacks;
    QList<TableShape> programs;
    // Why the deletes take something a restore could not put back exactly on this schema (a table without a primary
    // key, a key that sets columns NULL outside the cascade, a table reached twice); empty when it could.
    QString problem;

    const TableShape* find(const QString& table) const;
};
std::optional<Shape> readShape(const QSqlDatabase& db, const QList<PulumiQueries::ForeignKey>& keys, QString* error);

// Inside the batch's transaction, before its deletes: the statement that reads and locks (FOR UPDATE, so nothing is
// added below them before the delete) every row of `table` reached from the root rows whose ids fill its "%1"
// placeholder list; and its rows as a file's table.
QString exportSql(const TableShape& table);
PulumiRowFile::Table readRows(QSqlQuery& query, const TableShape& table);

// What a restore of one file's table did.
struct Inserted
{
    qint64 inserted = 0;
    qint64 existed = 0; // rows whose primary key is taken again: left as they are
    QStringList existedKeys; // their keys, the first few, for the report
};

// Inserts the file's rows of one table that do not exist (by primary key), deferred columns NULL; `shape` is the live
// schema's, which the file's columns must match. Then, for `insertedKeys` of an earlier call, sets the deferred
// columns (setDeferred). Runs inside the caller's transaction.
bool insertMissing(const QSqlDatabase& db,
    const TableShape& shape,
    const PulumiRowFile::Table& rows,
    Inserted* result,
    QList<qsizetype>* insertedRows,
    QString* error);
bool setDeferred(const QSqlDatabase& db,
    const TableShape& shape,
    const PulumiRowFile::Table& rows,
    const QList<qsizetype>& insertedRows,
    QString* error);
// How many of the file's rows of one table exist now (by primary key).
std::optional<qint64> countExisting(
    const QSqlDatabase& db, const TableShape& shape, const PulumiRowFile::Table& rows, QString* error);

// Why `rows` (a file's table) cannot be restored into the live `shape`: a column added, dropped or changed to or from
// binary since the purge. Empty when it can.
QString columnsProblem(const TableShape& shape, const PulumiRowFile::Table& rows);

} // namespace PulumiRows
} // namespace opsdeck
