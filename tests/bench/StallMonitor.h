#pragma once

// The GUI thread's longest stall while a benchmark drives a pane: a 5 ms precise timer's lateness, and of each stall
// how much the thread ran (the console's own work) and how long it was ready but waited for a CPU (the sandbox's
// servers and stand-ins, which in production run on other machines, share this one's cores).

#include "ThreadTimes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <algorithm>

namespace opsdeck::bench {

constexpr double kStallTarget = 50; // ms: the issues' target for a pane following a long operation

class StallMonitor : public QObject
{
public:
    StallMonitor()
    {
        m_timer.setInterval(kTickMs);
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 gap = m_clock.nsecsElapsed();
            const ThreadTimes now = threadTimes();
            const ThreadTimes during { now.ran - m_times.ran, now.waited - m_times.waited };
            const double late = double(gap) / 1e6 - kTickMs;
            const double ran = double(during.ran) / 1e6;
            if (late > m_worst) {
                m_worst = late;
                m_worstSplit = timeSplit(gap, during);
            }
            m_worstRan = std::max(m_worstRan, ran);
            if (late > kStallTarget / 2)
                m_stalls << QStringLiteral("%1 ms (ran %2) at %3 s")
                                .arg(late, 0, 'f', 0)
                                .arg(ran, 0, 'f', 0)
                                .arg(double(m_since.elapsed()) / 1000, 0, 'f', 1);
            m_clock.restart();
            m_times = now;
        });
    }
    void start()
    {
        m_worst = 0;
        m_worstRan = 0;
        m_worstSplit.clear();
        m_stalls.clear();
        m_since.start();
        m_times = threadTimes();
        m_clock.start();
        m_timer.start();
    }
    // The longest stall (ms).
    double stop()
    {
        m_timer.stop();
        return m_worst;
    }

    // What the GUI thread did during the longest stall: ran, waited for a CPU, blocked or idle.
    QString worstSplit() const { return m_worstSplit; }
    // The longest the GUI thread ran between two ticks (ms): the longest stall of the console's own making.
    double worstRan() const { return m_worstRan; }
    // Each stall over half the target, with how long the thread ran in it and when it came (seconds since start).
    QStringList stalls() const { return m_stalls; }

private:
    static constexpr int kTickMs = 5;
    QTimer m_timer;
    QElapsedTimer m_clock;
    QElapsedTimer m_since;
    ThreadTimes m_times;
    QStringList m_stalls;
    double m_worst = 0;
    double m_worstRan = 0;
    QString m_worstSplit;
};

} // namespace opsdeck::bench
