#include "ListTable.h"

#include "UiLogging.h"

#include <QAbstractItemModel>
#include <QAction>
#include <QEvent>
#include <QHash>
#include <QHeaderView>
#include <QMouseEvent>
#include <QScrollBar>
#include <QSettings>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>
#include <QTreeView>

#include <algorithm>

namespace opsdeck {

namespace {

constexpr int kMinColumnWidth = 64;

// One row height for every list, tables and trees alike: a line of text or a small icon, and a little air. A table's
// rows were as tall as its style's header said (30 pixels), a tree's as its text (14).
int rowHeight(const QWidget* view)
{
    return std::max(view->fontMetrics().height(), view->style()->pixelMetric(QStyle::PM_SmallIconSize)) + 8;
}

// A tree's rows as tall as a list table's; a taller cell (a button) still gets its height.
class ListRowDelegate : public QStyledItemDelegate
{
public:
    ListRowDelegate(int height, QObject* parent)
        : QStyledItemDelegate(parent)
        , m_height(height)
    {
    }

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        QSize size = QStyledItemDelegate::sizeHint(option, index);
        size.setHeight(std::max(size.height(), m_height));
        return size;
    }

private:
    int m_height;
};

} // namespace

// What a list view keeps of its columns: the widths the admin set by dragging a column's edge (in QSettings, so they
// outlive the console), and a refit, a moment after the last change, when the view changes width or is shown.
class ListColumns : public QObject
{
    Q_OBJECT
public:
    ListColumns(QAbstractItemView* view, QHeaderView* header)
        : QObject(view)
        , m_view(view)
        , m_header(header)
        , m_viewport(view->viewport())
        , m_headerViewport(header->viewport())
    {
        m_refit.setSingleShot(true);
        m_refit.setInterval(50);
        connect(&m_refit, &QTimer::timeout, this, &ListColumns::fit);
        // The viewport: it narrows too when a vertical scroll bar comes. The view: shown, it may have been fitted
        // while hidden (a pane built behind another), when its width did not count.
        view->viewport()->installEventFilter(this);
        view->installEventFilter(this);
        // The header says sectionResized for its own changes and the view's as well as for a drag: a resize is the
        // admin's only while the mouse is down on the header, and not one of fit()'s.
        header->viewport()->installEventFilter(this);
        connect(header, &QHeaderView::sectionResized, this, &ListColumns::sectionResized);
        // A double click on an edge: the view has just fitted that column to all its contents; this forgets the
        // admin's width and fits it as the others.
        connect(header, &QHeaderView::sectionHandleDoubleClicked, this, &ListColumns::forget);
        auto* fitAll = new QAction(tr("Fit columns to contents"), header);
        fitAll->setObjectName(QStringLiteral("fitColumns"));
        connect(fitAll, &QAction::triggered, this, [this] { forget(-1); });
        header->addAction(fitAll);
        header->setContextMenuPolicy(Qt::ActionsContextMenu);
    }

    void fit()
    {
        const QHash<int, int>& handSet = this->handSet();
        const int columns = m_header->count();
        // Room for a vertical scroll bar that is not there yet: rows that arrive later would bring one. Before the
        // view is shown its width means nothing: it is fitted again when it gets one.
        const int width = m_view->viewport()->width()
            - (m_view->verticalScrollBar()->isVisible() ? 0 : m_view->style()->pixelMetric(QStyle::PM_ScrollBarExtent));
        // Each column as wide as its contents. The first, the row's name, keeps its width (up to a third of the
        // table's), as hand-set columns do; when the others do not fit the table's width, the widest of them are
        // narrowed alike (to the widest cap that fits, but not under kMinColumnWidth), so that every column shows, its
        // long values elided, instead of the last ones being off screen behind a sideways scroll bar.
        QList<int> widths(columns, 0);
        QList<bool> narrowed(columns, false);
        int total = 0;
        int kept = 0;
        int widest = kMinColumnWidth;
        bool first = true;
        for (int visual = 0; visual < columns; ++visual) {
            const int column = m_header->logicalIndex(visual);
            if (m_header->isSectionHidden(column))
                continue;
            const auto hand = handSet.find(column);
            if (hand != handSet.end())
                widths[column] = *hand;
            else if (first && m_view->isVisible())
                widths[column] = std::min(contentWidth(column), std::max(width / 3, kMinColumnWidth));
            else
                widths[column] = contentWidth(column);
            narrowed[column] = !first && hand == handSet.end();
            total += widths[column];
            kept += narrowed[column] ? 0 : widths[column];
            widest = narrowed[column] ? std::max(widest, widths[column]) : widest;
            first = false;
        }
        if (m_view->isVisible() && total > width) {
            const auto capped = [&](int cap) {
                int sum = 0;
                for (int column = 0; column < columns; ++column)
                    sum += narrowed[column] ? std::min(widths[column], cap) : 0;
                return sum;
            };
            int low = kMinColumnWidth;
            int high = widest;
            while (low < high) {
                const int cap = (low + high + 1) / 2;
                if (capped(cap) <= width - kept)
                    low = cap;
                else
                    high = cap - 1;
            }
            for (int column = 0; column < columns; ++column)
                widths[column] = narrowed[column] ? std::min(widths[column], low) : widths[column];
        }
        // Every section by resizeSection, the stretched last one too: the header never shrinks that one below the
        // size resizeSection last gave it, and resizeColumnsToContents (which this used) does not tell it; so it
        // stayed at the 100-pixel default, wider than its contents, and the row overflowed the table by the
        // difference (Packit's instances at 1280x800: a sideways scroll bar, the Error column cut).
        m_fitting = true;
        for (int column = 0; column < columns; ++column) {
            if (!m_header->isSectionHidden(column))
                m_header->resizeSection(column, widths[column]);
        }
        m_fitting = false;
    }

