#include "DeployPane.h"

#include "ConfirmDialog.h"
#include "DeployAllDialog.h"
#include "DeployMatrixModel.h"
#include "ErrorBanner.h"
#include "ListTable.h"
#include "NaturalSortProxyModel.h"
#include "OperationLauncher.h"
#include "PaneHeader.h"
#include "PullRequestBrowser.h"
#include "RunsDock.h"
#include "RunsElsewhereBanner.h"
#include "UiLogging.h"
#include "core/AsyncTask.h"
#include "core/Counted.h"
#include "deploy/DeployMatrixReader.h"
#include "deploy/DeployOperation.h"
#include "deploy/GithubClient.h"
#include "deploy/MergePullOperation.h"
#include "deploy/StagingCheckOperation.h"
#include "deploy/UpdateWorkflowOperation.h"
#include "runbook/OperationRunner.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPointer>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace opsdeck {

namespace {

// packit-update-deploy.md step 4: what the admin checks by hand on staging.
QStringList manualCheckTexts()
{
    return { QObject::tr("The landing page lists the instances"),
        QObject::tr("Logging in to the instance with GitHub works"),
        QObject::tr("The home page lists the packet groups"), QObject::tr("A packet group lists its packets"),
        QObject::tr("A packet shows its metadata and files"), QObject::tr("A file downloads"),
        QObject::tr("A packet run from the Runner (main branch) completes"),
        QObject::tr("\"View Packet\" opens the new packet") };
}

QGroupBox* stepBox(const QString& title, QWidget* parent)
{
    auto* box = new QGroupBox(title, parent);
    box->setAlignment(Qt::AlignLeft);
    return box;
}

} // namespace

