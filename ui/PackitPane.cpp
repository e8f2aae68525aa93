#include "PackitPane.h"

#include "ErrorBanner.h"
#include "JsonTreeModel.h"
#include "ListTable.h"
#include "OperationLauncher.h"
#include "PacketTableModel.h"
#include "PagedTableView.h"
#include "PaneHeader.h"
#include "RunsDock.h"
#include "RunsElsewhereBanner.h"
#include "TargetStatusModel.h"
#include "core/ConnectionWorker.h"
#include "core/Counted.h"
#include "core/WorkerRowSource.h"
#include "packit/PackitConnection.h"
#include "packit/PackitQueries.h"
#include "packit/PackitRecovery.h"
#include "packit/PackitRestoreOperation.h"
#include "packit/PackitSecrets.h"
#include "packit/PackitWipeOperation.h"

#include <QClipboard>
#include <QDateTime>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTreeView>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace opsdeck {

// An instance's live connection for the pane (its thread keeps the SSH session and the database open), and the
// packets table's pages and counts on it.
struct PackitPane::InstanceWorker
{
    explicit InstanceWorker(const PackitTarget& resolved)
        : target(resolved)
        , worker(QStringLiteral("packit:") + resolved.id(),
              [resolved] { return std::make_unique<PackitConnection>(resolved); })
        , packets(&worker, PackitQueries::PacketId, &PackitQueries::packetPage, &PackitQueries::packetCount)
        , stateWorker(QStringLiteral("packit-state:") + resolved.id(),
              [resolved] { return std::make_unique<PackitConnection>(resolved); })
    {
    }

    PackitTarget target; // with its secrets
    ConnectionWorker<PackitConnection> worker; // the packets, groups and metadata
    WorkerRowSource<PackitConnection> packets;
    // The state on a connection of its own: its `find` over the whole outpack root takes seconds on a large
    // instance, and the packets' first rows must not wait for it.
    ConnectionWorker<PackitConnection> stateWorker;
};

namespace {
enum InstanceColumn
{
    Instance,
    HostColumn,
    Outpack,
    Api,
    Packets,
    Groups,
    Root,
    InstanceColumnCount
};

QStringList instanceCells(const PackitTarget& target, const QJsonObject& state = {})
{
    const QLocale locale;
    auto number = [&](const QString& key) {
        return state.contains(key) ? locale.toString(state.value(key).toInteger()) : QStringLiteral("…");
    };
    return { target.instance.name, target.host.name,
        state.value(QStringLiteral("outpackState")).toString(QStringLiteral("…")),
        state.value(QStringLiteral("apiState")).toString(QStringLiteral("…")), number(QStringLiteral("packets")),
        number(QStringLiteral("groups")),
        state.contains(QStringLiteral("rootBytes")) ? QObject::tr("%1, %2").arg(
            counted(state.value(QStringLiteral("rootFiles")).toInteger(), QObject::tr("file")),
            locale.formattedDataSize(state.value(QStringLiteral("rootBytes")).toInteger()))
                                                    : QStringLiteral("…") };
}
} // namespace

