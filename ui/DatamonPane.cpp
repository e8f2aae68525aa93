#include "DatamonPane.h"

#include "DatamonRepoDetailModels.h"
#include "DatamonRepoModel.h"
#include "ErrorBanner.h"
#include "KubeCells.h"
#include "ListTable.h"
#include "OperationLauncher.h"
#include "PaneHeader.h"
#include "RunsElsewhereBanner.h"
#include "StatusIcons.h"
#include "UiLogging.h"
#include "core/ConnectionWorker.h"
#include "core/Counted.h"
#include "datamon/DatamonDeleteRepoOperation.h"
#include "datamon/DatamonHost.h"
#include "datamon/DatamonPurgeOperation.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonRecovery.h"
#include "datamon/DatamonRestoreOperation.h"
#include "runbook/OperationRunner.h"

#include <QAction>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace opsdeck {

// The context's state as one read on the worker: its buckets, who shares its blob bucket, the lock and the index.
struct DatamonPane::State
{
    quint64 generation = 0;
    QString step; // what failed, when something did
    QList<DatamonContextBuckets> sharing; // this context first
    DatamonQueries::StoreState store;
    QDateTime readAt;
};

// A repo's bundles and labels, or its sizes.
struct DatamonPane::Details
{
    quint64 generation = 0;
    QString repo;
    QString step;
    QList<DatamonBundle> bundles;
    QList<DatamonLabel> labels;
    std::optional<DatamonRepoSizes> sizes;
};

