#include "core/ShellQuote.h"

#include <algorithm>

namespace opsdeck::ShellQuote {

namespace {
bool isPlain(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-' || c == u'_'
        || c == u'.' || c == u'/' || c == u',' || c == u':' || c == u'@' || c == u'+' || c == u'%';
}
} // namespace

QString quote(const QString& arg)
{
    if (!arg.isEmpty() && std::all_of(arg.begin(), arg.end(), isPlain))
        return arg;
    // '=' is quoted too: a plain "A=b" first word would be read as an assignment.
    // Inside single quotes nothing is special; a single quote itself ends the quoting, is escaped, and
    // quoting resumes.
    QString quoted = arg;
    quoted.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + quoted + u'\'';
}

QString join(const QStringList& argv)
{
    QStringList words;
    words.reserve(argv.size());
    for (const QString& arg : argv)
        words << quote(arg);
    return words.join(u' ');
}

} // namespace opsdeck::ShellQuote
