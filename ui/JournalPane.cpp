#include "JournalPane.h"

#include "ConfirmDialog.h"
#include "ReportExport.h"
#include "StatusIcons.h"
#include "core/AsyncTask.h"
#include "runbook/Journal.h"

#include <QComboBox>
#include <QDateEdit>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

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

} // namespace

JournalPane::JournalPane(const JournalLocation& journalLocation, QWidget* parent)
    : SystemPane(parent)
    , m_journalLocation(journalLocation)
    , m_target(filterBox(this, tr("All targets")))
    , m_operation(filterBox(this, tr("All operations")))
    , m_outcome(filterBox(this, tr("Any outcome")))
    , m_from(new QDateEdit(this))
    , m_runs(new QTreeWidget(this))
    , m_steps(new QTreeWidget(this))
    , m_output(new QPlainTextEdit(this))
    , m_summary(new QLabel(this))
    , m_status(new QLabel(this))
    , m_export(new QPushButton(tr("Export report…"), this))
{
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(QStringLiteral("<h2>%1</h2>").arg(tr("Journal")), this));
    auto* summary = new QLabel(
        tr("Every operation run from %1, with each step, its command and its output. Entries are "
           "hash-chained: Verify shows whether any was changed. Journal: %2")
            .arg(journalLocation.isTeam() ? tr("every console of the team") : tr("this machine's consoles"),
                journalLocation.describe()),
        this);
    summary->setWordWrap(true);
    layout->addWidget(summary);

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
    auto* reloadButton = new QPushButton(tr("Reload"), this);
    auto* verifyButton = new QPushButton(tr("Verify journal"), this);
    verifyButton->setToolTip(tr("Recompute the hash chain of every entry"));
    bar->addWidget(reloadButton);
    bar->addWidget(verifyButton);
    layout->addLayout(bar);

    m_runs->setObjectName(QStringLiteral("journalRuns"));
    m_runs->setHeaderLabels({ tr("Started"), tr("Operation"), tr("Target"), tr("Outcome"), tr("Who"), tr("Took") });
    m_runs->setRootIsDecorated(false);
    m_runs->setAlternatingRowColors(true);
    m_runs->setSortingEnabled(true);
    m_runs->sortByColumn(0, Qt::DescendingOrder);
    m_steps->setHeaderLabels({ tr("Step"), tr("State"), tr("Command"), tr("Took"), tr("Error") });
    m_steps->setRootIsDecorated(false);
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
    layout->addWidget(splitter, 1);
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
    connect(m_export, &QPushButton::clicked, this, [this] {
        if (QTreeWidgetItem* item = m_runs->currentItem())
            ReportExport::askAndWrite(this, m_records.value(item->data(0, Qt::UserRole).toInt()));
    });
}

void JournalPane::showEvent(QShowEvent* event)
{
    reload();
    SystemPane::showEvent(event);
}

void JournalPane::reload()
{
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
            m_status->setText(result.second.isEmpty() ? tr("%n run(s) in the journal", nullptr, int(m_records.size()))
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
                for (const QString& value : values)
                    box->addItem(value, value);
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
        item->setText(1, run.operation);
        item->setText(2, run.target);
        item->setIcon(3, StatusIcons::icon(outcomeIcon(run.outcome)));
        item->setText(3, RunRecord::outcomeName(run.outcome));
        item->setForeground(3, StatusIcons::color(outcomeIcon(run.outcome)));
        item->setText(4, run.user);
        item->setText(5, duration(run.startedAt, run.finishedAt));
        item->setToolTip(2, run.summary);
    }
    for (int column = 0; column < m_runs->columnCount(); ++column)
        m_runs->resizeColumnToContents(column);
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
        tr("<b>%1</b> on <b>%2</b>: %3<br>%4 · confirmed with \"%5\" · run %6")
            .arg(run.operation.toHtmlEscaped(), run.target.toHtmlEscaped(), RunRecord::outcomeName(run.outcome),
                run.summary.toHtmlEscaped(), run.confirmation.toHtmlEscaped(), run.id));
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
    m_steps->resizeColumnToContents(0);
    m_steps->resizeColumnToContents(1);
    m_steps->setColumnWidth(2, 360);
}

void JournalPane::verify()
{
    m_status->setText(tr("Verifying the journal…"));
    AsyncTask::run(
        this,
        [location = m_journalLocation] {
            Journal journal(location);
            QString error;
            if (!journal.open(&error)) {
                Journal::Verification failed;
                failed.intact = false;
                failed.problem = error;
                return failed;
            }
            return journal.verify();
        },
        [this](const Journal::Verification& check) {
            const QString text = check.intact
                ? tr("The journal is intact: %n entries checked.", nullptr, int(check.checked))
                : tr("The journal has been changed: entry %1 is bad (%2). Entries before it are intact.")
                      .arg(check.firstBadSeq)
                      .arg(check.problem);
            m_status->setText(text);
            ConfirmDialog::inform(this, check.intact ? tr("Journal intact") : tr("Journal changed"), text, {});
        });
}

} // namespace opsdeck
