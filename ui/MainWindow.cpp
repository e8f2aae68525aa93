#include "MainWindow.h"

#include "CommandPalette.h"
#include "ConfirmDialog.h"
#include "InventoryErrorView.h"
#include "JournalPane.h"
#include "PaneHeader.h"
#include "RunsDock.h"
#include "SecretDialog.h"
#include "StatusIcons.h"
#include "TargetPane.h"
#include "TargetStatusModel.h"
#include "UiLogging.h"
#include "config/InventoryLoader.h"
#include "core/AsyncTask.h"
#include "core/Counted.h"
#include "runbook/Journal.h"
#include "runbook/UndoWindow.h"
#include "secrets/CredentialStore.h"
#include "ssh/HostProber.h"
#include "ssh/SshConnectionPool.h"

#include <QAbstractItemView>
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
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTime>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace opsdeck {

namespace {

TargetPane* hostsPane(const Inventory& inventory)
{
    auto* model = new TargetStatusModel(
        { QObject::tr("Host"), QObject::tr("Address"), QObject::tr("User"), QObject::tr("Auth"), QObject::tr("Tags") });
    QList<TargetStatusModel::Target> targets;
    for (const Host& host : inventory.hosts) {
        targets << TargetStatusModel::Target { { host.name, QStringLiteral("%1:%2").arg(host.address).arg(host.port),
                                                   host.user, HostStatus::authName(host.auth.method),
                                                   tagWords(host.tags).join(QStringLiteral(", ")) },
            host.name, {}, host.tags.production };
    }
    model->setTargets(targets);
    return new TargetPane({ MainWindow::tr("Hosts"),
                              QObject::tr("Every SSH host in the inventory. opsdeck connects with strict host key "
                                          "checking, logs in, and runs a no-op command to prove the host is usable."),
                              {}, QObject::tr("The inventory has no hosts.") },
        model);
}

// A menu's or button's text as said in the palette: without its mnemonic marks.
QString plain(const QString& text)
{
    QString said;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == QLatin1Char('&') && i + 1 < text.size())
            ++i; // "&&" is a literal ampersand; "&W" marks W
        said += text[i];
    }
    return said;
}

// Whether `widget` sits on a tab's page of a QTabWidget (hidden only because another tab is current).
QTabWidget* tabsOfPage(QWidget* widget)
{
    QWidget* stack = widget->parentWidget();
    return stack && qobject_cast<QStackedWidget*>(stack) ? qobject_cast<QTabWidget*>(stack->parentWidget()) : nullptr;
}

// Whether the admin could see `widget` in `pane` by choosing tabs: nothing between them is hidden otherwise.
bool reachable(QWidget* widget, QWidget* pane)
{
    for (QWidget* w = widget; w && w != pane; w = w->parentWidget()) {
        if (w->isHidden() && !tabsOfPage(w))
            return false;
    }
    return true;
}

// Makes the tabs that hold `widget` current, so that what the palette chose is in view.
void reveal(QWidget* widget, QWidget* pane)
{
    for (QWidget* w = widget; w && w != pane; w = w->parentWidget()) {
        if (QTabWidget* tabs = tabsOfPage(w))
            tabs->setCurrentWidget(w);
    }
}

} // namespace

