#pragma once

#include "Banner.h"

namespace opsdeck {

// The one way a pane shows that something it tried failed: on which target, at which step, the service's message,
// and what to do next. It stays until the pane clears it (the next success) or shows another problem; hidden when
// there is none. An icon and the words carry the state, not the colour alone.
class ErrorBanner : public Banner
{
    Q_OBJECT
public:
    struct Problem
    {
        QString target; // "wpia-packit/training", "pulumi via bastion"
        QString step; // what was being done: "Planning the wipe", "Reading the organisations"
        QString error; // the service's message
        QString next; // what to do next; empty: try again once the cause is fixed
    };

    explicit ErrorBanner(QWidget* parent = nullptr);

    void showProblem(const Problem& problem);
    void clear();
    // The text shown, for tests and screenshots; empty when hidden.
    QString text() const;
};

} // namespace opsdeck
