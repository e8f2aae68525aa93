#include "datamon/DatamonOutput.h"

#include "config/NameRules.h"

#include <QJsonDocument>
#include <QRegularExpression>
#include <QStringDecoder>

namespace opsdeck {

using namespace Qt::StringLiterals;

namespace {

// Explicit ASCII classes: \d and \S would also take other scripts' digits and spaces.
const QRegularExpression kRfc3339(uR"(^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2}))"
                                  uR"((?:\.([0-9]{1,9}))?(?:Z|([+-])([0-9]{2}):?([0-9]{2}))\z)"_s);
// The time alone, so that the repo size line can find it before its size.
const QString kGoTimePattern = uR"(([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}))"
                               uR"((?:\.([0-9]{1,9}))? ([+-])([0-9]{2})([0-9]{2}) [^ \n]+(?: m=[+-][0-9]+\.[0-9]+)?)"_s;
const QRegularExpression kGoTime(u"^"_s + kGoTimePattern + uR"(\z)"_s);
// model.ValidateRepo's letters, digits and '-', in ASCII (../shared/reference/datamon.md section 4).
const QRegularExpression kRepoName(uR"(^[A-Za-z0-9-]+\z)"_s);
// A ksuid, as bundle ids are.
const QRegularExpression kBundleId(uR"(^[A-Za-z0-9]+\z)"_s);

// The date and time captured by kRfc3339 or kGoTime (the same groups: date, time, fraction, offset sign, hours and
// minutes), in UTC; milliseconds are all QDateTime keeps.
std::optional<QDateTime> utcFromCaptures(const QRegularExpressionMatch& match, QStringView text, QString* error)
{
    const auto number = [&](int group) { return match.capturedView(group).toInt(); };
    const QDate date(number(1), number(2), number(3));
    QString fraction = match.captured(7);
    fraction = fraction.left(3).leftJustified(3, u'0');
    const QTime time(number(4), number(5), number(6), fraction.toInt());
    if (!date.isValid() || !time.isValid()) {
        *error = u"%1 has no such date or time of day"_s.arg(NameRules::quoted(text.toString()));
        return std::nullopt;
    }
    int offset = 0;
    if (match.hasCaptured(8)) {
        if (number(9) > 23 || number(10) > 59) {
            *error = u"%1 has an offset from UTC beyond 23:59"_s.arg(NameRules::quoted(text.toString()));
            return std::nullopt;
        }
        offset = (number(9) * 3600 + number(10) * 60) * (match.capturedView(8) == u"-" ? -1 : 1);
    }
    return QDateTime(date, time, Qt::UTC).addSecs(-offset);
}

// `text` read by kRfc3339 or kGoTime; `what` names the format in the error.
std::optional<QDateTime> timeMatching(
    const QRegularExpression& format, QStringView text, const QString& what, QString* error)
{
    const QRegularExpressionMatch match = format.match(text);
    if (!match.hasMatch()) {
        *error = u"%1 is not %2"_s.arg(NameRules::quoted(text.toString()), what);
        return std::nullopt;
    }
    return utcFromCaptures(match, text, error);
}

// Decimal digits only, as Go's %d prints an unsigned number; nullopt past 2^64 - 1.
std::optional<quint64> unsignedNumber(QStringView text)
{
    if (text.isEmpty() || text.size() > 20)
        return std::nullopt;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
    }
    bool ok = false;
    const quint64 value = text.toULongLong(&ok);
    return ok ? std::optional<quint64>(value) : std::nullopt;
}

// Stdout as UTF-8 text, without the one newline Go's log printing leaves at the end.
QString outputText(QByteArrayView output)
{
    QString text = QString::fromUtf8(output);
    if (text.endsWith(u'\n'))
        text.chop(1);
    return text;
}

// A listing line's fields, split on single spaces with empty ones kept, each read with the line and the field named
// in *error.
class ListingLine
{
public:
    ListingLine(const QStringList& names, qsizetype lineNumber, QString* error)
        : m_names(names)
        , m_lineNumber(lineNumber)
        , m_error(error)
    {
    }

    // False, with *error, unless the line has exactly as many fields as there are names.
    bool split(QByteArrayView line)
    {
        qsizetype start = 0;
        for (qsizetype space = line.indexOf(' '); space >= 0; space = line.indexOf(' ', start)) {
            m_fields.append(line.sliced(start, space - start));
            start = space + 1;
        }
        m_fields.append(line.sliced(start));
        if (m_fields.size() == m_names.size())
            return true;
        *m_error = u"line %1: expected %2 fields separated by single spaces (%3), found %4"_s.arg(m_lineNumber)
                       .arg(m_names.size())
                       .arg(m_names.join(u", "_s))
                       .arg(m_fields.size());
        return false;
    }

