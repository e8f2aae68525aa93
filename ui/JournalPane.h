#pragma once

#include "SystemPane.h"
#include "runbook/Journal.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"

#include <QList>

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
class JournalPane : public SystemPane
{
    Q_OBJECT
public:
    JournalPane(const JournalLocation& journalLocation, RunsDock* runs, QWidget* parent = nullptr);

    QString title() const override { return tr("Journal"); }
    QStringList hosts() const override { return {}; }
    void updateHost(const HostStatus&) override { }
    bool showsHostState() const override { return false; }

    QTreeWidget* runList() const { return m_runs; }
    QTreeWidget* stepList() const { return m_steps; }
    QTreeWidget* lockList() const { return m_locks; }
    QLineEdit* breakReason() const { return m_reason; }
    QPushButton* breakButton() const { return m_break; }

public slots:
    // Reads the runs and the locks again.
    void reload();
    void verify();
    // Plans breaking the selected lock with the reason typed, and asks to confirm.
    void breakSelectedLock();

signals:
    void loaded(); // the runs
    void locksLoaded();

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
};

} // namespace opsdeck
