#include "JournalPane.h"

#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "ListTable.h"
#include "OperationLauncher.h"
#include "PaneHeader.h"
#include "ReportExport.h"
#include "RunsElsewhereBanner.h"
#include "StatusIcons.h"
#include "core/AsyncTask.h"
#include "core/Counted.h"
#include "runbook/LockBreakOperation.h"
#include "runbook/OperationRunner.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace opsdeck {

namespace {

StatusIcons::Kind outcomeIcon(RunRecord::Outcome outcome)
{
    switch (outcome) {
    case RunRecord::Outcome::Succeeded:
        return StatusIcons::Kind::Ok;
    case RunRecord::Outcome::Failed:
        return StatusIcons::Kind::Error;
    case RunRecord::Outcome::Cancelled:
        return StatusIcons::Kind::Warning;
    case RunRecord::Outcome::Running:
        return StatusIcons::Kind::Busy;
    }
    return StatusIcons::Kind::Unknown;
}

StatusIcons::Kind stepIcon(StepRecord::State state)
{
    switch (state) {
    case StepRecord::State::Succeeded:
        return StatusIcons::Kind::Ok;
    case StepRecord::State::Failed:
        return StatusIcons::Kind::Error;
    case StepRecord::State::Cancelled:
        return StatusIcons::Kind::Warning;
    case StepRecord::State::Running:
        return StatusIcons::Kind::Busy;
    case StepRecord::State::Pending:
    case StepRecord::State::Skipped:
        return StatusIcons::Kind::Unknown;
    }
    return StatusIcons::Kind::Unknown;
}

QString duration(const QDateTime& from, const QDateTime& to)
{
    if (!from.isValid() || !to.isValid())
        return {};
    const qint64 ms = from.msecsTo(to);
    return ms < 60000 ? QObject::tr("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1)
                      : QObject::tr("%1 min %2 s").arg(ms / 60000).arg((ms / 1000) % 60);
}

QComboBox* filterBox(QWidget* parent, const QString& any)
{
    auto* box = new QComboBox(parent);
    box->addItem(any, QString());
    box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    return box;
}

QString localTime(const QDateTime& time)
{
    return time.isValid() ? time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}

// A lock's lease, in words, with the icon that says whether it still holds.
std::pair<QString, StatusIcons::Kind> leaseState(const Journal::HeldLock& lock)
{
    if (lock.holderGoneHere)
        return { QObject::tr("Its console no longer runs: the next run takes it over"), StatusIcons::Kind::Warning };
    if (!lock.holder.leaseUntil.isValid())
        return { QObject::tr("No lease (taken before leases): never runs out"), StatusIcons::Kind::Warning };
    if (lock.leaseRanOut)
        return { QObject::tr("Ran out at %1: the next run takes it over").arg(localTime(lock.holder.leaseUntil)),
            StatusIcons::Kind::Warning };
    return { QObject::tr("Renewed: holds until %1 (%2 s)")
                 .arg(localTime(lock.holder.leaseUntil))
                 .arg(lock.judgedAt.secsTo(lock.holder.leaseUntil)),
        StatusIcons::Kind::Busy };
}

enum UndoColumn
{
    UndoRun,
    UndoName,
    UndoBy,
    UndoKept,
    UndoUntil,
    UndoState,
};

constexpr int kUndoTab = 2;

// A word of a command line as a shell reads it: quoted when it holds anything but plain characters.
QString shellWord(const QString& word)
{
    static const QString plain
        = QStringLiteral("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/@:+-");
    const bool isPlain
        = !word.isEmpty() && std::all_of(word.cbegin(), word.cend(), [](QChar c) { return plain.contains(c); });
    return isPlain ? word : u'\'' + QString(word).replace(u'\'', QStringLiteral("'\\''")) + u'\'';
}

QString restoreCommand(const UndoWindow& window)
{
    return QStringLiteral("opsdeck restore %1 --confirm %2").arg(window.runId, shellWord(window.confirmWith));
}

QString keptText(const UndoWindow& window)
{
    const QString size = window.bytes > 0 ? QLocale().formattedDataSize(window.bytes)
        : window.bytes == 0               ? QObject::tr("no space")
                                          : QString();
    if (size.isEmpty())
        return window.where;
    return window.where.isEmpty() ? size : QStringLiteral("%1 · %2").arg(window.where, size);
}

// The row's tooltip: which run, and what a restore puts back and what it cannot.
QString windowToolTip(const UndoWindow& window)
{
    QStringList lines { QObject::tr("Run %1: %2 by %3 (operation %4)")
                            .arg(window.runId, RunRecord::runName(window.operation, window.target),
                                window.user.isEmpty() ? QObject::tr("an unknown user") : window.user,
                                window.operation) };
    lines << QObject::tr("State: %1").arg(window.stateText());
    lines << QObject::tr("Kept from %1 until %2: %3")
                 .arg(localTime(window.openedAt), localTime(window.until),
                     keptText(window).isEmpty() ? QObject::tr("where is not said") : keptText(window));
    if (!window.restorable.isEmpty()) {
        lines << QObject::tr("A restore puts back:");
        for (const QString& item : window.restorable)
            lines << QStringLiteral("  • ") + item;
    }
    if (!window.notRestorable.isEmpty()) {
        lines << QObject::tr("It cannot put back:");
        for (const QString& item : window.notRestorable)
            lines << QStringLiteral("  • ") + item;
    }
    if (window.restorable.isEmpty() && window.notRestorable.isEmpty())
        lines << QObject::tr("The journal does not say what a restore puts back.");
    return lines.join(u'\n');
}

QJsonArray windowsJson(const QList<UndoWindow>& windows)
{
    QJsonArray array;
    for (const UndoWindow& window : windows)
        array.append(window.toJson());
    return array;
}

} // namespace

JournalPane::JournalPane(const JournalLocation& journalLocation, RunsDock* runs, QWidget* parent)
    : SystemPane(parent)
    , m_journalLocation(journalLocation)
    , m_errors(new ErrorBanner(this))
    , m_launcher(new OperationLauncher(runs, journalLocation, m_errors, this))
    , m_tabs(new QTabWidget(this))
    , m_target(filterBox(this, tr("All targets")))
    , m_operation(filterBox(this, tr("All operations")))
    , m_outcome(filterBox(this, tr("Any outcome")))
    , m_from(new QDateEdit(this))
    , m_runs(new QTreeWidget(this))
    , m_steps(new QTreeWidget(this))
    , m_output(new QPlainTextEdit(this))
    , m_summary(new QLabel(this))
    , m_status(new QLabel(this))
    , m_export(new QPushButton(tr("E&xport report…"), this))
    , m_locks(new QTreeWidget(this))
    , m_lockStatus(new QLabel(this))
    , m_reason(new QLineEdit(this))
    , m_break(new QPushButton(tr("&Break lock…"), this))
    , m_lockTimer(new QTimer(this))
    , m_windows(new QTreeWidget(this))
    , m_showEnded(new QCheckBox(tr("Show ended windows"), this))
    , m_windowsEmpty(new QLabel(this))
    , m_windowStatus(new QLabel(this))
    , m_restoreHint(new QLabel(this))
    , m_restore(new QPushButton(tr("Re&store…"), this))
{
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new PaneHeader(tr("Journal"), this));
    auto* summary = new QLabel(
        tr("Every operation run from %1, with each step, its command and its output. Entries are "
           "hash-chained: Verify shows whether any was changed. Journal: %2")
            .arg(journalLocation.isTeam() ? tr("every console of the team") : tr("this machine's consoles"),
                journalLocation.describe()),
        this);
    summary->setWordWrap(true);
    layout->addWidget(summary);
    layout->addWidget(m_errors);
    auto* elsewhere = new RunsElsewhereBanner(runs, {}, this); // every run: the journal is the team's overview
    layout->addWidget(elsewhere);
    connect(elsewhere, &RunsElsewhereBanner::runEnded, this, &JournalPane::reload);

