#include "ListTable.h"

#include <QAbstractItemModel>
#include <QHeaderView>
#include <QTableView>
#include <QTimer>

#include <algorithm>

namespace opsdeck {

void setUpListTable(QTableView* view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setTextElideMode(Qt::ElideMiddle);
    // Tab leaves the table (for the next control) instead of walking its cells, which moved the selected target.
    view->setTabKeyNavigation(false);
}

void fitColumns(QTableView* view)
{
    constexpr int kMaxColumnWidth = 280;
    view->resizeColumnsToContents();
    const int columns = view->model() ? view->model()->columnCount() : 0;
    // The last one too: a stretched last column fills what is left, but never shrinks below its contents.
    for (int column = 0; column < columns; ++column)
        view->setColumnWidth(column, std::min(view->columnWidth(column), kMaxColumnWidth));
}

QTableView* makeListTable(QAbstractItemModel* model, const QString& objectName, QWidget* parent, ColumnFit fit)
{
    auto* view = new QTableView(parent);
    view->setObjectName(objectName);
    view->setModel(model);
    setUpListTable(view);
    if (fit == ColumnFit::ToRows) {
        // Once the model has settled (after the event that changed it), not at each row of a batch.
        const auto fitNow = [view] { QTimer::singleShot(0, view, [view] { fitColumns(view); }); };
        QObject::connect(model, &QAbstractItemModel::rowsInserted, view, fitNow);
        QObject::connect(model, &QAbstractItemModel::dataChanged, view, fitNow);
        QObject::connect(model, &QAbstractItemModel::modelReset, view, fitNow);
    }
    return view;
}

} // namespace opsdeck
