#pragma once

#include <QLocale>
#include <QString>

namespace opsdeck {

// "1,234,567": a count with its digits grouped as in English, whatever the machine's locale, so that counts in the
// panes, the CLI and the reports read alike.
inline QString numberText(qint64 count)
{
    return QLocale(QLocale::English).toString(count);
}

// "1 host", "1,250 hosts": a count and its noun in English, the one language of the panes, the CLI and the reports
// (there is no translation to give Qt's "%n" its plural forms). `plural` is for the nouns that do not just take an s.
inline QString counted(qint64 count, const QString& singular, const QString& plural = {})
{
    return numberText(count) + u' ' + (count == 1 ? singular : plural.isEmpty() ? singular + u's' : plural);
}

} // namespace opsdeck