DeployPane::DeployPane(const Inventory& inventory,
    CredentialStore* credentials,
    RunsDock* runs,
    const JournalLocation& journalLocation,
    QWidget* parent)
    : SystemPane(parent)
    , m_inventory(inventory)
    , m_credentials(credentials)
    , m_runs(runs)
    , m_header(new PaneHeader(tr("Deploy"), this))
    , m_matrix(new DeployMatrixModel(this))
    , m_sorted(new NaturalSortProxyModel(this))
    , m_view(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_summary(new QLabel(this))
    , m_autoRefresh(new QComboBox(this))
    , m_timer(new QTimer(this))
    , m_refreshButton(new QPushButton(tr("&Refresh"), this))
    , m_deploySelected(new QPushButton(this))
    , m_inputPackit(new QLineEdit(this))
    , m_inputOutpack(new QLineEdit(this))
    , m_inputRunner(new QLineEdit(this))
    , m_trigger(new QPushButton(tr("&Trigger update…"), this))
    , m_pullTitle(new QLabel(this))
    , m_pullDetails(new PullRequestBrowser(this))
    , m_deployStaging(new QPushButton(this))
    , m_checkStaging(new QPushButton(tr("Run the automatic &checks"), this))
    , m_stagingState(new QLabel(this))
    , m_checklist(new QListWidget(this))
    , m_merge(new QPushButton(tr("&Merge…"), this))
    , m_deployAll(new QPushButton(this))
    , m_errors(new ErrorBanner(this))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
{
    QStringList machines;
    QSet<QString> production;
    for (const DeployMachine& m : inventory.machines) {
        machines << m.name;
        if (m.tags.production)
            production << m.name;
    }
    m_matrix->setMachines(machines, production);
    const DeployConfig& deploy = inventory.deploy;
    const QString branch = deploy.branch;
    const QString staging = deploy.staging.isEmpty() ? tr("staging") : deploy.staging;

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* intro = new QLabel(deploy.repository.isEmpty()
            ? tr("The commit each machine runs. Add a deploy section (deploy.repository) to the inventory to compare "
                 "it with a branch and to deploy.")
            : tr("The %1 commit each machine runs, against <b>%2</b>. Read from each machine's metrics over SSH or "
                 "its metrics proxy; the branch from GitHub.")
                  .arg(deploy.repository.toHtmlEscaped(), branch.toHtmlEscaped()),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* bar = new QHBoxLayout;
    m_refreshButton->setObjectName(QStringLiteral("refreshMatrix"));
    m_refreshButton->setToolTip(tr("Read every machine again, in parallel"));
    bar->addWidget(m_refreshButton);
    bar->addWidget(new QLabel(tr("Auto-refresh:"), this));
    m_autoRefresh->addItem(tr("Off"), 0);
    m_autoRefresh->addItem(tr("Every minute"), 60);
    m_autoRefresh->addItem(tr("Every 5 minutes"), 300);
    m_autoRefresh->addItem(tr("Every 15 minutes"), 900);
    bar->addWidget(m_autoRefresh);
    auto* exportButton = new QPushButton(tr("E&xport…"), this);
    exportButton->setToolTip(tr("Save the matrix as CSV or JSON (the same fields as opsdeck deploy matrix --json)"));
    bar->addWidget(exportButton);
    m_filter->setPlaceholderText(tr("Filter machines…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMaximumWidth(220);
    bar->addWidget(m_filter);
    bar->addStretch(1);
    m_deploySelected->setObjectName(QStringLiteral("deploySelected"));
    bar->addWidget(m_deploySelected);
    layout->addLayout(bar);
    m_summary->setObjectName(QStringLiteral("matrixSummary"));
    m_summary->setTextFormat(Qt::RichText);
    layout->addWidget(m_summary);
    layout->addWidget(m_errors);
    auto* elsewhere = new RunsElsewhereBanner(runs,
        { QStringLiteral("deploy"), QStringLiteral("deploy-all"), QStringLiteral("deploy-previous"),
            QStringLiteral("deploy-merge"), QStringLiteral("deploy-update"), QStringLiteral("deploy-checks") },
        this);
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &DeployPane::refresh);

    m_sorted->setSourceModel(m_matrix);
    m_sorted->setFilterKeyColumn(-1);
    m_sorted->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_view->setObjectName(QStringLiteral("deployMatrix"));
    m_view->setModel(m_sorted);
    setUpListTable(m_view);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // inventory order until a header is clicked

    // The flow, one box per runbook step, left to right.
    auto* flow = new QWidget(this);
    auto* flowLayout = new QHBoxLayout(flow);
    flowLayout->setContentsMargins(0, 0, 0, 0);

    auto* update = stepBox(tr("1. Update packages"), flow);
    auto* updateForm = new QFormLayout(update);
    m_inputPackit->setObjectName(QStringLiteral("inputPackit"));
    m_inputOutpack->setObjectName(QStringLiteral("inputOutpackServer"));
    m_inputRunner->setObjectName(QStringLiteral("inputOrderlyRunner"));
    m_filter->setObjectName(QStringLiteral("matrixFilter"));
    m_inputPackit->setPlaceholderText(tr("latest (HEAD)"));
    m_inputOutpack->setPlaceholderText(tr("latest (HEAD)"));
    m_inputRunner->setPlaceholderText(tr("main"));
    m_inputPackit->setToolTip(tr("A Packit branch or commit; empty for the latest"));
    m_inputOutpack->setToolTip(tr("An outpack_server branch or commit; empty for the latest"));
    m_inputRunner->setToolTip(tr("An orderly-runner image tag; empty for main"));
    updateForm->addRow(tr("packit"), m_inputPackit);
    updateForm->addRow(tr("outpack_server"), m_inputOutpack);
    updateForm->addRow(tr("orderly-runner"), m_inputRunner);
    m_trigger->setObjectName(QStringLiteral("triggerUpdate"));
    m_trigger->setToolTip(
        tr("Run %1 on %2; it opens or updates the update pull request").arg(deploy.updateWorkflow, branch));
    updateForm->addRow(m_trigger);
    for (QLineEdit* input : { m_inputPackit, m_inputOutpack, m_inputRunner })
        input->setMinimumWidth(120);
    flowLayout->addWidget(update, 3);

    auto* pull = stepBox(tr("2. Pull request"), flow);
    auto* pullLayout = new QVBoxLayout(pull);
    m_pullTitle->setObjectName(QStringLiteral("pullTitle"));
    m_pullTitle->setWordWrap(true);
    m_pullTitle->setOpenExternalLinks(true);
    m_pullTitle->setTextFormat(Qt::RichText);
    pullLayout->addWidget(m_pullTitle);
    m_pullDetails->setObjectName(QStringLiteral("pullDetails"));
    pullLayout->addWidget(m_pullDetails, 1);
    auto* refreshPullButton = new QPushButton(tr("Refresh pull re&quest"), pull);
    pullLayout->addWidget(refreshPullButton);
    flowLayout->addWidget(pull, 4);

    auto* stagingBox = stepBox(tr("3. Staging: %1").arg(staging), flow);
    auto* stagingLayout = new QVBoxLayout(stagingBox);
    m_deployStaging->setObjectName(QStringLiteral("deployStaging"));
    stagingLayout->addWidget(m_deployStaging);
    m_checkStaging->setObjectName(QStringLiteral("checkStaging"));
    m_checkStaging->setToolTip(tr("Landing page, each instance's API, and the revision in the metrics"));
    stagingLayout->addWidget(m_checkStaging);
    m_stagingState->setObjectName(QStringLiteral("stagingState"));
    m_stagingState->setWordWrap(true);
    stagingLayout->addWidget(m_stagingState);
    stagingLayout->addWidget(new QLabel(tr("Checked by hand:"), stagingBox));
    for (const QString& text : manualCheckTexts()) {
        auto* item = new QListWidgetItem(text, m_checklist);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Unchecked);
    }
    m_checklist->setWordWrap(true);
    m_checklist->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    stagingLayout->addWidget(m_checklist, 1);
    flowLayout->addWidget(stagingBox, 4);

    auto* release = stepBox(tr("4. Release"), flow);
    auto* releaseLayout = new QVBoxLayout(release);
    m_merge->setObjectName(QStringLiteral("mergePull"));
    releaseLayout->addWidget(m_merge);
    m_deployAll->setObjectName(QStringLiteral("deployAll"));
    m_deployAll->setText(tr("Deploy %1 to &every machine…").arg(branch));
    m_deployAll->setToolTip(tr("In turn: %1 first, production last; the matrix updates as each finishes")
                                .arg(DeployOperation::deployOrder(inventory).join(QStringLiteral(", "))));
    releaseLayout->addWidget(m_deployAll);
    releaseLayout->addStretch(1);
    flowLayout->addWidget(release, 2);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_view);
    splitter->addWidget(flow);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    connect(m_refreshButton, &QPushButton::clicked, this, &DeployPane::refresh);
    connect(m_filter, &QLineEdit::textChanged, m_sorted, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_autoRefresh, &QComboBox::currentIndexChanged, this,
        [this] { setAutoRefresh(m_autoRefresh->currentData().toInt()); });
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (!m_refreshing)
            refresh();
    });
    auto* exportMenu = new QMenu(exportButton);
    for (const QString& format : { QStringLiteral("CSV"), QStringLiteral("JSON") }) {
        exportMenu->addAction(tr("As %1…").arg(format), this, [this, format] {
            const QString suffix = format.toLower();
            const QString path = QFileDialog::getSaveFileName(this, tr("Export the deploy matrix"),
                QStringLiteral("deploy-matrix-%1.%2")
                    .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")), suffix),
                tr("%1 (*.%2)").arg(format, suffix));
            QString error;
            if (!path.isEmpty() && !exportMatrix(path, &error))
                ConfirmDialog::inform(this, tr("Cannot export the matrix"), error, {});
        });
    }
    exportButton->setMenu(exportMenu);
    connect(m_deploySelected, &QPushButton::clicked, this, &DeployPane::deploySelected);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DeployPane::updateFlowButtons);
    connect(m_trigger, &QPushButton::clicked, this, &DeployPane::triggerUpdate);
    connect(refreshPullButton, &QPushButton::clicked, this, &DeployPane::refreshPull);
    connect(m_deployStaging, &QPushButton::clicked, this, &DeployPane::deployToStaging);
    connect(m_checkStaging, &QPushButton::clicked, this, &DeployPane::checkStaging);
    connect(m_merge, &QPushButton::clicked, this, &DeployPane::mergePull);
    connect(m_deployAll, &QPushButton::clicked, this, &DeployPane::deployAll);
    connect(m_runs, &RunsDock::runFinished, this, &DeployPane::onRunFinished);
    connect(m_checklist, &QListWidget::itemChanged, this, &DeployPane::updateFlowButtons);

    showPull();
    updateSummary();
    updateFlowButtons();
}

