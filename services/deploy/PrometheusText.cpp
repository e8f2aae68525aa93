#include "deploy/PrometheusText.h"

#include <optional>

namespace opsdeck::PrometheusText {

namespace {

bool isNameChar(QChar c, bool first)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_' || c == u':'
        || (!first && c >= u'0' && c <= u'9');
}

// One sample line: name, optional {labels}, value; nullopt when the line is not one.
std::optional<PrometheusSample> parseLine(QStringView line)
{
    PrometheusSample sample;
    qsizetype i = 0;
    while (i < line.size() && isNameChar(line[i], i == 0))
        ++i;
    if (i == 0)
        return std::nullopt;
    sample.name = line.first(i).toString();
    if (i < line.size() && line[i] == u'{') {
        ++i;
        while (true) {
            while (i < line.size() && (line[i] == u' ' || line[i] == u','))
                ++i;
            if (i < line.size() && line[i] == u'}') {
                ++i;
                break;
            }
            const qsizetype start = i;
            while (i < line.size() && isNameChar(line[i], i == start))
                ++i;
            if (i == start || i + 1 >= line.size() || line[i] != u'=' || line[i + 1] != u'"')
                return std::nullopt;
            const QString key = line.mid(start, i - start).toString();
            i += 2;
            QString value;
            while (i < line.size() && line[i] != u'"') {
                if (line[i] == u'\\' && i + 1 < line.size()) {
                    ++i;
                    value += line[i] == u'n' ? QChar(u'\n') : line[i];
                } else {
                    value += line[i];
                }
                ++i;
            }
            if (i >= line.size())
                return std::nullopt;
            ++i; // the closing quote
            sample.labels.insert(key, value);
        }
    }
    const QStringView rest = line.mid(i).trimmed();
    bool ok = false;
    // A timestamp may follow the value.
    sample.value = rest.split(u' ', Qt::SkipEmptyParts).value(0).toDouble(&ok);
    if (!ok)
        return std::nullopt;
    return sample;
}

} // namespace

QList<PrometheusSample> parse(const QByteArray& text)
{
    QList<PrometheusSample> samples;
    const QString decoded = QString::fromUtf8(text);
    for (QStringView line : QStringView(decoded).split(u'\n')) {
        line = line.trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (auto sample = parseLine(line))
            samples << *sample;
    }
    return samples;
}

QList<PrometheusSample> find(
    const QList<PrometheusSample>& samples, const QString& name, const QString& label, const QString& value)
{
    QList<PrometheusSample> found;
    for (const PrometheusSample& s : samples) {
        if (s.name == name && (label.isEmpty() || s.labels.value(label) == value))
            found << s;
    }
    return found;
}

} // namespace opsdeck::PrometheusText
