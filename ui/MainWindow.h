#pragma once

#include "PaneRegistration.h"
#include "config/InventoryLoader.h"
#include "runbook/Journal.h"
#include "ssh/HostStatus.h"

#include <QHash>
#include <QMainWindow>

#include <memory>

class QAction;
class QLabel;
class QListWidget;
class QStackedWidget;

namespace opsdeck {

class CredentialStore;
class HostProber;
class SecretDialog;
class SshConnectionPool;
class RunsDock;
class SystemPane;

// The console: a sidebar of systems, one pane each (Hosts, then the registered systems', then the Journal), and a
// status bar with connection activity. An inventory that does not load shows its errors instead of the panes.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(const QString& inventoryPath, QList<PaneRegistration> systems, QWidget* parent = nullptr);
    ~MainWindow() override;

    bool inventoryLoaded() const { return m_pool != nullptr; }
    QListWidget* sidebar() const { return m_sidebar; }
    SystemPane* pane(const QString& title) const;
    QList<SystemPane*> panes() const { return m_panes; }
    RunsDock* runs() const { return m_runs; }
    HostStatus hostStatus(const QString& host) const { return m_statuses.value(host); }

public slots:
    void loadInventory(const QString& path);
    void checkHosts(const QStringList& hosts);
    void reviewHostKey(const QString& host);
    // Recovers an unfinished run in the pane that recovers its operation (shown, for its dialogs and banner).
    void recover(const Journal::UnfinishedRun& run);
    // Takes back a finished run in the pane that restores its operation, once the journal says its undo window is
    // still open (read off the GUI thread).
    void restore(const QString& runId, const QString& operation, const QString& target);

private:
    void makeCredentials();
    void buildPanes(const Inventory& inventory, const JournalLocation& journal);
    void showErrors(const QString& path, const QList<InventoryError>& errors);
    void addPane(SystemPane* pane);
    // The pane that recovers `operation`'s runs, or null.
    SystemPane* recoveringPane(const QString& operation) const;
    // The pane that restores `operation`'s runs, or null.
    SystemPane* restoringPane(const QString& operation) const;
    void closeEvent(QCloseEvent* event) override;
    void clearPanes();
    void onHostStatus(const HostStatus& status);
    void updateActivity();
    void updateSidebar();
    void updateHostKeyActions();
    void openInventoryFile();
    void createInventoryFromTemplate();

    QString m_inventoryPath;
    QList<PaneRegistration> m_systems;
    Inventory m_inventory;
    std::unique_ptr<CredentialStore> m_credentials;
    quint64 m_loads = 0; // inventory loads, so that a team journal's secrets that arrive late go to the latest
    std::unique_ptr<SecretDialog> m_secretDialog;
    SshConnectionPool* m_pool = nullptr;
    HostProber* m_prober = nullptr;
    static constexpr int kHostRecheckMs = 5 * 60 * 1000;
    QHash<QString, HostStatus> m_statuses;

    QListWidget* m_sidebar;
    QStackedWidget* m_stack;
    QList<SystemPane*> m_panes;
    JournalLocation m_journal; // the panes' journal, once built
    QLabel* m_activity;
    QLabel* m_keychain;
    QLabel* m_inventoryLabel;
    RunsDock* m_runs;
    QAction* m_checkAllAction = nullptr;
};

} // namespace opsdeck
