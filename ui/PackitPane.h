#pragma once

#include "config/Inventory.h"
#include "packit/PackitTarget.h"
#include "runbook/RunRecord.h"
#include "ssh/HostStatus.h"

#include "SystemPane.h"
#include <QHash>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableView;
class QTreeWidget;

namespace opsdeck {

class CredentialStore;
class ErrorBanner;
class OperationLauncher;
class PackitWorker;
class PacketTableModel;
class RunsDock;
class TargetStatusModel;

// Packit instances with their live state; the selected instance's packets (loaded as they scroll), groups and
// a packet's metadata; and the wipe, planned, confirmed and followed in the Runs dock.
class PackitPane : public SystemPane
{
    Q_OBJECT
public:
    PackitPane(const Inventory& inventory,
        CredentialStore* credentials,
        RunsDock* runs,
        const QString& journalPath,
        QWidget* parent = nullptr);
    ~PackitPane() override;

    QString title() const override { return tr("Packit"); }
    TargetStatusModel* instances() const { return m_instances; }
    PacketTableModel* packets() const { return m_packets; }
    QStringList hosts() const override;
    // The instance whose tables are shown, as "host/instance".
    QString selectedInstance() const;
    void selectInstance(int row);
    void updateHost(const HostStatus& status) override;

public slots:
    void refresh();
    void wipeSelected();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void withWorker(int row, std::function<void(PackitWorker*)> use);
    void showInstance(int row);
    void onState(int row, const QJsonObject& state);
    void onMetadata(const QJsonObject& metadata, const QString& error);
    void onWipeFinished(const RunRecord& record);
    void updateLoadLabel();

    Inventory m_inventory;
    CredentialStore* m_credentials;
    RunsDock* m_runs;
    QList<PackitTarget> m_targets; // one per instance row, secrets not yet filled in
    QHash<int, PackitWorker*> m_workers; // per instance row, once its secrets are known
    int m_current = -1;
    bool m_shown = false;
    quint64 m_generation = 0;

    TargetStatusModel* m_instances;
    QTableView* m_instanceView;
    PacketTableModel* m_packets;
    QTableView* m_packetView;
    QLineEdit* m_filter;
    QLabel* m_loadLabel;
    QTreeWidget* m_groups;
    QPlainTextEdit* m_metadata;
    QTreeWidget* m_files;
    QTabWidget* m_tabs;
    QPushButton* m_wipe;
    QLabel* m_instanceTitle;
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
};

} // namespace opsdeck
