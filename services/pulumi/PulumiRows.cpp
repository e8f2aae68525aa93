#include "pulumi/PulumiRows.h"

#include <QHash>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

namespace opsdeck::PulumiRows {

namespace {

using PulumiQueries::ForeignKey;

// Rows per statement of a restore: a few thousand bound values, far under the server's limit, and short.
constexpr qsizetype kValuesPerStatement = 4000;
constexpr int kListedKeys = 20;

bool isBinaryType(const QString& type)
{
    static const QSet<QString> binary { QStringLiteral("binary"), QStringLiteral("varbinary"),
        QStringLiteral("tinyblob"), QStringLiteral("blob"), QStringLiteral("mediumblob"), QStringLiteral("longblob"),
        QStringLiteral("bit"), QStringLiteral("geometry"), QStringLiteral("point"), QStringLiteral("linestring"),
        QStringLiteral("polygon"), QStringLiteral("multipoint"), QStringLiteral("multilinestring"),
        QStringLiteral("multipolygon"), QStringLiteral("geometrycollection") };
    return binary.contains(type.toLower());
}

bool isFloatingType(const QString& type)
{
    const QString t = type.toLower();
    return t == QStringLiteral("float") || t == QStringLiteral("double");
}

bool run(QSqlQuery& query, QString* error)
{
    if (query.exec())
        return true;
    *error = query.lastError().text();
    return false;
}

// A column as a value of the file: hex for binary, every digit for floating point, else the server's text.
QString selected(const TableShape& shape, qsizetype column, const QString& alias)
{
    const QString name = QStringLiteral("%1.`%2`").arg(alias, shape.columns[column]);
    if (shape.hex[column])
        return QStringLiteral("HEX(%1)").arg(name);
    if (shape.floating[column])
        return name;
    return QStringLiteral("CAST(%1 AS CHAR)").arg(name);
}

// A value of the file as a bound placeholder of its column.
QString placeholder(const TableShape& shape, qsizetype column)
{
    return shape.hex[column] ? QStringLiteral("UNHEX(?)") : QStringLiteral("?");
}

PulumiRowFile::Value valueOf(const QVariant& value, bool floating)
{
    if (value.isNull())
        return std::nullopt;
    return floating ? QString::number(value.toDouble(), 'g', 17) : value.toString();
}

QVariant bound(const PulumiRowFile::Value& value)
{
    return value ? QVariant(*value) : QVariant(QMetaType(QMetaType::QString));
}

// The positions of the key's columns in the file's table.
QList<qsizetype> keyColumns(const TableShape& shape, const PulumiRowFile::Table& rows)
{
    QList<qsizetype> positions;
    for (const QString& key : shape.key)
        positions << rows.columns.indexOf(key);
    return positions;
}

QString keyText(const PulumiRowFile::Row& row, const QList<qsizetype>& keyColumns)
{
    QStringList parts;
    for (qsizetype c : keyColumns)
        parts << row[c].value_or(QStringLiteral("\\N"));
    return parts.join(QChar(0x1f));
}

// "(`a`, `b`) IN ((?, ?), (?, ?))" or "`a` IN (?, ?)" for n keys, binary key columns unhexed.
QString keyIn(const TableShape& shape, qsizetype n)
{
    QStringList columns, marks;
    for (const QString& key : shape.key) {
        columns << QStringLiteral("`%1`").arg(key);
        marks << placeholder(shape, shape.columns.indexOf(key));
    }
    const QString one
        = shape.key.size() == 1 ? marks.first() : QStringLiteral("(") + marks.join(QStringLiteral(", ")) + u')';
    QStringList all;
    for (qsizetype i = 0; i < n; ++i)
        all << one;
    const QString left
        = shape.key.size() == 1 ? columns.first() : QStringLiteral("(") + columns.join(QStringLiteral(", ")) + u')';
    return QStringLiteral("%1 IN (%2)").arg(left, all.join(QStringLiteral(", ")));
}

// The keys of the file's rows that exist in the live table, as keyText.
std::optional<QSet<QString>> existingKeys(
    const QSqlDatabase& db, const TableShape& shape, const PulumiRowFile::Table& rows, QString* error)
{
    const QList<qsizetype> keys = keyColumns(shape, rows);
    QStringList selectedKeys;
    for (const QString& key : shape.key)
        selectedKeys << selected(shape, shape.columns.indexOf(key), QStringLiteral("t"));
    const qsizetype chunk = std::max<qsizetype>(1, kValuesPerStatement / shape.key.size());
    QSet<QString> existing;
    for (qsizetype from = 0; from < rows.rows.size(); from += chunk) {
        const qsizetype n = std::min(chunk, rows.rows.size() - from);
        QSqlQuery query(db);
        query.setForwardOnly(true);
        query.prepare(QStringLiteral("SELECT %1 FROM `%2` AS t WHERE %3")
                          .arg(selectedKeys.join(QStringLiteral(", ")), shape.table, keyIn(shape, n)));
        for (qsizetype i = from; i < from + n; ++i) {
            for (qsizetype c : keys)
                query.addBindValue(bound(rows.rows[i][c]));
        }
        if (!run(query, error))
            return std::nullopt;
        while (query.next()) {
            QStringList parts;
            for (int c = 0; c < shape.key.size(); ++c)
                parts << (query.isNull(c) ? QStringLiteral("\\N") : query.value(c).toString());
            existing.insert(parts.join(QChar(0x1f)));
        }
    }
    return existing;
}

} // namespace

const TableShape* Shape::find(const QString& table) const
{
    for (const QList<TableShape>* phase : { &stacks, &programs }) {
        for (const TableShape& shape : *phase) {
            if (shape.table == table)
                return &shape;
        }
    }
    return nullptr;
}

std::optional<Shape> readShape(const QSqlDatabase& db, const QList<ForeignKey>& keys, QString* error)
{
    struct Column
    {
        QString name;
        bool hex;
        bool floating;
    };
    QHash<QString, QList<Column>> columns;
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_GENERATED FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"));
    if (!run(query, error))
        return std::nullopt;
    while (query.next()) {
        if (query.value(3).toString() == QStringLiteral("ALWAYS"))
            continue; // generated: the server computes it again on insert
        const QString type = query.value(2).toString();
        columns[query.value(0).toString()]
            << Column { query.value(1).toString(), isBinaryType(type), isFloatingType(type) };
    }
    QHash<QString, QStringList> primaryKeys;
    query.prepare(QStringLiteral("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
                                 "TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' "
                                 "ORDER BY TABLE_NAME, ORDINAL_POSITION"));
    if (!run(query, error))
        return std::nullopt;
    while (query.next())
        primaryKeys[query.value(0).toString()] << query.value(1).toString();

    Shape shape;
    QStringList problems;
    QSet<QString> inBoth;
    const auto phase = [&](const QString& root, QList<TableShape>* into) {
        const QList<PulumiQueries::CascadeTable> reached = PulumiQueries::cascadeFrom(root, keys);
        QStringList order;
        for (const PulumiQueries::CascadeTable& t : reached)
            order << t.table;
        for (const PulumiQueries::CascadeTable& t : reached) {
            TableShape table { t.table, t.path, {}, {}, {}, primaryKeys.value(t.table), {} };
            for (const Column& c : columns.value(t.table)) {
                if (!PulumiQueries::isPlainIdentifier(c.name)) {
                    problems << QStringLiteral("%1 has a column named %2, which opsdeck will not put into SQL")
                                    .arg(t.table, c.name);
                    continue;
                }
                table.columns << c.name;
                table.hex << c.hex;
                table.floating << c.floating;
            }
            if (table.key.isEmpty())
                problems << QStringLiteral("%1 has no primary key").arg(t.table);
            const qsizetype position = order.indexOf(t.table);
            int cascadesIn = 0;
            for (const ForeignKey& key : keys) {
                if (key.child != t.table || !order.contains(key.parent))
                    continue;
                if (key.deleteRule == QStringLiteral("CASCADE") && order.indexOf(key.parent) < position)
                    ++cascadesIn;
                else if (order.indexOf(key.parent) >= position && !table.deferred.contains(key.column))
                    table.deferred << key.column;
            }
            if (cascadesIn > 1)
                problems << QStringLiteral("%1 is reached by %2 cascading keys").arg(t.table).arg(cascadesIn);
            for (const ForeignKey& key : keys) {
                if (key.parent == t.table && key.deleteRule == QStringLiteral("SET NULL"))
                    problems << QStringLiteral("deleting %1 rows sets %2.%3 NULL").arg(t.table, key.child, key.column);
            }
            if (shape.find(t.table))
                inBoth.insert(t.table);
            *into << table;
        }
    };
    phase(QStringLiteral("Stacks"), &shape.stacks);
    phase(QStringLiteral("Programs"), &shape.programs);
    for (const QString& table : inBoth)
        problems << QStringLiteral("%1 is reached from both Stacks and Programs").arg(table);
    // A Stacks-phase row that names a Programs-phase row could not be put back before it.
    for (const ForeignKey& key : keys) {
        const bool fromStacks = std::any_of(
            shape.stacks.cbegin(), shape.stacks.cend(), [&](const TableShape& t) { return t.table == key.child; });
        const bool toPrograms = std::any_of(
            shape.programs.cbegin(), shape.programs.cend(), [&](const TableShape& t) { return t.table == key.parent; });
        if (fromStacks && toPrograms)
            problems << QStringLiteral("%1.%2 names a row of %3").arg(key.child, key.column, key.parent);
    }
    problems.removeDuplicates();
    shape.problem = problems.join(QStringLiteral("; "));
    return shape;
}

QString exportSql(const TableShape& table)
{
    const QString alias = QStringLiteral("t%1").arg(table.path.size());
    QStringList expressions;
    for (qsizetype c = 0; c < table.columns.size(); ++c)
        expressions << selected(table, c, alias);
    return QStringLiteral("SELECT %1 ").arg(expressions.join(QStringLiteral(", ")))
        + PulumiQueries::cascadeJoin({ table.table, table.path }) + QStringLiteral(" FOR UPDATE");
}

PulumiRowFile::Table readRows(QSqlQuery& query, const TableShape& table)
{
    PulumiRowFile::Table rows { table.table, table.columns, table.hex, {} };
    const int n = static_cast<int>(table.columns.size());
    while (query.next()) {
        PulumiRowFile::Row row;
        row.reserve(n);
        for (int c = 0; c < n; ++c)
            row << valueOf(query.value(c), table.floating[c]);
        rows.rows << row;
    }
    return rows;
}

QString columnsProblem(const TableShape& shape, const PulumiRowFile::Table& rows)
{
    if (rows.columns != shape.columns || rows.hex != shape.hex)
        return QStringLiteral("%1's columns changed since the purge (then: %2; now: %3)")
            .arg(shape.table, rows.columns.join(QStringLiteral(", ")), shape.columns.join(QStringLiteral(", ")));
    return {};
}

bool insertMissing(const QSqlDatabase& db,
    const TableShape& shape,
    const PulumiRowFile::Table& rows,
    Inserted* result,
    QList<qsizetype>* insertedRows,
    QString* error)
{
    *result = {};
    insertedRows->clear();
    if (const QString problem = columnsProblem(shape, rows); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    const auto existing = existingKeys(db, shape, rows, error);
    if (!existing)
        return false;
    const QList<qsizetype> keys = keyColumns(shape, rows);
    QSet<QString> seen = *existing;
    for (qsizetype i = 0; i < rows.rows.size(); ++i) {
        const QString key = keyText(rows.rows[i], keys);
        if (seen.contains(key)) {
            ++result->existed;
            if (result->existedKeys.size() < kListedKeys)
                result->existedKeys << QString(key).replace(QChar(0x1f), u'/');
            continue;
        }
        seen.insert(key);
        *insertedRows << i;
    }

    QStringList columnNames, marks;
    QList<qsizetype> boundColumns;
    for (qsizetype c = 0; c < shape.columns.size(); ++c) {
        columnNames << QStringLiteral("`%1`").arg(shape.columns[c]);
        if (shape.deferred.contains(shape.columns[c])) {
            marks << QStringLiteral("NULL");
            continue;
        }
        marks << placeholder(shape, c);
        boundColumns << c;
    }
    const QString tuple = QStringLiteral("(") + marks.join(QStringLiteral(", ")) + u')';
    const qsizetype chunk = std::max<qsizetype>(1, kValuesPerStatement / std::max<qsizetype>(1, boundColumns.size()));
    for (qsizetype from = 0; from < insertedRows->size(); from += chunk) {
        const qsizetype n = std::min(chunk, insertedRows->size() - from);
        QStringList tuples;
        for (qsizetype i = 0; i < n; ++i)
            tuples << tuple;
        QSqlQuery insert(db);
        insert.prepare(
            QStringLiteral("INSERT INTO `%1` (%2) VALUES %3")
                .arg(shape.table, columnNames.join(QStringLiteral(", ")), tuples.join(QStringLiteral(", "))));
        for (qsizetype i = from; i < from + n; ++i) {
            const PulumiRowFile::Row& row = rows.rows[insertedRows->at(i)];
            for (qsizetype c : boundColumns)
                insert.addBindValue(bound(row[c]));
        }
        if (!run(insert, error)) {
            *error = QStringLiteral("inserting %1 rows: %2").arg(shape.table, *error);
            return false;
        }
        result->inserted += n;
    }
    return true;
}

bool setDeferred(const QSqlDatabase& db,
    const TableShape& shape,
    const PulumiRowFile::Table& rows,
    const QList<qsizetype>& insertedRows,
    QString* error)
{
    const QList<qsizetype> keys = keyColumns(shape, rows);
    QStringList keyMatch;
    for (const QString& key : shape.key)
        keyMatch << QStringLiteral("`%1` = %2").arg(key, placeholder(shape, shape.columns.indexOf(key)));
    const QString when = QStringLiteral("WHEN ") + keyMatch.join(QStringLiteral(" AND ")) + QStringLiteral(" THEN ");
    for (const QString& column : shape.deferred) {
        const qsizetype c = shape.columns.indexOf(column);
        QList<qsizetype> named; // the inserted rows whose column is not NULL
        for (qsizetype i : insertedRows) {
            if (rows.rows[i][c])
                named << i;
        }
        const qsizetype chunk = std::max<qsizetype>(1, kValuesPerStatement / (2 * (shape.key.size() + 1)));
        for (qsizetype from = 0; from < named.size(); from += chunk) {
            const qsizetype n = std::min(chunk, named.size() - from);
            QStringList cases;
            for (qsizetype i = 0; i < n; ++i)
                cases << when + placeholder(shape, c);
            QSqlQuery update(db);
            update.prepare(QStringLiteral("UPDATE `%1` SET `%2` = CASE %3 END WHERE %4")
                               .arg(shape.table, column, cases.join(u' '), keyIn(shape, n)));
            for (qsizetype i = from; i < from + n; ++i) {
                const PulumiRowFile::Row& row = rows.rows[named[i]];
                for (qsizetype k : keys)
                    update.addBindValue(bound(row[k]));
                update.addBindValue(bound(row[c]));
            }
            for (qsizetype i = from; i < from + n; ++i) {
                for (qsizetype k : keys)
                    update.addBindValue(bound(rows.rows[named[i]][k]));
            }
            if (!run(update, error)) {
                *error = QStringLiteral("setting %1.%2: %3").arg(shape.table, column, *error);
                return false;
            }
        }
    }
    return true;
}

std::optional<qint64> countExisting(
    const QSqlDatabase& db, const TableShape& shape, const PulumiRowFile::Table& rows, QString* error)
{
    if (const QString problem = columnsProblem(shape, rows); !problem.isEmpty()) {
        *error = problem;
        return std::nullopt;
    }
    const auto existing = existingKeys(db, shape, rows, error);
    if (!existing)
        return std::nullopt;
    return existing->size();
}

} // namespace opsdeck::PulumiRows
