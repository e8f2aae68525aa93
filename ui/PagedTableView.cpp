#include "PagedTableView.h"

#include "ConfirmDialog.h"
#include "ListTable.h"
#include "PagedTableModel.h"
#include "core/CsvWriter.h"

#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSaveFile>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace opsdeck {

PagedTableView::PagedTableView(QWidget* parent)
    : QWidget(parent)
    , m_filter(new QLineEdit(this))
    , m_progress(new QLabel(this))
    , m_problem(new QLabel(this))
    , m_export(new QPushButton(tr("E&xport CSV…"), this))
    , m_table(new QTableView(this))
    , m_filterPause(new QTimer(this))
    , m_bar(new QHBoxLayout)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_filter->setClearButtonEnabled(true);
    m_bar->addWidget(m_filter, 1);
    m_bar->addWidget(m_progress);
    m_export->setToolTip(tr("Save the rows loaded so far, as shown, to a CSV file"));
    m_bar->addWidget(m_export);
    layout->addLayout(m_bar);
    m_problem->setWordWrap(true);
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem->setStyleSheet(QStringLiteral("color: #c62828"));
    m_problem->hide();
    layout->addWidget(m_problem);
    setUpListTable(m_table);
    // Several rows at a time (Pulumi keeps the selected stacks); a pane that wants one says so.
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setSortingEnabled(true);
    layout->addWidget(m_table, 1);

    m_filterPause->setSingleShot(true);
    m_filterPause->setInterval(kFilterPauseMs);
    connect(m_filter, &QLineEdit::textChanged, m_filterPause, qOverload<>(&QTimer::start));
    connect(m_filterPause, &QTimer::timeout, this, [this] {
        if (m_model)
            m_model->setFilter(m_filter->text().trimmed());
    });
    connect(m_export, &QPushButton::clicked, this, &PagedTableView::askAndExport);
}

void PagedTableView::setModel(PagedTableModel* model)
{
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    // Before the model: setting it on a sorting view sorts by the header's indicator, which must be the model's.
    m_table->horizontalHeader()->setSortIndicator(
        model->sortColumn(), model->currentSort().descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    m_table->setModel(model);
    connect(model, &PagedTableModel::progressChanged, this, &PagedTableView::updateProgress);
    // Columns fit the first rows of each table, not every page that comes after them (and again as the table changes
    // width).
    m_columnsFitted = false;
    connect(model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_columnsFitted)
            return;
        m_columnsFitted = true;
        fitColumns(m_table);
    });
    updateProgress();
}

void PagedTableView::addBarWidget(QWidget* widget)
{
    m_bar->insertWidget(m_bar->indexOf(m_export), widget);
}

QString PagedTableView::progressText(const PagedTableModel& model)
{
    const QLocale locale;
    const QString loaded = locale.toString(model.loaded());
    if (model.pageFailed())
        return tr("%1 loaded; reading more failed: %2").arg(loaded, model.error());
    switch (model.countState()) {
    case PagedTableModel::CountState::Complete:
        return tr("%1 of %2 loaded").arg(loaded, locale.toString(model.total()));
    case PagedTableModel::CountState::Partial:
        if (!model.error().isEmpty())
            return tr("%1 loaded, more to come; counting failed: %2").arg(loaded, model.error());
        return tr("%1 loaded, more to come, counting…").arg(loaded);
    case PagedTableModel::CountState::Unknown:
        if (!model.error().isEmpty())
            return tr("Loading…; counting failed: %1").arg(model.error());
        return model.source() ? tr("Loading…") : QString();
    }
    return {};
}

void PagedTableView::updateProgress()
{
    // A failure's message can be long: it gets a line of its own under the bar, wrapped, rather than widening the
    // window to its length.
    const bool failed = !m_model->error().isEmpty();
    m_progress->setText(failed ? tr("%1 loaded").arg(QLocale().toString(m_model->loaded())) : progressText(*m_model));
    m_problem->setText(failed ? progressText(*m_model) : QString());
    m_problem->setVisible(failed);
}

bool PagedTableView::exportCsv(const QString& path, QString* error) const
{
    CsvWriter csv;
    const QList<QStringList> rows = m_model ? m_model->displayedRows() : QList<QStringList>();
    for (const QStringList& row : rows)
        csv.addRow(row);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(csv.toUtf8()) < 0 || !file.commit()) {
        *error = tr("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void PagedTableView::askAndExport()
{
    if (!m_model)
        return;
    const QString path
        = QFileDialog::getSaveFileName(this, tr("Export the %1 loaded rows").arg(QLocale().toString(m_model->loaded())),
            QStringLiteral("%1-%2.csv")
                .arg(objectName().isEmpty() ? QStringLiteral("table") : objectName(),
                    QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))),
            tr("CSV (*.csv)"));
    QString error;
    if (!path.isEmpty() && !exportCsv(path, &error))
        ConfirmDialog::inform(this, tr("Cannot export the table"), error, {});
}

} // namespace opsdeck
