#include "PulumiPane.h"

#include "ErrorBanner.h"
#include "ListTable.h"
#include "OperationLauncher.h"
#include "PagedTableView.h"
#include "PaneHeader.h"
#include "PulumiStackModel.h"
#include "RunsDock.h"
#include "RunsElsewhereBanner.h"
#include "core/ConnectionWorker.h"
#include "core/Counted.h"
#include "core/WorkerRowSource.h"
#include "pulumi/PulumiKillQueryOperation.h"
#include "pulumi/PulumiPurgeBatch.h"
#include "pulumi/PulumiPurgeOperation.h"
#include "pulumi/PulumiQueries.h"
#include "pulumi/PulumiRestoreOperation.h"
#include "runbook/OperationRunner.h"
#include "sql/DatabaseConnection.h"

#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTime>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <tuple>

namespace opsdeck {

namespace {

// A job for the pane's worker: `query(database, arguments..., error)` on the pane's connection, (re)opened first
// (after a restarted server or a dropped tunnel).
template <typename Query> auto opened(Query query)
{
    return [query](DatabaseConnection& connection, auto... arguments) {
        QString* error = std::get<sizeof...(arguments) - 1>(std::tuple(arguments...));
        using Result = decltype(query(connection.database(), arguments...));
        return connection.open(error) ? query(connection.database(), arguments...) : Result();
    };
}

} // namespace

PulumiPane::PulumiPane(const Inventory& inventory,
    CredentialStore* credentials,
    RunsDock* runs,
    const JournalLocation& journalLocation,
    QWidget* parent)
    : SystemPane(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
    , m_runs(runs)
    , m_journalLocation(journalLocation)
    , m_header(new PaneHeader(tr("Pulumi"), this))
    , m_database(new QComboBox(this))
    , m_status(new QLabel(this))
    , m_orgs(new QTreeWidget(this))
    , m_stacks(new PulumiStackModel(this))
    , m_stackView(new PagedTableView(this))
    , m_keep(new QListWidget(this))
    , m_tabs(new QTabWidget(this))
    , m_processTab(new QWidget(this))
    , m_processes(new QTableWidget(this))
    , m_batch(new QSpinBox(this))
    , m_throttle(new QSpinBox(this))
    , m_purge(new QPushButton(tr("&Purge soft-deleted stacks…"), this))
    , m_errors(new ErrorBanner(this))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
{
    for (const Database& d : inventory.databases) {
        if (d.kind == DatabaseKind::Mysql)
            addTargetChoice(
                m_database, d.via.isEmpty() ? d.name : tr("%1 (via %2)").arg(d.name, d.via), d.name, d.tags);
    }
    m_database->setObjectName(QStringLiteral("pulumiDatabase"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* intro = new QLabel(tr("The Pulumi Service's MySQL, through an SSH tunnel via its bastion. Soft-deleted "
                                "stacks (Programs.deleted_at > 0) per organisation, and the runbook's purge: tick the "
                                "organisations, keep any stacks you want, plan, confirm."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Database:"), this));
    bar->addWidget(m_database);
    auto* refreshButton = new QPushButton(tr("&Refresh"), this);
    bar->addWidget(refreshButton);
    m_status->setObjectName(QStringLiteral("pulumiStatus"));
    bar->addWidget(m_status, 1);
    layout->addLayout(bar);
    layout->addWidget(m_errors);
    auto* elsewhere
        = new RunsElsewhereBanner(runs, { QStringLiteral("pulumi-purge"), QStringLiteral("pulumi-kill-query") }, this);
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &PulumiPane::refresh);

    m_orgs->setObjectName(QStringLiteral("organizations"));
    m_orgs->setHeaderLabels({ tr("Organisation"), tr("Name"), tr("Soft-deleted"), tr("Live") });
    setUpListTree(m_orgs);
    m_orgs->setMinimumWidth(320);

    auto* stacksTab = new QWidget(this);
    auto* stacksLayout = new QVBoxLayout(stacksTab);
    m_stackView->filterEdit()->setPlaceholderText(tr("Filter by stack or organisation…"));
    m_stackView->progressLabel()->setObjectName(QStringLiteral("stacksLoaded"));
    auto* keepButton = new QPushButton(tr("&Keep selected"), this);
    keepButton->setToolTip(tr("Leave the selected stacks out of the purge"));
    m_stackView->addBarWidget(keepButton);
    m_stackView->table()->setObjectName(QStringLiteral("stacksView"));
    m_stackView->setModel(m_stacks);
    stacksLayout->addWidget(m_stackView, 1);

    auto* processLayout = new QVBoxLayout(m_processTab);
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setColumnCount(6);
    m_processes->setHorizontalHeaderLabels(
        { tr("Id"), tr("User"), tr("Command"), tr("Time (s)"), tr("State"), tr("Query") });
    // The shared list table: a long statement is elided, whole in its tooltip, rather than scrolled to.
    setUpListTable(m_processes);
    processLayout->addWidget(m_processes, 1);
    auto* processBar = new QHBoxLayout;
    auto* refreshProcesses = new QPushButton(tr("Refresh pro&cesses"), this);
    auto* kill = new QPushButton(tr("K&ill query…"), this);
    kill->setToolTip(tr("KILL QUERY the selected process's statement (its session stays)"));
    processBar->addWidget(refreshProcesses);
    processBar->addStretch(1);
    processBar->addWidget(kill);
    processLayout->addLayout(processBar);

    m_tabs->addTab(stacksTab, tr("Soft-deleted s&tacks"));
    m_tabs->addTab(m_processTab, tr("Proce&sses"));

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_orgs, 2);
    leftLayout->addWidget(new QLabel(tr("Kept (not purged):"), this));
    m_keep->setObjectName(QStringLiteral("keptStacks"));
    leftLayout->addWidget(m_keep, 1);
    auto* form = new QFormLayout;
    m_batch->setObjectName(QStringLiteral("batch"));
    m_batch->setRange(1, PulumiPurgeOperation::kMaxBatch);
    m_batch->setValue(500);
    m_batch->setSuffix(tr(" at most"));
    m_batch->setToolTip(tr("Batches start at %1 stacks and grow up to this while every statement stays under %2 ms")
                            .arg(PurgeBatchSizer::kStart)
                            .arg(PurgeBatchSizer::kTargetMs));
    m_throttle->setObjectName(QStringLiteral("throttle"));
    m_throttle->setRange(0, 60000);
    m_throttle->setSingleStep(100);
    m_throttle->setSuffix(tr(" ms"));
    m_throttle->setToolTip(tr("Pause after each batch; takes effect at once, also during a purge"));
    form->addRow(tr("Stacks per batch"), m_batch);
    form->addRow(tr("Pause between batches"), m_throttle);
    leftLayout->addLayout(form);
    m_purge->setObjectName(QStringLiteral("purge"));
    m_purge->setStyleSheet(QStringLiteral("QPushButton:enabled { color: #b71c1c; font-weight: bold; }"));
    m_purge->setEnabled(false);
    leftLayout->addWidget(m_purge);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(m_tabs);
    splitter->setStretchFactor(1, 2);
    // Room for the organisations' four columns (login, name, soft-deleted, live) without a scroll bar.
    splitter->setSizes({ 420, 840 });
    layout->addWidget(splitter, 1);

    connect(refreshButton, &QPushButton::clicked, this, &PulumiPane::refresh);
    connect(keepButton, &QPushButton::clicked, this, [this] {
        for (const QModelIndex& index : m_stackView->table()->selectionModel()->selectedRows()) {
            const QString name = m_stacks->stackName(index.row());
            if (!name.isEmpty() && m_keep->findItems(name, Qt::MatchExactly).isEmpty())
                m_keep->addItem(name);
        }
    });
    connect(m_keep, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) { delete item; });
    connect(refreshProcesses, &QPushButton::clicked, this, &PulumiPane::refreshProcesses);
    // The process list is read when its tab is first looked at, then with every refresh.
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() != m_processTab || m_processesShown)
            return;
        m_processesShown = true;
        this->refreshProcesses();
    });
    connect(kill, &QPushButton::clicked, this, &PulumiPane::killSelectedQuery);
    connect(
        m_orgs, &QTreeWidget::itemChanged, this, [this] { m_purge->setEnabled(!checkedOrganizations().isEmpty()); });
    connect(m_throttle, &QSpinBox::valueChanged, this, &PulumiPane::setThrottle);
    connect(m_purge, &QPushButton::clicked, this, &PulumiPane::purge);
    connect(m_runs, &RunsDock::runFinished, this, &PulumiPane::onRunFinished);
    connect(m_database, &QComboBox::currentIndexChanged, this, &PulumiPane::showProduction);
    connect(m_database, &QComboBox::currentIndexChanged, this, [this] {
        m_stacks->setSource(nullptr);
        m_processes->setRowCount(0);
        m_stackSource.reset();
        m_worker.reset();
        m_target.reset();
        refresh();
    });
    m_status->setText(m_database->count() ? tr("Not read yet.") : tr("The inventory declares no mysql database."));
    showProduction();
}