namespace {

QLabel* makeStateLabel(const QString& name, QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setObjectName(name);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QString utcText(const QDateTime& time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QStringLiteral(" UTC");
}

// "HH:mm" of a state line's read time, so that an admin sees how fresh it is.
QString readAtText(const QDateTime& time)
{
    return QLocale().toString(time.toLocalTime().time(), QLocale::ShortFormat);
}

} // namespace

DatamonPane::DatamonPane(const Inventory& inventory,
    CredentialStore* credentials,
    RunsDock* runs,
    const JournalLocation& journalLocation,
    QWidget* parent)
    : SystemPane(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
    , m_header(new PaneHeader(tr("datamon"), this))
    , m_contexts(new QComboBox(this))
    , m_where(makeStateLabel(QStringLiteral("datamonWhere"), this))
    , m_bucket(makeStateLabel(QStringLiteral("datamonBlobBucket"), this))
    , m_lock(makeStateLabel(QStringLiteral("datamonLock"), this))
    , m_index(makeStateLabel(QStringLiteral("datamonIndex"), this))
    , m_errors(new ErrorBanner(this))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
    , m_filterBox(new QLineEdit(this))
    , m_repoCount(new QLabel(this))
    , m_delete(new QAction(StatusIcons::icon(StatusIcons::Kind::Warning), tr("Delete repo…"), this))
    , m_count(new QAction(tr("Count unused blobs…"), this))
    , m_purge(new QAction(StatusIcons::icon(StatusIcons::Kind::Warning), tr("Purge unused blobs…"), this))
    , m_repos(new DatamonRepoModel(this))
    , m_filter(new DatamonRepoFilter(this))
    , m_repoView(nullptr)
    , m_detailTitle(new QLabel(this))
    , m_loadSizes(new QPushButton(tr("Load &sizes"), this))
    , m_bundles(new DatamonBundleModel(this))
    , m_labels(new DatamonLabelModel(this))
{
    m_filter->setSourceModel(m_repos);
    m_repoView = makeListTable(m_filter, QStringLiteral("datamonRepos"), this, ColumnFit::ByCaller);
    m_repoView->setSortingEnabled(true);
    m_repoView->sortByColumn(DatamonRepoModel::Name, Qt::AscendingOrder);
    // Fitted once to the first rows (fitting 10,000 rows at every batch would cost more than the rows).
    connect(m_repos, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int first) {
        if (first == 0)
            QTimer::singleShot(0, m_repoView, [this] { fitColumns(m_repoView); });
    });

    m_contexts->setObjectName(QStringLiteral("datamonContexts"));
    for (const DatamonContext& context : inventory.datamon)
        addTargetChoice(m_contexts, context.name, context.name, context.tags);
    // Wide enough for the longest entry with its icon and the popup's check column: Fusion's popup elides to the
    // box's width, which AdjustToContents computes without that column.
    int longest = 0;
    for (int i = 0; i < m_contexts->count(); ++i)
        longest = std::max(longest, int(m_contexts->itemText(i).size()));
    m_contexts->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_contexts->setMinimumContentsLength(longest + 4);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* intro = new QLabel(
        tr("The datamon contexts of the inventory: their repos, bundles and labels as datamon2 "
           "lists them on the context's host, the purge lock and the reverse-lookup index of "
           "the metadata bucket; the repo delete (metadata only: blobs stay until a purge) and the purge of unused "
           "blobs (counted first, then deleted on those counts)."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Context:"), this));
    bar->addWidget(m_contexts);
    bar->addStretch(1);
    auto* purgeBar = new QToolBar(tr("Purge"), this);
    purgeBar->setObjectName(QStringLiteral("datamonPurgeActions"));
    purgeBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_count->setObjectName(QStringLiteral("countUnused"));
    m_count->setShortcut(QKeySequence(Qt::ALT | Qt::Key_C));
    m_purge->setObjectName(QStringLiteral("purgeUnused"));
    m_purge->setShortcut(QKeySequence(Qt::ALT | Qt::Key_P));
    purgeBar->addAction(m_count);
    purgeBar->addAction(m_purge);
    bar->addWidget(purgeBar);
    auto* refreshButton = new QPushButton(tr("&Refresh"), this);
    refreshButton->setObjectName(QStringLiteral("datamonRefresh"));
    refreshButton->setToolTip(tr("Read the context's state (lock, index, buckets) and list its repos again"));
    bar->addWidget(refreshButton);
    layout->addLayout(bar);

    // The state strip: two columns of "what: value" lines.
    auto* strip = new QGridLayout;
    strip->setHorizontalSpacing(16);
    strip->setVerticalSpacing(2);
    strip->addWidget(m_where, 0, 0);
    strip->addWidget(m_bucket, 1, 0);
    strip->addWidget(m_lock, 0, 1);
    strip->addWidget(m_index, 1, 1);
    strip->setColumnStretch(0, 1);
    strip->setColumnStretch(1, 1);
    layout->addLayout(strip);
    layout->addWidget(m_errors);
    auto* elsewhere = new RunsElsewhereBanner(
        runs, { QStringLiteral("datamon-delete-repo"), QStringLiteral("datamon-purge") }, this);
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &DatamonPane::refresh);

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto* reposBar = new QHBoxLayout;
    reposBar->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(tr("Repos")), this));
    m_repoCount->setObjectName(QStringLiteral("datamonRepoCount"));
    reposBar->addWidget(m_repoCount);
    reposBar->addStretch(1);
    m_filterBox->setObjectName(QStringLiteral("datamonRepoFilter"));
    m_filterBox->setPlaceholderText(tr("Filter: name, description, contributor"));
    m_filterBox->setClearButtonEnabled(true);
    m_filterBox->setMinimumWidth(260);
    reposBar->addWidget(m_filterBox);
    auto* actions = new QToolBar(tr("Repo actions"), this);
    actions->setObjectName(QStringLiteral("datamonRepoActions"));
    actions->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_delete->setObjectName(QStringLiteral("deleteRepo"));
    m_delete->setShortcut(QKeySequence(Qt::ALT | Qt::Key_D));
    actions->addAction(m_delete);
    reposBar->addWidget(actions);
    topLayout->addLayout(reposBar);
    topLayout->addWidget(m_repoView, 1);
    m_repoView->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_repoView->addAction(m_delete);

