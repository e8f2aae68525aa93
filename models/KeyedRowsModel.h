#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QString>

namespace opsdeck {

// A table whose rows are named (a StatefulSet, a pod) and read again every few seconds. replaceRows() brings the rows
// to the new list by changing only what differs: a row whose name stays is updated in place (dataChanged, and only
// when `same` says it changed), a row that went is removed and a new one inserted. So a view keeps its selection,
// its current row and its scroll position across refreshes, which a model reset would lose.
template <typename Row> class KeyedRowsModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }

    const QList<Row>& rows() const { return m_rows; }
    // The row of `name`, or -1.
    int rowOf(const QString& name) const
    {
        for (int row = 0; row < m_rows.size(); ++row) {
            if (m_rows[row].name == name)
                return row;
        }
        return -1;
    }

protected:
    // `next` in the order it should show; names unique. `same(a, b)`: nothing shown differs.
    template <typename Same> void replaceRows(const QList<Row>& next, Same same)
    {
        QStringList names;
        for (const Row& row : next)
            names << row.name;
        for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
            if (!names.contains(m_rows[row].name)) {
                beginRemoveRows({}, row, row);
                m_rows.removeAt(row);
                endRemoveRows();
            }
        }
        // Now every row left is in `next`; walk `next`, moving, inserting or updating row `i` to match.
        for (int i = 0; i < next.size(); ++i) {
            const int at = rowOf(next[i].name);
            if (at < 0) {
                beginInsertRows({}, i, i);
                m_rows.insert(i, next[i]);
                endInsertRows();
                continue;
            }
            if (at != i) {
                beginMoveRows({}, at, at, {}, i);
                m_rows.move(at, i);
                endMoveRows();
            }
            if (!same(m_rows[i], next[i])) {
                m_rows[i] = next[i];
                emit dataChanged(index(i, 0), index(i, columnCount() - 1));
            }
        }
    }

private:
    QList<Row> m_rows;
};

} // namespace opsdeck
