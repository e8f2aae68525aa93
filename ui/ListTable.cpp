#include "ListTable.h"

#include <QAbstractItemModel>
#include <QHeaderView>
#include <QTableView>
#include <QTimer>

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
}

QTableView* makeListTable(QAbstractItemModel* model, const QString& objectName, QWidget* parent, ColumnFit fit)
{
    auto* view = new QTableView(parent);
    view->setObjectName(objectName);
    view->setModel(model);
    setUpListTable(view);
    if (fit == ColumnFit::ToRows) {
        // Once the model has settled (after the event that changed it), not at each row of a batch.
        const auto fitNow = [view] { QTimer::singleShot(0, view, [view] { view->resizeColumnsToContents(); }); };
        QObject::connect(model, &QAbstractItemModel::rowsInserted, view, fitNow);
        QObject::connect(model, &QAbstractItemModel::dataChanged, view, fitNow);
        QObject::connect(model, &QAbstractItemModel::modelReset, view, fitNow);
    }
    return view;
}

} // namespace opsdeck