    auto* runsTab = new QWidget(this);
    auto* runsLayout = new QVBoxLayout(runsTab);
    auto* bar = new QHBoxLayout;
    for (const RunRecord::Outcome outcome :
        { RunRecord::Outcome::Succeeded, RunRecord::Outcome::Failed, RunRecord::Outcome::Cancelled })
        m_outcome->addItem(
            StatusIcons::icon(outcomeIcon(outcome)), RunRecord::outcomeName(outcome), RunRecord::outcomeName(outcome));
    m_from->setCalendarPopup(true);
    m_from->setDisplayFormat(QStringLiteral("yyyy-MM-dd"));
    m_from->setMinimumDate(QDate(2000, 1, 1));
    m_from->setSpecialValueText(tr("Any date"));
    m_from->setDate(m_from->minimumDate());
    m_from->setToolTip(tr("Runs started on or after this date"));
    bar->addWidget(m_target);
    bar->addWidget(m_operation);
    bar->addWidget(m_outcome);
    bar->addWidget(new QLabel(tr("from"), this));
    bar->addWidget(m_from);
    bar->addStretch(1);
    auto* reloadButton = new QPushButton(tr("&Reload"), this);
    auto* verifyButton = new QPushButton(tr("Verify &journal"), this);
    verifyButton->setToolTip(tr("Recompute the hash chain of every entry"));
    bar->addWidget(reloadButton);
    bar->addWidget(verifyButton);
    runsLayout->addLayout(bar);

