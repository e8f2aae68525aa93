#pragma once

#include "packit/PackitConnection.h"
#include "packit/PackitTarget.h"
#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

#include <memory>

namespace opsdeck {

// `opsdeck trash purge RUN_ID` of a Packit wipe or restore: deletes the root and the bundle its undo window keeps on
// the host, and ends the window. Confirmed with the instance's name; the reason is journaled.
class PackitTrashOperation : public Operation
{
public:
    static std::unique_ptr<PackitTrashOperation> fromWindow(
        PackitTarget target, const UndoWindow& window, const QString& reason, QString* error);
    ~PackitTrashOperation() override;

    // Deletes the kept root and the bundle `window` names on its instance (checked to be a kept pair under the
    // outpack base first); false with *error if either is still there. Used by the trash purge and by the wipe and
    // the restore to end expired windows.
    static bool removeKept(PackitConnection& connection, const UndoWindow& window, QString* error);

    QString name() const override { return QStringLiteral("packit-trash-purge"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    PackitTrashOperation(PackitTarget target, UndoWindow window, QString reason);

    PackitTarget m_target;
    UndoWindow m_window;
    QString m_reason;
    QString m_keptRoot;
    QString m_bundle;
    std::unique_ptr<PackitConnection> m_connection;
};

} // namespace opsdeck