DeployPane::~DeployPane()
{
    // Reads not started yet give up; the ones in flight end within their timeouts.
    *m_closing = true;
    m_pool.waitForDone();
}

QStringList DeployPane::hosts() const
{
    QStringList result;
    for (const DeployMachine& m : m_inventory.machines) {
        if (m.metrics == MetricsSource::Ssh && !result.contains(m.host))
            result << m.host;
    }
    return result;
}

void DeployPane::showEvent(QShowEvent* event)
{
    SystemPane::showEvent(event);
    if (m_shown)
        return;
    m_shown = true;
    refresh();
    refreshPull();
}

void DeployPane::withSetup(std::function<void()> then)
{
    if (m_setup) {
        then();
        return;
    }
    m_waiting << std::move(then);
    if (m_resolving)
        return;
    m_resolving = true;
    resolveDeploySetup(m_credentials, m_inventory, this, [this](DeploySetup setup, const QString& warning) {
        m_resolving = false;
        if (!warning.isEmpty())
            qCWarning(lcUi) << "deploy pane:" << warning;
        m_setup = std::move(setup);
        const auto waiting = std::exchange(m_waiting, {});
        for (const auto& job : waiting)
            job();
    });
}

void DeployPane::setAutoRefresh(int seconds)
{
    if (seconds <= 0)
        m_timer->stop();
    else
        m_timer->start(seconds * 1000);
    const int index = m_autoRefresh->findData(seconds);
    if (index >= 0 && index != m_autoRefresh->currentIndex())
        m_autoRefresh->setCurrentIndex(index);
}