    // urlquery-unescaped.
    std::optional<QString> text(qsizetype index) const
    {
        QString why;
        return named(index, DatamonOutput::queryUnescape(m_fields.at(index), &why), why);
    }

    // Unescaped, and matching `pattern`; `what` says what the pattern allows.
    std::optional<QString> matching(qsizetype index, const QRegularExpression& pattern, const QString& what) const
    {
        std::optional<QString> value = text(index);
        if (value && !pattern.match(*value).hasMatch())
            return named(index, std::optional<QString>(), u"%1 is not %2"_s.arg(NameRules::quoted(*value), what));
        return value;
    }

    // The RFC3339Nano time the templates print.
    std::optional<QDateTime> time(qsizetype index) const
    {
        QString why;
        return named(index, DatamonOutput::parseRfc3339(QString::fromUtf8(m_fields.at(index)), &why), why);
    }

    // A number as Go's %d prints an unsigned one.
    std::optional<quint64> count(qsizetype index) const
    {
        const QString digits = QString::fromUtf8(m_fields.at(index));
        return named(index, unsignedNumber(digits), u"%1 is not a count"_s.arg(NameRules::quoted(digits)));
    }

private:
    // `value`; when there is none, *error says where and `why`.
    template <typename T> std::optional<T> named(qsizetype index, std::optional<T> value, const QString& why) const
    {
        if (!value)
            *m_error = u"line %1, field %2 (%3): %4"_s.arg(m_lineNumber).arg(index + 1).arg(m_names.at(index), why);
        return value;
    }

    const QStringList& m_names;
    qsizetype m_lineNumber;
    QString* m_error;
    QList<QByteArrayView> m_fields;
};

// The values of a purge summary: from its first line (`title`), each following line starts with the next of
// `prefixes`; what follows the prefix is the value.
std::optional<QStringList> summaryValues(
    QByteArrayView output, const QString& command, const QString& title, const QStringList& prefixes, QString* error)
{
    const QStringList lines = outputText(output).split(u'\n');
    const qsizetype first = lines.indexOf(title);
    if (first < 0) {
        *error = u"%1 printed no summary: no line %2 in its output"_s.arg(command, NameRules::quoted(title));
        return std::nullopt;
    }
    QStringList values;
    for (qsizetype i = 0; i < prefixes.size(); ++i) {
        const qsizetype at = first + 1 + i;
        const QString line = at < lines.size() ? lines.at(at) : QString();
        if (at >= lines.size() || !line.startsWith(prefixes.at(i))) {
            *error = u"line %1 of %2's summary: expected %3..., found %4"_s.arg(at + 1).arg(command,
                NameRules::quoted(prefixes.at(i)),
                at < lines.size() ? NameRules::quoted(line) : u"the end of the output"_s);
            return std::nullopt;
        }
        values.append(line.mid(prefixes.at(i).size()));
    }
    return values;
}

// Value `index` of a summary as a count or a time; the error names the summary's line.
std::optional<quint64> summaryNumber(
    const QStringList& values, qsizetype index, const QString& command, const QStringList& prefixes, QString* error)
{
    const std::optional<quint64> number = unsignedNumber(values.at(index));
    if (!number)
        *error = u"%1's summary: %2 is followed by %3, not a count"_s.arg(
            command, NameRules::quoted(prefixes.at(index)), NameRules::quoted(values.at(index)));
    return number;
}

std::optional<QDateTime> summaryTime(
    const QStringList& values, qsizetype index, const QString& command, const QStringList& prefixes, QString* error)
{
    QString why;
    std::optional<QDateTime> time = DatamonOutput::parseGoTime(values.at(index), &why);
    if (!time)
        *error = u"%1's summary: after %2, %3"_s.arg(command, NameRules::quoted(prefixes.at(index)), why);
    return time;
}

} // namespace

