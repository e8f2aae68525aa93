#include "ListTable.h"

#include <QAbstractItemModel>
#include <QEvent>
#include <QHeaderView>
#include <QScrollBar>
#include <QStyle>
#include <QTableView>
#include <QTimer>

#include <algorithm>

namespace opsdeck {

namespace {

// Fits a list table's columns again when the table changes width (the window resized, a splitter moved) or is
// shown, a moment after the last change.
class RefitOnResize : public QObject
{
public:
    explicit RefitOnResize(QTableView* view)
        : QObject(view)
        , m_view(view)
    {
        m_timer.setSingleShot(true);
        m_timer.setInterval(50);
        connect(&m_timer, &QTimer::timeout, this, [this] { fitColumns(m_view); });
        // The viewport: it narrows too when a vertical scroll bar comes. The view: shown, it may have been fitted
        // while hidden (a pane built behind another), when its width did not count.
        view->viewport()->installEventFilter(this);
        view->installEventFilter(this);
    }

private:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if ((watched == m_view->viewport() && event->type() == QEvent::Resize)
            || (watched == m_view && event->type() == QEvent::Show))
            m_timer.start();
        return false;
    }

    QTableView* m_view;
    QTimer m_timer;
};

} // namespace

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
    new RefitOnResize(view);
}

void fitColumns(QTableView* view)
{
    constexpr int kMaxColumnWidth = 280;
    constexpr int kMinColumnWidth = 64;
    view->resizeColumnsToContents();
    const int columns = view->model() ? view->model()->columnCount() : 0;
    // The last one too: a stretched last column fills what is left, but never shrinks below its contents.
    QList<int> widths;
    int total = 0;
    for (int column = 0; column < columns; ++column) {
        widths << (view->isColumnHidden(column) ? 0 : std::min(view->columnWidth(column), kMaxColumnWidth));
        total += widths.last();
    }
    // When they do not fit the table's width, the widest are narrowed alike (to the widest cap that fits, but not
    // under kMinColumnWidth), so that every column shows, its long values elided, instead of the last ones being off
    // screen behind a sideways scroll bar. The first column, the row's name, keeps its width. Before the table is
    // shown its width means nothing: it is fitted again when it gets one.
    // Room for a vertical scroll bar that is not there yet: rows that arrive later would bring one.
    const int width = view->viewport()->width()
        - (view->verticalScrollBar()->isVisible() ? 0 : view->style()->pixelMetric(QStyle::PM_ScrollBarExtent));
    const int room = width - (widths.isEmpty() ? 0 : widths.first());
    if (view->isVisible() && total > width) {
        int low = kMinColumnWidth;
        int high = kMaxColumnWidth;
        const auto capped = [&](int cap) {
            int sum = 0;
            for (qsizetype column = 1; column < widths.size(); ++column)
                sum += std::min(widths[column], cap);
            return sum;
        };
        while (low < high) {
            const int cap = (low + high + 1) / 2;
            if (capped(cap) <= room)
                low = cap;
            else
                high = cap - 1;
        }
        for (qsizetype column = 1; column < widths.size(); ++column)
            widths[column] = std::min(widths[column], low);
    }
    for (int column = 0; column < columns; ++column) {
        if (!view->isColumnHidden(column))
            view->setColumnWidth(column, widths[column]);
    }
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
