#pragma once

#include "Banner.h"

#include <QElapsedTimer>

class QTimer;

namespace opsdeck {

// What a pane shows while an operation it launched is being planned (live reads and counts can take a while):
// what is planned, on which target, and for how long so far. Hidden once the plan is answered.
class PlanningBanner : public Banner
{
    Q_OBJECT
public:
    explicit PlanningBanner(QWidget* parent = nullptr);

    void start(const QString& action, const QString& target);
    void stop();
    // The text shown, for tests and screenshots; empty when hidden.
    QString text() const;

private:
    void showElapsed();

    QString m_what;
    QElapsedTimer m_clock;
    QTimer* m_tick;
};

} // namespace opsdeck
