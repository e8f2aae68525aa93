#pragma once

#include "config/Inventory.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"
#include "sql/DatabaseTarget.h"

#include "SystemPane.h"

#include <QPointer>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;
class QTreeWidget;

namespace opsdeck {

class CredentialStore;
class DatabaseConnection;
class ErrorBanner;
class OperationLauncher;
class PaneHeader;
template <typename Connection> class ConnectionWorker;
template <typename Connection> class WorkerRowSource;
class OperationRunner;
class PagedTableView;
class PulumiPurgeOperation;
class PulumiStackModel;
class RunsDock;

// The Pulumi Service's MySQL (through its bastion's SSH tunnel): organisations with their soft-deleted stacks,
// the stacks themselves (loaded as they scroll, sorted and filtered in the database), the server's process list
// with kill, and the runbook's purge, planned, confirmed and followed in the Runs dock, with a live throttle.
class PulumiPane : public SystemPane
{
    Q_OBJECT
public:
    PulumiPane(const Inventory& inventory,
        CredentialStore* credentials,
        RunsDock* runs,
        const JournalLocation& journalLocation,
        QWidget* parent = nullptr);
    ~PulumiPane() override;

    QStringList hosts() const override;
    void updateHost(const HostStatus&) override { }
    QAbstractItemView* targetView() const override;
    bool restores(const QString& operation) const override;
    void restore(const UndoWindow& window) override;

    PulumiStackModel* stacks() const { return m_stacks; }
    QTreeWidget* organizations() const { return m_orgs; }
    // The organisations ticked for the purge.
    QStringList checkedOrganizations() const;
    void setThrottle(int milliseconds);

public slots:
    void refresh();
    void refreshProcesses();
    void purge();

signals:
    void organizationsLoaded();
    void processesLoaded();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void withWorker(std::function<void()> then);
    void onRunFinished(const RunRecord& record);
    void killSelectedQuery();
    void showLoadError(const QString& step, const QString& error);
    // The header's production badge for the chosen database.
    void showProduction();

    Inventory m_inventory;
    CredentialStore* m_credentials;
    RunsDock* m_runs;
    JournalLocation m_journalLocation;
    std::optional<DatabaseTarget> m_target;
    // The database's live connection for the pane (its thread keeps it open), and the stacks' pages on it.
    std::unique_ptr<ConnectionWorker<DatabaseConnection>> m_worker;
    std::unique_ptr<WorkerRowSource<DatabaseConnection>> m_stackSource;
    bool m_shown = false;
    bool m_processesShown = false; // the Processes tab was looked at: its list is read with the rest from then on
    QPointer<OperationRunner> m_running; // the purge in flight, for the live throttle
    PulumiPurgeOperation* m_operation = nullptr; // owned by m_running

    PaneHeader* m_header;
    QComboBox* m_database;
    QLabel* m_status;
    QTreeWidget* m_orgs;
    PulumiStackModel* m_stacks;
    PagedTableView* m_stackView;
    QListWidget* m_keep;
    QTabWidget* m_tabs;
    QWidget* m_processTab;
    QTableWidget* m_processes;
    QSpinBox* m_batch;
    QSpinBox* m_throttle;
    QPushButton* m_purge;
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
};

} // namespace opsdeck
