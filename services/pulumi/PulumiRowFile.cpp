#include "pulumi/PulumiRowFile.h"

#include "pulumi/PulumiQueries.h"

#include <QCryptographicHash>

namespace opsdeck {

namespace {

const QByteArray kHeader = QByteArrayLiteral("opsdeck-pulumi-rows 1");
const QByteArray kNull = QByteArrayLiteral("\\N");
const QByteArray kHexSuffix = QByteArrayLiteral(":hex");

void appendEscaped(QByteArray& out, const PulumiRowFile::Value& value)
{
    if (!value) {
        out += kNull;
        return;
    }
    const QByteArray utf8 = value->toUtf8();
    for (const char c : utf8) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += c;
        }
    }
}

std::optional<PulumiRowFile::Value> unescape(const QByteArray& field)
{
    if (field == kNull)
        return PulumiRowFile::Value {};
    QByteArray out;
    out.reserve(field.size());
    for (qsizetype i = 0; i < field.size(); ++i) {
        if (field[i] != '\\') {
            out += field[i];
            continue;
        }
        if (++i == field.size())
            return std::nullopt;
        switch (field[i]) {
        case '\\':
            out += '\\';
            break;
        case 't':
            out += '\t';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        default:
            return std::nullopt;
        }
    }
    return PulumiRowFile::Value { QString::fromUtf8(out) };
}

bool isHexText(const QString& text)
{
    if (text.size() % 2 != 0)
        return false;
    for (const QChar c : text) {
        if (!((c >= u'0' && c <= u'9') || (c >= u'A' && c <= u'F') || (c >= u'a' && c <= u'f')))
            return false;
    }
    return true;
}

} // namespace

QByteArray PulumiRowFile::encode(const QList<Table>& tables)
{
    QByteArray out = kHeader + '\n';
    qint64 rows = 0;
    for (const Table& table : tables) {
        out += "T\t" + table.name.toUtf8();
        for (qsizetype c = 0; c < table.columns.size(); ++c)
            out += '\t' + table.columns[c].toUtf8() + (table.hex.value(c) ? kHexSuffix : QByteArray());
        out += '\n';
        for (const Row& row : table.rows) {
            out += 'R';
            for (const Value& value : row) {
                out += '\t';
                appendEscaped(out, value);
            }
            out += '\n';
        }
        rows += table.rows.size();
    }
    return out + "E\t" + QByteArray::number(rows) + '\t' + sum(out).toLatin1() + '\n';
}

std::optional<QList<PulumiRowFile::Table>> PulumiRowFile::decode(const QByteArray& data, QString* error)
{
    const auto fail = [error](qsizetype line, const QString& what) {
        *error = QStringLiteral("line %1: %2").arg(line).arg(what);
        return std::nullopt;
    };
    if (!data.endsWith('\n'))
        return fail(0, QStringLiteral("the file does not end with a whole line (truncated?)"));
    const qsizetype trailerStart = data.lastIndexOf('\n', data.size() - 2) + 1;
    const QList<QByteArray> lines = data.left(trailerStart).split('\n');
    // split leaves an empty last element after the final newline before the trailer.
    const qsizetype lineCount = lines.size() - 1;
    const QList<QByteArray> trailer = data.mid(trailerStart, data.size() - trailerStart - 1).split('\t');
    if (lineCount < 1 || lines.first() != kHeader)
        return fail(1,
            QStringLiteral("not an opsdeck Pulumi restore file (the first line is not \"%1\")")
                .arg(QString::fromLatin1(kHeader)));
    if (trailer.size() != 3 || trailer[0] != "E")
        return fail(lineCount + 1, QStringLiteral("the last line is not the file's trailer (truncated?)"));
    if (sum(data.left(trailerStart)).toLatin1() != trailer[2])
        return fail(lineCount + 1, QStringLiteral("the file's sha256 does not match its trailer: it was changed"));

    QList<Table> tables;
    qint64 rows = 0;
    for (qsizetype i = 1; i < lineCount; ++i) {
        const QList<QByteArray> fields = lines[i].split('\t');
        if (fields.first() == "T") {
            Table table;
            table.name = QString::fromUtf8(fields.value(1));
            if (!PulumiQueries::isPlainIdentifier(table.name))
                return fail(i + 1, QStringLiteral("\"%1\" is not a table name").arg(table.name));
            for (qsizetype c = 2; c < fields.size(); ++c) {
                QByteArray column = fields[c];
                const bool hex = column.endsWith(kHexSuffix);
                if (hex)
                    column.chop(kHexSuffix.size());
                table.columns << QString::fromUtf8(column);
                table.hex << hex;
                if (!PulumiQueries::isPlainIdentifier(table.columns.last()))
                    return fail(i + 1, QStringLiteral("\"%1\" is not a column name").arg(table.columns.last()));
            }
            if (table.columns.isEmpty())
                return fail(i + 1, QStringLiteral("table %1 has no columns").arg(table.name));
            tables << table;
        } else if (fields.first() == "R") {
            if (tables.isEmpty())
                return fail(i + 1, QStringLiteral("a row before any table"));
            Table& table = tables.last();
            if (fields.size() - 1 != table.columns.size())
                return fail(i + 1,
                    QStringLiteral("%1 values for the %2 columns of %3")
                        .arg(fields.size() - 1)
                        .arg(table.columns.size())
                        .arg(table.name));
            Row row;
            row.reserve(table.columns.size());
            for (qsizetype c = 1; c < fields.size(); ++c) {
                const auto value = unescape(fields[c]);
                if (!value)
                    return fail(i + 1, QStringLiteral("a bad escape in column %1").arg(table.columns[c - 1]));
                if (*value && table.hex[c - 1] && !isHexText(**value))
                    return fail(i + 1, QStringLiteral("column %1 is not hex").arg(table.columns[c - 1]));
                row << *value;
            }
            table.rows << row;
            ++rows;
        } else {
            return fail(i + 1, QStringLiteral("neither a table (T) nor a row (R)"));
        }
    }
    if (trailer[1] != QByteArray::number(rows))
        return fail(lineCount + 1,
            QStringLiteral("the trailer counts %1 rows, the file holds %2")
                .arg(QString::fromLatin1(trailer[1]))
                .arg(rows));
    return tables;
}

QString PulumiRowFile::sum(const QByteArray& data)
{
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

} // namespace opsdeck