    m_runs->setObjectName(QStringLiteral("journalRuns"));
    // The run's one name (as the Runs dock, its report and the CLI say it); the operation's id last, for those who
    // know the ids.
    m_runs->setHeaderLabels({ tr("Started"), tr("Name"), tr("Outcome"), tr("Who"), tr("Took"), tr("Operation") });
    setUpListTree(m_runs);
    m_runs->setSortingEnabled(true);
    m_runs->sortByColumn(0, Qt::DescendingOrder);
    m_steps->setObjectName(QStringLiteral("journalSteps"));
    m_steps->setHeaderLabels({ tr("Step"), tr("State"), tr("Command"), tr("Took"), tr("Error") });
    setUpListTree(m_steps);
    m_output->setReadOnly(true);
    m_output->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_output->setPlaceholderText(tr("Select a step to see its output."));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_export->setEnabled(false);

    auto* detail = new QWidget(this);
    auto* detailLayout = new QVBoxLayout(detail);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    auto* summaryBar = new QHBoxLayout;
    summaryBar->addWidget(m_summary, 1);
    summaryBar->addWidget(m_export);
    detailLayout->addLayout(summaryBar);
    auto* stepSplit = new QSplitter(Qt::Vertical, detail);
    stepSplit->addWidget(m_steps);
    stepSplit->addWidget(m_output);
    stepSplit->setStretchFactor(0, 2);
    detailLayout->addWidget(stepSplit, 1);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_runs);
    splitter->addWidget(detail);
    splitter->setStretchFactor(1, 2);
    runsLayout->addWidget(splitter, 1);
    m_tabs->addTab(runsTab, tr("R&uns"));

    auto* locksTab = new QWidget(this);
    auto* locksLayout = new QVBoxLayout(locksTab);
    auto* locksHelp = new QLabel(
        tr("A run holds its target's lock while it runs and renews its lease every %1 s; a lock whose lease ran out, "
           "or whose console is gone, is taken over by the next run on its own. Break a lock only when a console "
           "hangs or a lock never runs out: the break is journaled with your reason, and the holder's console stops "
           "its run before the next step.")
            .arg(Journal::leaseMs() / 4000),
        this);
    locksHelp->setWordWrap(true);
    locksLayout->addWidget(locksHelp);
    m_locks->setObjectName(QStringLiteral("journalLocks"));
    m_locks->setHeaderLabels({ tr("Target"), tr("Holder"), tr("Since"), tr("Lease"), tr("Run") });
    setUpListTree(m_locks);
    locksLayout->addWidget(m_locks, 1);
    auto* breakBar = new QHBoxLayout;
    breakBar->addWidget(new QLabel(tr("Reason:"), this));
    m_reason->setPlaceholderText(tr("Why the lock must be broken (journaled and in the report)"));
    m_reason->setMaxLength(500);
    breakBar->addWidget(m_reason, 1);
    breakBar->addWidget(m_break);
    locksLayout->addLayout(breakBar);
    locksLayout->addWidget(m_lockStatus);
    m_break->setEnabled(false);
    m_tabs->addTab(locksTab, tr("&Locks"));
    // Leases run out and other consoles take and release locks: while the pane shows, the list follows them.
    m_lockTimer->setInterval(5000);
    connect(m_lockTimer, &QTimer::timeout, this, &JournalPane::reloadLocks);

    auto* windowsTab = new QWidget(this);
    auto* windowsLayout = new QVBoxLayout(windowsTab);
    auto* windowsHelp = new QLabel(
        tr("A destructive run keeps, for a while, what it needs to be taken back: its undo window. Restore takes "
           "back a run whose window is still open; the restore is planned from what the target holds now and "
           "confirmed like any run, and keeps a window of its own."),
        this);
    windowsHelp->setWordWrap(true);
    windowsLayout->addWidget(windowsHelp);
    m_showEnded->setObjectName(QStringLiteral("showEndedWindows"));
    m_showEnded->setToolTip(tr("Also list the windows that were restored, ended early or ran out"));
    windowsLayout->addWidget(m_showEnded);
    m_windowsEmpty->setObjectName(QStringLiteral("undoWindowsEmpty"));
    m_windowsEmpty->setWordWrap(true);
    m_windowsEmpty->hide();
    windowsLayout->addWidget(m_windowsEmpty);
    m_windows->setObjectName(QStringLiteral("undoWindows"));
    m_windows->setHeaderLabels({ tr("Run"), tr("Name"), tr("By"), tr("Kept"), tr("Until"), tr("State") });
    m_windows->headerItem()->setToolTip(UndoRun, tr("The run that kept the window; its full id in the tooltip"));
    m_windows->headerItem()->setToolTip(UndoKept, tr("Where the kept data is, and the space it holds"));
    m_windows->headerItem()->setToolTip(UndoUntil, tr("When the window ends, in this computer's time"));
    // Kept, the longest, gives way as the list narrows, elided in the middle: "the journal (the re…) · no space".
    setUpListTree(m_windows);
    windowsLayout->addWidget(m_windows, 1);
    windowsLayout->addStretch(0); // holds the rest at the top while the list is hidden
    auto* restoreBar = new QHBoxLayout;
    m_restoreHint->setObjectName(QStringLiteral("restoreHint"));
    m_restoreHint->setWordWrap(true);
    m_restoreHint->setTextFormat(Qt::PlainText);
    m_restoreHint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    restoreBar->addWidget(m_restoreHint, 1);
    m_restore->setObjectName(QStringLiteral("restoreWindow"));
    m_restore->setEnabled(false);
    restoreBar->addWidget(m_restore, 0, Qt::AlignTop);
    windowsLayout->addLayout(restoreBar);
    windowsLayout->addWidget(m_windowStatus);
    m_tabs->addTab(windowsTab, tr("Undo &windows"));
    // Windows open and close with other consoles' runs and run out: they follow on the locks' timer.
    connect(m_lockTimer, &QTimer::timeout, this, &JournalPane::reloadUndoWindows);

    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_status);

    for (QComboBox* box : { m_target, m_operation, m_outcome })
        connect(box, &QComboBox::currentIndexChanged, this, &JournalPane::showRuns);
    connect(m_from, &QDateEdit::dateChanged, this, &JournalPane::showRuns);
    connect(reloadButton, &QPushButton::clicked, this, &JournalPane::reload);
    connect(verifyButton, &QPushButton::clicked, this, &JournalPane::verify);
    connect(m_runs, &QTreeWidget::currentItemChanged, this,
        [this](QTreeWidgetItem* item) { showRun(item ? item->data(0, Qt::UserRole).toInt() : -1); });
    connect(m_steps, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        m_output->setPlainText(item ? item->data(0, Qt::UserRole).toString() : QString());
    });
    connect(m_locks, &QTreeWidget::currentItemChanged, this, &JournalPane::updateBreakButton);
    connect(m_reason, &QLineEdit::textChanged, this, &JournalPane::updateBreakButton);
    connect(m_break, &QPushButton::clicked, this, &JournalPane::breakSelectedLock);
    connect(m_showEnded, &QCheckBox::toggled, this, &JournalPane::showUndoWindows);
    connect(m_windows, &QTreeWidget::currentItemChanged, this, &JournalPane::updateRestoreButton);
    connect(m_restore, &QPushButton::clicked, this, [this] {
        const QTreeWidgetItem* item = m_windows->currentItem();
        const qsizetype index = item ? item->data(UndoRun, Qt::UserRole).toInt() : -1;
        if (index < 0 || index >= m_undoWindows.size() || !m_restore->isEnabled())
            return;
        const UndoWindow& window = m_undoWindows[index];
        emit restoreRequested(window.runId, window.operation, window.target);
    });
    updateRestoreButton();
    connect(m_export, &QPushButton::clicked, this, [this] {
        if (QTreeWidgetItem* item = m_runs->currentItem())
            ReportExport::askAndWrite(this, m_records.value(item->data(0, Qt::UserRole).toInt()));
    });
}

