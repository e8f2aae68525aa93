#pragma once

// The GUI thread's longest stall while a benchmark drives a pane: a 5 ms precise timer's lateness.

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <algorithm>

namespace opsdeck::bench {

constexpr double kStallTarget = 50; // ms: the issues' target for a pane following a long operation

// The GUI thread's longest wait between two ticks of a 5 ms timer, beyond the 5 ms.
class StallMonitor : public QObject
{
public:
    StallMonitor()
    {
        m_timer.setInterval(kTickMs);
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] {
            const double late = double(m_clock.nsecsElapsed()) / 1e6 - kTickMs;
            m_worst = std::max(m_worst, late);
            if (late > kStallTarget / 2)
                m_stalls << QStringLiteral("%1 ms at %2 s")
                                .arg(late, 0, 'f', 0)
                                .arg(double(m_since.elapsed()) / 1000, 0, 'f', 1);
            m_clock.restart();
        });
    }
    void start()
    {
        m_worst = 0;
        m_stalls.clear();
        m_since.start();
        m_clock.start();
        m_timer.start();
    }
    double stop()
    {
        m_timer.stop();
        return m_worst;
    }

    // Each stall over half the target, with when it came (seconds since start).
    QStringList stalls() const { return m_stalls; }

private:
    static constexpr int kTickMs = 5;
    QTimer m_timer;
    QElapsedTimer m_clock;
    QElapsedTimer m_since;
    QStringList m_stalls;
    double m_worst = 0;
};

} // namespace opsdeck::bench
