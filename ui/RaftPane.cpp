#include "RaftPane.h"

#include "ErrorBanner.h"
#include "ListTable.h"
#include "OperationLauncher.h"
#include "PaneHeader.h"
#include "RaftPodTableModel.h"
#include "RunsElsewhereBanner.h"
#include "StatefulSetTableModel.h"
#include "StatusIcons.h"
#include "core/ConnectionWorker.h"
#include "kube/KubeClient.h"
#include "kube/KubeSecrets.h"
#include "raft/RaftRecovery.h"
#include "raft/RaftResetOperation.h"
#include "runbook/OperationRunner.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace opsdeck {

// One poll's answer: the namespace's StatefulSets and, when one was selected when it was asked, its pods and what
// its trigger's tag resolves to.
struct RaftPane::Snapshot
{
    quint64 generation = 0;
    QList<StatefulSetRow> statefulSets;
    QString selected; // the StatefulSet whose pods were read; empty: none (none selected, or it is gone)
    QList<PodRow> pods;
    QString podsError;
    QString tag; // its trigger's image stream tag; empty when it follows none
    QString latest; // what the tag resolves to
    QString latestError;
    QDateTime readAt;
};

RaftPane::RaftPane(const Inventory& inventory,
    CredentialStore* credentials,
    RunsDock* runs,
    const JournalLocation& journalLocation,
    QWidget* parent)
    : SystemPane(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
    , m_targets(new QComboBox(this))
    , m_header(new PaneHeader(tr("RAFT"), this))
    , m_readOnly(makeBadge(QStringLiteral("readOnlyBadge"),
          StatusIcons::Kind::Warning,
          StatusIcons::color(StatusIcons::Kind::Unknown),
          tr("Read-only"),
          this))
    , m_tls(makeBadge(QStringLiteral("tlsBadge"),
          StatusIcons::Kind::Warning,
          StatusIcons::color(StatusIcons::Kind::Warning),
          tr("TLS not verified"),
          this))
    , m_status(new QLabel(this))
    , m_errors(new ErrorBanner(this))
    , m_actions(new QToolBar(tr("StatefulSet actions"), this))
    , m_reset(m_actions->addAction(StatusIcons::icon(StatusIcons::Kind::Warning), tr("Reset RAFT…")))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
    , m_statefulSets(new StatefulSetTableModel(this))
    , m_statefulSetView(makeListTable(m_statefulSets, QStringLiteral("statefulSets"), this, ColumnFit::ToRows))
    , m_podsTitle(new QLabel(this))
    , m_latest(new QLabel(this))
    , m_pods(new RaftPodTableModel(this))
    , m_podView(makeListTable(m_pods, QStringLiteral("pods"), this, ColumnFit::ToRows))
    , m_timer(new QTimer(this))
{
    m_targets->setObjectName(QStringLiteral("raftTargets"));
    m_targets->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    // One entry per namespace the inventory allows on each cluster. A cluster whose kubeconfig cannot be used is
    // listed all the same (its namespace unknown): choosing it shows why.
    for (const Cluster& cluster : inventory.clusters) {
        RaftTarget::Problem problem = RaftTarget::Problem::None;
        QString error;
        const auto target = RaftTarget::resolveCluster(inventory, cluster.name, &problem, &error);
        const QStringList namespaces = target ? target->namespaces : cluster.namespaces;
        if (namespaces.isEmpty())
            m_targets->addItem(cluster.name, QStringList { cluster.name, QString() });
        for (const QString& ns : namespaces) {
            addTargetChoice(
                m_targets, tr("%1 / %2").arg(cluster.name, ns), QStringList { cluster.name, ns }, cluster.tags);
        }
    }
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* intro = new QLabel(tr("The RAFT services' StatefulSets on OpenShift, read live every %1 s: replicas, image, "
                                "the image trigger that returns the image to its tag, and the selected one's pods.")
                                 .arg(kPollMs / 1000),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Cluster / namespace:"), this));
    bar->addWidget(m_targets);
    bar->addWidget(m_readOnly);
    bar->addWidget(m_tls);
    m_status->setObjectName(QStringLiteral("raftStatus"));
    bar->addWidget(m_status, 1);
    auto* refreshButton = new QPushButton(tr("&Reconnect"), this);
    refreshButton->setToolTip(tr("Read the kubeconfig and the token again (after `oc login`), then the cluster"));
    bar->addWidget(refreshButton);
    layout->addLayout(bar);
    layout->addWidget(m_errors);
    auto* elsewhere = new RunsElsewhereBanner(runs, { QStringLiteral("raft-reset") }, this);
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &RaftPane::refresh);

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto* setsBar = new QHBoxLayout;
    setsBar->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(tr("StatefulSets")), this));
    setsBar->addStretch(1);
    // The operations on the selected StatefulSet.
    m_reset->setObjectName(QStringLiteral("resetRaft"));
    m_reset->setToolTip(tr("The runbook's RAFT reset of the selected StatefulSet: the DR image, each node's RAFT "
                           "deleted and its index reset, then the service back on its trigger's latest image and "
                           "scaled back up. Shows the plan before anything changes."));
    m_reset->setShortcut(QKeySequence(Qt::ALT | Qt::Key_S));
    connect(m_reset, &QAction::triggered, this, &RaftPane::askAndReset);
    m_actions->setObjectName(QStringLiteral("statefulSetActions"));
    m_actions->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_actions->setEnabled(false);
    setsBar->addWidget(m_actions);
    topLayout->addLayout(setsBar);
    topLayout->addWidget(m_statefulSetView, 1);

    auto* bottom = new QWidget(this);
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    m_podsTitle->setObjectName(QStringLiteral("podsTitle"));
    m_latest->setObjectName(QStringLiteral("latestImage"));
    m_latest->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_latest->setWordWrap(true);
    bottomLayout->addWidget(m_podsTitle);
    bottomLayout->addWidget(m_latest);
    bottomLayout->addWidget(m_podView, 1);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(bottom);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    layout->addWidget(splitter, 1);

    m_timer->setInterval(kPollMs);
    connect(m_timer, &QTimer::timeout, this, &RaftPane::poll);
    connect(refreshButton, &QPushButton::clicked, this, &RaftPane::refresh);
    connect(m_targets, &QComboBox::currentIndexChanged, this, &RaftPane::switchTarget);
    connect(m_statefulSetView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
        &RaftPane::onSelectionChanged);
    onSelectionChanged();
    m_status->setText(m_targets->count() ? tr("Not read yet.") : tr("The inventory declares no cluster."));
}

