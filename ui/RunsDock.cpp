#include "RunsDock.h"

#include "ConfirmDialog.h"
#include "ListTable.h"
#include "ReportExport.h"
#include "StatusIcons.h"
#include "core/AsyncTask.h"
#include "runbook/Journal.h"
#include "runbook/JournalWatcher.h"
#include "runbook/OperationRunner.h"

#include <QApplication>
#include <QClipboard>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace opsdeck {

namespace {
enum Column
{
    OperationColumn,
    Progress,
    Step,
    Eta,
    Actions,
    Console, // shown second (see the constructor); last here, so that the columns before keep their numbers
    ColumnCount
};

QString timeOfDay(const QDateTime& at)
{
    const QDateTime local = at.toLocalTime();
    return local.toString(
        local.date() == QDate::currentDate() ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm"));
}

// `seconds` left, or -1 when unknown: then how long the run has been going (`running` ms), once that is a while.
QString etaText(qint64 seconds, qint64 running)
{
    if (seconds < 0 && running >= 60000)
        return QObject::tr("running %1 min, no estimate").arg(running / 60000);
    if (seconds < 0)
        return QObject::tr("estimating…");
    if (seconds < 60)
        return QObject::tr("about %1 s left").arg(seconds);
    return QObject::tr("about %1 min left").arg((seconds + 59) / 60);
}

QString recoverCommand(const Journal::UnfinishedRun& run)
{
    return QStringLiteral("opsdeck recover %1 --confirm %2").arg(run.runId, run.confirmWith);
}

// The run's one name (RunRecord::runName), with its operation's id and the run's in the tooltip.
void showName(QTreeWidgetItem* item, const QString& operation, const QString& target, const QString& runId = {})
{
    item->setText(OperationColumn, RunRecord::runName(operation, target));
    item->setToolTip(OperationColumn,
        runId.isEmpty() ? QObject::tr("Operation %1").arg(operation)
                        : QObject::tr("Operation %1 · run %2").arg(operation, runId));
}
} // namespace

RunsDock::RunsDock(QWidget* parent)
    : QDockWidget(tr("Runs"), parent)
    , m_list(new QTreeWidget(this))
    , m_clear(new QToolButton(this))
    , m_clock(new QTimer(this))
{
    setObjectName(QStringLiteral("runsDock"));
    m_list->setObjectName(QStringLiteral("runs"));
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({ tr("Name"), tr("Progress"), tr("Step"), tr("Time"), {}, tr("Console") });
    setUpListTree(m_list);
    // A step or a summary is a sentence: its start says the most (the tooltip has it whole), unlike a fingerprint.
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setUniformRowHeights(false); // a row with buttons is taller
    m_list->header()->moveSection(Console, 1);
    // The step takes the room, not the buttons; the other columns fit their contents.
    m_list->header()->setSectionResizeMode(Step, QHeaderView::Stretch);
    m_list->header()->setStretchLastSection(false);
    fitColumnsToRows(m_list);
    m_list->setMinimumHeight(90);
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_list, &QWidget::customContextMenuRequested, this, &RunsDock::showContextMenu);
    // Beside the list, not above it: the dock is short.
    m_clear->setObjectName(QStringLiteral("clearFinished"));
    m_clear->setText(tr("Clear finished"));
    m_clear->setToolTip(tr("Take away the runs of this console that ended; running runs and unfinished runs to "
                           "recover stay. Their reports stay in the Journal."));
    m_clear->setAutoRaise(true);
    connect(m_clear, &QToolButton::clicked, this, &RunsDock::clearFinished);
    auto* content = new QWidget(this);
    auto* layout = new QHBoxLayout(content);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_list, 1);
    auto* side = new QVBoxLayout;
    side->addWidget(m_clear);
    side->addStretch(1);
    layout->addLayout(side);
    setWidget(content);
    updateClearButton();
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    m_clock->setInterval(15000);
    connect(m_clock, &QTimer::timeout, this, &RunsDock::showTimes);
}