namespace DatamonOutput {

std::optional<QString> queryUnescape(QByteArrayView field, QString* error)
{
    QByteArray bytes;
    bytes.reserve(field.size());
    for (qsizetype i = 0; i < field.size(); ++i) {
        const char c = field.at(i);
        if (c == '+') {
            bytes.append(' ');
        } else if (c != '%') {
            bytes.append(c);
        } else {
            const QByteArrayView escape = field.sliced(i, qMin<qsizetype>(3, field.size() - i));
            const auto hex = [](char digit) { return QByteArrayView("0123456789abcdefABCDEF").contains(digit); };
            if (escape.size() < 3 || !hex(escape.at(1)) || !hex(escape.at(2))) {
                *error = u"bad escape %1 at byte %2 (a '%' takes two hex digits)"_s.arg(
                    NameRules::quoted(QString::fromLatin1(escape)), QString::number(i + 1));
                return std::nullopt;
            }
            bytes.append(char(escape.sliced(1).toUInt(nullptr, 16)));
            i += 2;
        }
    }
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder.decode(bytes);
    if (decoder.hasError()) {
        *error = u"the unescaped bytes are not UTF-8"_s;
        return std::nullopt;
    }
    return text;
}

std::optional<QDateTime> parseRfc3339(QStringView text, QString* error)
{
    return timeMatching(kRfc3339, text, u"an RFC 3339 time (2006-01-02T15:04:05.999999999Z07:00)"_s, error);
}

std::optional<QDateTime> parseGoTime(QStringView text, QString* error)
{
    return timeMatching(kGoTime, text, u"a Go time (2006-01-02 15:04:05.999999999 -0700 MST)"_s, error);
}

std::optional<DatamonRepo> parseRepoLine(QByteArrayView line, qsizetype lineNumber, QString* error)
{
    static const QStringList names
        = { u"name"_s, u"description"_s, u"contributor name"_s, u"contributor email"_s, u"time"_s };
    ListingLine fields(names, lineNumber, error);
    if (!fields.split(line))
        return std::nullopt;
    const std::optional<QString> name = fields.matching(0, kRepoName, u"a repo name (letters, digits and '-')"_s);
    const std::optional<QString> description = name ? fields.text(1) : std::nullopt;
    const std::optional<QString> contributorName = description ? fields.text(2) : std::nullopt;
    const std::optional<QString> contributorEmail = contributorName ? fields.text(3) : std::nullopt;
    const std::optional<QDateTime> time = contributorEmail ? fields.time(4) : std::nullopt;
    if (!time)
        return std::nullopt;
    return DatamonRepo { *name, *description, *contributorName, *contributorEmail, *time };
}

std::optional<DatamonBundle> parseBundleLine(QByteArrayView line, qsizetype lineNumber, QString* error)
{
    static const QStringList names = { u"id"_s, u"time"_s, u"message"_s, u"index file count"_s };
    ListingLine fields(names, lineNumber, error);
    if (!fields.split(line))
        return std::nullopt;
    const std::optional<QString> id = fields.matching(0, kBundleId, u"a bundle id (letters and digits)"_s);
    const std::optional<QDateTime> time = id ? fields.time(1) : std::nullopt;
    const std::optional<QString> message = time ? fields.text(2) : std::nullopt;
    const std::optional<quint64> count = message ? fields.count(3) : std::nullopt;
    if (!count)
        return std::nullopt;
    return DatamonBundle { *id, *time, *message, *count };
}

std::optional<DatamonLabel> parseLabelLine(QByteArrayView line, qsizetype lineNumber, QString* error)
{
    static const QStringList names = { u"name"_s, u"bundle id"_s, u"time"_s };
    static const QRegularExpression nonEmpty(u"(?s)."_s);
    ListingLine fields(names, lineNumber, error);
    if (!fields.split(line))
        return std::nullopt;
    const std::optional<QString> name = fields.matching(0, nonEmpty, u"a label name (it is empty)"_s);
    const std::optional<QString> bundleId
        = name ? fields.matching(1, kBundleId, u"a bundle id (letters and digits)"_s) : std::nullopt;
    const std::optional<QDateTime> time = bundleId ? fields.time(2) : std::nullopt;
    if (!time)
        return std::nullopt;
    return DatamonLabel { *name, *bundleId, *time };
}

std::optional<DatamonContextBuckets> parseContextLine(QByteArrayView line, qsizetype lineNumber, QString* error)
{
    static const QStringList names = { u"name"_s, u"blob"_s, u"metadata"_s, u"vmetadata"_s, u"wal"_s, u"read log"_s };
    ListingLine fields(names, lineNumber, error);
    if (!fields.split(line))
        return std::nullopt;
    QStringList values;
    for (qsizetype i = 0; i < names.size(); ++i) {
        const std::optional<QString> value = fields.text(i);
        if (!value)
            return std::nullopt;
        values.append(*value);
    }
    return DatamonContextBuckets { values[0], values[1], values[2], values[3], values[4], values[5] };
}

std::optional<QStringList> parseContextList(QByteArrayView output, QString* error)
{
    const QString text = outputText(output);
    if (text.size() < 2 || !text.startsWith(u'[') || !text.endsWith(u']') || text.contains(u'\n')) {
        *error = u"context list printed %1, not one bracketed list such as [dev prod]"_s.arg(NameRules::quoted(text));
        return std::nullopt;
    }
    const QString inside = text.mid(1, text.size() - 2);
    if (inside.isEmpty())
        return QStringList();
    const QStringList names = inside.split(u' ');
    if (names.contains(QString())) {
        *error = u"context list printed %1, which has an empty context name"_s.arg(NameRules::quoted(text));
        return std::nullopt;
    }
    return names;
}

std::optional<DatamonRepoSizes> parseRepoSizes(QByteArrayView output, QString* error)
{
    static const QString header = u"All bundles with their total size:"_s;
    static const QRegularExpression total(uR"re(^Grand total for repo "([A-Za-z0-9-]+)": ([0-9]+) \([^()]*\)\z)re"_s);
    // The end of a record: greedy (.*) leaves the last ", <time>, <bytes> (<human size>)" of the line to the rest.
    static const QRegularExpression recordEnd(u"^(.*), ("_s + kGoTimePattern + uR"re(), ([0-9]+) \([^()]*\)\z)re"_s);
    static const QRegularExpression recordStart(uR"(^([A-Za-z0-9]+) , )"_s);

    const QStringList lines = outputText(output).split(u'\n');
    const QRegularExpressionMatch totalMatch = total.match(lines.last());
    if (!totalMatch.hasMatch() || lines.size() < 3 || !lines.at(lines.size() - 2).isEmpty()) {
        *error = u"repo get --with-size: the output does not end with an empty line and Grand total for repo "
                 u"\"<repo>\": <bytes> (<size>), but with %1"_s.arg(NameRules::quoted(lines.last()));
        return std::nullopt;
    }
    const qsizetype headerAt = lines.indexOf(header);
    if (headerAt < 0 || headerAt > lines.size() - 3) {
        *error = u"repo get --with-size: no line %1 before the grand total"_s.arg(NameRules::quoted(header));
        return std::nullopt;
    }

    DatamonRepoSizes sizes;
    sizes.repo = totalMatch.captured(1);
    quint64 sum = 0;
    qsizetype recordFirstLine = -1;
    QString record;
    for (qsizetype i = headerAt + 1; i < lines.size() - 2; ++i) {
        if (recordFirstLine < 0) {
            recordFirstLine = i;
            record = lines.at(i);
        } else {
            record += u'\n' + lines.at(i);
        }
        const QRegularExpressionMatch end = recordEnd.match(lines.at(i));
        if (!end.hasMatch())
            continue;
        const QRegularExpressionMatch start = recordStart.match(record);
        const std::optional<quint64> bytes = unsignedNumber(end.capturedView(end.lastCapturedIndex()));
        QString why;
        if (!start.hasMatch() || !bytes || !parseGoTime(end.captured(2), &why)) {
            *error = u"repo get --with-size, line %1: the bundle line %2 is not <id> , <message>, <time>, <bytes> "
                     u"(<size>)%3"_s.arg(recordFirstLine + 1)
                         .arg(NameRules::quoted(record), why.isEmpty() ? QString() : u": "_s + why);
            return std::nullopt;
        }
        const QString id = start.captured(1);
        if (sizes.bundleBytes.contains(id)) {
            *error = u"repo get --with-size, line %1: bundle %2 is listed twice"_s.arg(recordFirstLine + 1).arg(id);
            return std::nullopt;
        }
        sizes.bundleBytes.insert(id, *bytes);
        sum += *bytes; // wraps as Go's uint64 grand total does
        recordFirstLine = -1;
    }
    if (recordFirstLine >= 0) {
        *error = u"repo get --with-size, line %1: %2 does not end with , <time>, <bytes> (<size>)"_s
                     .arg(recordFirstLine + 1)
                     .arg(NameRules::quoted(record));
        return std::nullopt;
    }
    const std::optional<quint64> grandTotal = unsignedNumber(totalMatch.capturedView(2));
    if (!grandTotal || *grandTotal != sum) {
        *error = u"repo get --with-size: the bundles' sizes add up to %1 bytes, but the grand total says %2"_s.arg(sum)
                     .arg(totalMatch.captured(2));
        return std::nullopt;
    }
    sizes.totalBytes = sum;
    return sizes;
}

std::optional<DatamonIndexSummary> parseIndexSummary(QByteArrayView output, QString* error)
{
    static const QString command = u"build-reverse-lookup"_s;
    static const QStringList prefixes
        = { u"Metadata store: "_s, u"Blob store: "_s, u"Index built at: "_s, u"Num entries (blob keys): "_s };
    const std::optional<QStringList> values = summaryValues(
        output, command, u"An index of the blob keys in use is now built in metadata."_s, prefixes, error);
    if (!values)
        return std::nullopt;
    const std::optional<QDateTime> time = summaryTime(*values, 2, command, prefixes, error);
    const std::optional<quint64> entries = time ? summaryNumber(*values, 3, command, prefixes, error) : std::nullopt;
    if (!entries)
        return std::nullopt;
    return DatamonIndexSummary { values->at(0), values->at(1), *time, *entries };
}

std::optional<DatamonPurgeSummary> parsePurgeSummary(QByteArrayView output, QString* error)
{
    static const QString command = u"delete-unused"_s;
    static const QStringList prefixes
        = { u"Metadata store: "_s, u"Blob store: "_s, u"Index built at: "_s, u"Num blob keys scanned: "_s,
              u"Num blob keys found in use: "_s, u"Num blob keys found more recent than index: "_s,
              u"Num blob keys deleted: "_s, u"Num bytes relinquished: "_s, u"Dry-run: "_s };
    const std::optional<QStringList> values = summaryValues(output, command,
        u"unused blob keys removed (none is actually removed if this is a dry-run)."_s, prefixes, error);
    if (!values)
        return std::nullopt;
    DatamonPurgeSummary summary;
    summary.metadataStore = values->at(0);
    summary.blobStore = values->at(1);
    const std::optional<QDateTime> time = summaryTime(*values, 2, command, prefixes, error);
    if (!time)
        return std::nullopt;
    summary.indexTime = *time;
    quint64* const counts[]
        = { &summary.scanned, &summary.inUse, &summary.newerThanIndex, &summary.deleted, &summary.bytesRelinquished };
    for (qsizetype i = 0; i < 5; ++i) {
        const std::optional<quint64> count = summaryNumber(*values, 3 + i, command, prefixes, error);
        if (!count)
            return std::nullopt;
        *counts[i] = *count;
    }
    if (values->at(8) != u"true" && values->at(8) != u"false") {
        *error = u"delete-unused's summary: Dry-run is %1, not true or false"_s.arg(NameRules::quoted(values->at(8)));
        return std::nullopt;
    }
    summary.dryRun = values->at(8) == u"true";
    return summary;
}

std::optional<QDateTime> parseLockedAt(QByteArrayView lockObject, QString* error)
{
    static const QRegularExpression entry(
        uR"re(^locked_at:[ \t]*(?:"([^"\\]*)"|'([^']*)'|([^"' \t#][^#]*?))[ \t]*(?:[ \t]#.*)?\z)re"_s);
    const QStringList lines = QString::fromUtf8(lockObject).split(u'\n');
    const QStringList entries = lines.filter(QRegularExpression(u"^locked_at:"_s));
    if (entries.size() != 1) {
        *error = u"the purge lock object has %1 locked_at entries, not one"_s.arg(entries.size());
        return std::nullopt;
    }
    const QRegularExpressionMatch match = entry.match(entries.first().trimmed());
    if (!match.hasMatch()) {
        *error = u"the purge lock's %1 is not locked_at: \"<time>\""_s.arg(NameRules::quoted(entries.first()));
        return std::nullopt;
    }
    const QString value = match.captured(1) + match.captured(2) + match.captured(3);
    QString why;
    std::optional<QDateTime> time = parseGoTime(value, &why);
    if (!time)
        *error = u"the purge lock's locked_at: %1"_s.arg(why);
    return time;
}

std::optional<QDateTime> parseIndexChunkTime(QByteArrayView chunkStart, QString* error)
{
    const qsizetype newline = chunkStart.indexOf('\n');
    const QString first = QString::fromUtf8(newline < 0 ? chunkStart : chunkStart.first(newline));
    QString why;
    std::optional<QDateTime> time = parseRfc3339(first, &why);
    if (!time)
        *error = u"the index chunk's first line: %1"_s.arg(why);
    return time;
}

std::optional<QList<DatamonBundleObject>> parseBundleObjects(QByteArrayView output, QString* error)
{
    // A repo name as datamon allows it (kRepoName), a bundle id as a KSUID is spelt.
    static const QRegularExpression line(
        uR"re(^([a-z0-9][a-z0-9._-]{1,221})\t([^\t]+)\tbundles/([A-Za-z0-9-]+)/([A-Za-z0-9]{1,64})/bundle\.yaml\z)re"_s);
    QList<DatamonBundleObject> objects;
    qsizetype number = 0;
    for (const QByteArray& text : output.toByteArray().split('\n')) {
        ++number;
        if (text.isEmpty())
            continue;
        const QRegularExpressionMatch match = line.match(QString::fromUtf8(text));
        if (!match.hasMatch()) {
            *error
                = u"line %1 of the bundle.yaml listing is not \"<bucket>\\t<time>\\tbundles/<repo>/<id>/bundle.yaml\""_s
                      .arg(number);
            return std::nullopt;
        }
        QString why;
        const std::optional<QDateTime> created = parseRfc3339(match.captured(2), &why);
        if (!created) {
            *error = u"line %1 of the bundle.yaml listing: %2"_s.arg(number).arg(why);
            return std::nullopt;
        }
        objects << DatamonBundleObject { match.captured(1), match.captured(3), match.captured(4), *created };
    }
    return objects;
}

} // namespace DatamonOutput

namespace {

// The zap JSON line `line` (level and msg strings at least), or nullopt.
std::optional<DatamonStderrEvent> zapEvent(QByteArrayView line)
{
    if (!line.startsWith('{'))
        return std::nullopt;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray());
    const QJsonObject object = document.object();
    if (!object.value(u"level"_s).isString() || !object.value(u"msg"_s).isString())
        return std::nullopt;
    DatamonStderrEvent event;
    event.kind = DatamonStderrEvent::Kind::Zap;
    event.level = object.value(u"level"_s).toString();
    event.text = object.value(u"msg"_s).toString();
    event.caller = object.value(u"caller"_s).toString();
    QString ignored;
    event.time = DatamonOutput::parseRfc3339(object.value(u"ts"_s).toString(), &ignored).value_or(QDateTime());
    event.fields = object;
    for (const QString& key : { u"level"_s, u"ts"_s, u"caller"_s, u"msg"_s })
        event.fields.remove(key);
    return event;
}

QString withoutTrailingNewlines(QString text)
{
    while (text.endsWith(u'\n'))
        text.chop(1);
    return text;
}

qint64 count(const QJsonObject& fields, const QString& key)
{
    return fields.value(key).toInteger(-1);
}

} // namespace