PackitPane::PackitPane(const Inventory& inventory,
    CredentialStore* credentials,
    RunsDock* runs,
    const JournalLocation& journalLocation,
    QWidget* parent)
    : SystemPane(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
    , m_runs(runs)
    , m_instances(new TargetStatusModel({ tr("Instance"), tr("Host"), tr("outpack"), tr("packit-api"), tr("Packets"),
                                            tr("Groups"), tr("outpack root") },
          this))
    , m_instanceView(new QTableView(this))
    , m_packets(new PacketTableModel(this))
    , m_packetView(new PagedTableView(this))
    , m_groups(new QTreeWidget(this))
    , m_packetTitle(new QLabel(this))
    , m_metadata(new JsonTreeModel(this))
    , m_metadataView(new QTreeView(this))
    , m_copyJson(new QPushButton(tr("Copy &JSON"), this))
    , m_files(new QTreeWidget(this))
    , m_tabs(new QTabWidget(this))
    , m_wipe(new QPushButton(tr("&Wipe instance…"), this))
    , m_instanceTitle(new QLabel(this))
    , m_header(new PaneHeader(tr("Packit"), this))
    , m_errors(new ErrorBanner(this))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
{
    QList<TargetStatusModel::Target> rows;
    for (const Host& host : inventory.hosts) {
        for (const PackitInstance& instance : host.instances) {
            PackitTarget::Problem problem;
            QString error;
            if (const auto target = PackitTarget::resolve(inventory, host.name, instance.name, &problem, &error)) {
                m_targets << *target;
                rows << TargetStatusModel::Target { instanceCells(*target), host.name, {}, host.tags.production };
            }
        }
    }
    m_instances->setTargets(rows);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* summary
        = new QLabel(tr("Packit instances (outpack_server, packit-api and a PostgreSQL database each), read "
                        "live over SSH and a tunnel to the database. Select an instance to browse its packets."),
            this);
    summary->setWordWrap(true);
    layout->addWidget(summary);

    auto* bar = new QHBoxLayout;
    auto* refreshButton = new QPushButton(tr("&Refresh"), this);
    refreshButton->setToolTip(tr("Read every instance's units, counts and root size again"));
    bar->addWidget(refreshButton);
    bar->addStretch(1);
    m_wipe->setObjectName(QStringLiteral("wipeInstance"));
    m_wipe->setToolTip(tr("Delete every packet, packet group and file of the selected instance (the runbook "
                          "packit-wipe-instance), after a plan and a confirmation"));
    m_wipe->setStyleSheet(QStringLiteral("QPushButton:enabled { color: #b71c1c; font-weight: bold; }"));
    m_wipe->setEnabled(false);
    bar->addWidget(m_wipe);
    layout->addLayout(bar);
    layout->addWidget(m_errors);
    auto* elsewhere
        = new RunsElsewhereBanner(runs, { QStringLiteral("packit-wipe"), QStringLiteral("packit-wipe-recover") }, this);
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &PackitPane::refresh);

    m_instanceView->setObjectName(QStringLiteral("instances"));
    m_instanceView->setModel(m_instances);
    setUpListTable(m_instanceView);
    fitColumns(m_instanceView);
    connect(m_instances, &QAbstractItemModel::dataChanged, this, [this] { fitColumns(m_instanceView); });

    auto* browser = new QWidget(this);
    auto* browserLayout = new QVBoxLayout(browser);
    browserLayout->setContentsMargins(0, 0, 0, 0);
    m_instanceTitle->setText(tr("Select an instance above."));
    browserLayout->addWidget(m_instanceTitle);

    auto* packetsTab = new QWidget(this);
    auto* packetsLayout = new QVBoxLayout(packetsTab);
    m_packetView->setObjectName(QStringLiteral("packets"));
    m_packetView->filterEdit()->setPlaceholderText(tr("Filter by id, name or display name…"));
    m_packetView->progressLabel()->setObjectName(QStringLiteral("loadLabel"));
    m_packetView->setModel(m_packets);
    QTableView* packetTable = m_packetView->table();
    packetTable->setObjectName(QStringLiteral("packetTable"));
    packetTable->setSelectionMode(QAbstractItemView::SingleSelection);
    packetsLayout->addWidget(m_packetView);
    m_tabs->addTab(packetsTab, tr("&Packets"));

    m_groups->setObjectName(QStringLiteral("packetGroups"));
    m_groups->setHeaderLabels({ tr("Packet group"), tr("Packets"), tr("Latest") });
    setUpListTree(m_groups);
    m_groups->setSortingEnabled(true);
    m_tabs->addTab(m_groups, tr("Packet &groups"));

    // The packet selected in Packets: which one it is, its files, and its metadata as a tree.
    auto* packetTab = new QWidget(this);
    auto* packetLayout = new QVBoxLayout(packetTab);
    auto* packetBar = new QHBoxLayout;
    m_packetTitle->setObjectName(QStringLiteral("packetTitle"));
    m_packetTitle->setTextFormat(Qt::RichText);
    m_packetTitle->setWordWrap(true);
    m_packetTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    packetBar->addWidget(m_packetTitle, 1);
    m_copyJson->setObjectName(QStringLiteral("copyJson"));
    m_copyJson->setToolTip(tr("Copy the packet's metadata to the clipboard, as the JSON outpack keeps"));
    m_copyJson->setEnabled(false);
    packetBar->addWidget(m_copyJson, 0, Qt::AlignTop);
    packetLayout->addLayout(packetBar);
    auto* packetSplitter = new QSplitter(Qt::Vertical, packetTab);
    m_files->setObjectName(QStringLiteral("files"));
    m_files->setHeaderLabels({ tr("File"), tr("Size"), tr("Hash") });
    setUpListTree(m_files);
    packetSplitter->addWidget(m_files);
    m_metadataView->setObjectName(QStringLiteral("metadata"));
    m_metadataView->setModel(m_metadata);
    m_metadataView->setUniformRowHeights(true);
    m_metadataView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_metadataView->setAlternatingRowColors(true);
    packetSplitter->addWidget(m_metadataView);
    // A packet has a few files and a lot of metadata: the tree gets most of the room.
    packetSplitter->setStretchFactor(1, 3);
    packetSplitter->setSizes({ 100, 300 });
    packetLayout->addWidget(packetSplitter, 1);
    m_tabs->addTab(packetTab, tr("Pac&ket"));
    showPacketTitle();
    browserLayout->addWidget(m_tabs);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_instanceView);
    splitter->addWidget(browser);
    splitter->setStretchFactor(1, 2);
    m_instanceView->setMinimumHeight(m_instanceView->verticalHeader()->defaultSectionSize() * 7);
    layout->addWidget(splitter, 1);

    connect(refreshButton, &QPushButton::clicked, this, &PackitPane::refresh);
    connect(m_wipe, &QPushButton::clicked, this, &PackitPane::wipeSelected);
    connect(m_instanceView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex& current) { showInstance(current.row()); });
    connect(packetTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex& current) { showPacket(current.row()); });
    connect(m_copyJson, &QPushButton::clicked, this, [this] {
        if (m_metadata->hasJson())
            QGuiApplication::clipboard()->setText(m_metadata->text());
    });
    connect(m_runs, &RunsDock::runFinished, this, &PackitPane::onWipeFinished);
}