    auto* bottom = new QWidget(this);
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    auto* detailBar = new QHBoxLayout;
    m_detailTitle->setObjectName(QStringLiteral("datamonRepoTitle"));
    detailBar->addWidget(m_detailTitle, 1);
    m_loadSizes->setObjectName(QStringLiteral("loadSizes"));
    m_loadSizes->setToolTip(tr("Read every bundle's total file size (`repo get --with-size`): it reads every "
                               "bundle's file list, so it takes a while on a big repo"));
    detailBar->addWidget(m_loadSizes);
    bottomLayout->addLayout(detailBar);
    auto* details = new QSplitter(Qt::Horizontal, bottom);
    auto* bundleView = makeListTable(m_bundles, QStringLiteral("datamonBundles"), details, ColumnFit::ToRows);
    auto* labelView = makeListTable(m_labels, QStringLiteral("datamonLabels"), details, ColumnFit::ToRows);
    details->addWidget(bundleView);
    details->addWidget(labelView);
    details->setStretchFactor(0, 3);
    details->setStretchFactor(1, 2);
    bottomLayout->addWidget(details, 1);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(bottom);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    connect(refreshButton, &QPushButton::clicked, this, &DatamonPane::refresh);
    connect(m_contexts, &QComboBox::currentIndexChanged, this, &DatamonPane::switchContext);
    connect(m_filterBox, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_filter->setText(text.trimmed());
        showRepoCount();
    });
    connect(
        m_repoView->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DatamonPane::onSelectionChanged);
    connect(m_loadSizes, &QPushButton::clicked, this, &DatamonPane::loadSizes);
    connect(m_delete, &QAction::triggered, this, [this] { deleteRepo(selectedRepo()); });
    connect(m_count, &QAction::triggered, this, &DatamonPane::countUnused);
    connect(m_purge, &QAction::triggered, this, &DatamonPane::purgeUnused);
    switchContext();
}

DatamonPane::~DatamonPane() = default;

QStringList DatamonPane::hosts() const
{
    QStringList result;
    for (const DatamonContext& context : m_inventory.datamon) {
        if (!context.host.isEmpty() && !result.contains(context.host))
            result << context.host;
    }
    return result;
}

QString DatamonPane::selectedHost() const
{
    for (const DatamonContext& context : m_inventory.datamon) {
        if (context.name == currentContext())
            return context.host;
    }
    return {};
}

QString DatamonPane::currentContext() const
{
    return m_contexts->currentData().toString();
}

bool DatamonPane::selectContext(const QString& name)
{
    const int index = m_contexts->findData(name);
    if (index >= 0)
        m_contexts->setCurrentIndex(index);
    return index >= 0;
}

QString DatamonPane::repoCountText() const
{
    return m_repoCount->text();
}

QString DatamonPane::selectedRepo() const
{
    const QModelIndexList rows = m_repoView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return {};
    return m_repos->repos().at(m_filter->mapToSource(rows.front()).row()).name;
}

bool DatamonPane::selectRepo(const QString& name)
{
    const int row = m_repos->rowOf(name);
    const QModelIndex index = row < 0 ? QModelIndex() : m_filter->mapFromSource(m_repos->index(row, 0));
    if (index.isValid()) {
        m_repoView->selectRow(index.row());
        m_repoView->scrollTo(index);
    }
    return index.isValid();
}

QString DatamonPane::whereText() const
{
    return m_where->text();
}

QString DatamonPane::blobBucketText() const
{
    return m_bucket->text();
}

QString DatamonPane::lockText() const
{
    return m_lock->text();
}

QString DatamonPane::indexText() const
{
    return m_index->text();
}

void DatamonPane::showEvent(QShowEvent* event)
{
    SystemPane::showEvent(event);
    if (!m_target && !m_connecting && m_contexts->count())
        connectContext();
}

void DatamonPane::switchContext()
{
    ++m_generation;
    ++m_listGeneration;
    ++m_detailGeneration;
    m_worker.reset();
    m_listWorker.reset();
    m_target.reset();
    m_connecting = false;
    m_listing = false;
    m_firstRowsMs = -1;
    m_shownRepo.clear();
    m_repos->clear();
    m_bundles->clear();
    m_labels->clear();
    m_errors->clear();
    for (QLabel* label : { m_where, m_bucket, m_lock, m_index })
        label->clear();
    m_detailTitle->setText(tr("<b>Bundles and labels</b>: select a repo."));
    const DatamonContext* context = m_inventory.datamonContext(currentContext());
    m_header->setProduction(context && context->tags.production, currentContext());
    showRepoCount();
    updateActions();
    if (!m_contexts->count())
        m_where->setText(tr("The inventory declares no datamon context."));
    else if (isVisible())
        connectContext();
}