void PulumiPane::showProduction()
{
    const Database* database = m_inventory.database(m_database->currentData().toString());
    m_header->setProduction(database && database->tags.production, m_database->currentData().toString());
}

PulumiPane::~PulumiPane()
{
    m_stacks->setSource(nullptr);
}

QStringList PulumiPane::hosts() const
{
    QStringList result;
    for (const Database& d : m_inventory.databases) {
        if (d.kind == DatabaseKind::Mysql && !d.via.isEmpty() && !result.contains(d.via))
            result << d.via;
    }
    return result;
}

void PulumiPane::showEvent(QShowEvent* event)
{
    SystemPane::showEvent(event);
    if (!m_shown && m_database->count()) {
        m_shown = true;
        refresh();
    }
}

void PulumiPane::withWorker(std::function<void()> then)
{
    if (m_worker) {
        then();
        return;
    }
    QString error;
    const QString name = m_database->currentData().toString();
    auto target = DatabaseTarget::resolve(m_inventory, name, &error);
    if (!target) {
        m_status->setText(tr("Not connected."));
        m_errors->showProblem(
            { name, tr("Finding the database in the inventory"), error, tr("Correct the inventory, then reload it.") });
        return;
    }
    resolveDatabaseSecrets(
        m_credentials, *target, this, [this, name, then](std::optional<DatabaseTarget> resolved, const QString& why) {
            if (!resolved) {
                m_status->setText(tr("Not connected."));
                m_errors->showProblem({ name, tr("Looking up the secrets"), why,
                    tr("Provide the password or passphrase (or its environment variable), then Refresh.") });
                return;
            }
            m_target = resolved;
            m_worker = std::make_unique<ConnectionWorker<DatabaseConnection>>(
                QStringLiteral("db:") + resolved->database.name,
                [resolved] { return std::make_unique<DatabaseConnection>(*resolved); });
            m_stackSource
                = std::make_unique<WorkerRowSource<DatabaseConnection>>(m_worker.get(), PulumiQueries::StackProgramId,
                    opened(&PulumiQueries::softDeletedStacks), opened(&PulumiQueries::softDeletedStackCount));
            then();
        });
}

