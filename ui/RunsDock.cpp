#include "RunsDock.h"

#include "ConfirmDialog.h"
#include "StatusIcons.h"
#include "runbook/OperationRunner.h"
#include "runbook/ReportWriter.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>

namespace opsdeck {

namespace {
enum Column
{
    OperationColumn,
    Progress,
    Step,
    Eta,
    Actions,
    ColumnCount
};

QString etaText(qint64 seconds)
{
    if (seconds < 0)
        return QObject::tr("estimating…");
    if (seconds < 60)
        return QObject::tr("about %1 s left").arg(seconds);
    return QObject::tr("about %1 min left").arg((seconds + 59) / 60);
}
} // namespace

RunsDock::RunsDock(QWidget* parent)
    : QDockWidget(tr("Runs"), parent)
    , m_list(new QTreeWidget(this))
{
    setObjectName(QStringLiteral("runsDock"));
    m_list->setObjectName(QStringLiteral("runs"));
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({ tr("Operation"), tr("Progress"), tr("Step"), tr("Time left"), {} });
    m_list->setRootIsDecorated(false);
    m_list->header()->setSectionResizeMode(OperationColumn, QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(Step, QHeaderView::Stretch);
    m_list->setColumnWidth(Progress, 160);
    m_list->setMinimumHeight(90);
    setWidget(m_list);
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
}

RunsDock::~RunsDock()
{
    for (Row& row : m_rows)
        delete row.runner; // cancels what still runs, and waits for its recovery
}

int RunsDock::running() const
{
    return int(std::count_if(
        m_rows.cbegin(), m_rows.cend(), [](const Row& row) { return row.runner && row.runner->isRunning(); }));
}

void RunsDock::start(OperationRunner* runner, const Plan& plan, const QString& confirmation)
{
    runner->setParent(nullptr);
    auto* item = new QTreeWidgetItem(m_list);
    item->setText(OperationColumn, QStringLiteral("%1 %2").arg(plan.verb, plan.target));
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
    m_rows << Row { runner, item, {} };
    show();
    raise();

    connect(cancel, &QPushButton::clicked, runner, [runner, cancel] {
        cancel->setEnabled(false);
        cancel->setText(tr("Cancelling…"));
        runner->cancel();
    });
    connect(
        runner, &OperationRunner::progressed, this, [item, bar](const StepRecord& step, double fraction, qint64 eta) {
            bar->setValue(int(fraction * 1000));
            item->setText(Step, step.recovery ? tr("Recovery: %1").arg(step.title) : step.title);
            item->setText(Eta, etaText(eta));
        });
    connect(
        runner, &OperationRunner::refused, this, [this, item, bar](OperationRunner::Refusal, const QString& message) {
            item->setIcon(OperationColumn, StatusIcons::icon(StatusIcons::Kind::Warning));
            item->setText(Step, tr("Refused: %1").arg(message));
            item->setToolTip(Step, message);
            item->setText(Eta, {});
            bar->setValue(0);
            m_list->setItemWidget(item, Actions, nullptr);
            ConfirmDialog::inform(this, tr("Refused"), message, {});
        });
    connect(runner, &OperationRunner::finished, this, [this, item, bar](const RunRecord& record) {
        for (Row& row : m_rows) {
            if (row.item == item)
                row.record = record;
        }
        const bool ok = record.outcome == RunRecord::Outcome::Succeeded;
        item->setIcon(OperationColumn, StatusIcons::icon(ok ? StatusIcons::Kind::Ok : StatusIcons::Kind::Error));
        bar->setValue(ok ? 1000 : bar->value());
        bar->setFormat(RunRecord::outcomeName(record.outcome));
        item->setText(Step, record.summary);
        item->setToolTip(Step, record.summary);
        item->setText(Eta, record.finishedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")));
        auto* report = new QPushButton(tr("Export report…"), m_list);
        report->setObjectName(QStringLiteral("exportReport"));
        connect(report, &QPushButton::clicked, this, [this, record] { askAndExport(record); });
        m_list->setItemWidget(item, Actions, report);
        emit runFinished(record);
    });
    runner->run(plan, confirmation);
}

bool RunsDock::exportReport(const RunRecord& record, const QString& path, QString* error)
{
    const auto format = ReportWriter::formatFromName(QFileInfo(path).suffix());
    if (!format) {
        *error = tr("%1: use a .pdf, .html, .csv or .json file name").arg(path);
        return false;
    }
    return ReportWriter::write(record, *format, path, error);
}

void RunsDock::askAndExport(const RunRecord& record)
{
    const QString suggested = QStringLiteral("%1-%2-%3.pdf")
                                  .arg(record.operation, QString(record.target).replace(u'/', u'-'),
                                      record.startedAt.toLocalTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export report"), suggested,
        tr("PDF (*.pdf);;HTML (*.html);;CSV of deleted items (*.csv);;JSON (*.json)"));
    QString error;
    if (!path.isEmpty() && !exportReport(record, path, &error))
        ConfirmDialog::inform(this, tr("Export failed"), error, {});
}

} // namespace opsdeck