void DeployPane::applyStatus(const MachineStatus& status, quint64 generation)
{
    if (m_wanted.value(status.machine) != generation)
        return;
    m_matrix->setStatus(status);
    updateSummary();
    updateFlowButtons();
}

void DeployPane::refresh()
{
    if (m_refreshing)
        return;
    m_refreshing = true;
    m_refreshButton->setEnabled(false);
    const quint64 generation = ++m_generation;
    for (const QString& machine : m_matrix->machines()) {
        m_wanted.insert(machine, generation);
        m_matrix->setChecking(machine);
    }
    updateSummary();
    withSetup([this, generation] {
        QPointer<DeployPane> pane(this);
        AsyncTask::run(
            &m_pool, this,
            [setup = *m_setup, pane, generation, closing = m_closing] {
                // Each row shows as soon as its machine answers.
                DeployMatrixReader(setup, closing).readAll([pane, generation](const MachineStatus& status) {
                    QMetaObject::invokeMethod(
                        pane.data(),
                        [pane, status, generation] {
                            if (pane)
                                pane->applyStatus(status, generation);
                        },
                        Qt::QueuedConnection);
                });
                return true;
            },
            [this](bool) {
                m_refreshing = false;
                m_refreshButton->setEnabled(true);
                updateSummary();
                updateFlowButtons();
                emit refreshed();
            });
    });
}

void DeployPane::refreshMachine(const QString& machine)
{
    const quint64 generation = ++m_generation;
    m_wanted.insert(machine, generation);
    m_matrix->setChecking(machine);
    withSetup([this, machine, generation] {
        AsyncTask::run(
            &m_pool, this,
            [setup = *m_setup, machine, closing = m_closing] {
                return DeployMatrixReader(setup, closing).readOne(machine);
            },
            [this, generation](const MachineStatus& status) { applyStatus(status, generation); });
    });
}

void DeployPane::refreshPull()
{
    if (m_inventory.deploy.repository.isEmpty())
        return;
    const quint64 generation = ++m_pullGeneration;
    withSetup([this, generation] {
        AsyncTask::run(
            &m_pool, this,
            [setup = *m_setup] {
                GithubClient github(setup.inventory.github, setup.inventory.deploy, setup.githubToken);
                QString error;
                auto pull = UpdatePull::readOpen(github, &error);
                return std::pair(pull, error);
            },
            [this, generation](const std::pair<std::optional<UpdatePull>, QString>& result) {
                if (generation != m_pullGeneration)
                    return;
                if (!result.first) {
                    m_pullTitle->setText(tr("Cannot read the update pull request."));
                    m_errors->showProblem({ m_inventory.deploy.repository, tr("Reading the update pull request"),
                        result.second, tr("Refresh the pull request once the cause is fixed.") });
                    return;
                }
                // Another commit to test: what was checked on staging, by machine and by hand, was not it.
                if (result.first->testMergeSha != m_pull.testMergeSha) {
                    m_stagingVerified.clear();
                    for (int i = 0; i < m_checklist->count(); ++i)
                        m_checklist->item(i)->setCheckState(Qt::Unchecked);
                }
                m_pull = *result.first;
                showPull();
                emit pullChanged();
            });
    });
}