RunsDock::~RunsDock()
{
    for (Row& row : m_rows)
        delete row.runner; // cancels what still runs, and waits for its recovery
}

int RunsDock::finished() const
{
    return int(
        std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row& row) { return row.ended; }) + m_recovered.size());
}

RunsDock::Row* RunsDock::rowOf(const OperationRunner* runner)
{
    const auto found
        = std::find_if(m_rows.begin(), m_rows.end(), [runner](const Row& row) { return row.runner == runner; });
    return found == m_rows.end() ? nullptr : &*found;
}

void RunsDock::updateClearButton()
{
    m_clear->setEnabled(finished() > 0);
}

void RunsDock::clearFinished()
{
    for (auto it = m_rows.begin(); it != m_rows.end();) {
        if (!it->ended) {
            ++it;
            continue;
        }
        delete it->item; // with its cell widgets
        delete it->runner; // done: its thread has nothing left to run
        it = m_rows.erase(it);
    }
    qDeleteAll(m_recovered);
    m_recovered.clear();
    updateClearButton();
}

void RunsDock::notifyEnded(const RunRecord& record, const QDateTime& started)
{
    const QDateTime ended = record.finishedAt.isValid() ? record.finishedAt : QDateTime::currentDateTimeUtc();
    if (started.msecsTo(ended) <= m_notifyAfterMs || QApplication::activeWindow())
        return;
    notify(tr("%1: %2").arg(record.name(), RunRecord::outcomeName(record.outcome)), record.summary);
}

void RunsDock::notify(const QString& title, const QString& message)
{
    if (m_notify) {
        m_notify(title, message);
        return;
    }
    // Without a tray (or a display: tests run offscreen) the window's alert is all there is; it never blocks.
    if (!QSystemTrayIcon::isSystemTrayAvailable()) {
        QApplication::alert(window());
        return;
    }
    if (!m_tray) {
        m_tray = new QSystemTrayIcon(window()->windowIcon(), this);
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
            window()->activateWindow();
            window()->raise();
        });
    }
    m_tray->show();
    m_tray->showMessage(title, message, QSystemTrayIcon::Information);
    QApplication::alert(window());
}

int RunsDock::running() const
{
    return int(std::count_if(
        m_rows.cbegin(), m_rows.cend(), [](const Row& row) { return row.runner && row.runner->isRunning(); }));
}

void RunsDock::showTime(const Row& row)
{
    row.item->setText(Eta, etaText(row.eta, row.started.msecsTo(QDateTime::currentDateTimeUtc())));
}

void RunsDock::showTimes()
{
    bool running = false;
    for (const Row& row : std::as_const(m_rows)) {
        if (!row.runner || !row.runner->isRunning() || !row.record.id.isEmpty())
            continue;
        running = true;
        showTime(row);
    }
    if (!running)
        m_clock->stop();
}

void RunsDock::showUnfinished(
    const JournalLocation& journalLocation, std::function<bool(const QString& operation)> recoverable)
{
    AsyncTask::run(
        this,
        [journalLocation] {
            Journal journal(journalLocation);
            QString error;
            QList<Journal::UnfinishedRun> runs;
            if ((journalLocation.isTeam() || QFileInfo::exists(journalLocation.path)) && journal.open(&error))
                runs = journal.unfinishedRuns(&error);
            return runs;
        },
        [this, recoverable](const QList<Journal::UnfinishedRun>& runs) {
            m_unfinishedRead = true;
            // Listed again (a reloaded inventory): the rows listed before go, but for those being recovered.
            for (auto it = m_unfinished.begin(); it != m_unfinished.end();) {
                if (it->recovering) {
                    ++it;
                    continue;
                }
                delete it->item;
                it = m_unfinished.erase(it);
            }
            for (const Journal::UnfinishedRun& run : runs) {
                if (m_unfinished.contains(run.runId))
                    continue;
                delete m_elsewhere.take(run.runId); // listed as another console's before its console was found gone
                auto* item = new QTreeWidgetItem(m_list);
                item->setData(OperationColumn, Qt::UserRole, run.runId);
                showName(item, run.operation, run.target, run.runId);
                const QDateTime started = run.startedAt.toLocalTime();
                item->setText(Eta, tr("started %1").arg(timeOfDay(run.startedAt)));
                item->setToolTip(Eta, started.toString(Qt::ISODate));
                item->setText(Console, tr("%1 pid %2 (gone)").arg(run.host).arg(run.pid));
                item->setToolTip(
                    Console, tr("Its console, process %1 on %2, no longer runs").arg(run.pid).arg(run.host));
                const Unfinished unfinished { item, run, recoverable && recoverable(run.operation), false };
                m_unfinished.insert(run.runId, unfinished);
                offerRecovery(unfinished);
            }
            if (!runs.isEmpty()) {
                show();
                raise();
            }
        });
}

