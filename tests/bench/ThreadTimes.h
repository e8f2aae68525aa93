#pragma once

// The calling thread's own times from the kernel's scheduler statistics, to tell a GUI thread that was busy from one
// that was ready but waited for a CPU (the sandbox's servers and stand-ins share the machine with the console).

#include <QString>

#include <algorithm>
#include <cstdio>

#include <fcntl.h>
#include <unistd.h>

namespace opsdeck::bench {

struct ThreadTimes
{
    qint64 ran = 0; // ns on a CPU
    qint64 waited = 0; // ns ready but waiting for a CPU
};

// Zero where /proc has no schedstat. The first call must come from the thread to measure: the file stays open on that
// thread's task.
inline ThreadTimes threadTimes()
{
    static const int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    char buffer[128];
    const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0)
        return {};
    buffer[n] = 0;
    long long ran = 0;
    long long waited = 0;
    if (std::sscanf(buffer, "%lld %lld", &ran, &waited) != 2)
        return {};
    return { ran, waited };
}

// "ran X, waited for a CPU Y, blocked or idle Z ms" for a stretch of wall time (ns). Wall time that is neither was
// spent blocked (a lock, a system call) or idle.
inline QString timeSplit(qint64 wall, const ThreadTimes& during)
{
    if (during.ran == 0 && during.waited == 0)
        return QStringLiteral("no schedstat");
    const auto ms = [](qint64 ns) { return QString::number(double(ns) / 1e6, 'f', 1); };
    return QStringLiteral("ran %1, waited for a CPU %2, blocked or idle %3 ms")
        .arg(ms(during.ran), ms(during.waited), ms(std::max<qint64>(0, wall - during.ran - during.waited)));
}

} // namespace opsdeck::bench