QList<DatamonStderrEvent> DatamonStderrParser::feed(QByteArrayView chunk)
{
    QList<DatamonStderrEvent> events;
    qsizetype start = 0;
    for (qsizetype newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
        if (m_partial.isEmpty()) {
            takeLine(chunk.sliced(start, newline - start), &events);
        } else {
            m_partial += chunk.sliced(start, newline - start);
            takeLine(m_partial, &events);
            m_partial.clear();
        }
        start = newline + 1;
    }
    m_partial += chunk.sliced(start);
    return events;
}

QList<DatamonStderrEvent> DatamonStderrParser::finish()
{
    QList<DatamonStderrEvent> events;
    if (!m_partial.isEmpty()) {
        takeLine(m_partial, &events);
        m_partial.clear();
    }
    release(&events);
    return events;
}

void DatamonStderrParser::takeLine(QByteArrayView line, QList<DatamonStderrEvent>* events)
{
    ++m_lines;
    const QString text = QString::fromUtf8(line);
    if (m_held && m_held->kind == DatamonStderrEvent::Kind::Panic) {
        m_held->text += u'\n' + text;
        return;
    }

    DatamonStderrEvent event;
    event.line = m_lines;
    event.text = text;
    const std::optional<DatamonStderrEvent> zap = zapEvent(line);
    if (text.startsWith(u"panic: "_s) || text.startsWith(u"fatal error: "_s)) {
        event.kind = DatamonStderrEvent::Kind::Panic;
    } else if (text.startsWith(u"ERROR: "_s)) {
        event.kind = DatamonStderrEvent::Kind::Fatal;
    } else if (text.startsWith(u"Error: "_s)) {
        event.kind = DatamonStderrEvent::Kind::UsageError;
    } else if (text.startsWith(u"INFO: "_s)) {
        event.kind = DatamonStderrEvent::Kind::Info;
    } else if (zap) {
        event = *zap;
        event.line = m_lines;
    } else if (m_held) {
        // The next line of an error message, or of cobra's usage text.
        if (m_held->kind == DatamonStderrEvent::Kind::Fatal) {
            m_held->text += u'\n' + text;
            m_fatal = withoutTrailingNewlines(m_held->text);
        } else {
            m_held->usage += (m_held->usage.isEmpty() ? QString() : u"\n"_s) + text;
        }
        return;
    }

    release(events);
    switch (event.kind) {
    case DatamonStderrEvent::Kind::Panic:
        m_sawPanic = true;
        m_panicHeadline = text;
        m_held = event;
        break;
    case DatamonStderrEvent::Kind::Fatal:
        event.text = text.mid(7);
        m_fatal = event.text;
        m_held = event;
        break;
    case DatamonStderrEvent::Kind::UsageError:
        event.text = text.mid(7);
        m_usageError = event.text;
        m_held = event;
        break;
    case DatamonStderrEvent::Kind::Info:
        event.text = text.mid(6);
        events->append(event);
        break;
    case DatamonStderrEvent::Kind::Zap:
        updateProgress(event);
        events->append(event);
        break;
    case DatamonStderrEvent::Kind::Other:
        events->append(event);
        break;
    }
}

