#include "core/ProcessIdentity.h"

#include <QDir>
#include <QFile>

namespace opsdeck {

namespace {

bool isGone(char state)
{
    return state == 'Z' || state == 'X';
}

} // namespace

std::optional<ProcessIdentity::Stat> ProcessIdentity::stat(qint64 pid)
{
    if (pid <= 0)
        return std::nullopt;
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    // "PID (COMM) STATE PPID PGRP ... STARTTIME ...": COMM may hold spaces and parentheses, so the fields are
    // counted from the last ')'. STATE is field 3, PGRP field 5, STARTTIME field 22.
    const QByteArray text = file.readAll();
    const qsizetype close = text.lastIndexOf(')');
    if (close < 0)
        return std::nullopt;
    const QList<QByteArray> fields = text.mid(close + 2).split(' ');
    if (fields.size() < 20 || fields[0].size() != 1)
        return std::nullopt;
    bool groupOk = false;
    bool startOk = false;
    Stat stat { fields[0][0], fields[2].toLongLong(&groupOk), fields[19].toULongLong(&startOk) };
    if (!groupOk || !startOk)
        return std::nullopt;
    return stat;
}

std::optional<ProcessIdentity> ProcessIdentity::of(qint64 pid)
{
    const auto now = stat(pid);
    if (!now || isGone(now->state))
        return std::nullopt;
    return ProcessIdentity { pid, now->startTicks };
}

std::optional<ProcessIdentity> ProcessIdentity::fromJson(const QJsonObject& json)
{
    const qint64 pid = json.value(QStringLiteral("pid")).toInteger();
    // Written as a string: a JSON number is a double, and start ticks need not fit its 53 bits.
    bool ok = false;
    const quint64 start = json.value(QStringLiteral("startTicks")).toString().toULongLong(&ok);
    if (pid <= 1 || !ok)
        return std::nullopt;
    return ProcessIdentity { pid, start };
}

QJsonObject ProcessIdentity::toJson() const
{
    return { { QStringLiteral("pid"), pid }, { QStringLiteral("startTicks"), QString::number(startTicks) } };
}

bool ProcessIdentity::groupIsRunning() const
{
    if (const auto leader = stat(pid)) {
        if (leader->startTicks != startTicks)
            return false; // the pid was given to another process: the group had ended
        if (!isGone(leader->state))
            return true;
    }
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& entry : entries) {
        bool numeric = false;
        const qint64 other = entry.toLongLong(&numeric);
        if (!numeric)
            continue;
        if (const auto member = stat(other); member && member->processGroup == pid && !isGone(member->state))
            return true;
    }
    return false;
}

} // namespace opsdeck