void DeployPane::showPull()
{
    if (m_inventory.deploy.repository.isEmpty()) {
        m_pullTitle->setText(tr("No deploy section in the inventory."));
        m_pullDetails->clear();
    } else if (m_pull.number == 0) {
        m_pullTitle->setText(tr("No open update pull request from %1. Trigger the update workflow to open one.")
                                 .arg(m_inventory.deploy.updateHead.toHtmlEscaped()));
        m_pullDetails->clear();
    } else {
        m_pullTitle->setText(
            QStringLiteral("<a href=\"%1\">#%2</a> %3<br>%4 · mergeable: %5")
                .arg(m_pull.url.toHtmlEscaped())
                .arg(m_pull.number)
                .arg(m_pull.title.toHtmlEscaped(), tr("checks: %1").arg(m_pull.checksSummary()), m_pull.mergeable));
        m_pullDetails->showPull(m_pull);
    }
    updateFlowButtons();
}

void DeployPane::updateSummary()
{
    if (m_refreshing) {
        m_summary->setText(tr("Reading %1…").arg(counted(m_matrix->machines().size(), tr("machine"))));
        return;
    }
    const QList<MachineStatus> statuses = m_matrix->statuses();
    if (statuses.isEmpty()) {
        m_summary->setText(m_matrix->machines().isEmpty() ? tr("The inventory declares no machines (machines:).")
                                                          : tr("Not checked yet."));
        return;
    }
    QString head;
    QDateTime checked;
    for (const MachineStatus& s : statuses) {
        if (head.isEmpty())
            head = s.expectedRevision;
        if (!checked.isValid() || s.checkedAt > checked)
            checked = s.checkedAt;
    }
    QStringList counts;
    for (DeployState state : { DeployState::UpToDate, DeployState::ConfigMatches, DeployState::Behind,
             DeployState::Dirty, DeployState::Unreachable, DeployState::Unknown }) {
        if (const int n = m_matrix->count(state))
            counts << QStringLiteral("%1 %2").arg(n).arg(MachineStatus::stateTitle(state).toLower());
    }
    m_summary->setText(
        tr("<b>%1</b> is at <tt>%2</tt> · %3 · checked %4")
            .arg(m_inventory.deploy.branch.toHtmlEscaped(), head.isEmpty() ? tr("?") : head.left(10),
                counts.join(QStringLiteral(", ")), checked.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
    fitColumns(m_view);
}

QString DeployPane::selectedMachine() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_matrix->machines().value(m_sorted->mapToSource(rows.front()).row());
}

QString DeployPane::stagingDeployed() const
{
    const MachineStatus* staging = m_matrix->status(m_inventory.deploy.staging);
    if (!staging || m_pull.testMergeSha.isEmpty() || staging->revision != m_pull.testMergeSha)
        return {};
    return m_pull.testMergeSha;
}

QStringList DeployPane::manualChecks(bool ticked) const
{
    QStringList result;
    for (int i = 0; i < m_checklist->count(); ++i) {
        if ((m_checklist->item(i)->checkState() == Qt::Checked) == ticked)
            result << m_checklist->item(i)->text();
    }
    return result;
}

void DeployPane::updateFlowButtons()
{
    const bool configured = !m_inventory.deploy.repository.isEmpty();
    const bool open = m_pull.number > 0 && m_pull.state == QStringLiteral("open");
    const QString staging = m_inventory.deploy.staging;
    const QString selected = selectedMachine();
    const DeployMachine* machine = m_inventory.machine(selected);
    m_header->setProduction(machine && machine->tags.production, selected);
    m_deploySelected->setText(selected.isEmpty()
            ? tr("&Deploy %1 to the selected machine…").arg(m_inventory.deploy.branch)
            : tr("&Deploy %1 to %2…").arg(m_inventory.deploy.branch, selected));
    m_deploySelected->setEnabled(configured && !selected.isEmpty());
    m_trigger->setEnabled(configured);
    m_deployStaging->setText(open ? tr("Deploy #%1 to %2 (&staging)…").arg(m_pull.number).arg(staging)
                                  : tr("Deploy the pull request to %1 (&staging)…").arg(staging));
    m_deployStaging->setEnabled(configured && open && !staging.isEmpty());
    const QString deployed = stagingDeployed();
    m_checkStaging->setEnabled(configured && open && !deployed.isEmpty());
    m_merge->setText(open ? tr("&Merge #%1…").arg(m_pull.number) : tr("&Merge the pull request…"));
    // The runbook merges what passed on staging; the CLI can merge without, with the plan saying so.
    m_merge->setEnabled(configured && open && !deployed.isEmpty() && m_stagingVerified == deployed);
    m_merge->setToolTip(m_merge->isEnabled()
            ? tr("Merge exactly the checked head into %1").arg(m_inventory.deploy.branch)
            : tr("Deploy the pull request to staging and pass the automatic checks "
                 "first"));
    m_deployAll->setEnabled(configured);
    QString state;
    if (!open)
        state = tr("Waiting for an update pull request.");
    else if (deployed.isEmpty())
        state = tr("%1 does not run #%2 (its test merge %3): deploy it there first.")
                    .arg(staging)
                    .arg(m_pull.number)
                    .arg(m_pull.testMergeSha.left(10));
    else if (m_stagingVerified != deployed)
        state = tr("#%1 runs on %2 (%3): run the automatic checks.").arg(m_pull.number).arg(staging, deployed.left(10));
    else
        state = tr("<span style='color:#2e7d32'>✔ %1 passed the automatic checks at %2.</span> %3 of %4 manual checks "
                   "ticked.")
                    .arg(staging, m_stagingVerified.left(10))
                    .arg(manualChecks(true).size())
                    .arg(m_checklist->count());
    m_stagingState->setText(state);
}

void DeployPane::launch(
    std::unique_ptr<Operation> operation, const QString& action, const QString& title, const QString& text)
{
    OperationLauncher::Launch launch;
    launch.target = m_inventory.deploy.repository;
    launch.action = action;
    launch.failed = [this](const QString& error) {
        // A token found wrong is looked up again next time (the admin may have stored a new one meanwhile).
        if (error.contains(QStringLiteral(": 401 ")))
            m_setup.reset();
    };
    launch.wording = [title, text](const Plan&, QString* dialogTitle, QString* dialogText) {
        *dialogTitle = title;
        *dialogText = text;
    };
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        // The matrix follows a deploy machine by machine.
        connect(runner, &OperationRunner::progressed, this, [this](const StepRecord& step) {
            if (step.id.startsWith(QStringLiteral("verify:")) && step.state != StepRecord::State::Running)
                refreshMachine(step.id.section(u':', 1));
        });
    };
    m_launcher->launch(std::move(operation), launch);
}

