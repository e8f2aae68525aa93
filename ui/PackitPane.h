#pragma once

#include "config/Inventory.h"
#include "packit/PackitTarget.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"
#include "ssh/HostStatus.h"

#include "SystemPane.h"

#include <functional>
#include <map>
#include <memory>

class QLabel;
class QPushButton;
class QTabWidget;
class QTableView;
class QTreeView;
class QTreeWidget;

namespace opsdeck {

class CredentialStore;
class ErrorBanner;
class JsonTreeModel;
class OperationLauncher;
class PaneHeader;
class PacketTableModel;
class PagedTableView;
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
        const JournalLocation& journalLocation,
        QWidget* parent = nullptr);
    ~PackitPane() override;

    TargetStatusModel* instances() const { return m_instances; }
    PacketTableModel* packets() const { return m_packets; }
    ErrorBanner* errors() const { return m_errors; }
    // The Packet tab's metadata of the packet selected in Packets.
    JsonTreeModel* metadata() const { return m_metadata; }
    QStringList hosts() const override;
    // The instance whose tables are shown, as "host/instance".
    QString selectedInstance() const;
    void selectInstance(int row);
    void updateHost(const HostStatus& status) override;
    QAbstractItemView* targetView() const override;
    bool recovers(const QString& operation) const override;
    void recover(const Journal::UnfinishedRun& run) override;
    bool restores(const QString& operation) const override;
    void restore(const UndoWindow& window) override;

public slots:
    void refresh();
    void wipeSelected();

protected:
    void showEvent(QShowEvent* event) override;

private:
    struct InstanceWorker;
    void withWorker(int row, std::function<void(InstanceWorker&)> use);
    void requestState(int row, InstanceWorker& instance);
    void showInstance(int row);
    void onState(int row, const QJsonObject& state);
    void showGroups(const QJsonArray& groups, const QString& error);
    void showPacket(int packetRow);
    void showPacketTitle(const QString& state = {});
    void onMetadata(const QJsonObject& metadata, const QString& error);
    void onWipeFinished(const RunRecord& record);

    Inventory m_inventory;
    CredentialStore* m_credentials;
    RunsDock* m_runs;
    QList<PackitTarget> m_targets; // one per instance row, secrets not yet filled in
    std::map<int, std::unique_ptr<InstanceWorker>> m_workers; // per instance row, once its secrets are known
    int m_current = -1;
    bool m_shown = false;

    TargetStatusModel* m_instances;
    QTableView* m_instanceView;
    PacketTableModel* m_packets;
    PagedTableView* m_packetView;
    QTreeWidget* m_groups;
    // The packet the Packet tab shows (no id: none), as the packets table read it.
    struct ShownPacket
    {
        QString id;
        QString name;
        QString displayName;
    };
    ShownPacket m_packet;
    QLabel* m_packetTitle;
    JsonTreeModel* m_metadata;
    QTreeView* m_metadataView;
    QPushButton* m_copyJson;
    QTreeWidget* m_files;
    QTabWidget* m_tabs;
    QPushButton* m_wipe;
    QLabel* m_instanceTitle;
    PaneHeader* m_header;
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
};

} // namespace opsdeck
