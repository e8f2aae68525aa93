#pragma once

#include <QString>
#include <QStringList>

namespace opsdeck::ShellQuote {

// Quotes one argument for a POSIX shell: the result is always a single word whose value is exactly `arg`,
// whatever it contains (metacharacters, quotes, newlines, non-ASCII). Plain words stay unquoted for
// readable logs.
QString quote(const QString& arg);

// Joins an argv into one command line for a shell (ssh carries only a string; so does `sh -c`).
QString join(const QStringList& argv);

} // namespace opsdeck::ShellQuote
