#include "KubeCells.h"

namespace opsdeck::KubeCells {

QString shortImage(const QString& reference)
{
    // The registry may carry a port (host:5000/...): the name starts after the last slash.
    QString name = reference.mid(reference.lastIndexOf(u'/') + 1);
    static const QString digest = QStringLiteral("@sha256:");
    constexpr int kDigits = 12;
    const qsizetype at = name.indexOf(digest);
    if (at >= 0 && name.size() > at + digest.size() + kDigits)
        name = name.left(at + digest.size() + kDigits) + QStringLiteral("…");
    return name;
}

QString age(const QDateTime& since, const QDateTime& now)
{
    if (!since.isValid() || !now.isValid())
        return QStringLiteral("—");
    // kubectl's duration.HumanDuration, its precision falling as the age grows.
    const qint64 seconds = std::max<qint64>(0, since.secsTo(now));
    const qint64 minutes = seconds / 60;
    const qint64 hours = minutes / 60;
    const qint64 days = hours / 24;
    if (seconds < 120)
        return QStringLiteral("%1s").arg(seconds);
    if (minutes < 10)
        return seconds % 60 ? QStringLiteral("%1m%2s").arg(minutes).arg(seconds % 60)
                            : QStringLiteral("%1m").arg(minutes);
    if (minutes < 180)
        return QStringLiteral("%1m").arg(minutes);
    if (hours < 8)
        return minutes % 60 ? QStringLiteral("%1h%2m").arg(hours).arg(minutes % 60) : QStringLiteral("%1h").arg(hours);
    if (hours < 48)
        return QStringLiteral("%1h").arg(hours);
    if (days < 8)
        return hours % 24 ? QStringLiteral("%1d%2h").arg(days).arg(hours % 24) : QStringLiteral("%1d").arg(days);
    return QStringLiteral("%1d").arg(days);
}

} // namespace opsdeck::KubeCells
