#pragma once

#include <QJsonObject>

#include <optional>

namespace opsdeck {

// A process of this machine as the kernel knows it: its pid and its start time (clock ticks since boot), so that a
// process recorded by a console that has since died is not confused with a later one that got the same pid.
// Linux only (/proc).
struct ProcessIdentity
{
    qint64 pid = 0;
    quint64 startTicks = 0;

    // What /proc/PID/stat says of a process: nullopt if there is no such process.
    struct Stat
    {
        char state = '?'; // R, S, D, Z (zombie), X (dead), ...
        qint64 processGroup = 0;
        quint64 startTicks = 0;
    };
    static std::optional<Stat> stat(qint64 pid);

    // The process with `pid` now; nullopt if there is none or it is a zombie.
    static std::optional<ProcessIdentity> of(qint64 pid);
    static std::optional<ProcessIdentity> fromJson(const QJsonObject& json);
    QJsonObject toJson() const;

    // Whether this process, or a process of its process group (which it leads: the commands opsdeck starts get
    // their own group), is still running. The kernel does not give a pid to a new process while a group still
    // has that number, so a pid now held by a process with another start time means the group is gone.
    bool groupIsRunning() const;
};

} // namespace opsdeck