RaftPane::~RaftPane() = default;

QString RaftPane::currentTarget() const
{
    const QStringList entry = m_targets->currentData().toStringList();
    return entry.isEmpty() ? QString() : entry.join(u'/');
}

bool RaftPane::selectTarget(const QString& id)
{
    for (int index = 0; index < m_targets->count(); ++index) {
        if (m_targets->itemData(index).toStringList().join(u'/') == id) {
            m_targets->setCurrentIndex(index);
            return true;
        }
    }
    return false;
}

QString RaftPane::selectedStatefulSet() const
{
    const QModelIndexList rows = m_statefulSetView->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_statefulSets->rows().at(rows.front().row()).name;
}

bool RaftPane::selectStatefulSet(const QString& name)
{
    const int row = m_statefulSets->rowOf(name);
    if (row >= 0)
        m_statefulSetView->selectRow(row);
    return row >= 0;
}

QStringList RaftPane::badges() const
{
    QStringList result;
    if (!m_header->productionText().isEmpty())
        result << m_header->productionText();
    for (const QToolButton* badge : { m_readOnly, m_tls }) {
        if (!badge->isHidden())
            result << badge->text();
    }
    return result;
}

QString RaftPane::latestText() const
{
    return m_latest->text();
}

void RaftPane::showEvent(QShowEvent* event)
{
    SystemPane::showEvent(event);
    m_timer->start();
    if (!m_worker && !m_connecting && m_targets->count())
        connectTarget();
    else
        requestPoll();
}

void RaftPane::hideEvent(QHideEvent* event)
{
    SystemPane::hideEvent(event);
    m_timer->stop();
}

void RaftPane::refresh()
{
    switchTarget();
}

void RaftPane::switchTarget()
{
    ++m_generation;
    m_worker.reset();
    m_target.reset();
    m_polling = false;
    m_pollAgain = false;
    m_connecting = false;
    m_statefulSets->clear();
    m_pods->clear();
    m_lastRead = {};
    m_errors->clear();
    showBadges();
    if (isVisible())
        connectTarget();
}