void PulumiPane::refresh()
{
    m_status->setText(tr("Reading…"));
    withWorker([this] {
        // The stacks first: the worker runs its jobs in order, and their first rows are what the admin waits for.
        if (m_stacks->source() == m_stackSource.get())
            m_stacks->reload();
        else
            m_stacks->setSource(m_stackSource.get());
        m_worker->run(this, opened(&PulumiQueries::organizations),
            [this](const std::optional<QList<PulumiQueries::Organization>>& organizations, const QString& error) {
                if (!error.isEmpty()) {
                    m_status->setText(tr("Not read."));
                    showLoadError(tr("Reading the organisations"), error);
                    return;
                }
                m_errors->clear();
                const QStringList checked = checkedOrganizations();
                const QSignalBlocker blocker(m_orgs);
                m_orgs->clear();
                qint64 total = 0;
                for (const PulumiQueries::Organization& o :
                    organizations.value_or(QList<PulumiQueries::Organization>())) {
                    auto* item = new QTreeWidgetItem(m_orgs,
                        { o.githubLogin, o.name, QLocale().toString(o.softDeleted), QLocale().toString(o.live) });
                    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                    item->setCheckState(0, checked.contains(o.githubLogin) ? Qt::Checked : Qt::Unchecked);
                    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
                    item->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
                    total += o.softDeleted;
                }
                fitColumns(m_orgs);
                m_purge->setEnabled(!checkedOrganizations().isEmpty());
                m_status->setText(
                    tr("%1 in %2 · %3 · read %4")
                        .arg(counted(total, tr("soft-deleted stack")),
                            counted(m_orgs->topLevelItemCount(), tr("organisation")))
                        .arg(m_target && m_target->via ? tr("via %1").arg(m_target->via->name) : tr("direct"),
                            QTime::currentTime().toString(QStringLiteral("HH:mm"))));
                emit organizationsLoaded();
            });
        if (m_processesShown)
            refreshProcesses();
    });
}

