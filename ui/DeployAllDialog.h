#pragma once

#include "config/Inventory.h"
#include "deploy/DeployOperation.h"
#include "deploy/MachineStatus.h"
#include "deploy/UpdatePull.h"

#include <QDialog>

#include <optional>

class QRadioButton;
class QTreeWidget;

namespace opsdeck {

// Before a deploy of the branch to every machine is planned: which machines are in, and what a failure does. Each
// machine shows the state the matrix last read (and how old it is); one that was unreachable starts unchecked, so that
// one machine that is down cannot keep production from its deploy. The plan reads every machine again and has the last
// word; the confirmation that follows shows its list.
class DeployAllDialog : public QDialog
{
    Q_OBJECT
public:
    // `statuses` as the matrix has them (a machine not read yet is absent); `pull` the open update pull request, if
    // any (number 0: none).
    DeployAllDialog(const Inventory& inventory,
        const QList<MachineStatus>& statuses,
        const UpdatePull& pull,
        QWidget* parent = nullptr);

    // The admin's choice as the dialog shows it now.
    DeployOperation::Selection selection() const;

    // The selection, once the admin chose to plan; nullopt if cancelled. A test's setNextAnswer answers it without
    // showing the dialog: accept takes the dialog's defaults.
    static std::optional<DeployOperation::Selection> choose(
        QWidget* parent, const Inventory& inventory, const QList<MachineStatus>& statuses, const UpdatePull& pull);
    static void setNextAnswer(bool accept);

private:
    QTreeWidget* m_machines;
    QRadioButton* m_goOn;
    QStringList m_unreachable; // as the matrix read them: a checked one is included by name

    static std::optional<bool> s_nextAnswer;
};

} // namespace opsdeck