    // Forgets the width the admin gave `column` (every column: -1) and fits again.
    void forget(int column)
    {
        QHash<int, int>& handSet = this->handSet();
        if (column < 0)
            handSet.clear();
        else
            handSet.remove(column);
        if (!m_view->objectName().isEmpty())
            QSettings().remove(column < 0 ? group() : group() + u'/' + QString::number(column));
        fit();
    }

private:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        const bool pressOrRelease
            = event->type() == QEvent::MouseButtonPress || event->type() == QEvent::MouseButtonRelease;
        // The viewports as they were when watched: a view being destroyed still sends events (its scroll area part is
        // gone by then), and must not be asked for them.
        if (watched == m_headerViewport && pressOrRelease) {
            if (static_cast<const QMouseEvent*>(event)->button() == Qt::LeftButton)
                m_pressed = event->type() == QEvent::MouseButtonPress;
        } else if ((watched == m_viewport && event->type() == QEvent::Resize)
            || (watched == m_view && event->type() == QEvent::Show)) {
            m_refit.start();
        }
        return false;
    }

    void sectionResized(int column, int, int size)
    {
        // The stretched last column (or a Stretch one) follows the others; a drag resizes the one left of the edge.
        if (!m_pressed || m_fitting || m_header->sectionResizeMode(column) != QHeaderView::Interactive
            || (m_header->stretchLastSection() && column == lastVisibleColumn()))
            return;
        handSet()[column] = size;
        if (!m_view->objectName().isEmpty())
            QSettings().setValue(group() + u'/' + QString::number(column), size);
    }

    // Read once the view has its name (views are named after they are set up); hand-set widths of a view without one
    // last as long as it does.
    QHash<int, int>& handSet()
    {
        if (!m_read) {
            m_read = true;
            if (m_view->objectName().isEmpty()) {
                qCWarning(lcUi) << "a list view without an objectName: its column widths are not remembered";
            } else {
                QSettings settings;
                settings.beginGroup(group());
                for (const QString& key : settings.childKeys()) {
                    bool isColumn = false;
                    const int column = key.toInt(&isColumn);
                    const int width = settings.value(key).toInt();
                    if (isColumn && width > 0)
                        m_handSet.insert(column, width);
                }
            }
        }
        return m_handSet;
    }

    QString group() const { return QStringLiteral("columns/") + m_view->objectName(); }

    int contentWidth(int column) const
    {
        return std::max({ m_view->sizeHintForColumn(column),
            m_header->isHidden() ? 0 : m_header->sectionSizeHint(column), m_header->minimumSectionSize() });
    }

    int lastVisibleColumn() const
    {
        for (int visual = m_header->count() - 1; visual >= 0; --visual) {
            if (!m_header->isSectionHidden(m_header->logicalIndex(visual)))
                return m_header->logicalIndex(visual);
        }
        return -1;
    }

    QAbstractItemView* m_view;
    QHeaderView* m_header;
    const QObject* m_viewport; // compared with, never called
    const QObject* m_headerViewport;
    QTimer m_refit;
    QHash<int, int> m_handSet; // width by column
    bool m_read = false;
    bool m_pressed = false; // the left button is down on the header
    bool m_fitting = false;
};

void setUpListTable(QTableView* view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setShowGrid(false);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    view->verticalHeader()->setMinimumSectionSize(rowHeight(view));
    view->verticalHeader()->setDefaultSectionSize(rowHeight(view));
    view->horizontalHeader()->setStretchLastSection(true);
    view->setTextElideMode(Qt::ElideMiddle);
    // Tab leaves the table (for the next control) instead of walking its cells, which moved the selected target.
    view->setTabKeyNavigation(false);
    new ListColumns(view, view->horizontalHeader());
}

void setUpListTree(QTreeView* view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setAllColumnsShowFocus(true);
    view->setRootIsDecorated(false);
    view->setUniformRowHeights(true);
    view->setItemDelegate(new ListRowDelegate(rowHeight(view), view));
    view->setWordWrap(false);
    view->header()->setStretchLastSection(true);
    view->header()->setDefaultAlignment(Qt::AlignCenter); // as a table's
    view->setTextElideMode(Qt::ElideMiddle);
    view->setTabKeyNavigation(false);
    new ListColumns(view, view->header());
}

void fitColumns(QAbstractItemView* view)
{
    if (auto* columns = view->findChild<ListColumns*>(QString(), Qt::FindDirectChildrenOnly))
        columns->fit();
    else
        qCWarning(lcUi) << "fitColumns on" << view << "which setUpListTable or setUpListTree did not set up";
}

void fitColumnsToRows(QAbstractItemView* view)
{
    // After the event that changed the model, not at each row of a batch.
    const auto fitNow = [view] { QTimer::singleShot(0, view, [view] { fitColumns(view); }); };
    QAbstractItemModel* model = view->model();
    QObject::connect(model, &QAbstractItemModel::rowsInserted, view, fitNow);
    QObject::connect(model, &QAbstractItemModel::rowsRemoved, view, fitNow);
    QObject::connect(model, &QAbstractItemModel::dataChanged, view, fitNow);
    QObject::connect(model, &QAbstractItemModel::modelReset, view, fitNow);
}

QTableView* makeListTable(QAbstractItemModel* model, const QString& objectName, QWidget* parent, ColumnFit fit)
{
    auto* view = new QTableView(parent);
    view->setObjectName(objectName);
    view->setModel(model);
    setUpListTable(view);
    if (fit == ColumnFit::ToRows)
        fitColumnsToRows(view);
    return view;
}

} // namespace opsdeck

#include "ListTable.moc"
