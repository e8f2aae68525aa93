#include "config/Inventory.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

template <typename Entry> const Entry* byName(const QList<Entry>& entries, const QString& name)
{
    for (const Entry& entry : entries) {
        if (entry.name == name)
            return &entry;
    }
    return nullptr;
}

constexpr qint64 kMinute = 60;
constexpr qint64 kHour = 60 * kMinute;
constexpr qint64 kDay = 24 * kHour;

} // namespace

QString UndoPolicy::describe() const
{
    if (off())
        return u"off"_s;
    const auto count = [this](qint64 unit, const QString& one, const QString& many) {
        const qint64 n = retentionSeconds / unit;
        return QString::number(n) + u' ' + (n == 1 ? one : many);
    };
    if (retentionSeconds % kDay == 0)
        return count(kDay, u"day"_s, u"days"_s);
    if (retentionSeconds % kHour == 0)
        return count(kHour, u"hour"_s, u"hours"_s);
    if (retentionSeconds % kMinute == 0)
        return count(kMinute, u"minute"_s, u"minutes"_s);
    return count(1, u"second"_s, u"seconds"_s);
}

std::optional<qint64> UndoPolicy::parseRetention(const QString& text)
{
    if (text == u"off")
        return 0;
    // At most 9 digits and a unit: 999999999d still fits a qint64 in seconds, so nothing below overflows.
    if (text.size() < 2 || text.size() > 10)
        return std::nullopt;
    const QStringView digits = QStringView(text).chopped(1);
    const auto isDigit = [](QChar c) { return c >= u'0' && c <= u'9'; };
    if (digits.front() == u'0' || !std::all_of(digits.cbegin(), digits.cend(), isDigit))
        return std::nullopt;
    qint64 unit = 0;
    switch (text.back().unicode()) {
    case u's':
        unit = 1;
        break;
    case u'm':
        unit = kMinute;
        break;
    case u'h':
        unit = kHour;
        break;
    case u'd':
        unit = kDay;
        break;
    default:
        return std::nullopt;
    }
    const qint64 seconds = digits.toLongLong() * unit;
    if (seconds < 1 || seconds > kMaxRetentionSeconds)
        return std::nullopt;
    return seconds;
}

const Host* Inventory::host(const QString& name) const
{
    return byName(hosts, name);
}

const Database* Inventory::database(const QString& name) const
{
    return byName(databases, name);
}

const DeployMachine* Inventory::machine(const QString& name) const
{
    return byName(machines, name);
}

const Cluster* Inventory::cluster(const QString& name) const
{
    return byName(clusters, name);
}

const DatamonContext* Inventory::datamonContext(const QString& name) const
{
    return byName(datamon, name);
}

} // namespace opsdeck