void RunsDock::followOtherConsoles(const JournalLocation& journalLocation)
{
    delete m_watcher;
    m_watcher = new JournalWatcher(journalLocation, this);
    connect(m_watcher, &JournalWatcher::runsChanged, this, &RunsDock::showRunsElsewhere);
    connect(m_watcher, &JournalWatcher::reachabilityChanged, this, [this, journalLocation](const QString& why) {
        setWindowTitle(why.isEmpty() ? tr("Runs") : tr("Runs (other consoles' runs unknown)"));
        setToolTip(why.isEmpty() ? QString()
                                 : tr("The journal %1 cannot be followed: %2. Runs of other consoles are not shown "
                                      "until it can; this console's runs are refused meanwhile if it is a team "
                                      "journal.")
                                       .arg(journalLocation.describe(), why));
    });
    showRunsElsewhere({});
    m_watcher->start();
}

QList<LiveRun> RunsDock::runsElsewhere() const
{
    return m_watcher ? m_watcher->runs() : QList<LiveRun>();
}

void RunsDock::showRunsElsewhere(const QList<LiveRun>& runs)
{
    QSet<QString> listed;
    bool started = false;
    for (const LiveRun& run : runs) {
        // A run whose console died on this machine is listed for recovery (showUnfinished): not twice, and not
        // before that list was read, which would show it here first.
        if (m_unfinished.contains(run.runId) || (!m_unfinishedRead && run.host == m_thisMachine && !run.running()))
            continue;
        listed.insert(run.runId);
        QTreeWidgetItem*& item = m_elsewhere[run.runId];
        if (!item) {
            item = new QTreeWidgetItem(m_list);
            item->setData(OperationColumn, Qt::UserRole, run.runId);
            auto* bar = new QProgressBar(m_list);
            bar->setTextVisible(true);
            m_list->setItemWidget(item, Progress, bar);
            started = started || run.running();
        }
        showRunElsewhere(item, run);
    }
    for (auto it = m_elsewhere.begin(); it != m_elsewhere.end();) {
        if (listed.contains(it.key())) {
            ++it;
            continue;
        }
        delete it.value();
        it = m_elsewhere.erase(it);
    }
    if (started)
        show(); // not raised: the admin may be reading another dock
    emit runsElsewhereChanged(runs);
}