void DatamonPane::connectContext()
{
    const QString name = currentContext();
    if (name.isEmpty())
        return;
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = DatamonTarget::resolve(m_inventory, name, &problem, &error);
    if (!target) {
        m_where->setText(tr("Not connected."));
        showProblem(tr("Resolving the context"), error, tr("Correct the context in the inventory, then Refresh."));
        return;
    }
    m_connecting = true;
    m_where->setText(tr("Looking up the host's credentials…"));
    const quint64 generation = m_generation;
    // On the GUI thread: the SSH secret may come from the keychain or a prompt, which a worker must never do.
    resolveDatamonSecrets(
        m_credentials, *target, this, [this, generation](std::optional<DatamonTarget> resolved, const QString& why) {
            if (generation != m_generation)
                return; // another context was chosen meanwhile
            m_connecting = false;
            if (!resolved) {
                m_where->setText(tr("Not connected."));
                showProblem(tr("Looking up the SSH secret of the context's host"), why,
                    tr("Store the secret in the keychain (or set its environment variable), then Refresh."));
                return;
            }
            m_target = resolved;
            const auto factory = [target = *resolved] {
                return std::make_unique<DatamonHost>(
                    target.context, target.host ? &*target.host : nullptr, target.sshSecret);
            };
            m_worker
                = std::make_unique<ConnectionWorker<DatamonHost>>(QStringLiteral("datamon:") + resolved->id(), factory);
            m_listWorker = std::make_unique<ConnectionWorker<DatamonHost>>(
                QStringLiteral("datamon-repos:") + resolved->id(), factory);
            QString where = tr("Runs on: %1, %2")
                                .arg(resolved->host ? tr("host %1").arg(resolved->host->name) : tr("this machine"),
                                    resolved->context.binary);
            m_where->setToolTip({});
            if (resolved->cluster) {
                where += tr(" · purge steps as Jobs in %1 (cluster %2)")
                             .arg(resolved->cluster->ns, resolved->cluster->cluster.name);
                m_where->setToolTip(
                    tr("Each purge step runs as a Kubernetes Job of image %1, its work dir on %2.")
                        .arg(resolved->context.jobs->image,
                            resolved->context.jobs->volumeClaim.isEmpty()
                                ? tr("an emptyDir of its own")
                                : tr("PersistentVolumeClaim %1").arg(resolved->context.jobs->volumeClaim)));
            }
            if (resolved->context.tags.production)
                where += tr(" · production: a delete asks for the context's name");
            if (resolved->context.tags.readOnly)
                where += tr(" · read-only: opsdeck changes nothing here");
            m_where->setText(where);
            updateActions();
            refresh();
        });
}

void DatamonPane::refresh()
{
    if (!m_target) {
        if (!m_connecting)
            connectContext();
        return;
    }
    m_errors->clear();
    refreshState();
    listRepos();
}

void DatamonPane::refreshState()
{
    if (!m_worker)
        return;
    m_lock->setText(tr("Purge lock: reading…"));
    m_index->setText(tr("Index: reading…"));
    if (m_bucket->text().isEmpty())
        m_bucket->setText(tr("Blob bucket: reading…"));
    const quint64 generation = m_generation;
    m_worker->run(
        this,
        [target = *m_target, generation](DatamonHost& host, QString* error) {
            State state;
            state.generation = generation;
            DatamonQueries queries(host, target);
            state.step = QStringLiteral("Reading the context's buckets and who shares its blob bucket");
            const auto sharing = queries.sharingBlobBucket(error);
            if (!sharing)
                return state;
            state.sharing = *sharing;
            state.step = QStringLiteral("Reading the purge lock and the index (gcloud storage)");
            const auto store = queries.storeState(sharing->front().metadata, error);
            if (!store)
                return state;
            state.store = *store;
            state.step.clear();
            state.readAt = QDateTime::currentDateTimeUtc();
            return state;
        },
        [this](const State& state, const QString& error) { onState(state, error); });
}