void DeployPane::triggerUpdate()
{
    withSetup([this] {
        const QMap<QString, QString> inputs { { QStringLiteral("packit"), m_inputPackit->text().trimmed() },
            { QStringLiteral("outpack_server"), m_inputOutpack->text().trimmed() },
            { QStringLiteral("orderly-runner"), m_inputRunner->text().trimmed() } };
        if (const QString problem = UpdateWorkflowOperation::inputsError(inputs); !problem.isEmpty()) {
            m_errors->showProblem({ m_inventory.deploy.repository, tr("Checking the update's inputs"), problem,
                tr("Correct the inputs, then trigger the update again.") });
            return;
        }
        launch(std::make_unique<UpdateWorkflowOperation>(*m_setup, inputs), tr("the update workflow"),
            tr("Trigger %1 on %2?").arg(m_inventory.deploy.updateWorkflow, m_inventory.deploy.repository),
            tr("GitHub runs the update workflow; it opens (or updates) the pull request that bumps the packages."));
    });
}

void DeployPane::deployToStaging()
{
    if (m_pull.number == 0)
        return;
    withSetup([this] {
        const QString staging = m_inventory.deploy.staging;
        launch(std::make_unique<DeployOperation>(*m_setup, QStringList { staging }, m_pull.mergeRef()),
            tr("the deploy of #%1 to %2").arg(m_pull.number).arg(staging),
            tr("Deploy pull request #%1 to %2?").arg(m_pull.number).arg(staging),
            tr("%1 builds and switches to the pull request's test merge (%2). Its services restart where their "
               "configuration changed.")
                .arg(staging, m_pull.mergeRef()));
    });
}

void DeployPane::checkStaging()
{
    const QString deployed = stagingDeployed();
    if (deployed.isEmpty())
        return;
    withSetup([this, deployed] {
        launch(std::make_unique<StagingCheckOperation>(*m_setup, m_inventory.deploy.staging, deployed),
            tr("the checks of %1").arg(m_inventory.deploy.staging), tr("Check %1?").arg(m_inventory.deploy.staging),
            tr("Reads the landing page, each instance's API and the metrics. Changes nothing."));
    });
}