void DatamonStderrParser::release(QList<DatamonStderrEvent>* events)
{
    if (!m_held)
        return;
    m_held->text = withoutTrailingNewlines(m_held->text);
    m_held->usage = withoutTrailingNewlines(m_held->usage);
    events->append(*m_held);
    m_held.reset();
}

void DatamonStderrParser::updateProgress(const DatamonStderrEvent& zap)
{
    const QJsonObject& f = zap.fields;
    DatamonProgress& p = m_progress;
    const QString& message = zap.text;
    // All strings in one arg() call: a bucket or repo name holding "%1" must not be substituted again.
    const auto n = [](qint64 number) { return QString::number(number); };
    if (message == u"scanning repos") {
        p.contextMetadata = f.value(u"context metadata"_s).toString();
        p.reposInContext = count(f, u"num_repos_in_context"_s);
        p.percent = 0;
        p.keys = -1;
        p.throughput = -1;
        m_reposFinished.clear();
        p.reposFinished = 0;
        p.phase = u"Scanning %1 repos of %2."_s.arg(n(p.reposInContext), p.contextMetadata);
    } else if (message == u"in-progress percent of current context") {
        p.percent = int(count(f, u"percent_repos_in_context"_s));
        p.phase = u"Scanning the repos of %1: %2% started."_s.arg(p.contextMetadata, n(p.percent));
    } else if (message == u"finished scanning repo entries") {
        const QString repo = f.value(u"repo"_s).toString();
        m_reposFinished.insert(repo);
        p.reposFinished = m_reposFinished.size();
        p.phase = u"Scanned repo %1 (%2 keys): %3 of %4 repos of %5 done."_s.arg(
            repo, n(count(f, u"repo_keys"_s)), n(p.reposFinished), n(p.reposInContext), p.contextMetadata);
    } else if (message == u"keys scanned so far for this context") {
        p.keys = count(f, u"keys"_s);
        p.uniqueKeys = count(f, u"unique_keys"_s);
        p.throughput = count(f, u"throughput keys scanned/s"_s);
        p.phase = u"%1 keys scanned in %2 (%3 unique), %4 keys/s."_s.arg(
            n(p.keys), p.contextMetadata, n(p.uniqueKeys), n(p.throughput));
    } else if (message == u"done uploading index chunk file to metadata") {
        const QString file = f.value(u"index_file"_s).toString();
        if (!m_chunksUploaded.contains(file)) {
            m_chunksUploaded.insert(file);
            p.keysUploaded += qMax<qint64>(0, count(f, u"keys_uploaded_in_chunk"_s));
        }
        p.chunksUploaded = m_chunksUploaded.size();
        p.phase = u"Uploaded index chunk %1: %2 chunks, %3 keys so far."_s.arg(
            file, n(p.chunksUploaded), n(p.keysUploaded));
    } else if (message == u"uploaded index file to metadata") {
        p.keysUploaded = count(f, u"uploaded_keys"_s);
        p.uniqueKeys = count(f, u"unique_keys"_s);
        p.phase = u"Index uploaded: %1 keys (%2 scanned in all contexts)."_s.arg(
            n(p.keysUploaded), n(count(f, u"total_keys"_s)));
    } else if (message == u"loaded index chunk") {
        m_chunksLoaded.insert(f.value(u"chunk"_s).toString());
        p.chunksLoaded = m_chunksLoaded.size();
        p.phase = u"Loading the index: %1 chunks loaded."_s.arg(n(p.chunksLoaded));
    } else if (message == u"done with dumping index entries to local KV store") {
        p.indexKeys = count(f, u"num_keys"_s);
        QString ignored;
        p.indexTime
            = DatamonOutput::parseRfc3339(f.value(u"index_creation_time"_s).toString(), &ignored).value_or(QDateTime());
        p.phase = u"Index loaded: %1 keys, built at %2; scanning the blob store."_s.arg(
            n(p.indexKeys), p.indexTime.isValid() ? p.indexTime.toString(Qt::ISODateWithMs) : u"no time"_s);
    } else if (message == u"keys scanned so far from blob store") {
        p.keys = count(f, u"keys"_s);
        p.deletedSoFar = count(f, u"deleted_keys_so_far"_s);
        p.throughput = count(f, u"throughput keys/s"_s);
        p.phase = u"%1 blob keys scanned, %2 unused so far, %3 keys/s."_s.arg(
            n(p.keys), n(p.deletedSoFar), n(p.throughput));
    } else {
        return;
    }
    p.updatedAt = zap.time;
}