void DatamonPane::onState(const State& state, const QString& error)
{
    if (state.generation != m_generation)
        return;
    if (!state.sharing.isEmpty()) {
        QStringList others;
        for (qsizetype i = 1; i < state.sharing.size(); ++i)
            others << state.sharing.at(i).name;
        m_bucket->setText(others.isEmpty()
                ? tr("Blob bucket: gs://%1 (no other context uses it)").arg(state.sharing.front().blob)
                : tr("Blob bucket: gs://%1, shared with %2")
                      .arg(state.sharing.front().blob, others.join(QStringLiteral(", "))));
        m_bucket->setToolTip(tr("Metadata bucket gs://%1; a purge of the blob bucket scans every context that "
                                "shares it, and must not run while any of them writes")
                                 .arg(state.sharing.front().metadata));
    } else {
        m_bucket->setText(tr("Blob bucket: not known (see above)"));
    }
    if (!error.isEmpty()) {
        if (state.step.contains(QStringLiteral("lock"))) {
            m_lock->setText(tr("Purge lock: not known (see above)"));
            m_index->setText(tr("Index: not known (see above)"));
        } else {
            m_lock->clear();
            m_index->clear();
        }
        showProblem(
            state.step, error, tr("Check that the host can reach GCS with datamon's credentials, then Refresh."));
        emit stateRead();
        return;
    }
    const DatamonQueries::StoreState& store = state.store;
    const QString read = readAtText(state.readAt);
    if (!store.locked) {
        m_lock->setText(tr("Purge lock: free (read %1)").arg(read));
        m_lock->setToolTip({});
    } else if (store.lockedAt.isValid()) {
        m_lock->setText(tr("⚠ Purge lock: held since %1 (%2 ago)")
                            .arg(utcText(store.lockedAt), KubeCells::age(store.lockedAt, state.readAt)));
        m_lock->setToolTip(tr("purge.lock exists: a purge is running, or one died and left it. Read %1.").arg(read));
    } else {
        m_lock->setText(tr("⚠ Purge lock: held, its text unreadable: \"%1\"").arg(store.lockText.left(60)));
        m_lock->setToolTip(tr("purge.lock exists but has no readable locked_at. Updated %1 (GCS); read %2.")
                               .arg(utcText(store.lockUpdated), read));
    }
    if (!store.indexed)
        m_index->setText(tr("Index: none"));
    else if (store.indexTime.isValid())
        m_index->setText(tr("Index: built at %1 (%2 ago)")
                             .arg(utcText(store.indexTime), KubeCells::age(store.indexTime, state.readAt)));
    else
        m_index->setText(tr("⚠ Index: broken: %1").arg(store.indexProblem));
    emit stateRead();
}

void DatamonPane::listRepos()
{
    if (!m_listWorker)
        return;
    const quint64 generation = ++m_listGeneration;
    const QString kept = selectedRepo();
    m_repos->clear();
    m_listing = true;
    m_firstRowsMs = -1;
    showRepoCount();
    QPointer<DatamonPane> pane(this);
    m_listWorker->run(
        this,
        [target = *m_target, generation, pane](DatamonHost& host, QString* error) {
            DatamonQueries queries(host, target);
            QElapsedTimer clock;
            clock.start();
            const qint64 startedAt = clock.msecsSinceReference();
            // Each batch to the GUI as it comes: the first rows show while datamon2 is still listing.
            queries.repos(
                [pane, generation, startedAt](const QList<DatamonRepo>& rows) {
                    QMetaObject::invokeMethod(
                        pane.data(),
                        [pane, generation, rows, startedAt] {
                            if (pane)
                                pane->onRepoBatch(generation, rows, startedAt);
                        },
                        Qt::QueuedConnection);
                },
                error);
            return generation;
        },
        [this, kept](quint64 done, const QString& error) {
            onListingDone(done, error);
            if (done == m_listGeneration && selectedRepo().isEmpty() && !kept.isEmpty())
                selectRepo(kept);
        });
}

void DatamonPane::onRepoBatch(quint64 generation, const QList<DatamonRepo>& rows, qint64 startedAt)
{
    if (generation != m_listGeneration)
        return;
    m_repos->appendRepos(rows);
    if (m_firstRowsMs < 0) {
        QElapsedTimer now;
        now.start();
        m_firstRowsMs = now.msecsSinceReference() - startedAt;
        qCInfo(lcUi) << "datamon:" << m_repos->rowCount() << "first repos of" << currentContext() << "shown"
                     << m_firstRowsMs << "ms after repo list started";
    }
    showRepoCount();
}

void DatamonPane::onListingDone(quint64 generation, const QString& error)
{
    if (generation != m_listGeneration)
        return;
    m_listing = false;
    showRepoCount();
    if (!error.isEmpty())
        showProblem(tr("Listing the repos"), error,
            m_repos->rowCount() ? tr("The table shows the %1 repos listed before the failure; Refresh to list again.")
                                      .arg(QLocale().toString(m_repos->rowCount()))
                                : tr("Refresh to list again once the cause is fixed."));
    // A new listing drops the selection without a selection signal: the details must not stay on a repo that is gone.
    onSelectionChanged();
    emit listingFinished();
}