void RaftPane::connectTarget()
{
    const QStringList entry = m_targets->currentData().toStringList();
    if (entry.size() != 2)
        return;
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    const auto target = entry[1].isEmpty() ? RaftTarget::resolveCluster(m_inventory, entry[0], &problem, &error)
                                           : RaftTarget::resolve(m_inventory, entry[0], entry[1], &problem, &error);
    if (!target) {
        m_status->setText(tr("Not connected."));
        showProblem(tr("Resolving the cluster's kubeconfig context"), error,
            problem == RaftTarget::Problem::Refused
                ? tr("Give the production cluster's kubeconfig its CA instead of insecure-skip-tls-verify, then "
                     "Reconnect.")
                : tr("Correct the inventory or the kubeconfig, then Reconnect."));
        return;
    }
    m_connecting = true;
    m_status->setText(tr("Looking up the token…"));
    const quint64 generation = m_generation;
    // On the GUI thread: the token may come from the keychain or a prompt, which a worker must never do.
    resolveKubeSecrets(
        m_credentials, *target, this, [this, generation](std::optional<RaftTarget> resolved, const QString& why) {
            if (generation != m_generation)
                return; // another cluster was chosen meanwhile
            m_connecting = false;
            if (!resolved) {
                m_status->setText(tr("Not connected."));
                showProblem(tr("Looking up the cluster's token"), why,
                    tr("Store the token in the keychain (or set its environment variable), then Reconnect."));
                return;
            }
            m_target = resolved;
            const Kubeconfig::Resolved kube = resolved->kube;
            m_worker = std::make_unique<ConnectionWorker<KubeClient>>(
                QStringLiteral("raft:") + resolved->id(), [kube] { return std::make_unique<KubeClient>(kube); });
            showBadges();
            m_status->setText(tr("Reading…"));
            requestPoll();
        });
}

void RaftPane::showBadges()
{
    // Production and read-only are the inventory's word on the chosen cluster: shown before it is reached.
    const QStringList entry = m_targets->currentData().toStringList();
    const Cluster* cluster = entry.isEmpty() ? nullptr : m_inventory.cluster(entry.first());
    m_header->setProduction(cluster && cluster->tags.production,
        entry.value(1).isEmpty() ? entry.value(0) : tr("%1 / %2").arg(entry.value(0), entry.value(1)));
    m_readOnly->setVisible(cluster && cluster->tags.readOnly);
    m_readOnly->setToolTip(tr("A read-only cluster: opsdeck refuses every write to it"));
    m_tls->setVisible(m_target && m_target->kube.insecureSkipTlsVerify);
    m_tls->setToolTip(m_target ? m_target->kube.warnings.join(u'\n') : QString());
}

void RaftPane::requestPoll()
{
    if (m_polling)
        m_pollAgain = true;
    else
        poll();
}

void RaftPane::poll()
{
    if (!m_worker || m_polling || !isVisible())
        return;
    m_polling = true;
    m_pollAgain = false;
    const QString ns = m_target->ns;
    const QString selected = selectedStatefulSet();
    const quint64 generation = m_generation;
    m_worker->run(
        this,
        [ns, selected, generation](KubeClient& client, QString* error) {
            Snapshot snapshot;
            snapshot.generation = generation;
            const auto statefulSets = RaftQueries::statefulSets(client, ns, error);
            if (!statefulSets)
                return snapshot;
            snapshot.statefulSets = *statefulSets;
            snapshot.readAt = QDateTime::currentDateTimeUtc();
            for (const StatefulSetRow& row : *statefulSets) {
                if (row.name != selected)
                    continue;
                snapshot.selected = selected;
                if (const auto pods = RaftQueries::pods(client, ns, row, &snapshot.podsError))
                    snapshot.pods = *pods;
                if (const ImageTrigger* trigger = StatefulSetTableModel::imageTrigger(row)) {
                    snapshot.tag = StatefulSetTableModel::triggerTag(*trigger);
                    snapshot.latest
                        = RaftQueries::triggerImage(client, ns, *trigger, &snapshot.latestError).value_or(QString());
                }
            }
            return snapshot;
        },
        [this](const Snapshot& snapshot, const QString& error) { onSnapshot(snapshot, error); });
}

void RaftPane::onSnapshot(const Snapshot& snapshot, const QString& error)
{
    if (snapshot.generation != m_generation)
        return; // asked of the target shown before
    m_polling = false;
    if (!error.isEmpty()) {
        // The rows stay, but say how old they are: they are no longer live.
        m_status->setText(m_lastRead.isValid()
                ? tr("Reading failed: the tables show what was read at %1; trying again every %2 s.")
                      .arg(QLocale().toString(m_lastRead.toLocalTime().time(), QLocale::LongFormat))
                      .arg(kPollMs / 1000)
                : tr("Reading failed; trying again every %1 s.").arg(kPollMs / 1000));
        showProblem(tr("Reading the StatefulSets"), error, {});
    } else {
        m_statefulSets->setStatefulSets(snapshot.statefulSets);
        m_lastRead = snapshot.readAt;
        m_status->setText(
            (snapshot.statefulSets.size() == 1 ? tr("1 StatefulSet · read %1")
                                               : tr("%1 StatefulSets · read %2").arg(snapshot.statefulSets.size()))
                .arg(QLocale().toString(snapshot.readAt.toLocalTime().time(), QLocale::LongFormat)));
        // The pods only if they are still the selected StatefulSet's (the selection may have moved meanwhile).
        if (snapshot.selected == selectedStatefulSet() && !snapshot.selected.isEmpty()) {
            const StatefulSetRow& row = m_statefulSets->rows().at(m_statefulSets->rowOf(snapshot.selected));
            if (snapshot.podsError.isEmpty())
                m_pods->setPods(snapshot.pods, row.updateRevision, snapshot.readAt);
            if (snapshot.tag.isEmpty())
                m_latest->setText(tr("No image trigger: the image follows no image stream tag."));
            else if (snapshot.latestError.isEmpty())
                m_latest->setText(tr("%1 resolves to %2").arg(snapshot.tag, snapshot.latest));
            else
                m_latest->setText(tr("What %1 resolves to is not known (see above).").arg(snapshot.tag));
        }
        if (!snapshot.podsError.isEmpty())
            showProblem(tr("Reading the pods of %1").arg(snapshot.selected), snapshot.podsError, {});
        else if (!snapshot.latestError.isEmpty())
            showProblem(tr("Reading what %1 resolves to").arg(snapshot.tag), snapshot.latestError, {});
        else
            m_errors->clear();
    }
    emit refreshed();
    if (m_pollAgain)
        poll();
}

