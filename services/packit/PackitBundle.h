#pragma once

#include "config/Inventory.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace opsdeck::PackitBundle {

// A Packit wipe's restore bundle: every row the wipe takes, in COPY text format, written by psql on the instance's
// host next to the moved-aside root, and read back by a restore. Pure: these build the psql commands and read their
// output; PackitWipeOperation and PackitRestoreOperation run them.

// Rows per packet file: a COPY FROM of one file then stays well under a second.
constexpr int kPacketPartRows = 20000;
constexpr QLatin1StringView kSumsFile { "SHA256SUMS" };

struct Table
{
    QString name;
    QString columns; // every column, in catalog order
    QString taken; // the wipe's predicate: which rows it takes
};

// The six tables the wipe takes rows from, in the order a restore inserts them (parents first).
const QList<Table>& tables();
// The three sequences the taken rows' ids come from.
const QStringList& sequences();

// Session settings every bundle session starts with: formats that make COPY text byte-stable, and a name that
// lets recovery find the session.
QStringList sessionSettings(const QString& applicationName);
// The \copy commands that write every taken row, the sequences and SHA256SUMS (synced) into `dir`; the sums are
// printed as the last output. Run inside a transaction that sees exactly the rows about to be deleted.
QStringList exportCommands(const QString& dir);
// The commands that insert the bundle in `dir` back with their original ids, skipping (and printing, as
// "SKIPPED <table> <id>") grants and packet tags whose role, permission or tag is gone, and raising the three
// sequences to what they were (never lowering one). `packetParts` are the packet files, from the sums.
QStringList importCommands(const QString& dir, const QStringList& packetParts);
// argv for the host: its psql template for `database`, then the commands, one -c each, stopping at the first error.
QStringList psqlArgv(const Host& host, const QString& database, const QStringList& commands);

// What a bundle session printed.
struct Output
{
    QMap<QString, QString> sums; // file name -> sha256, from the SHA256SUMS lines
    QList<qint64> copied; // the row count of each COPY, in order
    QStringList skipped; // "role_permission 12", "packet_tag 40"
};
Output parse(const QByteArray& output);
// The packet files among the sums' names, in order.
QStringList packetParts(const QMap<QString, QString>& sums);
// Empty if the sums name a complete bundle (every table's file, the sequences, sha256 values), else what is wrong.
QString checkSums(const QMap<QString, QString>& sums);

// Empty if `keptRoot` and `bundle`, read from the journal, are a kept root of `instance` strictly under `base`
// (<base>/.opsdeck-wipe-<instance>-<8 hex> or .opsdeck-restore-...) and the bundle beside it; else what is wrong.
// They name paths that a restore moves and a trash purge deletes.
QString keptPathError(const QString& base, const QString& instance, const QString& keptRoot, const QString& bundle);

} // namespace opsdeck::PackitBundle
