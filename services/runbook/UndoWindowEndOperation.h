#pragma once

#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

namespace opsdeck {

// `opsdeck trash purge RUN_ID` of a window that holds no space on its target (a deploy's: the revisions it
// replaced, in the journal): ends it early, with the admin's reason, so that the run can no longer be taken back.
// Nothing on the target changes. Confirmed with the window's name, under the lock of the target it belongs to; the
// runner refuses it once the window is not open.
class UndoWindowEndOperation : public Operation
{
public:
    // `lock`: the journal lock of the window's target (a deploy's is its repository's); `reason` is required.
    UndoWindowEndOperation(UndoWindow window, QString lock, QString reason);

    QString name() const override { return QStringLiteral("trash-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    UndoWindow m_window;
    QString m_lock;
    QString m_reason;
};

} // namespace opsdeck