void RunsDock::showRunElsewhere(QTreeWidgetItem* item, const LiveRun& run)
{
    showName(item, run.operation, run.target, run.runId);
    item->setIcon(OperationColumn,
        StatusIcons::icon(run.ended() ? run.outcome == RunRecord::outcomeName(RunRecord::Outcome::Succeeded)
                    ? StatusIcons::Kind::Ok
                    : StatusIcons::Kind::Error
                : run.running()       ? StatusIcons::Kind::Busy
                                      : StatusIcons::Kind::Warning));
    item->setText(Console, run.user);
    item->setToolTip(Console,
        tr("Another console: process %1 on %2, as %3. Run %4.").arg(run.pid).arg(run.host, run.user, run.runId));
    auto* bar = qobject_cast<QProgressBar*>(m_list->itemWidget(item, Progress));
    const auto steps = int(run.stepTitles.size());
    bar->setRange(0, std::max(steps, 1));
    if (run.ended()) {
        bar->setValue(run.outcome == RunRecord::outcomeName(RunRecord::Outcome::Succeeded)
                ? bar->maximum()
                : std::max(run.stepIndex, 0));
        bar->setFormat(run.outcome);
        item->setText(Step, run.summary);
        item->setText(Eta, tr("ended %1").arg(timeOfDay(run.lastAt)));
    } else {
        // A step begun is not done: the bar shows the steps before it.
        bar->setValue(std::max(run.stepIndex, 0));
        bar->setFormat(run.stepIndex < 0 ? tr("starting") : tr("step %1 of %2").arg(run.stepIndex + 1).arg(steps));
        const QString step = run.stepIndex < 0 && !run.recovering ? tr("Starting")
            : run.recovering                                      ? tr("Recovery: %1").arg(run.step)
                                                                  : run.step;
        item->setText(Step, run.running() ? step : tr("Stopped (%1): %2").arg(step, run.stopped));
        item->setText(Eta, tr("started %1").arg(timeOfDay(run.startedAt)));
    }
    item->setToolTip(Step, item->text(Step));
    item->setToolTip(Eta,
        tr("Started %1; its last entry %2")
            .arg(run.startedAt.toLocalTime().toString(Qt::ISODate), run.lastAt.toLocalTime().toString(Qt::ISODate)));
}

void RunsDock::offerRecovery(const Unfinished& unfinished)
{
    const Journal::UnfinishedRun& run = unfinished.run;
    QTreeWidgetItem* item = unfinished.item;
    const QString command = recoverCommand(run);
    item->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Warning));
    item->setText(Progress, tr("unfinished — recover"));
    const QString stopped = tr("Stopped%1 with no outcome: the target may be half-way")
                                .arg(run.lastStep.isEmpty() ? QString() : tr(" during %1").arg(run.lastStep));
    if (unfinished.recoverable) {
        item->setText(Step, stopped);
        item->setToolTip(Step,
            tr("%1. Recover… plans its recovery, asks, and runs it here. From a terminal: %2").arg(stopped, command));
        auto* recover = new QPushButton(tr("Recover…"), m_list);
        recover->setObjectName(QStringLiteral("recoverRun"));
        recover->setToolTip(tr("Plan the recovery of run %1, confirm it, and run it here. From a terminal: %2")
                                .arg(run.runId, command));
        connect(recover, &QPushButton::clicked, this, [this, run] { emit recoverRequested(run); });
        m_list->setItemWidget(item, Actions, recover);
        return;
    }
    // No pane of this console recovers it: the recovery is typed in a terminal (it asks for the confirmation there).
    // The row says so in few words (the column is not wide); the tooltips say it whole.
    item->setText(Step,
        tr("Stopped%1; recover %2 runs from a terminal")
            .arg(run.lastStep.isEmpty() ? QString() : tr(" during %1").arg(run.lastStep), run.operation));
    const QString why = tr("%1. The console does not recover %2 runs; recover it from a terminal: %3")
                            .arg(stopped, run.operation, command);
    item->setToolTip(Step, why);
    auto* copy = new QPushButton(tr("Copy recover command"), m_list);
    copy->setObjectName(QStringLiteral("copyRecoverCommand"));
    copy->setToolTip(why);
    connect(copy, &QPushButton::clicked, copy, [copy, command] {
        QGuiApplication::clipboard()->setText(command);
        copy->setText(tr("Copied"));
    });
    m_list->setItemWidget(item, Actions, copy);
}

