#include "DeployAllDialog.h"

#include "ListTable.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace opsdeck {

std::optional<bool> DeployAllDialog::s_nextAnswer;

namespace {

enum Column
{
    Machine,
    State,
    Runs,
    Note
};

// How old a reading is, for people: "just now", "4 min ago", "2 h ago".
QString age(const QDateTime& checkedAt)
{
    const qint64 seconds = checkedAt.secsTo(QDateTime::currentDateTimeUtc());
    if (seconds < 60)
        return QObject::tr("just now");
    if (seconds < 3600)
        return QObject::tr("%1 min ago").arg(seconds / 60);
    return QObject::tr("%1 h ago").arg(seconds / 3600);
}

} // namespace

DeployAllDialog::DeployAllDialog(
    const Inventory& inventory, const QList<MachineStatus>& statuses, const UpdatePull& pull, QWidget* parent)
    : QDialog(parent)
    , m_machines(new QTreeWidget(this))
    , m_goOn(new QRadioButton(
          tr("&Go on with the other machines (a failure on the staging machine still stops it)"), this))
{
    const DeployConfig& deploy = inventory.deploy;
    setWindowTitle(tr("Deploy %1 to every machine").arg(deploy.branch));
    setMinimumWidth(820);
    auto* layout = new QVBoxLayout(this);
    auto* heading = new QLabel(tr("<b>Deploy %1 to every machine</b>").arg(deploy.branch.toHtmlEscaped()), this);
    layout->addWidget(heading);
    auto* intro = new QLabel(tr("Choose the machines. They are deployed in turn, staging first and production last. "
                                "The plan reads every machine again before anything runs, and shows its list to "
                                "confirm."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    if (pull.number > 0) {
        auto* pending = new QLabel(tr("<span style='color:#b26a00'>⚠ Update pull request #%1 “%2” is open and not "
                                      "merged: %3 does not contain it, so this deploy does not release it. Merge it "
                                      "first (step 4) if you meant to.</span>")
                                       .arg(pull.number)
                                       .arg(pull.title.toHtmlEscaped(), deploy.branch.toHtmlEscaped()),
            this);
        pending->setObjectName(QStringLiteral("pendingPull"));
        pending->setWordWrap(true);
        layout->addWidget(pending);
    }

    m_machines->setObjectName(QStringLiteral("deployAllMachines"));
    m_machines->setHeaderLabels({ tr("Machine"), tr("State"), tr("Runs"), tr("Note") });
    setUpListTree(m_machines);
    for (const QString& name : DeployOperation::deployOrder(inventory)) {
        const DeployMachine* machine = inventory.machine(name);
        const auto found = std::find_if(statuses.cbegin(), statuses.cend(),
            [&name](const MachineStatus& status) { return status.machine == name; });
        auto* item = new QTreeWidgetItem(m_machines);
        item->setText(Machine, name);
        item->setData(Machine, Qt::UserRole, name);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
        QStringList notes;
        QStringList tips;
        if (name == deploy.staging)
            notes << tr("staging: first");
        if (machine->tags.production)
            notes << tr("production");
        bool in = true;
        if (found == statuses.cend()) {
            item->setText(State, tr("not read yet"));
        } else {
            item->setText(State, tr("%1 (%2)").arg(MachineStatus::stateTitle(found->state), age(found->checkedAt)));
            item->setText(Runs, MachineStatus::shortRevision(found->revision));
            if (found->state == DeployState::Unreachable) {
                in = false;
                m_unreachable << name;
                notes << tr("unreachable: out unless checked");
                tips << tr("Unreachable when the matrix read it: %1. Unchecked, it is left out if the plan cannot "
                           "read it either; checked, the plan deploys it anyway.")
                            .arg(found->error);
            }
            if (found->dirty) {
                notes << tr("its uncommitted changes are lost");
                tips << tr("It runs a build of a worktree with uncommitted changes: the deploy replaces it, and no "
                           "commit, nor this run's undo, can bring those changes back.");
            }
        }
        item->setText(Note, notes.join(QStringLiteral("; ")));
        item->setToolTip(Note, tips.join(u'\n'));
        item->setCheckState(Machine, in ? Qt::Checked : Qt::Unchecked);
    }
    fitColumns(m_machines);
    // As tall as its rows: every machine is seen at once, and no empty space pushes the choices down.
    m_machines->setFixedHeight(m_machines->header()->sizeHint().height()
        + m_machines->sizeHintForRow(0) * m_machines->topLevelItemCount() + 2 * m_machines->frameWidth() + 4);
    layout->addWidget(m_machines);

    auto* failure = new QGroupBox(tr("If a machine fails"), this);
    auto* failureLayout = new QVBoxLayout(failure);
    auto* stop = new QRadioButton(tr("&Stop the run: the machines after it are not started"), failure);
    stop->setObjectName(QStringLiteral("onFailureStop"));
    m_goOn->setObjectName(QStringLiteral("onFailureGoOn"));
    m_goOn->setParent(failure);
    stop->setChecked(true);
    failureLayout->addWidget(stop);
    failureLayout->addWidget(m_goOn);
    layout->addWidget(failure);

    auto* buttons = new QDialogButtonBox(this);
    auto* plan = buttons->addButton(tr("&Plan the deploy…"), QDialogButtonBox::AcceptRole);
    plan->setObjectName(QStringLiteral("planDeployAll"));
    auto* cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setDefault(true); // as every opsdeck confirmation: Enter alone never starts a change
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    // Nothing to plan without a machine.
    const auto update = [this, plan] {
        bool any = false;
        for (int i = 0; i < m_machines->topLevelItemCount(); ++i)
            any = any || m_machines->topLevelItem(i)->checkState(Machine) == Qt::Checked;
        plan->setEnabled(any);
    };
    connect(m_machines, &QTreeWidget::itemChanged, this, update);
    update();
    layout->addWidget(buttons);
}

DeployOperation::Selection DeployAllDialog::selection() const
{
    DeployOperation::Selection selection;
    for (int i = 0; i < m_machines->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = m_machines->topLevelItem(i);
        const QString name = item->data(Machine, Qt::UserRole).toString();
        const bool checked = item->checkState(Machine) == Qt::Checked;
        // One the matrix found unreachable is left to the plan, which reads it again: still down, it is left out
        // as unreachable (the report says so); back up, it is in, and the confirmation lists it.
        if (!checked && !m_unreachable.contains(name))
            selection.leaveOut << name;
        else if (checked && m_unreachable.contains(name))
            selection.include << name;
    }
    selection.goOnAfterFailure = m_goOn->isChecked();
    return selection;
}

std::optional<DeployOperation::Selection> DeployAllDialog::choose(
    QWidget* parent, const Inventory& inventory, const QList<MachineStatus>& statuses, const UpdatePull& pull)
{
    DeployAllDialog dialog(inventory, statuses, pull, parent);
    if (s_nextAnswer) {
        const bool accept = *std::exchange(s_nextAnswer, std::nullopt);
        return accept ? std::optional(dialog.selection()) : std::nullopt;
    }
    if (dialog.exec() != QDialog::Accepted)
        return std::nullopt;
    return dialog.selection();
}

void DeployAllDialog::setNextAnswer(bool accept)
{
    s_nextAnswer = accept;
}

} // namespace opsdeck