void DeployPane::mergePull()
{
    if (m_pull.number == 0)
        return;
    withSetup([this] {
        const MergePullOperation::Evidence evidence { m_stagingVerified, manualChecks(true), manualChecks(false) };
        launch(std::make_unique<MergePullOperation>(*m_setup, m_pull.number, m_pull.headSha, evidence),
            tr("the merge of #%1").arg(m_pull.number),
            tr("Merge pull request #%1 into %2?").arg(m_pull.number).arg(m_inventory.deploy.branch),
            tr("GitHub merges exactly head %1; %2 moves, and every machine is then behind until deployed.")
                .arg(m_pull.headSha.left(10), m_inventory.deploy.branch));
    });
}

void DeployPane::deployAll()
{
    const auto selection = DeployAllDialog::choose(this, m_inventory, m_matrix->statuses(), m_pull);
    if (!selection)
        return;
    withSetup([this, selection = *selection] {
        launch(std::make_unique<DeployOperation>(*m_setup, selection),
            tr("the deploy of %1 to every machine").arg(m_inventory.deploy.branch),
            tr("Deploy %1 to every machine?").arg(m_inventory.deploy.branch),
            tr("In turn, in the order of the plan's steps. %1 The plan lists every machine, in or left out, and why.")
                .arg(selection.goOnAfterFailure
                        ? tr("After a failure the run goes on with the other machines (a failure on the staging "
                             "machine still stops it).")
                        : tr("The run stops at the first machine that fails.")));
    });
}

void DeployPane::deploySelected()
{
    const QString machine = selectedMachine();
    if (machine.isEmpty())
        return;
    withSetup([this, machine] {
        launch(std::make_unique<DeployOperation>(*m_setup, QStringList { machine }, m_inventory.deploy.branch),
            tr("the deploy of %1 to %2").arg(m_inventory.deploy.branch, machine),
            tr("Deploy %1 to %2?").arg(m_inventory.deploy.branch, machine),
            tr("%1 builds and switches to the head of %2.").arg(machine, m_inventory.deploy.branch));
    });
}

void DeployPane::onRunFinished(const RunRecord& record)
{
    const QString operation = record.operation;
    if (operation == QStringLiteral("deploy-update")) {
        refreshPull();
    } else if (operation == QStringLiteral("deploy") || operation == QStringLiteral("deploy-all")
        || operation == QStringLiteral("deploy-previous")) {
        const QJsonArray machines = record.parameters.value(QStringLiteral("machines")).toArray();
        for (const QJsonValue& machine : machines)
            refreshMachine(machine.toString());
    } else if (operation == QStringLiteral("deploy-checks")) {
        m_stagingVerified = record.after.value(QStringLiteral("passed")).toBool()
            ? record.parameters.value(QStringLiteral("expectedRevision")).toString()
            : QString();
    } else if (operation == QStringLiteral("deploy-merge")) {
        refreshPull();
        refresh();
    } else {
        return;
    }
    updateFlowButtons();
}

bool DeployPane::restores(const QString& operation) const
{
    return operation == QStringLiteral("deploy") || operation == QStringLiteral("deploy-all")
        || operation == QStringLiteral("deploy-previous");
}

void DeployPane::restore(const UndoWindow& window)
{
    QString error;
    auto previous = DeployOperation::previousFrom(window, m_inventory, &error);
    if (!previous) {
        m_errors->showProblem({ window.target, tr("Preparing the undo of run %1").arg(window.runId), error,
            tr("Nothing was touched. Deploy the revision you want with Deploy selected or the CLI.") });
        return;
    }
    withSetup([this, window, previous = std::move(*previous)] {
        launch(std::make_unique<DeployOperation>(*m_setup, previous),
            tr("the deploy of the previous revision (run %1)").arg(window.runId),
            tr("Deploy the previous revision to %1?").arg(window.target),
            tr("Takes back run %1 of %2 (by %3): each machine it switched goes back to the revision it ran before, "
               "staging first. A machine deployed since keeps what it runs.")
                .arg(window.runId, window.openedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                    window.user));
    });
}

bool DeployPane::exportMatrix(const QString& path, QString* error) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        *error = tr("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    file.write(path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive) ? m_matrix->toCsv() : m_matrix->toJson());
    if (!file.flush()) {
        *error = tr("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QAbstractItemView* DeployPane::targetView() const
{
    return m_view;
}

} // namespace opsdeck
