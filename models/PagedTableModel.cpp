#include "PagedTableModel.h"

#include <algorithm>

namespace opsdeck {

PagedTableModel::PagedTableModel(QList<Column> columns, RowSort sort, QObject* parent)
    : QAbstractTableModel(parent)
    , m_columns(std::move(columns))
    , m_sort(sort)
{
}

void PagedTableModel::setSource(RowSource* source)
{
    m_source = source;
    reload();
}

void PagedTableModel::setFilter(const QString& filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void PagedTableModel::reload()
{
    beginResetModel();
    ++m_generation;
    m_rows.clear();
    // The first page counts as asked for already: a view (or a tester) answering the reset with fetchMore must not
    // ask for it a second time.
    m_pagePending = m_source != nullptr;
    m_countPending = false;
    m_atEnd = !m_source;
    m_countState = CountState::Unknown;
    m_count = 0;
    m_pageError.clear();
    m_countError.clear();
    endResetModel();
    if (m_source) {
        // The page first: a worker answers in order, and the first rows are what the user waits for.
        requestPage();
        requestCount();
    }
    emit progressChanged();
}

void PagedTableModel::requestPage()
{
    m_pagePending = true;
    PageRequest request;
    if (!m_rows.isEmpty())
        request.after = rowKey(int(m_rows.size() - 1));
    request.limit = kPageSize;
    request.filter = m_filter;
    request.sort = m_sort;
    m_source->page(
        this, request, [this, generation = m_generation](const QList<RowValues>& rows, const QString& error) {
            if (generation == m_generation)
                onPage(rows, error);
        });
}

void PagedTableModel::requestCount()
{
    m_countPending = true;
    m_source->count(this, m_filter, [this, generation = m_generation](qint64 count, const QString& error) {
        if (generation == m_generation)
            onCount(count, error);
    });
}

void PagedTableModel::onPage(const QList<RowValues>& rows, const QString& error)
{
    if (!error.isEmpty()) {
        m_pagePending = false;
        // No more pages until a reload: the next one would start from the same place and fail the same way.
        m_pageError = error;
        emit progressChanged();
        return;
    }
    if (!rows.isEmpty()) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + rows.size() - 1));
        m_rows.append(rows);
        endInsertRows();
    }
    if (rows.size() < kPageSize) {
        // The end: the count is what is loaded, whatever a count said or will say.
        m_atEnd = true;
        m_countState = CountState::Complete;
        m_count = m_rows.size();
        m_countError.clear();
    } else if (m_countState == CountState::Unknown) {
        m_countState = CountState::Partial;
    } else if (m_countState == CountState::Complete) {
        // Rows added since the count: there are at least these.
        m_count = std::max(m_count, qint64(m_rows.size()));
    }
    // Only now: a view may ask for the next page while the rows go in, and that page starts after them.
    m_pagePending = false;
    emit progressChanged();
}

void PagedTableModel::onCount(qint64 count, const QString& error)
{
    m_countPending = false;
    if (m_atEnd) {
        emit progressChanged();
        return;
    }
    if (!error.isEmpty()) {
        m_countError = error;
    } else {
        m_countState = CountState::Complete;
        m_count = std::max(count, qint64(m_rows.size()));
    }
    emit progressChanged();
}

int PagedTableModel::sortColumn() const
{
    for (int column = 0; column < m_columns.size(); ++column) {
        if (m_columns[column].field == m_sort.field)
            return column;
    }
    return -1;
}

QVariant PagedTableModel::value(int row, int field) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row].value(field) : QVariant();
}

std::optional<RowKey> PagedTableModel::rowKey(int row) const
{
    if (!m_source || row < 0 || row >= m_rows.size())
        return std::nullopt;
    return RowKey { value(row, m_sort.field), value(row, m_source->idField()) };
}

QString PagedTableModel::text(const Column& column, int row) const
{
    const QVariant field = value(row, column.field);
    return column.text ? column.text(field) : field.toString();
}

QList<QStringList> PagedTableModel::displayedRows() const
{
    QList<QStringList> result;
    QStringList headers;
    for (const Column& column : m_columns)
        headers << column.header;
    result << headers;
    for (int row = 0; row < m_rows.size(); ++row) {
        QStringList cells;
        for (const Column& column : m_columns)
            cells << text(column, row);
        result << cells;
    }
    return result;
}

int PagedTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PagedTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_columns.size());
}

QVariant PagedTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    return text(m_columns[index.column()], index.row());
}

QVariant PagedTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= m_columns.size())
        return {};
    return m_columns[section].header;
}

bool PagedTableModel::canFetchMore(const QModelIndex& parent) const
{
    return !parent.isValid() && m_source && !m_pagePending && !m_atEnd && m_pageError.isEmpty();
}

void PagedTableModel::fetchMore(const QModelIndex& parent)
{
    if (canFetchMore(parent))
        requestPage();
}

void PagedTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= m_columns.size())
        return;
    const RowSort sort { m_columns[column].field, order == Qt::DescendingOrder };
    if (sort == m_sort)
        return;
    m_sort = sort;
    reload();
}

} // namespace opsdeck