void DatamonPane::showRepoCount()
{
    const int all = m_repos->rowCount();
    const int shown = m_filter->rowCount();
    QString text = counted(all, tr("repo"));
    if (shown != all)
        text = tr("%1 of %2").arg(numberText(shown), text);
    if (m_listing)
        text += tr(" (listing…)");
    m_repoCount->setText(m_target || m_listing ? text : QString());
}

void DatamonPane::onSelectionChanged()
{
    const QString repo = selectedRepo();
    updateActions();
    if (repo == m_shownRepo)
        return;
    m_shownRepo = repo;
    const quint64 generation = ++m_detailGeneration;
    m_sizesLoading = false; // its answer, if one is on the way, is for the repo shown before
    m_loadSizes->setText(tr("Load &sizes"));
    m_bundles->clear();
    m_labels->clear();
    if (repo.isEmpty() || !m_worker) {
        m_detailTitle->setText(tr("<b>Bundles and labels</b>: select a repo."));
        return;
    }
    m_detailTitle->setText(tr("<b>Bundles and labels of %1</b> (reading…)").arg(repo.toHtmlEscaped()));
    m_worker->run(
        this,
        [target = *m_target, generation, repo](DatamonHost& host, QString* error) {
            Details details;
            details.generation = generation;
            details.repo = repo;
            DatamonQueries queries(host, target);
            details.step = QStringLiteral("Reading the bundles of %1").arg(repo);
            const auto bundles = queries.bundles(repo, error);
            if (!bundles)
                return details;
            details.bundles = *bundles;
            details.step = QStringLiteral("Reading the labels of %1").arg(repo);
            const auto labels = queries.labels(repo, error);
            if (!labels)
                return details;
            details.labels = *labels;
            details.step.clear();
            return details;
        },
        [this](const Details& details, const QString& error) { onDetails(details, error); });
}

void DatamonPane::loadSizes()
{
    const QString repo = m_bundles->repo();
    if (repo.isEmpty() || !m_worker)
        return;
    m_sizesLoading = true;
    m_loadSizes->setEnabled(false);
    m_loadSizes->setText(tr("Loading sizes…"));
    m_worker->run(
        this,
        [target = *m_target, generation = m_detailGeneration, repo](DatamonHost& host, QString* error) {
            Details details;
            details.generation = generation;
            details.repo = repo;
            details.step = QStringLiteral("Reading the sizes of %1's bundles (repo get --with-size)").arg(repo);
            details.sizes = DatamonQueries(host, target).sizes(repo, error);
            return details;
        },
        [this](const Details& details, const QString& error) { onDetails(details, error); });
}

void DatamonPane::onDetails(const Details& details, const QString& error)
{
    if (details.generation != m_detailGeneration)
        return; // another repo was selected meanwhile
    const bool sizes = details.step.contains(QStringLiteral("--with-size")) || details.sizes;
    if (!error.isEmpty()) {
        showProblem(details.step, error, tr("Select the repo again to retry once the cause is fixed."));
    } else if (details.sizes) {
        m_bundles->setSizes(*details.sizes);
        m_errors->clear();
    } else {
        m_bundles->setBundles(details.repo, details.bundles);
        m_labels->setLabels(details.labels);
        m_errors->clear();
    }
    const QString name = details.repo.toHtmlEscaped();
    if (!sizes) {
        m_detailTitle->setText(error.isEmpty() ? tr("<b>Bundles and labels of %1</b>: %2, %3")
                                                     .arg(name, counted(m_bundles->rowCount(), tr("bundle")),
                                                         counted(m_labels->rowCount(), tr("label")))
                                               : tr("<b>Bundles and labels of %1</b>: not read (see above)").arg(name));
    }
    if (sizes) {
        m_sizesLoading = false;
        m_loadSizes->setText(tr("Load &sizes"));
    }
    updateActions();
    if (sizes)
        emit sizesRead(details.repo);
    else
        emit repoRead(details.repo);
}

