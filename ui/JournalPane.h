#pragma once

#include "SystemPane.h"
#include "runbook/Journal.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"
#include "runbook/UndoWindow.h"

#include <QList>
#include <QStyle>

#include <functional>

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTimer;
class QTreeWidget;

namespace opsdeck {

class ErrorBanner;
class OperationLauncher;
class RunsDock;

// Every run in the journal: filter by target, operation, outcome and date; a run's steps with their commands
// and output; export its report; verify the journal's hash chain. And the locks every console of the journal holds,
// with their leases: a lock can be broken (LockBreakOperation, planned and confirmed as any operation) with a reason.
// And the undo windows: what each run kept so that it can be taken back, until when; "Restore…" asks the console to
// take back a run whose window is open, in the pane that restores its operation.
class JournalPane : public SystemPane
{
    Q_OBJECT
public:
    JournalPane(const JournalLocation& journalLocation, RunsDock* runs, QWidget* parent = nullptr);

    QStringList hosts() const override { return {}; }
    void updateHost(const HostStatus&) override { }
    bool showsHostState() const override { return false; }
    QIcon sidebarIcon() const override { return style()->standardIcon(QStyle::SP_FileDialogDetailedView); }

    QTreeWidget* runList() const { return m_runs; }
    QTreeWidget* stepList() const { return m_steps; }
    QTreeWidget* lockList() const { return m_locks; }
    QLineEdit* breakReason() const { return m_reason; }
    QPushButton* breakButton() const { return m_break; }
    QTreeWidget* undoWindowList() const { return m_windows; }
    QCheckBox* showEndedWindows() const { return m_showEnded; }
    QPushButton* restoreButton() const { return m_restore; }
    QLabel* undoWindowsEmpty() const { return m_windowsEmpty; }

    // Whether a pane of this console restores `operation`'s runs; without it, "Restore…" stays off and names the
    // command instead.
    void setRestorable(std::function<bool(const QString& operation)> restorable);

public slots:
    // Reads the runs, the locks and the undo windows again.
    void reload();
    void verify();
    // Plans breaking the selected lock with the reason typed, and asks to confirm.
    void breakSelectedLock();

signals:
    void loaded(); // the runs
    void locksLoaded();
    void undoWindowsLoaded();
    // "Restore…" on an open undo window: the console checks it is still open and routes it to the pane that restores.
    void restoreRequested(const QString& runId, const QString& operation, const QString& target);

protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    void showRuns();
    void showRun(int index);
    // Every 5 s while the pane shows, and with reload().
    void reloadLocks();
    void showLocks(const QList<Journal::HeldLock>& locks, const QString& error);
    void updateBreakButton();
    // With the locks: every 5 s while the pane shows, and with reload().
    void reloadUndoWindows();
    void takeUndoWindows(const QList<UndoWindow>& windows, const QString& error);
    void showUndoWindows();
    void updateRestoreButton();

    JournalLocation m_journalLocation;
    QList<RunRecord> m_records; // as loaded, newest first
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
    QTabWidget* m_tabs;
    QComboBox* m_target;
    QComboBox* m_operation;
    QComboBox* m_outcome;
    QDateEdit* m_from;
    QTreeWidget* m_runs;
    QTreeWidget* m_steps;
    QPlainTextEdit* m_output;
    QLabel* m_summary;
    QLabel* m_status;
    QPushButton* m_export;
    QTreeWidget* m_locks;
    QLabel* m_lockStatus;
    QLineEdit* m_reason;
    QPushButton* m_break;
    QTimer* m_lockTimer;
    bool m_readingLocks = false;
    QList<UndoWindow> m_undoWindows; // as last read, in the order they were opened
    bool m_undoWindowsRead = false;
    QString m_undoWindowsError; // the last read's error, shown in the banner once
    QString m_undoWindowsProblem; // the banner's text for it
    std::function<bool(const QString& operation)> m_restorable;
    QTreeWidget* m_windows;
    QCheckBox* m_showEnded;
    QLabel* m_windowsEmpty;
    QLabel* m_windowStatus;
    QLabel* m_restoreHint;
    QPushButton* m_restore;
    bool m_readingWindows = false;
};

} // namespace opsdeck
