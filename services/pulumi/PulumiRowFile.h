#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// A restore file of the Pulumi purge's undo window: the rows one batch's transaction took, table by table in the
// order a restore inserts them, as text. Pure: the purge writes it (SyncedFile) before its batch commits, and the
// restore reads it back. The file checks itself: its last line counts the rows and holds the sha256 of every byte
// before it, so a truncated or altered file is refused, never half restored.
//
//   opsdeck-pulumi-rows 1
//   T<TAB>Stacks<TAB>id<TAB>org_id<TAB>active_update_id ...   a table and its columns; "name:hex" marks a column
//                                                            whose values are hex (binary columns)
//   R<TAB>value<TAB>value ...                                 one row of the table above: \N is NULL; backslash,
//                                                            tab, newline and carriage return are escaped
//   E<TAB><rows><TAB><sha256 of everything above this line, hex>
namespace PulumiRowFile {

using Value = std::optional<QString>; // nullopt: NULL
using Row = QList<Value>;

struct Table
{
    QString name;
    QStringList columns;
    QList<bool> hex; // per column: its values are the hex of its bytes
    QList<Row> rows;

    friend bool operator==(const Table&, const Table&) = default;
};

// The whole file, trailer included.
QByteArray encode(const QList<Table>& tables);
// The tables of a whole file; nullopt with *error naming the line when it is not one (a bad header, line or escape,
// a row whose field count is not its table's, a table or column name that is not a plain identifier, a missing
// trailer, a wrong count or sum).
std::optional<QList<Table>> decode(const QByteArray& data, QString* error);
// The sha256 (hex) of a whole file, as the journal records it.
QString sum(const QByteArray& data);

} // namespace PulumiRowFile
} // namespace opsdeck