void PulumiPane::refreshProcesses()
{
    withWorker([this] {
        m_worker->run(this, opened(&PulumiQueries::processList),
            [this](const std::optional<QJsonArray>& result, const QString& error) {
                if (!error.isEmpty()) {
                    showLoadError(tr("Reading the process list"), error);
                    return;
                }
                const QJsonArray rows = result.value_or(QJsonArray());
                m_processes->setRowCount(static_cast<int>(rows.size()));
                for (int r = 0; r < rows.size(); ++r) {
                    const QJsonObject p = rows[r].toObject();
                    const QStringList cells = { QString::number(p[QStringLiteral("id")].toInteger()),
                        p[QStringLiteral("user")].toString(), p[QStringLiteral("command")].toString(),
                        QString::number(p[QStringLiteral("time")].toInteger()), p[QStringLiteral("state")].toString(),
                        p[QStringLiteral("info")].toString().simplified() };
                    for (int c = 0; c < cells.size(); ++c) {
                        auto* item = new QTableWidgetItem(cells[c]);
                        item->setToolTip(cells[c]);
                        m_processes->setItem(r, c, item);
                    }
                }
                fitColumns(m_processes);
                emit processesLoaded();
            });
    });
}

void PulumiPane::killSelectedQuery()
{
    const QList<QTableWidgetItem*> selected = m_processes->selectedItems();
    if (selected.isEmpty() || !m_target)
        return;
    const qint64 id = m_processes->item(selected.front()->row(), 0)->text().toLongLong();
    OperationLauncher::Launch launch;
    launch.target = m_target->database.name;
    launch.action = tr("the kill of process %1's query").arg(id);
    launch.wording = [id](const Plan& plan, QString* title, QString* text) {
        // What is killed is the statement: it leads, whole up to a length a dialog can show.
        constexpr int kShown = 400;
        const QString statement = plan.parameters.value(QStringLiteral("statement")).toString().simplified();
        *title = tr("Kill the query of process %1?").arg(id);
        *text = tr("Process %1 (user %2, database %3) runs:\n%4\n\nIts statement stops at once and rolls back; the "
                   "session stays connected.")
                    .arg(id)
                    .arg(plan.parameters.value(QStringLiteral("user")).toString(),
                        plan.parameters.value(QStringLiteral("schema")).toString(),
                        statement.size() > kShown ? statement.left(kShown) + QStringLiteral("…") : statement);
    };
    launch.failed = [this](const QString&) { refreshProcesses(); };
    m_launcher->launch(std::make_unique<PulumiKillQueryOperation>(*m_target, id), launch);
}

QStringList PulumiPane::checkedOrganizations() const
{
    QStringList result;
    for (int i = 0; i < m_orgs->topLevelItemCount(); ++i) {
        if (m_orgs->topLevelItem(i)->checkState(0) == Qt::Checked)
            result << m_orgs->topLevelItem(i)->text(0);
    }
    return result;
}

void PulumiPane::setThrottle(int milliseconds)
{
    if (m_throttle->value() != milliseconds)
        m_throttle->setValue(milliseconds);
    if (m_running && m_operation)
        m_operation->setThrottle(milliseconds);
}