PackitPane::~PackitPane()
{
    m_packets->setSource(nullptr);
    m_workers.clear();
}

QStringList PackitPane::hosts() const
{
    QStringList names;
    for (const PackitTarget& target : m_targets) {
        if (!names.contains(target.host.name))
            names << target.host.name;
    }
    return names;
}

QString PackitPane::selectedInstance() const
{
    return m_current >= 0 ? m_targets.value(m_current).id() : QString();
}

void PackitPane::selectInstance(int row)
{
    m_instanceView->selectRow(row);
}

void PackitPane::updateHost(const HostStatus& status)
{
    m_instances->updateHost(status);
}

void PackitPane::showEvent(QShowEvent* event)
{
    // The instances' state is read when the pane is first looked at, not when the console starts.
    if (!m_shown) {
        m_shown = true;
        refresh();
    }
    SystemPane::showEvent(event);
}

void PackitPane::refresh()
{
    for (int row = 0; row < m_targets.size(); ++row)
        withWorker(row, [this, row](InstanceWorker& instance) { requestState(row, instance); });
    if (m_current >= 0)
        showInstance(m_current);
}

// Runs `use` with the row's worker, creating it once the secrets it needs are known.
void PackitPane::withWorker(int row, std::function<void(InstanceWorker&)> use)
{
    if (const auto found = m_workers.find(row); found != m_workers.end()) {
        use(*found->second);
        return;
    }
    resolvePackitSecrets(m_credentials, m_targets[row], this,
        [this, row, use](std::optional<PackitTarget> target, const QString& error) {
            if (!target) {
                // Shown in the row, not in a dialog: a refresh must not open one per instance.
                QStringList cells = instanceCells(m_targets[row]);
                cells[Outpack] = cells[Api] = tr("no secret");
                cells[Root] = error;
                m_instances->setCells(row, cells);
                return;
            }
            auto& instance = m_workers[row];
            if (!instance)
                instance = std::make_unique<InstanceWorker>(*target);
            use(*instance);
        });
}

void PackitPane::requestState(int row, InstanceWorker& instance)
{
    instance.stateWorker.run(
        this, [](PackitConnection& connection, QString*) { return connection.instanceState(); },
        [this, row](const QJsonObject& state, const QString&) { onState(row, state); });
}

