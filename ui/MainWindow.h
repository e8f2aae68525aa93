#pragma once

#include "PaneRegistration.h"
#include "config/InventoryLoader.h"
#include "runbook/Journal.h"
#include "ssh/HostStatus.h"

#include <QHash>
#include <QMainWindow>

#include <functional>

#include <memory>

class QAction;
class QLabel;
class QListWidget;
class QSplitter;
class QStackedWidget;

namespace opsdeck {

class CommandPalette;
class CredentialStore;
class HostProber;
class SecretDialog;
class SshConnectionPool;
class RunsDock;
class SystemPane;

// The console: a sidebar of systems, one pane each (Hosts, then the registered systems', then the Journal), and a
// status bar with connection activity. An inventory that does not load shows its errors instead of the panes.
// Only the pane on show is built before the window is; the others, and everything remote, come once it is up.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(const QString& inventoryPath, QList<PaneRegistration> systems, QWidget* parent = nullptr);
    ~MainWindow() override;

    bool inventoryLoaded() const { return m_pool != nullptr; }
    QListWidget* sidebar() const { return m_sidebar; }
    // The pane named `title` in the sidebar (built now if it was not yet), or null.
    SystemPane* pane(const QString& title);
    // Every pane, all built.
    QList<SystemPane*> panes();
    CommandPalette* palette() const { return m_palette; }
    RunsDock* runs() const { return m_runs; }
    HostStatus hostStatus(const QString& host) const { return m_statuses.value(host); }

public slots:
    void loadInventory(const QString& path);
    void checkHosts(const QStringList& hosts);
    void reviewHostKey(const QString& host);
    // Recovers an unfinished run in the pane that recovers its operation (shown, for its dialogs and banner).
    void recover(const Journal::UnfinishedRun& run);
    // Ctrl+K: every menu action, every pane's buttons and tabs, and every pane's targets, found by name.
    void showPalette();
    // Takes back a finished run in the pane that restores its operation, once the journal says its undo window is
    // still open (read off the GUI thread).
    void restore(const QString& runId, const QString& operation, const QString& target);

private:
    // A sidebar entry and its pane, which is built the first time it is needed.
    struct PaneSlot
    {
        QString title;
        std::function<SystemPane*()> create;
        SystemPane* pane = nullptr;
    };

    void makeCredentials();
    void buildPanes(const Inventory& inventory, const JournalLocation& journal);
    void showErrors(const QString& path, const QList<InventoryError>& errors);
    void addPane(const QString& title, std::function<SystemPane*()> create);
    // The pane of sidebar row `row`, built (and told the host states known so far) if it was not yet.
    SystemPane* built(int row);
    // Builds the panes not built yet, one per turn of the event loop, so that the window stays responsive meanwhile.
    void buildRestLater();
    void showPane(int row);
    void startReading();
    // The pane that recovers `operation`'s runs, or null.
    SystemPane* recoveringPane(const QString& operation);
    // The pane that restores `operation`'s runs, or null.
    SystemPane* restoringPane(const QString& operation);
    void makeMenus();
    void showEvent(QShowEvent* event) override;
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
    QSplitter* m_splitter;
    QList<PaneSlot> m_slots;
    bool m_shown = false; // the window has been shown: remote reads may start
    bool m_checkOnShow = false; // the hosts are checked once the window is up
    JournalLocation m_journal; // the panes' journal, once built
    QLabel* m_activity;
    QLabel* m_keychain;
    QLabel* m_inventoryLabel;
    RunsDock* m_runs;
    QAction* m_checkAllAction = nullptr;
    QList<QAction*> m_paneActions; // View > Go to …: Ctrl+1 … Ctrl+9
    CommandPalette* m_palette;
};

} // namespace opsdeck