void PulumiPane::purge()
{
    const QStringList orgs = checkedOrganizations();
    if (orgs.isEmpty() || !m_target)
        return;
    QStringList keep;
    for (int i = 0; i < m_keep->count(); ++i)
        keep << m_keep->item(i)->text();
    const PulumiPurgeScope scope { orgs, keep };
    if (const QString problem = scope.error(); !problem.isEmpty()) {
        m_errors->showProblem({ m_target->database.name, tr("Checking the purge's organisations and kept stacks"),
            problem, tr("Correct the ticked organisations or the kept stacks, then purge again.") });
        return;
    }
    auto operation = std::make_unique<PulumiPurgeOperation>(*m_target, scope,
        m_journalLocation.localDir() + QStringLiteral("/exports"), m_journalLocation.undoDir(), m_batch->value());
    operation->setThrottle(m_throttle->value());
    PulumiPurgeOperation* raw = operation.get();
    OperationLauncher::Launch launch;
    launch.target = m_target->database.name;
    launch.action = tr("the purge of %1").arg(orgs.join(QStringLiteral(", ")));
    launch.nothingToDo = [orgs](const Plan& plan) {
        return plan.count(QStringLiteral("stacks")) > 0
            ? QString()
            : tr("There is nothing to purge: %1 has no soft-deleted stacks now (apart from any kept ones). Nothing was "
                 "changed.")
                  .arg(orgs.join(QStringLiteral(", ")));
    };
    launch.wording = [orgs](const Plan&, QString* title, QString* text) {
        *title = tr("Purge the soft-deleted stacks of %1?").arg(orgs.join(QStringLiteral(", ")));
        *text = tr("Their Stacks and Programs rows go, with every row that cascades from them. The checkpoint data "
                   "keys are exported first; the files stay on S3.");
    };
    launch.confirmed = [this, raw, orgs](OperationRunner* runner, const Plan&) {
        m_running = runner;
        m_operation = raw;
        m_status->setText(tr("Purging %1: follow it in the Runs dock; the pause between batches can be changed "
                             "while it runs.")
                              .arg(orgs.join(QStringLiteral(", "))));
    };
    m_launcher->launch(std::move(operation), launch);
}

bool PulumiPane::restores(const QString& operation) const
{
    return PulumiPurgeOperation::keepingOperations().contains(operation);
}

void PulumiPane::restore(const UndoWindow& window)
{
    const QString database = window.restore.value(QStringLiteral("database")).toString();
    if (!m_target || m_target->database.name != database) {
        m_errors->showProblem({ database, tr("Preparing the restore of run %1").arg(window.runId),
            tr("the pane shows %1, not the database %2 the purge ran on")
                .arg(m_target ? m_target->database.name : tr("no database"), database),
            tr("Nothing was touched. Choose %1 in the pane, then Undo again.").arg(database) });
        return;
    }
    QString error;
    auto operation = PulumiRestoreOperation::fromWindow(*m_target, window, m_journalLocation.undoDir(), &error);
    if (!operation) {
        m_errors->showProblem(
            { database, tr("Preparing the restore of run %1").arg(window.runId), error, tr("Nothing was touched.") });
        return;
    }
    OperationLauncher::Launch launch;
    launch.target = database;
    launch.action = tr("the restore");
    launch.wording = [window](const Plan&, QString* title, QString* text) {
        *title = tr("Restore the stacks run %1 purged?").arg(window.runId);
        *text = tr("Puts back what run %1 (%2, by %3 at %4) deleted: %5. It only inserts: rows whose key is taken "
                   "again, and stacks created since, are left as they are.")
                    .arg(window.runId, window.operation, window.user,
                        window.openedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                        window.restorable.join(QStringLiteral("; ")));
    };
    m_launcher->launch(std::move(operation), launch);
}

void PulumiPane::onRunFinished(const RunRecord& record)
{
    if (record.operation == QStringLiteral("pulumi-kill-query")) {
        refreshProcesses();
        return;
    }
    if (record.operation != QStringLiteral("pulumi-purge") && record.operation != QStringLiteral("pulumi-restore"))
        return;
    m_operation = nullptr;
    refresh();
}

void PulumiPane::showLoadError(const QString& step, const QString& error)
{
    m_errors->showProblem({ m_target ? m_target->database.name : m_database->currentData().toString(), step, error,
        tr("Refresh once the cause is fixed; the connection is made again if it dropped.") });
}

QAbstractItemView* PulumiPane::targetView() const
{
    return m_orgs;
}

} // namespace opsdeck