void DatamonPane::updateActions()
{
    const QString repo = selectedRepo();
    const bool readOnly = m_target && m_target->context.tags.readOnly;
    // opsdeck never writes to a read-only context; the plan would refuse it too.
    m_delete->setEnabled(m_target && !repo.isEmpty() && !readOnly);
    m_delete->setToolTip(readOnly
            ? tr("%1 is read-only: opsdeck deletes nothing there").arg(m_target->id())
            : tr("Delete the selected repo's metadata (bundles, labels, the repo). Its blobs stay until a purge of "
                 "unused blobs. Shows the plan before anything changes."));
    m_loadSizes->setEnabled(
        !m_bundles->repo().isEmpty() && m_bundles->rowCount() > 0 && !m_bundles->hasSizes() && !m_sizesLoading);
    for (QAction* action : { m_count, m_purge })
        action->setEnabled(m_target && !readOnly && !m_purging);
    m_count->setToolTip(readOnly ? tr("%1 is read-only: opsdeck deletes nothing there").arg(m_target->id())
                                 : tr("Build the index of the blobs in use and count what a purge would delete "
                                      "(datamon's dry run, detached: it may take hours). Deletes "
                                      "nothing; the purge is then confirmed on those counts."));
    m_purge->setToolTip(readOnly ? m_count->toolTip()
                                 : tr("Delete the unused blobs the last count found, then count again to verify and "
                                      "drop the index. Shows the counts before anything is deleted."));
}

void DatamonPane::launchPurge(bool dryRunOnly)
{
    if (!m_target)
        return;
    OperationLauncher::Launch launch;
    launch.target = m_target->id();
    launch.action = dryRunOnly ? tr("the count of unused blobs") : tr("the purge of unused blobs");
    // Where the detached steps run, for the confirmation.
    const QString detached = m_target->cluster
        ? tr("The steps run as Kubernetes Jobs in namespace %1 of cluster %2: closing opsdeck does not stop them.")
              .arg(m_target->cluster->ns, m_target->cluster->cluster.name)
        : tr("The steps run detached on %1: closing opsdeck does not stop them.")
              .arg(m_target->host ? tr("host %1").arg(m_target->host->name) : tr("this machine"));
    launch.wording = [dryRunOnly, detached, context = m_target->id()](const Plan& plan, QString* title, QString* text) {
        const QString bucket = plan.parameters.value(QStringLiteral("blob")).toString();
        const QStringList sharing = plan.parameters.value(QStringLiteral("sharing")).toVariant().toStringList();
        if (dryRunOnly) {
            *title = tr("Count the unused blobs of %1?").arg(context);
            *text = tr("datamon builds the index of every blob in use by %1, then counts what a purge of "
                       "gs://%2/ would delete. Nothing is deleted; the purge is asked for next, with these counts. %3")
                        .arg(sharing.join(QStringLiteral(", ")), bucket, detached);
        } else {
            *title = tr("Delete %1 unused blobs from gs://%2/?")
                         .arg(QLocale().toString(plan.count(QStringLiteral("keysToDelete"))), bucket);
            *text = tr("datamon deletes the blobs that no bundle of %1 uses and that are older than the index. "
                       "opsdeck then counts again to verify that none is left, checks that no bundle was committed "
                       "meanwhile, and drops the index. %2")
                        .arg(sharing.join(QStringLiteral(", ")), detached);
        }
    };
    launch.answered = [this] {
        m_purging = false;
        updateActions();
    };
    launch.confirmed = [this, dryRunOnly](OperationRunner* runner, const Plan&) {
        m_purging = true;
        updateActions();
        connect(runner, &OperationRunner::finished, this,
            [this, dryRunOnly, context = m_target->id()](const RunRecord& record) {
                m_purging = false;
                refreshState();
                updateActions();
                const QString outcome = RunRecord::outcomeName(record.outcome);
                emit purgeFinished(dryRunOnly ? QStringLiteral("count") : QStringLiteral("purge"), outcome);
                // The count is the purge's first half: its confirmation follows, on the counts just made.
                if (dryRunOnly && record.outcome == RunRecord::Outcome::Succeeded
                    && record.after.value(QStringLiteral("keysToDelete")).toInteger() > 0
                    && currentContext() == context)
                    purgeUnused();
            });
    };
    m_purging = true;
    updateActions();
    m_launcher->launch(
        std::make_unique<DatamonPurgeOperation>(*m_target, DatamonPurgeOperation::Options { dryRunOnly, false }),
        launch);
}

