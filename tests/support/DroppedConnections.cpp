#include "DroppedConnections.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMultiHash>

#include <csignal>
#include <optional>
#include <utility>

using namespace Qt::StringLiterals;

namespace opsdeck::test {

namespace {

// A process's state letter and parent, from /proc/PID/stat ("PID (COMM) S PPID ..."; COMM may hold spaces and
// parentheses, hence the last ')'); nothing once it is gone.
std::optional<std::pair<char, pid_t>> processStat(pid_t pid)
{
    QFile file(u"/proc/%1/stat"_s.arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray stat = file.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 1).simplified().split(' ');
    if (fields.size() < 2 || fields[0].isEmpty())
        return std::nullopt;
    return std::make_pair(fields[0].front(), static_cast<pid_t>(fields[1].toInt()));
}

} // namespace

bool isRunning(pid_t pid)
{
    const auto stat = processStat(pid);
    return stat && stat->first != 'Z' && stat->first != 'X';
}

QList<pid_t> dropConnections(const Sandbox& sandbox, const QString& name)
{
    QFile pidFile(sandbox.host(name)[u"pidFile"_s].toString());
    if (!pidFile.open(QIODevice::ReadOnly))
        return {};
    const pid_t listener = static_cast<pid_t>(pidFile.readLine().trimmed().toInt());
    // A stale pid file's pid may belong to someone else by now.
    if (listener <= 0 || !isRunning(listener)
        || !QFileInfo(QFileInfo(u"/proc/%1/exe"_s.arg(listener)).symLinkTarget()).fileName().startsWith(u"sshd"_s))
        return {};
    QMultiHash<pid_t, pid_t> children;
    for (const QString& entry : QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool numeric = false;
        const pid_t pid = static_cast<pid_t>(entry.toInt(&numeric));
        if (const auto stat = numeric ? processStat(pid) : std::nullopt; stat && stat->first != 'Z')
            children.insert(stat->second, pid);
    }
    QList<pid_t> tree;
    for (QList<pid_t> parents { listener }; !parents.isEmpty();) {
        const QList<pid_t> below = children.values(parents.takeLast());
        tree += below;
        parents += below;
    }
    for (const pid_t pid : std::as_const(tree))
        ::kill(pid, SIGKILL);
    return tree;
}

} // namespace opsdeck::test