void JournalPane::showEvent(QShowEvent* event)
{
    reload();
    m_lockTimer->start();
    SystemPane::showEvent(event);
}

void JournalPane::hideEvent(QHideEvent* event)
{
    m_lockTimer->stop();
    SystemPane::hideEvent(event);
}

void JournalPane::reloadLocks()
{
    if (m_readingLocks)
        return; // a slow journal: one read at a time
    m_readingLocks = true;
    AsyncTask::run(
        this,
        [location = m_journalLocation] {
            Journal journal(location);
            QString error;
            QList<Journal::HeldLock> locks;
            if (journal.open(&error))
                locks = journal.locks(&error);
            return qMakePair(locks, error);
        },
        [this](const QPair<QList<Journal::HeldLock>, QString>& result) {
            m_readingLocks = false;
            showLocks(result.first, result.second);
            emit locksLoaded();
        });
}

void JournalPane::reload()
{
    reloadLocks();
    reloadUndoWindows();
    m_status->setText(tr("Reading the journal…"));
    AsyncTask::run(
        this,
        [location = m_journalLocation] {
            Journal journal(location);
            QString error;
            QList<RunRecord> runs;
            if (journal.open(&error))
                runs = journal.runs({}, &error);
            return qMakePair(runs, error);
        },
        [this](const QPair<QList<RunRecord>, QString>& result) {
            m_records = result.first;
            m_status->setText(result.second.isEmpty()
                    ? tr("%1 in the journal").arg(counted(m_records.size(), tr("run")))
                    : tr("Cannot read the journal: %1").arg(result.second));
            // Offer the targets and operations that occur, keeping the current choice.
            for (QComboBox* box : { m_target, m_operation }) {
                const QString current = box->currentData().toString();
                QStringList values;
                for (const RunRecord& run : std::as_const(m_records)) {
                    const QString value = box == m_target ? run.target : run.operation;
                    if (!values.contains(value))
                        values << value;
                }
                values.sort();
                const QSignalBlocker block(box);
                while (box->count() > 1)
                    box->removeItem(1);
                // An operation by its words (the id in the tooltip), as the runs' names say it.
                for (const QString& value : values)
                    box->addItem(box == m_target ? value : RunRecord::operationTitle(value), value);
                for (int i = 1; i < box->count(); ++i)
                    box->setItemData(i, box->itemData(i), Qt::ToolTipRole);
                box->setCurrentIndex(std::max(0, box->findData(current)));
            }
            showRuns();
            emit loaded();
        });
}

