#pragma once

#include "core/RowSource.h"

#include <QAbstractTableModel>

#include <functional>

namespace opsdeck {

// A table too large to hold (100,000 rows and more), read from a RowSource a page at a time as the view scrolls
// (canFetchMore/fetchMore), sorted and filtered where the data is: a proxy model could not sort or filter rows
// that are not loaded. Pages are keyset pages (after the last loaded row), so scrolling to the end costs the same
// per page all the way.
//
// The count is asked for after the first page, so the first rows show at once, and is, as DB Browser for SQLite
// has it, Unknown (nothing read yet), Partial (at least the rows loaded; the end not seen yet) or Complete (the
// count answered, or a short page reached the end). A failed page or count is an error the view shows.
//
// Every question carries the generation it was asked in; a sort, a filter, a reload or another source starts a
// new one, and answers of an older one are dropped.
class PagedTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    // A column of the view: its header, the row field it shows and sorts by, and how the field reads.
    struct Column
    {
        QString header;
        int field = 0;
        std::function<QString(const QVariant&)> text = {}; // none: the value as a string
    };
    enum class CountState
    {
        Unknown,
        Partial,
        Complete
    };
    static constexpr int kPageSize = 500;

    PagedTableModel(QList<Column> columns, RowSort sort, QObject* parent = nullptr);

    // Starts over on another source (or none: empty). The model does not own it.
    void setSource(RowSource* source);
    RowSource* source() const { return m_source; }
    void setFilter(const QString& filter);
    QString filter() const { return m_filter; }
    RowSort currentSort() const { return m_sort; }
    // The column that shows the sort field (-1: none does).
    int sortColumn() const;
    // Starts over: the first page, then the count.
    void reload();

    qint64 loaded() const { return m_rows.size(); }
    CountState countState() const { return m_countState; }
    // The number of matching rows once complete, else -1.
    qint64 total() const { return m_countState == CountState::Complete ? m_count : -1; }
    // A page or the count failed (the page's error first); empty otherwise.
    QString error() const { return m_pageError.isEmpty() ? m_countError : m_pageError; }
    bool pageFailed() const { return !m_pageError.isEmpty(); }
    // A page or the count is still to come.
    bool isLoading() const { return m_pagePending || m_countPending; }

    // A field of a loaded row (null outside the loaded rows).
    QVariant value(int row, int field) const;
    // Where a page after `row` starts, in the current sort.
    std::optional<RowKey> rowKey(int row) const;
    // The loaded rows as the view shows them, with the headers first: for an export.
    QList<QStringList> displayedRows() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;
    // By the column's field; a sort that did not change reads nothing again.
    void sort(int column, Qt::SortOrder order) override;

signals:
    void progressChanged(); // loaded, the count, its state or an error changed

private:
    void requestPage();
    void requestCount();
    void onPage(const QList<RowValues>& rows, const QString& error);
    void onCount(qint64 count, const QString& error);
    QString text(const Column& column, int row) const;

    QList<Column> m_columns;
    RowSource* m_source = nullptr;
    QList<RowValues> m_rows;
    quint64 m_generation = 0;
    QString m_filter;
    RowSort m_sort;
    bool m_pagePending = false;
    bool m_countPending = false;
    bool m_atEnd = false;
    CountState m_countState = CountState::Unknown;
    qint64 m_count = 0; // the count, once asked for and answered
    QString m_pageError;
    QString m_countError;
};

} // namespace opsdeck
