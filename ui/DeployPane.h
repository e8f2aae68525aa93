#pragma once

#include "config/Inventory.h"
#include "deploy/DeploySetup.h"
#include "deploy/MachineStatus.h"
#include "deploy/UpdatePull.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"

#include "SystemPane.h"

#include <QThreadPool>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace opsdeck {

class CredentialStore;
class DeployMatrixModel;
class ErrorBanner;
class Operation;
class OperationLauncher;
class PaneHeader;
class PullRequestBrowser;
class RunsDock;
struct Plan;

// The Deploy pane: the commit each machine runs against the branch (refreshed in parallel, by hand or on a
// timer, exportable), and packit-update-deploy.md as four confirmed steps: trigger the update workflow, deploy
// its pull request to staging and check it there, merge it, deploy the branch to every machine.
class DeployPane : public SystemPane
{
    Q_OBJECT
public:
    DeployPane(const Inventory& inventory,
        CredentialStore* credentials,
        RunsDock* runs,
        const JournalLocation& journalLocation,
        QWidget* parent = nullptr);
    ~DeployPane() override;

    QStringList hosts() const override;
    void updateHost(const HostStatus&) override { }
    QAbstractItemView* targetView() const override;

    DeployMatrixModel* matrix() const { return m_matrix; }
    const UpdatePull& pull() const { return m_pull; }
    bool refreshing() const { return m_refreshing; }
    // Auto-refresh period in seconds; 0 is off.
    void setAutoRefresh(int seconds);
    bool exportMatrix(const QString& path, QString* error) const;
    bool restores(const QString& operation) const override;
    void restore(const UndoWindow& window) override;

public slots:
    void refresh();
    void refreshPull();
    void triggerUpdate();
    void deployToStaging();
    void checkStaging();
    void mergePull();
    void deployAll();
    void deploySelected();

signals:
    void refreshed();
    void pullChanged();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void withSetup(std::function<void()> then);
    void applyStatus(const MachineStatus& status, quint64 generation);
    void refreshMachine(const QString& machine);
    // `action` names what is planned, for a failed plan's message ("the deploy of main to staging").
    void launch(std::unique_ptr<Operation> operation, const QString& action, const QString& title, const QString& text);
    void onRunFinished(const RunRecord& record);
    void showPull();
    void updateSummary();
    void updateFlowButtons();
    QStringList manualChecks(bool ticked) const;
    QString selectedMachine() const;
    // The pull request's test merge when the staging machine runs it (as the matrix last read), else empty.
    QString stagingDeployed() const;

    Inventory m_inventory;
    CredentialStore* m_credentials;
    RunsDock* m_runs;
    std::optional<DeploySetup> m_setup;
    bool m_resolving = false;
    QList<std::function<void()>> m_waiting; // for the setup
    bool m_shown = false;
    bool m_refreshing = false;
    // Per machine, the newest read asked for: an older answer arriving later is dropped.
    QHash<QString, quint64> m_wanted;
    quint64 m_generation = 0;
    quint64 m_pullGeneration = 0;

    UpdatePull m_pull;
    QString m_stagingVerified; // the commit the automatic staging checks passed on

    // Reads run here, not in the global pool: the destructor stops and waits for them.
    QThreadPool m_pool;
    std::shared_ptr<std::atomic_bool> m_closing = std::make_shared<std::atomic_bool>(false);
    PaneHeader* m_header;
    DeployMatrixModel* m_matrix;
    QSortFilterProxyModel* m_sorted;
    QTableView* m_view;
    QLineEdit* m_filter;
    QLabel* m_summary;
    QComboBox* m_autoRefresh;
    QTimer* m_timer;
    QPushButton* m_refreshButton;
    QPushButton* m_deploySelected;
    QLineEdit* m_inputPackit;
    QLineEdit* m_inputOutpack;
    QLineEdit* m_inputRunner;
    QPushButton* m_trigger;
    QLabel* m_pullTitle;
    PullRequestBrowser* m_pullDetails; // head, commits, checks and the body rendered
    QPushButton* m_deployStaging;
    QPushButton* m_checkStaging;
    QLabel* m_stagingState;
    QListWidget* m_checklist;
    QPushButton* m_merge;
    QPushButton* m_deployAll;
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
};

} // namespace opsdeck