void JournalPane::showRuns()
{
    const QString target = m_target->currentData().toString();
    const QString operation = m_operation->currentData().toString();
    const QString outcome = m_outcome->currentData().toString();
    const QDate from = m_from->date() == m_from->minimumDate() ? QDate() : m_from->date();
    m_runs->clear();
    for (int i = 0; i < m_records.size(); ++i) {
        const RunRecord& run = m_records[i];
        if ((!target.isEmpty() && run.target != target) || (!operation.isEmpty() && run.operation != operation)
            || (!outcome.isEmpty() && RunRecord::outcomeName(run.outcome) != outcome)
            || (from.isValid() && run.startedAt.toLocalTime().date() < from))
            continue;
        auto* item = new QTreeWidgetItem(m_runs);
        item->setData(0, Qt::UserRole, i);
        item->setText(0, run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
        item->setText(1, run.name());
        item->setToolTip(1, tr("Run %1: %2").arg(run.id, run.summary));
        if (run.environment == u"production")
            item->setIcon(1, StatusIcons::icon(StatusIcons::Kind::Production));
        item->setIcon(2, StatusIcons::icon(outcomeIcon(run.outcome)));
        item->setText(2, RunRecord::outcomeName(run.outcome));
        item->setForeground(2, StatusIcons::color(outcomeIcon(run.outcome)));
        item->setText(3, run.user);
        item->setText(4, duration(run.startedAt, run.finishedAt));
        item->setText(5, run.operation);
    }
    fitColumns(m_runs);
    if (m_runs->topLevelItemCount() > 0)
        m_runs->setCurrentItem(m_runs->topLevelItem(0));
    else
        showRun(-1);
}

void JournalPane::showRun(int index)
{
    m_steps->clear();
    m_output->clear();
    m_export->setEnabled(index >= 0);
    if (index < 0 || index >= m_records.size()) {
        m_summary->setText(tr("No run selected."));
        return;
    }
    const RunRecord& run = m_records[index];
    m_summary->setText(
        tr("<b>%1</b>: %2<br>%3 · confirmed with \"%4\" · operation %5 · run %6")
            .arg(run.name().toHtmlEscaped(), RunRecord::outcomeName(run.outcome), run.summary.toHtmlEscaped(),
                run.confirmation.toHtmlEscaped(), run.operation.toHtmlEscaped(), run.id));
    for (const StepRecord& step : run.steps) {
        auto* item = new QTreeWidgetItem(m_steps);
        item->setText(0, step.recovery ? tr("Recovery: %1").arg(step.title) : step.title);
        item->setIcon(1, StatusIcons::icon(stepIcon(step.state)));
        item->setText(1, StepRecord::stateName(step.state));
        item->setText(2, step.command);
        item->setToolTip(2, step.command);
        item->setText(3, duration(step.startedAt, step.finishedAt));
        item->setText(4, step.error);
        item->setToolTip(4, step.error);
        item->setData(0, Qt::UserRole, step.output.isEmpty() ? tr("(no output)") : step.output);
    }
    fitColumns(m_steps);
}

void JournalPane::verify()
{
    m_status->setText(tr("Verifying the journal…"));
    struct Checked
    {
        Journal::Verification check;
        QString head; // the anchor to keep elsewhere; empty if it could not be read
    };
    AsyncTask::run(
        this,
        [location = m_journalLocation] {
            Journal journal(location);
            Checked result;
            QString error;
            if (!journal.open(&error)) {
                result.check.intact = false;
                result.check.problem = error;
                return result;
            }
            result.check = journal.verify();
            if (const auto head = journal.head())
                result.head = head->text();
            return result;
        },
        [this](const Checked& result) {
            const Journal::Verification& check = result.check;
            QString text = check.intact
                ? tr("The journal is intact: %1 checked.").arg(counted(check.checked, tr("entry"), tr("entries")))
                : tr("The journal has been changed: entry %1 is bad (%2). Entries before it are intact.")
                      .arg(check.firstBadSeq)
                      .arg(check.problem);
            if (check.intact && check.macsChecked > 0)
                text += u' ' + tr("%1 checked with the team key.").arg(counted(check.macsChecked, tr("MAC")));
            if (check.intact && check.macsUnchecked > 0)
                text += u' '
                    + tr("%1 not checked: this console has no key.").arg(counted(check.macsUnchecked, tr("MAC")));
            m_status->setText(text);
            // The anchor on a line of its own, to copy; the command that checks against it below.
            if (!result.head.isEmpty())
                text += QStringLiteral("\n\n")
                    + tr("The chain's head now, an anchor: keep it elsewhere (a ticket, a report). The command below "
                         "shows later that no entry up to it was removed or rewritten.");
            const QString details = result.head.isEmpty()
                ? QString()
                : QStringLiteral("%1\nopsdeck journal verify --anchor %1").arg(result.head);
            ConfirmDialog::inform(this, check.intact ? tr("Journal intact") : tr("Journal changed"), text, details);
        });
}

void JournalPane::showLocks(const QList<Journal::HeldLock>& locks, const QString& error)
{
    const QString selected = m_locks->currentItem() ? m_locks->currentItem()->text(0) : QString();
    m_locks->clear();
    for (const Journal::HeldLock& lock : locks) {
        auto* item = new QTreeWidgetItem(m_locks);
        const auto [lease, kind] = leaseState(lock);
        item->setText(0, lock.target);
        item->setText(1, lock.holder.holder);
        item->setText(2, localTime(lock.holder.since));
        item->setIcon(3, StatusIcons::icon(kind));
        item->setText(3, lease);
        item->setText(4, lock.holder.runId);
        if (lock.target == selected)
            m_locks->setCurrentItem(item);
    }
    fitColumns(m_locks);
    m_tabs->setTabText(1, locks.isEmpty() ? tr("&Locks") : tr("&Locks (%1)").arg(locks.size()));
    m_lockStatus->setText(!error.isEmpty() ? tr("Cannot read the locks: %1").arg(error)
            : locks.isEmpty()
            ? tr("No lock is held: no run is going on any target.")
            : tr("%1 held, read at %2").arg(counted(locks.size(), tr("lock")), localTime(locks.first().judgedAt)));
    updateBreakButton();
}

void JournalPane::updateBreakButton()
{
    m_break->setEnabled(m_locks->currentItem() && !m_reason->text().trimmed().isEmpty());
    m_break->setToolTip(m_locks->currentItem() ? tr("Type a reason first") : tr("Select a lock first"));
}

void JournalPane::breakSelectedLock()
{
    QTreeWidgetItem* item = m_locks->currentItem();
    if (!item)
        return;
    const QString target = item->text(0);
    if (const QString problem = LockBreakOperation::checkReason(m_reason->text()); !problem.isEmpty()) {
        m_errors->showProblem({ target, tr("Breaking the lock"), problem, tr("Correct the reason") });
        return;
    }
    OperationLauncher::Launch launch;
    launch.target = target;
    launch.action = tr("breaking the lock");
    launch.wording = [](const Plan& plan, QString* title, QString* text) {
        *title = tr("Break the lock on %1?").arg(plan.target);
        *text = tr("<b>%1</b> holds the lock on <b>%2</b> for run %3. Breaking it lets another run start on %2; "
                   "the reason is journaled.")
                    .arg(plan.parameters.value(QStringLiteral("holder")).toString().toHtmlEscaped(),
                        plan.target.toHtmlEscaped(), plan.parameters.value(QStringLiteral("holderRunId")).toString());
    };
    launch.answered = [this] { updateBreakButton(); };
    launch.confirmed = [this](OperationRunner* runner, const Plan&) {
        connect(runner, &OperationRunner::finished, this, [this] {
            m_reason->clear();
            reload();
        });
    };
    m_break->setEnabled(false);
    m_launcher->launch(std::make_unique<LockBreakOperation>(m_journalLocation, target, m_reason->text()), launch);
}

void JournalPane::setRestorable(std::function<bool(const QString& operation)> restorable)
{
    m_restorable = std::move(restorable);
    updateRestoreButton();
}

void JournalPane::reloadUndoWindows()
{
    if (m_readingWindows)
        return; // a slow journal: one read at a time
    m_readingWindows = true;
    AsyncTask::run(
        this,
        [location = m_journalLocation] {
            Journal journal(location);
            QString error;
            QList<UndoWindow> windows;
            if (journal.open(&error)) {
                if (const auto read = UndoWindows::read(journal, &error))
                    windows = *read;
            }
            return qMakePair(windows, error);
        },
        [this](const QPair<QList<UndoWindow>, QString>& result) {
            m_readingWindows = false;
            takeUndoWindows(result.first, result.second);
            emit undoWindowsLoaded();
        });
}

void JournalPane::takeUndoWindows(const QList<UndoWindow>& windows, const QString& error)
{
    if (!error.isEmpty()) {
        // The list stays as last read. The same error every 5 s is shown once: a dismissed banner stays dismissed.
        m_windowStatus->setText(tr("Cannot read the undo windows: %1").arg(error));
        if (error != m_undoWindowsError) {
            m_errors->showProblem({ m_journalLocation.describe(), tr("Reading the undo windows"), error,
                tr("The list shows the windows as last read; they are read again every %1 s while the pane shows.")
                    .arg(m_lockTimer->interval() / 1000) });
            m_undoWindowsError = error;
            m_undoWindowsProblem = m_errors->text();
        }
        return;
    }
    if (!m_undoWindowsError.isEmpty()) {
        if (m_errors->text() == m_undoWindowsProblem)
            m_errors->clear(); // still ours: nothing else was shown since
        m_undoWindowsError.clear();
        m_undoWindowsProblem.clear();
    }
    const bool changed = !m_undoWindowsRead || windowsJson(windows) != windowsJson(m_undoWindows);
    m_undoWindows = windows;
    m_undoWindowsRead = true;
    if (changed)
        showUndoWindows(); // rebuilt only when something changed, so the list keeps its scroll and selection
    else
        updateRestoreButton();
}

void JournalPane::showUndoWindows()
{
    const QTreeWidgetItem* current = m_windows->currentItem();
    const QString selected = current ? current->data(UndoRun, Qt::UserRole + 1).toString() : QString();
    // Open windows first, the soonest to end on top; then the others, the newest first.
    QList<qsizetype> open;
    QList<qsizetype> closed;
    for (qsizetype i = 0; i < m_undoWindows.size(); ++i)
        (m_undoWindows[i].state == UndoWindow::State::Open ? open : closed) << i;
    std::stable_sort(open.begin(), open.end(),
        [this](qsizetype a, qsizetype b) { return m_undoWindows[a].until < m_undoWindows[b].until; });
    std::stable_sort(closed.begin(), closed.end(),
        [this](qsizetype a, qsizetype b) { return m_undoWindows[a].openedAt > m_undoWindows[b].openedAt; });
    QList<qsizetype> shown = open;
    if (m_showEnded->isChecked())
        shown += closed;

    const QColor grey = m_windows->palette().color(QPalette::Disabled, QPalette::Text);
    m_windows->clear();
    QTreeWidgetItem* select = nullptr;
    for (const qsizetype index : std::as_const(shown)) {
        const UndoWindow& window = m_undoWindows[index];
        auto* item = new QTreeWidgetItem(m_windows);
        item->setData(UndoRun, Qt::UserRole, int(index));
        item->setData(UndoRun, Qt::UserRole + 1, window.runId);
        item->setText(UndoRun, window.runId.left(8));
        item->setText(UndoName, RunRecord::runName(window.operation, window.target));
        item->setText(UndoBy, window.user);
        item->setText(UndoKept, keptText(window));
        item->setText(UndoUntil,
            window.until.isValid() ? window.until.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                                   : tr("not said"));
        // The run that closed it by its short id, as the Run column names runs; in full in the tooltip. An open or
        // expired window's end is the Until column's, in local time.
        const QString state = window.state == UndoWindow::State::Open || window.state == UndoWindow::State::Expired
            ? UndoWindow::stateName(window.state)
            : window.stateText();
        item->setText(UndoState,
            window.closedBy.size() > 8 ? QString(state).replace(window.closedBy, window.closedBy.left(8)) : state);
        const QString tip = windowToolTip(window);
        for (int column = 0; column < m_windows->columnCount(); ++column) {
            item->setToolTip(column, tip);
            if (window.state != UndoWindow::State::Open)
                item->setForeground(column, grey);
        }
        if (window.runId == selected)
            select = item;
    }
    fitColumns(m_windows);
    m_windows->setCurrentItem(select);
    m_windows->setVisible(m_windows->topLevelItemCount() > 0);

    if (open.isEmpty()) {
        QString text = tr("No run can be taken back now.");
        if (!closed.isEmpty() && !m_showEnded->isChecked())
            text += u' '
                + tr("Hidden: %1 that ended, were restored or ran out; tick \"Show ended windows\" to list them.")
                      .arg(counted(closed.size(), tr("window")));
        else if (closed.isEmpty())
            text += u' ' + tr("A run that keeps an undo window is listed here until its window ends.");
        m_windowsEmpty->setText(text);
    }
    m_windowsEmpty->setVisible(open.isEmpty());
    m_tabs->setTabText(kUndoTab, open.isEmpty() ? tr("Undo &windows") : tr("Undo &windows (%1)").arg(open.size()));
    m_windowStatus->setText(tr("Open: %1 · restored, ended or expired: %2%3")
                                .arg(open.size())
                                .arg(closed.size())
                                .arg(m_showEnded->isChecked() || closed.isEmpty() ? QString() : tr(" (hidden)")));
    updateRestoreButton();
}

void JournalPane::updateRestoreButton()
{
    const QTreeWidgetItem* item = m_windows->currentItem();
    const qsizetype index = item ? item->data(UndoRun, Qt::UserRole).toInt() : -1;
    const UndoWindow* window = index >= 0 && index < m_undoWindows.size() ? &m_undoWindows[index] : nullptr;
    bool enabled = false;
    QString tip;
    QString hint;
    if (!window) {
        tip = tr("Select an open undo window first");
    } else if (window->state != UndoWindow::State::Open) {
        tip = tr("This window is %1: it cannot be restored").arg(window->stateText());
    } else if (!m_restorable || !m_restorable(window->operation)) {
        hint = tr("No pane of this console restores %1 runs. From a terminal: %2")
                   .arg(window->operation, restoreCommand(*window));
        tip = hint;
    } else {
        enabled = true;
        tip = tr("Take back run %1 (%2 on %3): the restore is planned, then confirmed with \"%4\"")
                  .arg(window->runId, window->operation, window->target, window->confirmWith);
    }
    m_restore->setEnabled(enabled);
    m_restore->setToolTip(tip);
    m_restoreHint->setText(hint);
}

} // namespace opsdeck
