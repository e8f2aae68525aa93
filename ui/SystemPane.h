#pragma once

#include "runbook/Journal.h"
#include "runbook/UndoWindow.h"
#include "ssh/HostStatus.h"

#include <QIcon>
#include <QWidget>

class QAbstractItemView;

namespace opsdeck {

// What the main window needs of every entry in its sidebar.
class SystemPane : public QWidget
{
    Q_OBJECT
public:
    using QWidget::QWidget;

    // The inventory hosts this pane's targets depend on; their state sums up in the sidebar icon.
    virtual QStringList hosts() const = 0;
    virtual void updateHost(const HostStatus& status) = 0;
    // False for panes that reach no host at all (the journal): their sidebar entry has no state icon.
    virtual bool showsHostState() const { return true; }
    // Such a pane's sidebar icon instead, so that every entry has one and their names line up.
    virtual QIcon sidebarIcon() const { return {}; }
    // The host of the selected target, for the host key review; empty if none.
    virtual QString selectedHost() const { return {}; }
    // The pane's list of targets (instances, machines, repos), which the command palette finds by name; null if none.
    virtual QAbstractItemView* targetView() const { return nullptr; }
    virtual void setHostKeyActionEnabled(bool) { }
    // Whether this pane recovers the unfinished runs of `operation` (the Runs dock then offers "Recover…").
    virtual bool recovers(const QString&) const { return false; }
    // Recovers `run` (one whose operation it recovers): resolves its target and secrets as for the pane's own
    // operations, then plans, confirms and runs the recovery through the pane's OperationLauncher.
    virtual void recover(const Journal::UnfinishedRun&) { }
    // Whether this pane restores the undo windows of `operation`'s runs (the Runs dock then offers "Undo…").
    virtual bool restores(const QString&) const { return false; }
    // Takes back the run that kept `window` (open by the journal when asked): plans, confirms and runs the restore
    // through the pane's OperationLauncher.
    virtual void restore(const UndoWindow&) { }
};

} // namespace opsdeck