namespace DatamonOutput {

namespace {

QString signalName(int signal)
{
    switch (signal) {
    case 1:
        return u"SIGHUP"_s;
    case 2:
        return u"SIGINT"_s;
    case 9:
        return u"SIGKILL"_s;
    case 13:
        return u"SIGPIPE"_s;
    case 15:
        return u"SIGTERM"_s;
    default:
        return u"signal %1"_s.arg(signal);
    }
}

const QString kLockLeftBehind = u"a purge step leaves purge.lock in its metadata bucket behind, so read the lock's "
                                u"locked_at and clear it (--force) only once no purge job runs"_s;

} // namespace

DatamonExit classifyExit(int exitStatus, const DatamonStderrParser& errors, bool purgeStep)
{
    const QString leftBehind = purgeStep ? kLockLeftBehind : u"it takes no purge lock, so it can be run again"_s;
    using Kind = DatamonExit::Kind;
    const QString fatal = errors.fatalText();
    if (exitStatus == 0)
        return { Kind::Ok, u"datamon2 finished (exit 0)."_s };
    if (exitStatus == 1) {
        static const QRegularExpression lockHeld(
            uR"(another purge job is running: a lock exist \[([^\]]*)\]: (\S+))"_s);
        const QRegularExpressionMatch lock = lockHeld.match(fatal);
        if (lock.hasMatch()) {
            const QString store = lock.captured(2);
            const QString name = store + (store.endsWith(u'/') ? QString() : u"/"_s) + lock.captured(1);
            return { Kind::LockHeld,
                u"The purge lock %1 is held, so another purge may be running on this metadata bucket: wait for it "
                u"to end, and use --force only for a stale lock whose job is gone."_s.arg(name) };
        }
        if (!errors.usageError().isEmpty())
            return { Kind::Failed,
                u"datamon2 refused its command line (%1): check that the configured binary is datamon2 v2.6.9."_s.arg(
                    errors.usageError()) };
        if (!fatal.isEmpty())
            return { Kind::Failed, u"datamon2 failed: %1; fix what it names and run it again."_s.arg(fatal) };
        return { Kind::Failed, u"datamon2 failed (exit 1) without an ERROR line: read its stderr in the run's log."_s };
    }
    if (exitStatus == 2 && errors.sawPanic())
        return { Kind::Panic, u"datamon2 crashed (%1, exit 2); %2."_s.arg(errors.panicHeadline(), leftBehind) };
    if (exitStatus == 2) {
        static const QRegularExpression notFound(uR"(^didn't find (\w+) (".*")$)"_s);
        const QRegularExpressionMatch what = notFound.match(fatal);
        if (what.hasMatch())
            return { Kind::NotFound,
                u"datamon2 found no %1 %2 (exit 2): check the name and the context."_s.arg(
                    what.captured(1), what.captured(2)) };
        return { Kind::NotFound,
            u"datamon2 exited 2 (not found) without saying what%1: read its stderr in the run's log."_s.arg(
                fatal.isEmpty() ? QString() : u" (%1)"_s.arg(fatal)) };
    }
    if (exitStatus < 0 || (exitStatus > 128 && exitStatus <= 128 + 64))
        return { Kind::Killed,
            u"datamon2 was killed by %1 before it finished; %2."_s.arg(
                exitStatus < 0 ? u"a signal"_s : signalName(exitStatus - 128), leftBehind) };
    return { Kind::Unknown,
        u"datamon2 ended with exit code %1, which it does not use (255 is ssh's own failure): read the run's log."_s
            .arg(exitStatus) };
}

} // namespace DatamonOutput
} // namespace opsdeck
