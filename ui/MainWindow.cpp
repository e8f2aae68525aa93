#include "MainWindow.h"

#include "ConfirmDialog.h"
#include "InventoryErrorView.h"
#include "JournalPane.h"
#include "RunsDock.h"
#include "SecretDialog.h"
#include "StatusIcons.h"
#include "TargetPane.h"
#include "TargetStatusModel.h"
#include "UiLogging.h"
#include "config/InventoryLoader.h"
#include "core/AsyncTask.h"
#include "runbook/Journal.h"
#include "runbook/UndoWindow.h"
#include "secrets/CredentialStore.h"
#include "ssh/HostProber.h"
#include "ssh/SshConnectionPool.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTime>
#include <QTimer>

namespace opsdeck {

namespace {

TargetPane* hostsPane(const Inventory& inventory)
{
    auto* model = new TargetStatusModel(
        { QObject::tr("Host"), QObject::tr("Address"), QObject::tr("User"), QObject::tr("Auth"), QObject::tr("Tags") });
    QList<TargetStatusModel::Target> targets;
    for (const Host& host : inventory.hosts) {
        QStringList tags;
        if (host.tags.production)
            tags << QStringLiteral("production");
        if (host.tags.readOnly)
            tags << QStringLiteral("read-only");
        targets << TargetStatusModel::Target { { host.name, QStringLiteral("%1:%2").arg(host.address).arg(host.port),
                                                   host.user, HostStatus::authName(host.auth.method),
                                                   tags.join(QStringLiteral(", ")) },
            host.name, {} };
    }
    model->setTargets(targets);
    return new TargetPane({ QObject::tr("Hosts"),
                              QObject::tr("Every SSH host in the inventory. opsdeck connects with strict host key "
                                          "checking, logs in, and runs a no-op command to prove the host is usable."),
                              {}, QObject::tr("The inventory has no hosts.") },
        model);
}

} // namespace

MainWindow::MainWindow(const QString& inventoryPath, QList<PaneRegistration> systems, QWidget* parent)
    : QMainWindow(parent)
    , m_systems(std::move(systems))
    , m_sidebar(new QListWidget(this))
    , m_stack(new QStackedWidget(this))
    , m_activity(new QLabel(this))
    , m_keychain(new QLabel(this))
    , m_inventoryLabel(new QLabel(this))
    , m_runs(new RunsDock(this))
{
    setWindowTitle(tr("opsdeck"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/opsdeck.svg")));
    // Where the admin left it; the first time, most of the screen (the tables are wide), up to 1600x1000.
    if (!restoreGeometry(QSettings().value(QStringLiteral("window/geometry")).toByteArray())) {
        const QSize screen
            = QGuiApplication::primaryScreen() ? QGuiApplication::primaryScreen()->availableSize() : QSize(1280, 800);
        resize(std::min(1600, screen.width() * 9 / 10), std::min(1000, screen.height() * 9 / 10));
    }

    auto* splitter = new QSplitter(this);
    m_sidebar->setObjectName(QStringLiteral("sidebar"));
    m_sidebar->setMaximumWidth(220);
    m_sidebar->setIconSize(QSize(20, 20));
    m_sidebar->setSpacing(2);
    splitter->addWidget(m_sidebar);
    splitter->addWidget(m_stack);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({ 170, 1000 });
    setCentralWidget(splitter);
    connect(m_sidebar, &QListWidget::currentRowChanged, m_stack, &QStackedWidget::setCurrentIndex);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open inventory…"), QKeySequence::Open, this, &MainWindow::openInventoryFile);
    file->addAction(
        tr("&Reload inventory"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] { loadInventory(m_inventoryPath); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
    QMenu* hostsMenu = menuBar()->addMenu(tr("&Hosts"));
    m_checkAllAction
        = hostsMenu->addAction(tr("&Check all hosts"), QKeySequence::Refresh, this, [this] { checkHosts({}); });

    m_runs->hide(); // shown when the first operation starts
    addDockWidget(Qt::BottomDockWidgetArea, m_runs);
    connect(m_runs, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible)
            resizeDocks({ m_runs }, { 130 }, Qt::Vertical);
    });
    connect(m_runs, &RunsDock::recoverRequested, this, &MainWindow::recover);
    connect(m_runs, &RunsDock::restoreRequested, this,
        [this](const RunRecord& record) { restore(record.id, record.operation, record.target); });
    m_runs->setRestorable([this](const QString& operation) { return restoringPane(operation) != nullptr; });

    statusBar()->addWidget(m_activity, 1);
    // The status bar says how things stood when they were last checked: checked again every few minutes, so that
    // the time it shows stays recent.
    auto* recheck = new QTimer(this);
    recheck->setInterval(kHostRecheckMs);
    connect(recheck, &QTimer::timeout, this, [this] {
        if (m_prober && m_prober->pending() == 0)
            checkHosts({});
    });
    recheck->start();
    statusBar()->addPermanentWidget(m_keychain);
    statusBar()->addPermanentWidget(m_inventoryLabel);

    loadInventory(inventoryPath);
}

MainWindow::~MainWindow()
{
    clearPanes();
}

SystemPane* MainWindow::pane(const QString& title) const
{
    for (SystemPane* candidate : m_panes) {
        if (candidate->title() == title)
            return candidate;
    }
    return nullptr;
}

void MainWindow::clearPanes()
{
    // The prober and pool talk to the panes; they go first.
    delete m_prober;
    m_prober = nullptr;
    delete m_pool;
    m_pool = nullptr;
    m_panes.clear();
    m_statuses.clear();
    m_sidebar->clear();
    while (m_stack->count() > 0) {
        QWidget* widget = m_stack->widget(0);
        m_stack->removeWidget(widget);
        delete widget;
    }
}

void MainWindow::loadInventory(const QString& path)
{
    clearPanes();
    ++m_loads;
    m_inventoryPath = path;
    m_inventoryLabel->setText(tr("Inventory: %1").arg(path));
    const InventoryLoadResult result = InventoryLoader::loadFile(path);
    if (!result.ok()) {
        qCWarning(lcUi) << "inventory" << path << "has" << result.errors.size() << "errors";
        showErrors(path, result.errors);
        return;
    }
    m_inventory = *result.inventory;
    makeCredentials();
    QString error;
    const auto journal = JournalLocation::fromInventory(m_inventory, &error);
    if (!journal) {
        // The loader checked the reference, so this is not expected; never fall back to a local journal, which would
        // let this console's runs pass the team's locks by.
        showErrors(path, { InventoryError { path, 0, 0, tr("journal database: %1").arg(error) } });
        return;
    }
    if (!journal->isTeam() && !journal->isKeyed()) {
        buildPanes(m_inventory, *journal);
        checkHosts({});
        return;
    }
    // The team journal's password (and its tunnel host's secret) and the chain's key first: every pane's runs are
    // journaled with them. If they cannot be had, the panes still read; each run is then refused, saying why.
    m_activity->setText(tr("Reaching the journal %1…").arg(journal->describe()));
    const quint64 load = m_loads;
    resolveJournalSecrets(m_credentials.get(), *journal, this,
        [this, load, journal = *journal](std::optional<JournalLocation> resolved, const QString& why) {
            if (load != m_loads)
                return; // the inventory was loaded again meanwhile
            buildPanes(m_inventory, resolved ? *resolved : journal);
            if (!resolved)
                m_activity->setText(tr("The journal %1 cannot be used: %2. Destructive runs are refused.")
                                        .arg(journal.describe(), why));
            checkHosts({});
        });
}

void MainWindow::showErrors(const QString& path, const QList<InventoryError>& errors)
{
    auto* view = new InventoryErrorView(path, errors, this);
    connect(view, &InventoryErrorView::reloadRequested, this, [this] { loadInventory(m_inventoryPath); });
    connect(view, &InventoryErrorView::openRequested, this, &MainWindow::openInventoryFile);
    connect(view, &InventoryErrorView::createRequested, this, &MainWindow::createInventoryFromTemplate);
    m_sidebar->hide();
    m_checkAllAction->setEnabled(false);
    m_stack->addWidget(view);
    m_activity->setText(tr("Inventory has errors: nothing was connected to"));
    m_keychain->clear();
}

void MainWindow::makeCredentials()
{
    if (!m_credentials) {
        m_credentials = std::make_unique<CredentialStore>();
        m_secretDialog = std::make_unique<SecretDialog>(this);
        m_credentials->setPrompter(m_secretDialog.get());
        connect(m_credentials.get(), &CredentialStore::backendChanged, this, [this](CredentialStore::Backend backend) {
            if (backend == CredentialStore::Backend::MemoryOnly) {
                m_keychain->setText(tr("No keyring: secrets are kept for this session only"));
                m_keychain->setToolTip(tr("The system keyring is not available, so passwords and passphrases you "
                                          "type are held in memory until opsdeck exits, and never written to disk."));
            } else {
                m_keychain->setText(tr("Secrets: system keyring"));
                m_keychain->setToolTip({});
            }
        });
    }
}

void MainWindow::buildPanes(const Inventory& inventory, const JournalLocation& journal)
{
    m_sidebar->show();
    m_checkAllAction->setEnabled(true);
    m_journal = journal;
    m_pool = new SshConnectionPool(inventory, m_credentials.get());
    m_prober = new HostProber(inventory, m_pool);
    connect(m_prober, &HostProber::statusChanged, this, &MainWindow::onHostStatus);
    connect(m_prober, &HostProber::finished, this, &MainWindow::updateActivity);
    connect(m_pool, &SshConnectionPool::stateChanged, this, [this](const QString& host, SshSession::State state) {
        if (state == SshSession::State::Connecting || state == SshSession::State::Reconnecting)
            m_activity->setText(tr("%1 %2…").arg(SshSession::stateName(state), host));
    });

    addPane(hostsPane(inventory));
    const PaneContext context { inventory, m_credentials.get(), m_runs, journal };
    for (const PaneRegistration& system : std::as_const(m_systems))
        addPane(system.create(context));
    auto* journalPane = new JournalPane(journal, m_runs);
    connect(m_runs, &RunsDock::runFinished, journalPane, &JournalPane::reload);
    connect(journalPane, &JournalPane::restoreRequested, this, &MainWindow::restore);
    journalPane->setRestorable([this](const QString& operation) { return restoringPane(operation) != nullptr; });
    addPane(journalPane);
    m_runs->showUnfinished(journal, [this](const QString& operation) { return recoveringPane(operation) != nullptr; });
    m_runs->followOtherConsoles(journal);
    m_sidebar->setCurrentRow(0);
}

void MainWindow::addPane(SystemPane* pane)
{
    m_panes << pane;
    m_stack->addWidget(pane);
    auto* item = new QListWidgetItem(pane->title(), m_sidebar);
    item->setSizeHint(QSize(0, 34));
    if (pane->showsHostState())
        item->setIcon(StatusIcons::icon(StatusIcons::Kind::Unknown));
    if (auto* targets = qobject_cast<TargetPane*>(pane)) {
        connect(targets, &TargetPane::checkAgainRequested, this, &MainWindow::checkHosts);
        connect(targets, &TargetPane::hostKeyRequested, this, &MainWindow::reviewHostKey);
        connect(targets, &TargetPane::selectionChanged, this, &MainWindow::updateHostKeyActions);
    }
}

SystemPane* MainWindow::recoveringPane(const QString& operation) const
{
    for (SystemPane* candidate : m_panes) {
        if (candidate->recovers(operation))
            return candidate;
    }
    return nullptr;
}

void MainWindow::recover(const Journal::UnfinishedRun& run)
{
    SystemPane* pane = recoveringPane(run.operation);
    if (!pane)
        return; // the inventory was reloaded meanwhile without that system: the row keeps its command
    m_sidebar->setCurrentRow(int(m_panes.indexOf(pane)));
    pane->recover(run);
}

SystemPane* MainWindow::restoringPane(const QString& operation) const
{
    for (SystemPane* candidate : m_panes) {
        if (candidate->restores(operation))
            return candidate;
    }
    return nullptr;
}

void MainWindow::restore(const QString& runId, const QString& operation, const QString& target)
{
    struct Answer
    {
        std::optional<UndoWindow> window;
        QString error;
    };
    AsyncTask::run(
        this,
        [journalLocation = m_journal, runId] {
            Answer answer;
            Journal journal(journalLocation);
            if (!journal.open(&answer.error))
                return answer;
            if (const auto windows = UndoWindows::read(journal, &answer.error))
                answer.window = UndoWindows::find(*windows, runId);
            return answer;
        },
        [this, runId, operation, target](const Answer& answer) {
            const QString title = tr("Undo %1 on %2").arg(operation, target);
            if (!answer.error.isEmpty() || !answer.window || answer.window->state != UndoWindow::State::Open) {
                ConfirmDialog::inform(this, title,
                    !answer.error.isEmpty() ? tr("Cannot read the undo windows of the journal: %1").arg(answer.error)
                        : !answer.window    ? tr("Run %1 kept no undo window in this journal.").arg(runId)
                                            : tr("The undo window of run %1 is %2: it cannot be restored.")
                                               .arg(runId, answer.window->stateText()),
                    {});
                return;
            }
            SystemPane* pane = restoringPane(operation);
            if (!pane)
                return; // the inventory was reloaded meanwhile without that system
            m_sidebar->setCurrentRow(int(m_panes.indexOf(pane)));
            pane->restore(*answer.window);
        });
}

void MainWindow::checkHosts(const QStringList& hosts)
{
    if (!m_prober)
        return;
    if (hosts.isEmpty())
        m_prober->probeAll();
    else
        m_prober->probe(hosts);
    updateActivity();
}

void MainWindow::onHostStatus(const HostStatus& status)
{
    m_statuses.insert(status.name, status);
    for (SystemPane* pane : std::as_const(m_panes))
        pane->updateHost(status);
    updateHostKeyActions();
    updateSidebar();
    updateActivity();
}

// Each system's icon sums up the hosts its pane depends on: the worst state wins.
void MainWindow::updateSidebar()
{
    for (qsizetype row = 0; row < m_panes.size(); ++row) {
        if (!m_panes[row]->showsHostState())
            continue;
        const QStringList hosts = m_panes[row]->hosts();
        int failing = 0;
        int busy = 0;
        int reachable = 0;
        for (const QString& host : hosts) {
            switch (m_statuses.value(host).reachability) {
            case HostStatus::Reachability::Reachable:
                ++reachable;
                break;
            case HostStatus::Reachability::Unreachable:
                ++failing;
                break;
            case HostStatus::Reachability::Checking:
            case HostStatus::Reachability::Unchecked:
                ++busy;
                break;
            }
        }
        StatusIcons::Kind kind = StatusIcons::Kind::Unknown;
        QString tip = tr("No host to check");
        if (failing > 0) {
            // One spare machine down is a warning: the pane still works for the others.
            kind = reachable > 0 ? StatusIcons::Kind::Warning : StatusIcons::Kind::Error;
            tip = tr("%1 of %2 hosts failing").arg(failing).arg(hosts.size());
        } else if (busy > 0) {
            kind = StatusIcons::Kind::Busy;
            tip = tr("Checking hosts…");
        } else if (reachable > 0) {
            kind = StatusIcons::Kind::Ok;
            tip = tr("All %n host(s) reachable", nullptr, reachable);
        }
        QListWidgetItem* item = m_sidebar->item(int(row));
        item->setIcon(StatusIcons::icon(kind));
        item->setToolTip(tip);
    }
}

void MainWindow::updateActivity()
{
    if (!m_prober)
        return;
    int reachable = 0;
    QStringList failing;
    for (const HostStatus& status : std::as_const(m_statuses)) {
        if (status.reachable())
            ++reachable;
        else if (status.reachability == HostStatus::Reachability::Unreachable)
            failing << status.name;
    }
    failing.sort();
    const qsizetype total = m_inventory.hosts.size();
    QString text;
    if (m_prober->pending() > 0)
        text = tr("Checking %n host(s)…", nullptr, m_prober->pending());
    else
        text = tr("%1 of %2 hosts reachable · checked %3")
                   .arg(reachable)
                   .arg(total)
                   .arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")));
    if (!failing.isEmpty())
        text += tr(" · failing: %1").arg(failing.join(QStringLiteral(", ")));
    m_activity->setText(text);
}

void MainWindow::updateHostKeyActions()
{
    for (SystemPane* pane : std::as_const(m_panes)) {
        const HostStatus status = m_statuses.value(pane->selectedHost());
        pane->setHostKeyActionEnabled(status.hostKey.status == HostKeyInfo::Status::Unknown
            || status.hostKey.status == HostKeyInfo::Status::Changed);
    }
}

void MainWindow::reviewHostKey(const QString& host)
{
    const HostStatus status = m_statuses.value(host);
    const Host* config = m_inventory.host(host);
    if (!config || !m_pool)
        return;
    const QString knownHosts = SshTarget::fromHost(*config).knownHostsPath();
    if (status.hostKey.status == HostKeyInfo::Status::Changed) {
        ConfirmDialog::inform(this, tr("The host key of %1 has changed").arg(host),
            tr("The server at %1:%2 presented a different key from the one in %3. This can mean "
               "the host was reinstalled, or that someone is intercepting the connection. opsdeck "
               "refuses to connect and ran nothing. If the change is expected, confirm the new "
               "fingerprint with the host's administrator and replace its line in %3.")
                .arg(config->address)
                .arg(config->port)
                .arg(knownHosts),
            tr("known_hosts has:      %1\nserver presented:     %2")
                .arg(status.hostKey.knownSha256, status.hostKey.sha256));
        return;
    }
    if (status.hostKey.status != HostKeyInfo::Status::Unknown)
        return;
    ConfirmDialog::Request request;
    request.title = tr("Trust the host key of %1?").arg(host);
    request.text = tr("opsdeck has no record of %1:%2 in %3. Compare this fingerprint with the one the host's "
                      "administrator gives you (ssh-keygen -lf on the host's key). If they match, opsdeck adds the key "
                      "to %3 and connects.")
                       .arg(config->address)
                       .arg(config->port)
                       .arg(knownHosts);
    request.details = status.hostKey.sha256;
    request.verb = tr("Trust host");
    const bool trust = ConfirmDialog::ask(this, request);
    if (!trust)
        return;
    m_pool->session(host)->acceptHostKey(status.hostKey.sha256);
    checkHosts({ host });
}

void MainWindow::createInventoryFromTemplate()
{
    QFile templateFile(QStringLiteral(":/inventory-template.yaml"));
    QSaveFile target(m_inventoryPath);
    const bool written = templateFile.open(QIODevice::ReadOnly)
        && QDir().mkpath(QFileInfo(m_inventoryPath).absolutePath()) && target.open(QIODevice::WriteOnly)
        && target.write(templateFile.readAll()) >= 0 && target.commit();
    if (!written) {
        ConfirmDialog::inform(this, tr("Cannot create the inventory"),
            tr("opsdeck could not write %1: %2").arg(m_inventoryPath, target.errorString()), {});
        return;
    }
    ConfirmDialog::inform(this, tr("Inventory created"),
        tr("%1 now holds the example inventory. Its hosts are examples: edit the file to describe "
           "your own (docs/inventory.md lists every field), then choose Reload.")
            .arg(m_inventoryPath),
        {});
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_runs->running() > 0) {
        ConfirmDialog::Request request;
        request.title = tr("Quit while an operation runs?");
        request.text = tr("%n operation(s) still run. Quitting cancels them: each stops at a safe point and runs its "
                          "recovery (for a wipe, the units are started again) before opsdeck exits.",
            nullptr, m_runs->running());
        request.verb = tr("Cancel and quit");
        if (!ConfirmDialog::ask(this, request)) {
            event->ignore();
            return;
        }
    }
    QSettings().setValue(QStringLiteral("window/geometry"), saveGeometry());
    event->accept();
}

void MainWindow::openInventoryFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open inventory"), m_inventoryPath, tr("Inventory (*.yaml *.yml);;All files (*)"));
    if (!path.isEmpty())
        loadInventory(path);
}

} // namespace opsdeck