void PackitPane::showInstance(int row)
{
    if (row < 0 || row >= m_targets.size())
        return;
    m_current = row;
    m_wipe->setEnabled(true);
    m_wipe->setText(tr("&Wipe %1…").arg(m_targets[row].instance.name));
    const PackitTarget& target = m_targets[row];
    m_instanceTitle->setText(tr("<b>%1</b> on %2 — outpack root %3")
                                 .arg(target.instance.name, target.host.name, target.instance.outpackRoot));
    m_header->setProduction(target.host.tags.production, tr("%1 on %2").arg(target.instance.name, target.host.name));
    m_packet = {};
    m_metadata->clearJson();
    m_copyJson->setEnabled(false);
    m_files->clear();
    showPacketTitle();
    m_groups->clear();
    withWorker(row, [this, row](InstanceWorker& instance) {
        if (row != m_current)
            return;
        m_packets->setSource(&instance.packets);
        instance.worker.run(
            this,
            [](PackitConnection& connection, QString* error) {
                return PackitQueries::groupSummaries(connection, error).value_or(QJsonArray());
            },
            [this, row](const QJsonArray& groups, const QString& error) {
                if (row == m_current)
                    showGroups(groups, error);
            });
        requestState(row, instance);
    });
}

void PackitPane::onState(int row, const QJsonObject& state)
{
    QStringList cells = instanceCells(m_targets[row], state);
    if (const QString error = state.value(QStringLiteral("error")).toString(); !error.isEmpty())
        cells[Root] = tr("error: %1").arg(error);
    m_instances->setCells(row, cells); // its dataChanged fits the columns
}

void PackitPane::showGroups(const QJsonArray& groups, const QString& error)
{
    m_groups->clear();
    if (!error.isEmpty())
        new QTreeWidgetItem(m_groups, { tr("Error: %1").arg(error) });
    for (const QJsonValue& value : groups) {
        const QJsonObject group = value.toObject();
        auto* item = new QTreeWidgetItem(m_groups);
        item->setText(0, group.value(QStringLiteral("name")).toString());
        item->setData(1, Qt::DisplayRole, group.value(QStringLiteral("packets")).toInteger());
        item->setText(2,
            QDateTime::fromSecsSinceEpoch(qint64(group.value(QStringLiteral("latest")).toDouble()))
                .toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    }
    fitColumns(m_groups);
}

void PackitPane::showPacket(int packetRow)
{
    const QString id = m_packets->packetId(packetRow);
    if (id.isEmpty() || !m_workers.contains(m_current))
        return;
    m_packet = { id, m_packets->value(packetRow, PackitQueries::PacketName).toString(),
        m_packets->value(packetRow, PackitQueries::PacketDisplayName).toString() };
    m_metadata->clearJson();
    m_copyJson->setEnabled(false);
    m_files->clear();
    showPacketTitle(tr("Reading its metadata…"));
    const int row = m_current;
    m_workers[row]->worker.run(
        this,
        [id](PackitConnection& connection, QString* error) {
            return PackitQueries::packetMetadata(connection, id, error).value_or(QJsonObject());
        },
        [this, row, id](const QJsonObject& metadata, const QString& error) {
            // Only the packet still selected: answers to an earlier selection come first.
            if (row == m_current && id == m_packet.id)
                onMetadata(metadata, error);
        });
}

// Which packet the Packet tab shows, with `state` (reading, or why it cannot be read) below.
void PackitPane::showPacketTitle(const QString& state)
{
    if (m_packet.id.isEmpty()) {
        m_packetTitle->setText(tr("Select a packet in Packets to see its files and metadata here."));
        return;
    }
    const auto bold = [](const QString& text) { return QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped()); };
    QString text = tr("Packet %1 · name %2 · display name %3")
                       .arg(bold(m_packet.id), bold(m_packet.name),
                           m_packet.displayName.isEmpty() ? tr("<i>none</i>") : bold(m_packet.displayName));
    if (!state.isEmpty())
        text += QStringLiteral("<br>") + state.toHtmlEscaped();
    m_packetTitle->setText(text);
}

