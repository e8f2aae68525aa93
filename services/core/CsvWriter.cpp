#include "core/CsvWriter.h"

namespace opsdeck {

CsvWriter::CsvWriter(QString lineEnd)
    : m_lineEnd(std::move(lineEnd))
{
}

void CsvWriter::addRow(const QStringList& cells)
{
    QStringList written;
    written.reserve(cells.size());
    for (const QString& text : cells)
        written.append(cell(text));
    m_text += written.join(u',') + m_lineEnd;
}

QString CsvWriter::cell(QString text)
{
    static const QString kFormulaStarts = QStringLiteral("=+-@\t\r");
    if (!text.isEmpty() && kFormulaStarts.contains(text.front()))
        text.prepend(u'\'');
    if (text.contains(u',') || text.contains(u'"') || text.contains(u'\n') || text.contains(u'\r'))
        text = u'"' + text.replace(u'"', QStringLiteral("\"\"")) + u'"';
    return text;
}

} // namespace opsdeck