void RaftPane::onSelectionChanged()
{
    const QString name = selectedStatefulSet();
    // A refresh that moves the selected row (one inserted above it) reports a selection change too.
    if (name == m_shownStatefulSet && !m_podsTitle->text().isEmpty())
        return;
    m_shownStatefulSet = name;
    m_actions->setEnabled(!name.isEmpty());
    // opsdeck never writes to a read-only cluster; the plan would refuse it too.
    m_reset->setEnabled(!name.isEmpty() && !(m_target && m_target->cluster.tags.readOnly));
    m_pods->clear();
    m_latest->clear();
    m_podsTitle->setText(name.isEmpty() ? tr("<b>Pods</b>: select a StatefulSet to see its pods.")
                                        : tr("<b>Pods of %1</b>").arg(name.toHtmlEscaped()));
    if (!name.isEmpty())
        requestPoll();
}

void RaftPane::askAndReset()
{
    const QString name = selectedStatefulSet();
    if (name.isEmpty() || !m_target)
        return;
    bool ok = false;
    const QString image = QInputDialog::getText(this, tr("Reset the RAFT of %1").arg(name),
        tr("The DR image, with ./doctor in its working directory, as registry/path@sha256:<digest>:"),
        QLineEdit::Normal, m_lastDrImage, &ok)
                              .trimmed();
    if (ok && !image.isEmpty())
        resetStatefulSet(name, image);
}

void RaftPane::resetStatefulSet(const QString& statefulSet, const QString& drImage)
{
    if (!m_target)
        return;
    m_lastDrImage = drImage;
    OperationLauncher::Launch launch;
    launch.target = m_target->id() + u'/' + statefulSet;
    launch.action = tr("the RAFT reset");
    launch.wording = [statefulSet](const Plan& plan, QString* title, QString* text) {
        const int replicas = plan.parameters.value(QStringLiteral("replicas")).toInt();
        *title = tr("Reset the RAFT of %1?").arg(statefulSet);
        *text = tr("All %1 pods of %2 go down onto the DR image, each node's RAFT directory is deleted and its index "
                   "reset, then the service comes back on its trigger's latest image, pod 0 first.")
                    .arg(replicas)
                    .arg(statefulSet);
    };
    launch.answered = [this] { m_reset->setEnabled(!selectedStatefulSet().isEmpty()); };
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        connect(runner, &OperationRunner::finished, this,
            [this](const RunRecord& record) { emit resetFinished(RunRecord::outcomeName(record.outcome)); });
    };
    m_reset->setEnabled(false);
    m_launcher->launch(
        std::make_unique<RaftResetOperation>(*m_target, statefulSet, drImage, RaftResetOperation::Options {}), launch);
}

bool RaftPane::recovers(const QString& operation) const
{
    return raftRecoveredOperations().contains(operation);
}

void RaftPane::recover(const Journal::UnfinishedRun& run)
{
    // The pane reads the StatefulSets again every few seconds: the recovery's effect shows by itself.
    resolveRaftRecovery(
        m_credentials, m_inventory, run, this, [this, run](std::unique_ptr<Operation> recovery, const QString& error) {
            m_launcher->recover(run, std::move(recovery), error);
        });
}

void RaftPane::showProblem(const QString& step, const QString& error, const QString& next)
{
    m_errors->showProblem({ m_target ? m_target->id() : currentTarget(), step, error,
        next.isEmpty() ? tr("opsdeck reads again every %1 s and clears this once it succeeds; Reconnect after "
                            "logging in again or changing the kubeconfig.")
                             .arg(kPollMs / 1000)
                       : next });
}

QAbstractItemView* RaftPane::targetView() const
{
    return m_statefulSetView;
}

} // namespace opsdeck