MainWindow::MainWindow(const QString& inventoryPath, QList<PaneRegistration> systems, QWidget* parent)
    : QMainWindow(parent)
    , m_systems(std::move(systems))
    , m_sidebar(new QListWidget(this))
    , m_stack(new QStackedWidget(this))
    , m_splitter(new QSplitter(this))
    , m_activity(new QLabel(this))
    , m_keychain(new QLabel(this))
    , m_inventoryLabel(new QLabel(this))
    , m_runs(new RunsDock(this))
    , m_palette(new CommandPalette(this))
{
    setWindowTitle(tr("opsdeck"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/opsdeck.svg")));
    // Where the admin left it; the first time, most of the screen (the tables are wide), up to 1600x1000.
    if (!restoreGeometry(QSettings().value(QStringLiteral("window/geometry")).toByteArray())) {
        const QSize screen
            = QGuiApplication::primaryScreen() ? QGuiApplication::primaryScreen()->availableSize() : QSize(1280, 800);
        resize(std::min(1600, screen.width() * 9 / 10), std::min(1000, screen.height() * 9 / 10));
    }

    m_sidebar->setObjectName(QStringLiteral("sidebar"));
    m_sidebar->setMaximumWidth(220);
    m_sidebar->setIconSize(QSize(20, 20));
    m_sidebar->setSpacing(2);
    m_splitter->addWidget(m_sidebar);
    m_splitter->addWidget(m_stack);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({ 170, 1000 });
    m_splitter->restoreState(QSettings().value(QStringLiteral("window/splitter")).toByteArray());
    setCentralWidget(m_splitter);
    connect(m_sidebar, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= m_slots.size())
            return;
        built(row);
        m_stack->setCurrentIndex(row);
    });

    m_runs->hide(); // shown when the first operation starts
    addDockWidget(Qt::BottomDockWidgetArea, m_runs);
    makeMenus();
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

void MainWindow::makeMenus()
{
    // Menus' mnemonics (F, O, V, H) are kept off the panes' buttons, whose Alt+letter would otherwise be ambiguous.
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open inventory…"), QKeySequence::Open, this, &MainWindow::openInventoryFile);
    file->addAction(
        tr("&Reload inventory"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] { loadInventory(m_inventoryPath); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
    QMenu* hostsMenu = menuBar()->addMenu(tr("H&osts"));
    m_checkAllAction
        = hostsMenu->addAction(tr("&Check all hosts"), QKeySequence::Refresh, this, [this] { checkHosts({}); });
    // Filled with the panes (Go to … Ctrl+1 …) when they are listed.
    menuBar()->addMenu(tr("&View"))->setObjectName(QStringLiteral("viewMenu"));
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(
        tr("&Find a command or target…"), QKeySequence(Qt::CTRL | Qt::Key_K), this, &MainWindow::showPalette);
    help->addAction(tr("&About opsdeck"), this, [this] {
        ConfirmDialog::inform(this, tr("About opsdeck"),
            tr("opsdeck %1: the console for destructive operations on research and cloud infrastructure, planned, "
               "confirmed, journaled and reported.\n\nCtrl+K finds any action or target by name; Ctrl+1 to Ctrl+%2 "
               "go to the panes. The command line (opsdeck --help, man opsdeck) does the same over SSH.")
                .arg(QCoreApplication::applicationVersion())
                .arg(m_slots.size()),
            {});
    });
}

void MainWindow::showPalette()
{
    QList<CommandPalette::Entry> entries;
    for (QAction* menuAction : menuBar()->actions()) {
        const QString place = plain(menuAction->text());
        for (QAction* action : menuAction->menu()->actions()) {
            if (action->isSeparator() || action->text().isEmpty() || action->shortcut().matches(Qt::CTRL | Qt::Key_K))
                continue;
            entries << CommandPalette::Entry { place, plain(action->text()), {}, action->shortcut(),
                action->isEnabled() ? std::function<void()>([action] { action->trigger(); }) : nullptr };
        }
    }
    for (int row = 0; row < m_slots.size(); ++row) {
        SystemPane* pane = built(row);
        const QString place = m_slots[row].title;
        for (QTabWidget* tabs : pane->findChildren<QTabWidget*>()) {
            for (int tab = 0; tab < tabs->count(); ++tab) {
                const QPointer<QWidget> page = tabs->widget(tab);
                entries << CommandPalette::Entry { place, tr("%1 tab").arg(plain(tabs->tabText(tab))), {},
                    QKeySequence::mnemonic(tabs->tabText(tab)), [this, row, pane, page] {
                        showPane(row);
                        if (page) {
                            reveal(page, pane);
                            page->setFocus();
                        }
                    } };
            }
        }
        for (QPushButton* button : pane->findChildren<QPushButton*>()) {
            if (button->text().isEmpty() || !reachable(button, pane))
                continue;
            const QPointer<QPushButton> pointer = button;
            entries << CommandPalette::Entry { place, plain(button->text()), button->toolTip(),
                QKeySequence::mnemonic(button->text()),
                button->isEnabled() ? std::function<void()>([this, row, pane, pointer] {
                    showPane(row);
                    if (!pointer)
                        return;
                    reveal(pointer, pane);
                    pointer->setFocus();
                    pointer->click();
                })
                                    : nullptr };
        }
        // The panes' tool bar actions (Reset RAFT…, Delete repo…).
        for (QToolBar* bar : pane->findChildren<QToolBar*>()) {
            if (!reachable(bar, pane))
                continue;
            for (QAction* action : bar->actions()) {
                if (action->isSeparator() || action->text().isEmpty() || !action->isVisible())
                    continue;
                const QPointer<QAction> pointer = action;
                entries << CommandPalette::Entry { place, plain(action->text()), action->toolTip(), action->shortcut(),
                    action->isEnabled() && bar->isEnabled() ? std::function<void()>([this, row, pointer] {
                        showPane(row);
                        if (pointer)
                            pointer->trigger();
                    })
                                                            : nullptr };
            }
        }
        QAbstractItemView* view = pane->targetView();
        if (!view || !view->model())
            continue;
        const QAbstractItemModel* model = view->model();
        for (int target = 0; target < model->rowCount(); ++target) {
            QString text = model->index(target, 0).data().toString();
            const QString more = model->columnCount() > 1 ? model->index(target, 1).data().toString() : QString();
            if (!more.isEmpty())
                text += QStringLiteral(" (%1)").arg(more);
            const QPersistentModelIndex index = model->index(target, 0);
            const QPointer<QAbstractItemView> viewPointer = view;
            entries << CommandPalette::Entry { place, text, tr("Select it in %1").arg(place), {},
                [this, row, pane, index, viewPointer] {
                    showPane(row);
                    if (!viewPointer || !index.isValid())
                        return;
                    reveal(viewPointer, pane);
                    viewPointer->setFocus();
                    viewPointer->selectionModel()->setCurrentIndex(
                        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
                    viewPointer->scrollTo(index);
                } };
        }
    }
    m_palette->present(std::move(entries));
}

SystemPane* MainWindow::pane(const QString& title)
{
    for (int row = 0; row < m_slots.size(); ++row) {
        if (m_slots[row].title == title)
            return built(row);
    }
    return nullptr;
}

QList<SystemPane*> MainWindow::panes()
{
    QList<SystemPane*> all;
    for (int row = 0; row < m_slots.size(); ++row)
        all << built(row);
    return all;
}

SystemPane* MainWindow::built(int row)
{
    PaneSlot& slot = m_slots[row];
    if (slot.pane)
        return slot.pane;
    slot.pane = slot.create();
    m_stack->widget(row)->layout()->addWidget(slot.pane);
    if (auto* targets = qobject_cast<TargetPane*>(slot.pane)) {
        connect(targets, &TargetPane::checkAgainRequested, this, &MainWindow::checkHosts);
        connect(targets, &TargetPane::hostKeyRequested, this, &MainWindow::reviewHostKey);
        connect(targets, &TargetPane::selectionChanged, this, &MainWindow::updateHostKeyActions);
    }
    m_sidebar->item(row)->setIcon(
        slot.pane->showsHostState() ? StatusIcons::icon(StatusIcons::Kind::Unknown) : slot.pane->sidebarIcon());
    // What was learnt of the hosts before the pane existed.
    for (const HostStatus& status : std::as_const(m_statuses))
        slot.pane->updateHost(status);
    updateSidebar();
    updateHostKeyActions();
    return slot.pane;
}

void MainWindow::buildRestLater()
{
    QTimer::singleShot(0, this, [this, loads = m_loads] {
        if (loads != m_loads)
            return; // the inventory was loaded again: its own chain builds its panes
        for (int row = 0; row < m_slots.size(); ++row) {
            if (!m_slots[row].pane) {
                built(row);
                buildRestLater();
                return;
            }
        }
    });
}

void MainWindow::showPane(int row)
{
    m_sidebar->setCurrentRow(row);
    SystemPane* pane = built(row);
    // The keyboard goes into the pane: to its targets if it lists any, else to its first control.
    if (QAbstractItemView* view = pane->targetView(); view && view->isVisibleTo(pane))
        view->setFocus();
    else if (QWidget* first = pane->nextInFocusChain(); first && pane->isAncestorOf(first))
        first->setFocus();
}

void MainWindow::clearPanes()
{
    // The prober and pool talk to the panes; they go first.
    delete m_prober;
    m_prober = nullptr;
    delete m_pool;
    m_pool = nullptr;
    m_slots.clear();
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

    addPane(tr("Hosts"), [this] { return hostsPane(m_inventory); });
    for (const PaneRegistration& system : std::as_const(m_systems)) {
        addPane(system.title, [this, create = system.create] {
            return create(PaneContext { m_inventory, m_credentials.get(), m_runs, m_journal });
        });
    }
    addPane(tr("Journal"), [this] {
        auto* journalPane = new JournalPane(m_journal, m_runs);
        connect(m_runs, &RunsDock::runFinished, journalPane, &JournalPane::reload);
        connect(journalPane, &JournalPane::restoreRequested, this, &MainWindow::restore);
        journalPane->setRestorable([this](const QString& operation) { return restoringPane(operation) != nullptr; });
        return journalPane;
    });
    // Ctrl+1 … go to the panes, in the sidebar's order.
    QMenu* view = menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu"));
    view->clear();
    m_paneActions.clear();
    for (int row = 0; row < m_slots.size(); ++row) {
        QAction* go = view->addAction(tr("Go to %1").arg(m_slots[row].title), this, [this, row] { showPane(row); });
        if (row < 9)
            go->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + row)));
        m_paneActions << go;
    }
    view->addSeparator();
    QAction* runs = m_runs->toggleViewAction();
    runs->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    view->addAction(runs);
    // The pane the admin left open last time, if this inventory has it; built now, so that it is in the first frame.
    const QString last = QSettings().value(QStringLiteral("window/pane")).toString();
    int first = 0;
    for (int row = 0; row < m_slots.size(); ++row) {
        if (m_slots[row].title == last)
            first = row;
    }
    m_sidebar->setCurrentRow(first);
    if (m_shown)
        startReading();
}

// What reads hosts and the journal, and the panes not shown yet: once the window is up, never before it.
void MainWindow::startReading()
{
    checkHosts({});
    m_runs->showUnfinished(
        m_journal, [this](const QString& operation) { return recoveringPane(operation) != nullptr; });
    m_runs->followOtherConsoles(m_journal);
    buildRestLater();
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    if (m_shown)
        return;
    m_shown = true;
    // After this first frame is drawn.
    QTimer::singleShot(0, this, [this] {
        if (m_pool)
            startReading();
    });
}

void MainWindow::addPane(const QString& title, std::function<SystemPane*()> create)
{
    m_slots << PaneSlot { title, std::move(create) };
    // Its place in the stack; the pane goes in when built.
    auto* place = new QWidget(m_stack);
    auto* layout = new QVBoxLayout(place);
    layout->setContentsMargins(0, 0, 0, 0);
    m_stack->addWidget(place);
    auto* item = new QListWidgetItem(title, m_sidebar);
    item->setSizeHint(QSize(0, 34));
}

SystemPane* MainWindow::recoveringPane(const QString& operation)
{
    for (SystemPane* candidate : panes()) {
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
    m_sidebar->setCurrentRow(int(panes().indexOf(pane)));
    pane->recover(run);
}

SystemPane* MainWindow::restoringPane(const QString& operation)
{
    for (SystemPane* candidate : panes()) {
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
            m_sidebar->setCurrentRow(int(panes().indexOf(pane)));
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
    for (const PaneSlot& slot : std::as_const(m_slots)) {
        if (slot.pane)
            slot.pane->updateHost(status);
    }
    updateHostKeyActions();
    updateSidebar();
    updateActivity();
}

// Each system's icon sums up the hosts its pane depends on: the worst state wins.
void MainWindow::updateSidebar()
{
    for (qsizetype row = 0; row < m_slots.size(); ++row) {
        const SystemPane* pane = m_slots[row].pane;
        if (!pane || !pane->showsHostState())
            continue; // one not built yet shows no state: it has not been asked for its hosts
        const QStringList hosts = pane->hosts();
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
            tip = tr("All %1 reachable").arg(counted(reachable, tr("host")));
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
        text = tr("Checking %1…").arg(counted(m_prober->pending(), tr("host")));
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
    for (const PaneSlot& slot : std::as_const(m_slots)) {
        if (!slot.pane)
            continue;
        const HostStatus status = m_statuses.value(slot.pane->selectedHost());
        slot.pane->setHostKeyActionEnabled(status.hostKey.status == HostKeyInfo::Status::Unknown
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
        request.text
            = (m_runs->running() == 1 ? tr("An operation still runs. Quitting cancels it")
                                      : tr("%1 operations still run. Quitting cancels them").arg(m_runs->running()))
            + tr(": each stops at a safe point and runs its recovery (for a wipe, the units are started again) before "
                 "opsdeck exits.");
        request.verb = tr("Cancel and quit");
        if (!ConfirmDialog::ask(this, request)) {
            event->ignore();
            return;
        }
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    if (m_sidebar->currentItem())
        settings.setValue(QStringLiteral("window/pane"), m_sidebar->currentItem()->text());
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