void DatamonPane::countUnused()
{
    launchPurge(true);
}

void DatamonPane::purgeUnused()
{
    launchPurge(false);
}

void DatamonPane::deleteRepo(const QString& repo)
{
    if (!m_target || repo.isEmpty())
        return;
    OperationLauncher::Launch launch;
    launch.target = m_target->id() + u'/' + repo;
    launch.action = tr("the repo delete");
    launch.wording = [repo, context = m_target->id()](const Plan& plan, QString* title, QString* text) {
        const QJsonArray bundles = plan.parameters.value(QStringLiteral("bundles")).toArray();
        const QJsonArray labels = plan.parameters.value(QStringLiteral("labels")).toArray();
        *title = tr("Delete repo %1 from %2?").arg(repo, context);
        *text = tr("datamon deletes the metadata of %1: its %2 and %3 (listed below), then the repo. Its blobs stay in "
                   "the blob bucket until the next purge of unused blobs.")
                    .arg(repo, counted(bundles.size(), tr("bundle")), counted(labels.size(), tr("label")));
    };
    launch.answered = [this] { updateActions(); };
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        connect(runner, &OperationRunner::finished, this, [this](const RunRecord& record) {
            refresh(); // the list as it is now, whatever the outcome
            emit deleteFinished(RunRecord::outcomeName(record.outcome));
        });
    };
    m_delete->setEnabled(false);
    m_launcher->launch(std::make_unique<DatamonDeleteRepoOperation>(*m_target, repo), launch);
}

bool DatamonPane::recovers(const QString& operation) const
{
    return datamonRecoveredOperations().contains(operation);
}

void DatamonPane::recover(const Journal::UnfinishedRun& run)
{
    OperationLauncher::Launch launch;
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        // What the recovery deleted or left (the lock, the index, the repo) shows once it ends.
        connect(runner, &OperationRunner::finished, this, [this] { refresh(); });
    };
    resolveDatamonRecovery(m_credentials, m_inventory, run, this,
        [this, run, launch](std::unique_ptr<Operation> recovery, const QString& error) {
            m_launcher->recover(run, std::move(recovery), error, launch);
        });
}

bool DatamonPane::restores(const QString& operation) const
{
    return DatamonDeleteRepoOperation::keepingOperations().contains(operation);
}

void DatamonPane::restore(const UndoWindow& window)
{
    const QString context = window.restore.value(QStringLiteral("context")).toString();
    if (!m_target || m_target->id() != context) {
        showProblem(tr("Preparing the restore of run %1").arg(window.runId),
            tr("the pane shows %1, not the context %2 the repo was deleted from")
                .arg(m_target ? m_target->id() : tr("no context"), context),
            tr("Nothing was touched. Choose %1 in the pane, then Undo again.").arg(context));
        return;
    }
    QString error;
    auto operation = DatamonRestoreOperation::fromWindow(*m_target, window, &error);
    if (!operation) {
        showProblem(tr("Preparing the restore of run %1").arg(window.runId), error, tr("Nothing was touched."));
        return;
    }
    const QString repo = window.restore.value(QStringLiteral("repo")).toString();
    OperationLauncher::Launch launch;
    launch.target = context + u'/' + repo;
    launch.action = tr("the restore");
    launch.wording = [window, repo](const Plan&, QString* title, QString* text) {
        *title = tr("Restore repo %1?").arg(repo);
        *text = tr("Puts back what run %1 (%2, by %3 at %4) deleted: %5. It never replaces an object: one whose "
                   "place is taken again stays as it is, and its kept copy stays in the trash.")
                    .arg(window.runId, window.operation, window.user,
                        window.openedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                        window.restorable.join(QStringLiteral("; ")));
    };
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        connect(runner, &OperationRunner::finished, this, [this] { refresh(); });
    };
    m_launcher->launch(std::move(operation), launch);
}

void DatamonPane::showProblem(const QString& step, const QString& error, const QString& next)
{
    m_errors->showProblem({ m_target ? m_target->id() : currentContext(), step, error, next });
}

QAbstractItemView* DatamonPane::targetView() const
{
    return m_repoView;
}

} // namespace opsdeck
