#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace opsdeck {

// The one way to write CSV in opsdeck (reports, the deploy matrix, exported tables): RFC 4180 quoting, UTF-8,
// and cells a spreadsheet would evaluate as a formula neutralised.
class CsvWriter
{
public:
    // RFC 4180 ends lines with CRLF; a file meant for line-based tools may ask for "\n".
    explicit CsvWriter(QString lineEnd = QStringLiteral("\r\n"));

    void addRow(const QStringList& cells);
    QByteArray toUtf8() const { return m_text.toUtf8(); }

    // One cell as written: a cell starting with =, +, -, @, tab or carriage return gets a leading ' (OWASP's
    // list: a spreadsheet would run it as a formula); a cell with a comma, quote or line break is quoted.
    static QString cell(QString text);

private:
    QString m_lineEnd;
    QString m_text;
};

} // namespace opsdeck
