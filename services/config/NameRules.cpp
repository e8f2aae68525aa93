#include "config/NameRules.h"

#include <QDir>
#include <QRegularExpression>
#include <QStringList>

using namespace Qt::StringLiterals;

namespace opsdeck::NameRules {

namespace {

bool isLowerAlnum(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9');
}

// Absolute and without ".." segments: ".." could climb out of a base once symlinks are involved, whatever
// a lexical clean-up says.
bool isPlainAbsolute(const QString& path)
{
    return path.startsWith(u'/') && !path.split(u'/').contains(u".."_s);
}

} // namespace

bool isValidName(const QString& name)
{
    // A loop rather than a regular expression: "$" would also match before a trailing newline.
    if (name.isEmpty() || name.size() > 63 || !isLowerAlnum(name.front()))
        return false;
    for (const QChar c : name) {
        if (!isLowerAlnum(c) && c != u'-')
            return false;
    }
    return true;
}

QString nameError(const QString& field, const QString& value)
{
    if (isValidName(value))
        return {};
    return u"%1 %2 is not allowed: use 1-63 characters a-z, 0-9 and '-', starting with a letter or digit"_s.arg(
        field, quoted(value));
}

bool isValidDnsLabel(const QString& name)
{
    return isValidName(name) && isLowerAlnum(name.back());
}

QString dnsLabelError(const QString& field, const QString& value)
{
    if (isValidDnsLabel(value))
        return {};
    return u"%1 %2 is not allowed: use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or "
           "digit"_s.arg(field, quoted(value));
}

QString datamonContextError(const QString& field, const QString& value)
{
    static const QRegularExpression rule(u"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\\z"_s);
    if (rule.match(value).hasMatch())
        return {};
    return u"%1 %2 is not allowed: use 1-63 letters, digits, '_', '.', '-'"_s.arg(field, quoted(value));
}

bool isStrictlyUnder(const QString& path, const QString& base)
{
    if (!isPlainAbsolute(path) || !isPlainAbsolute(base))
        return false;
    const QString cleanPath = QDir::cleanPath(path);
    QString prefix = QDir::cleanPath(base);
    if (!prefix.endsWith(u'/'))
        prefix += u'/';
    return cleanPath.size() > prefix.size() && cleanPath.startsWith(prefix);
}

QString quoted(const QString& value)
{
    QString result = u"\""_s;
    for (const QChar c : value) {
        if (c == u'"' || c == u'\\')
            result += u"\\"_s + c;
        else if (c == u'\n')
            result += u"\\n"_s;
        else if (c == u'\t')
            result += u"\\t"_s;
        else if (c == u'\r')
            result += u"\\r"_s;
        else if (c.category() == QChar::Other_Control || c.category() == QChar::Separator_Line
            || c.category() == QChar::Separator_Paragraph)
            result += u"\\u%1"_s.arg(uint(c.unicode()), 4, 16, QChar(u'0'));
        else
            result += c;
    }
    return result + u'"';
}

} // namespace opsdeck::NameRules