void RunsDock::followRecovery(const QString& runId, OperationRunner* runner)
{
    const auto found = m_unfinished.find(runId);
    if (found == m_unfinished.end())
        return;
    found->recovering = true;
    QTreeWidgetItem* item = found->item;
    item->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Busy));
    item->setText(Progress, tr("being recovered"));
    item->setText(Step, tr("Being recovered: see the recovery's row"));
    m_list->removeItemWidget(item, Actions);
    // Until the recovery succeeds, the journal keeps the run unfinished: a recovery that fails or is refused offers
    // it again.
    const auto ended = [this, runId](const RunRecord* record) {
        const auto unfinished = m_unfinished.find(runId);
        if (unfinished == m_unfinished.end())
            return;
        if (!record || record->outcome != RunRecord::Outcome::Succeeded) {
            unfinished->recovering = false;
            offerRecovery(*unfinished);
            if (record)
                unfinished->item->setToolTip(Progress,
                    tr("Its recovery, run %1, %2: %3")
                        .arg(record->id, RunRecord::outcomeName(record->outcome), record->summary));
            return;
        }
        QTreeWidgetItem* closed = unfinished->item;
        closed->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Ok));
        closed->setText(Progress, tr("recovered"));
        closed->setText(Step, tr("Recovered by run %1").arg(record->id));
        closed->setToolTip(Step, record->summary);
        m_unfinished.erase(unfinished);
        m_recovered << closed;
        updateClearButton();
    };
    connect(runner, &OperationRunner::finished, this, [ended](const RunRecord& record) { ended(&record); });
    connect(runner, &OperationRunner::refused, this, [ended] { ended(nullptr); });
}

void RunsDock::showContextMenu(const QPoint& position)
{
    const QTreeWidgetItem* item = m_list->itemAt(position);
    const auto found
        = item ? m_unfinished.constFind(item->data(OperationColumn, Qt::UserRole).toString()) : m_unfinished.constEnd();
    QMenu menu(m_list);
    if (found != m_unfinished.constEnd()) {
        menu.setObjectName(QStringLiteral("unfinishedMenu"));
        const QString command = recoverCommand(found->run);
        menu.addAction(tr("Copy recover command"), this, [command] { QGuiApplication::clipboard()->setText(command); })
            ->setToolTip(command);
        menu.addSeparator();
    }
    menu.addAction(tr("Clear finished"), this, &RunsDock::clearFinished)->setEnabled(finished() > 0);
    menu.exec(m_list->viewport()->mapToGlobal(position));
}