void PackitPane::onMetadata(const QJsonObject& metadata, const QString& error)
{
    if (!error.isEmpty()) {
        showPacketTitle(tr("Cannot read its metadata: %1").arg(error));
        return;
    }
    showPacketTitle();
    m_metadata->setJson(metadata);
    m_copyJson->setEnabled(true);
    // The first two levels of objects open (time, custom and its orderly), unless large; arrays stay closed (a
    // packet's files are listed above the tree).
    const std::function<void(const QModelIndex&, int)> expand = [&](const QModelIndex& parent, int depth) {
        for (int r = 0; r < m_metadata->rowCount(parent); ++r) {
            const QModelIndex index = m_metadata->index(r, JsonTreeModel::Key, parent);
            const int members = m_metadata->rowCount(index);
            if (index.data(JsonTreeModel::TypeRole).toInt() != QJsonValue::Object || members == 0 || members > 50)
                continue;
            m_metadataView->expand(index);
            if (depth < 1)
                expand(index, depth + 1);
        }
    };
    expand({}, 0);
    m_metadataView->resizeColumnToContents(JsonTreeModel::Key);
    m_files->clear();
    for (const QJsonValue& value : metadata.value(QStringLiteral("files")).toArray()) {
        const QJsonObject file = value.toObject();
        auto* item = new QTreeWidgetItem(m_files);
        item->setText(0, file.value(QStringLiteral("path")).toString());
        item->setText(1, QLocale().formattedDataSize(file.value(QStringLiteral("size")).toInteger()));
        item->setText(2, file.value(QStringLiteral("hash")).toString());
    }
    fitColumns(m_files);
    m_tabs->setCurrentIndex(2);
}

void PackitPane::wipeSelected()
{
    const int row = m_current;
    if (row < 0)
        return;
    withWorker(row, [this, row](InstanceWorker& instance) {
        m_wipe->setEnabled(false); // until the plan is answered
        OperationLauncher::Launch launch;
        launch.target = m_targets[row].id();
        launch.action = tr("the wipe");
        launch.answered = [this, row] { m_wipe->setEnabled(row == m_current); };
        launch.wording = [this, row](const Plan& plan, QString* title, QString* text) {
            *title = tr("Wipe instance %1 on %2?").arg(plan.targetName, m_targets[row].host.name);
            *text = tr("Every packet, packet group and file of %1 will be deleted, and its two services restarted "
                       "empty. Users, roles and global grants stay.")
                        .arg(plan.target);
        };
        m_launcher->launch(std::make_unique<PackitWipeOperation>(instance.target), launch);
    });
}

bool PackitPane::recovers(const QString& operation) const
{
    return packitRecoveredOperations().contains(operation);
}

void PackitPane::recover(const Journal::UnfinishedRun& run)
{
    resolvePackitRecovery(
        m_credentials, m_inventory, run, this, [this, run](std::unique_ptr<Operation> recovery, const QString& error) {
            m_launcher->recover(run, std::move(recovery), error);
        });
}

bool PackitPane::restores(const QString& operation) const
{
    return PackitRestoreOperation::restoredOperations().contains(operation);
}

void PackitPane::restore(const UndoWindow& window)
{
    int row = -1;
    for (int i = 0; i < m_targets.size(); ++i) {
        if (m_targets[i].id() == window.target)
            row = i;
    }
    if (row < 0) {
        m_errors->showProblem({ window.target, tr("Preparing the restore of run %1").arg(window.runId),
            tr("the inventory has no instance %1 any more").arg(window.target),
            tr("Nothing was touched. Restore it with an inventory that has the instance.") });
        return;
    }
    withWorker(row, [this, window](InstanceWorker& instance) {
        QString error;
        auto operation = PackitRestoreOperation::fromWindow(instance.target, window, &error);
        if (!operation) {
            m_errors->showProblem({ window.target, tr("Preparing the restore of run %1").arg(window.runId), error,
                tr("Nothing was touched.") });
            return;
        }
        OperationLauncher::Launch launch;
        launch.target = window.target;
        launch.action = tr("the restore");
        launch.wording = [window](const Plan& plan, QString* title, QString* text) {
            *title = tr("Restore %1 as run %2 kept it?").arg(plan.target, window.runId);
            *text = tr("Puts back what run %1 (%2, by %3 at %4) kept: %5. Both services stop for a few seconds. "
                       "Whatever %6 holds now is not mixed in: it is set aside and kept, and the plan names it.")
                        .arg(window.runId, window.operation, window.user,
                            window.openedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                            window.restorable.join(QStringLiteral("; ")), plan.target);
        };
        m_launcher->launch(std::move(operation), launch);
    });
}

void PackitPane::onWipeFinished(const RunRecord& record)
{
    for (int row = 0; row < m_targets.size(); ++row) {
        if (m_targets[row].id() != record.target)
            continue;
        if (const auto found = m_workers.find(row); found != m_workers.end())
            requestState(row, *found->second);
        if (row == m_current)
            showInstance(row);
    }
}

QAbstractItemView* PackitPane::targetView() const
{
    return m_instanceView;
}

} // namespace opsdeck
