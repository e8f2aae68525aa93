#pragma once

#include "config/Inventory.h"
#include "raft/RaftQueries.h"
#include "raft/RaftTarget.h"
#include "runbook/JournalLocation.h"

#include "SystemPane.h"

#include <QDateTime>
#include <QStyle>

#include <memory>
#include <optional>

class QAction;
class QComboBox;
class QLabel;
class QToolButton;
class QTableView;
class QTimer;
class QToolBar;

namespace opsdeck {

class CredentialStore;
class ErrorBanner;
class KubeClient;
class OperationLauncher;
class PaneHeader;
class RaftPodTableModel;
class RunsDock;
class StatefulSetTableModel;
template <typename Connection> class ConnectionWorker;

// The RAFT services on OpenShift, read-only: per cluster and namespace of the inventory, its StatefulSets (replicas,
// image, image trigger, revisions), and for the selected one its pods and what its trigger's tag resolves to.
// Polled every two seconds while the pane is visible, on a worker thread that keeps the cluster's client.
class RaftPane : public SystemPane
{
    Q_OBJECT
public:
    static constexpr int kPollMs = 2000;

    // `runs` and `journalLocation` are what an operation's launcher needs; the pane itself only reads.
    RaftPane(const Inventory& inventory,
        CredentialStore* credentials,
        RunsDock* runs,
        const JournalLocation& journalLocation,
        QWidget* parent = nullptr);
    ~RaftPane() override;

    // Clusters are reached over HTTPS, not through an inventory host.
    QStringList hosts() const override { return {}; }
    void updateHost(const HostStatus&) override { }
    QAbstractItemView* targetView() const override;
    bool recovers(const QString& operation) const override;
    void recover(const Journal::UnfinishedRun& run) override;
    bool showsHostState() const override { return false; }
    QIcon sidebarIcon() const override { return style()->standardIcon(QStyle::SP_DriveNetIcon); }

    StatefulSetTableModel* statefulSets() const { return m_statefulSets; }
    RaftPodTableModel* pods() const { return m_pods; }
    QTableView* statefulSetView() const { return m_statefulSetView; }
    // The cluster and namespace shown, as "cluster/namespace"; empty when none.
    QString currentTarget() const;
    bool selectTarget(const QString& id);
    // The selected StatefulSet's name; empty when none.
    QString selectedStatefulSet() const;
    bool selectStatefulSet(const QString& name);
    // The actions on the selected StatefulSet (the RAFT reset): enabled only while one is selected.
    QToolBar* statefulSetActions() const { return m_actions; }
    // The badges shown on the cluster (Production, Read-only, TLS not verified), and the line saying what the
    // selected StatefulSet's trigger tag resolves to.
    QStringList badges() const;
    QString latestText() const;
    ErrorBanner* errors() const { return m_errors; }

public slots:
    void refresh();
    // The RAFT reset of `statefulSet` on the shown namespace with `drImage`: planned, confirmed in the dialog and run
    // in the Runs dock. The action asks for the DR image, then calls this.
    void resetStatefulSet(const QString& statefulSet, const QString& drImage);

signals:
    // Every answer of a poll that was shown (for tests).
    void refreshed();
    // A reset started from the pane ended (for tests).
    void resetFinished(const QString& outcome);

protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    struct Snapshot;
    void switchTarget();
    void connectTarget();
    // Asks again at once because the question changed (another StatefulSet, a new connection).
    void requestPoll();
    // The timer's read: skipped while one is on the worker.
    void poll();
    void onSnapshot(const Snapshot& snapshot, const QString& error);
    void onSelectionChanged();
    void showBadges();
    void showProblem(const QString& step, const QString& error, const QString& next);
    void askAndReset();

    Inventory m_inventory;
    CredentialStore* m_credentials;
    std::optional<RaftTarget> m_target; // resolved, token included
    std::unique_ptr<ConnectionWorker<KubeClient>> m_worker;
    bool m_connecting = false; // its secrets are being looked up
    bool m_polling = false; // a poll is on the worker
    bool m_pollAgain = false; // the question changed while it was
    QDateTime m_lastRead; // of the rows shown
    QString m_shownStatefulSet; // whose pods the table holds
    quint64 m_generation = 0; // a new target starts a new one; older answers are dropped

    QComboBox* m_targets;
    PaneHeader* m_header;
    QToolButton* m_readOnly;
    QToolButton* m_tls;
    QLabel* m_status;
    ErrorBanner* m_errors;
    QToolBar* m_actions;
    QAction* m_reset;
    OperationLauncher* m_launcher;
    QString m_lastDrImage; // offered again the next time
    StatefulSetTableModel* m_statefulSets;
    QTableView* m_statefulSetView;
    QLabel* m_podsTitle;
    QLabel* m_latest;
    RaftPodTableModel* m_pods;
    QTableView* m_podView;
    QTimer* m_timer;
};

} // namespace opsdeck