void RunsDock::start(OperationRunner* runner, const Plan& plan, const QString& confirmation)
{
    runner->setParent(nullptr);
    auto* item = new QTreeWidgetItem(m_list);
    showName(item, plan.operation, plan.target);
    item->setText(Console, tr("this console"));
    item->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Busy));
    auto* bar = new QProgressBar(m_list);
    bar->setRange(0, 1000);
    bar->setTextVisible(true);
    bar->setFormat(QStringLiteral("%p%"));
    m_list->setItemWidget(item, Progress, bar);
    auto* cancel = new QPushButton(tr("Cancel"), m_list);
    cancel->setObjectName(QStringLiteral("cancelRun"));
    m_list->setItemWidget(item, Actions, cancel);
    m_list->scrollToItem(item);
    m_rows << Row { runner, item, {}, QDateTime::currentDateTimeUtc() };
    m_clock->start();
    if (const QString recovered = plan.parameters.value(QStringLiteral("recovers")).toString(); !recovered.isEmpty())
        followRecovery(recovered, runner);
    show();
    raise();

    connect(cancel, &QPushButton::clicked, runner, [runner, cancel] {
        cancel->setEnabled(false);
        cancel->setText(tr("Cancelling…"));
        runner->cancel();
    });
    connect(runner, &OperationRunner::progressed, this,
        [this, runner, item, bar](const StepRecord& step, double fraction, qint64 eta) {
            Row* row = rowOf(runner);
            if (!row)
                return; // cleared
            bar->setValue(int(fraction * 1000));
            QString text = step.recovery ? tr("Recovery: %1").arg(step.title) : step.title;
            // A long step's last line says how far it is (datamon's keys scanned and rate, a batch count).
            const QString last = step.output.trimmed().section(u'\n', -1).trimmed().left(160);
            if (step.state == StepRecord::State::Running && !last.isEmpty())
                text += QStringLiteral(" — ") + last;
            item->setText(Step, text);
            item->setToolTip(Step, text);
            row->eta = eta;
            showTime(*row);
        });
    connect(runner, &OperationRunner::refused, this,
        [this, runner, item, bar](OperationRunner::Refusal, const QString& message) {
            Row* row = rowOf(runner);
            if (!row)
                return;
            row->ended = true;
            updateClearButton();
            item->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Warning));
            item->setText(Step, tr("Refused: %1").arg(message));
            item->setToolTip(Step, message);
            item->setText(Eta, {});
            bar->setValue(0);
            m_list->setItemWidget(item, Actions, nullptr);
            ConfirmDialog::inform(this, tr("Refused"), message, {});
        });
    connect(runner, &OperationRunner::finished, this, [this, runner, item, bar](const RunRecord& record) {
        Row* own = rowOf(runner);
        if (!own)
            return;
        own->record = record;
        own->ended = true;
        const QDateTime started = own->started;
        updateClearButton();
        item->setToolTip(OperationColumn, tr("Operation %1 · run %2").arg(record.operation, record.id));
        const bool ok = record.outcome == RunRecord::Outcome::Succeeded;
        item->setIcon(OperationColumn, StatusIcons::icon(ok ? StatusIcons::Kind::Ok : StatusIcons::Kind::Error));
        bar->setValue(ok ? 1000 : bar->value());
        bar->setFormat(RunRecord::outcomeName(record.outcome));
        item->setText(Step, record.summary);
        item->setToolTip(Step, record.summary);
        item->setText(Eta, tr("ended %1").arg(record.finishedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
        auto* actions = new QWidget(m_list);
        auto* buttons = new QHBoxLayout(actions);
        buttons->setContentsMargins(0, 0, 0, 0);
        buttons->setSpacing(4);
        if (record.undoOpened && m_restorable && m_restorable(record.operation)) {
            auto* undo = new QPushButton(tr("Undo…"), actions);
            undo->setObjectName(QStringLiteral("undoRun"));
            undo->setToolTip(tr("Take this run back: %1").arg(record.undoSummary()));
            connect(undo, &QPushButton::clicked, this, [this, record] { emit restoreRequested(record); });
            buttons->addWidget(undo);
        }
        auto* report = new QPushButton(tr("Export report…"), actions);
        report->setObjectName(QStringLiteral("exportReport"));
        connect(report, &QPushButton::clicked, this, [this, record] { ReportExport::askAndWrite(this, record); });
        buttons->addWidget(report);
        m_list->setItemWidget(item, Actions, actions);
        // The column fits its contents by the items' size hints: a cell of two buttons needs its own.
        item->setSizeHint(Actions, actions->sizeHint());
        // A restore that succeeded closed the window of the run it took back: that run's Undo… goes.
        if (const QString restored = record.parameters.value(QStringLiteral("restores")).toString();
            ok && !restored.isEmpty()) {
            for (const Row& row : std::as_const(m_rows)) {
                QWidget* cell = row.record.id == restored ? m_list->itemWidget(row.item, Actions) : nullptr;
                if (auto* undo = cell ? cell->findChild<QPushButton*>(QStringLiteral("undoRun")) : nullptr) {
                    undo->hide(); // out of the cell's size now; gone once control returns
                    undo->deleteLater();
                    row.item->setSizeHint(Actions, cell->sizeHint());
                }
            }
        }
        notifyEnded(record, started);
        emit runFinished(record);
    });
    runner->run(plan, confirmation);
}

} // namespace opsdeck
