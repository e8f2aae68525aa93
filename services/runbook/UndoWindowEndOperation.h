#pragma once

#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

#include <functional>
#include <optional>

namespace opsdeck {

// `opsdeck trash purge RUN_ID`: ends a window early, with the admin's reason, so that the run can no longer be taken
// back. A window that holds no space (a deploy's: the revisions it replaced, in the journal) is only journaled as
// ended; one whose data the caller can delete (KeptData: a Pulumi purge's restore files on this console) has it
// deleted first, and stays open if that fails. Confirmed with the window's name, under the lock of the target it
// belongs to; the runner refuses it once the window is not open.
class UndoWindowEndOperation : public Operation
{
public:
    // What the window keeps, and how it is deleted.
    struct KeptData
    {
        QString where; // for people: "vm:/home/admin/.local/share/opsdeck/undo/purge-…"
        QList<Plan::Count> counts; // what is freed: files, bytes
        std::function<bool(QString* error)> remove; // true once it is gone
    };
    // `lock`: the journal lock of the window's target (a deploy's is its repository's); `reason` is required.
    UndoWindowEndOperation(UndoWindow window, QString lock, QString reason, std::optional<KeptData> kept = {});

    QString name() const override { return QStringLiteral("trash-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    UndoWindow m_window;
    QString m_lock;
    QString m_reason;
    std::optional<KeptData> m_kept;
};

} // namespace opsdeck
