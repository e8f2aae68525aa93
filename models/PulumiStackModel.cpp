#include "PulumiStackModel.h"

#include "pulumi/PulumiQueries.h"
#include "sql/DatabaseConnection.h"
#include "sql/DatabaseWorker.h"

#include <QDateTime>
#include <QJsonObject>

namespace opsdeck {

PulumiStackModel::PulumiStackModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void PulumiStackModel::setWorker(DatabaseWorker* worker)
{
    m_worker = worker;
}

void PulumiStackModel::setFilter(const QString& filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void PulumiStackModel::reload()
{
    beginResetModel();
    m_rows.clear();
    m_total = -1;
    m_atEnd = false;
    m_pending = false;
    m_error.clear();
    ++m_generation;
    endResetModel();
    emit progressChanged();
    if (!m_worker)
        return;
    request(0);
    const quint64 generation = m_generation;
    const QString filter = m_filter;
    m_worker->run(
        this,
        [filter](DatabaseConnection& c, QString* error) -> QJsonValue {
            const auto n = PulumiQueries::softDeletedStackCount(c.database(), filter, error);
            return n ? QJsonValue(*n) : QJsonValue();
        },
        [this, generation](const QJsonValue& result, const QString& error) {
            if (generation != m_generation)
                return;
            if (!error.isEmpty())
                m_error = error;
            else
                m_total = result.toInteger();
            emit progressChanged();
        });
}

void PulumiStackModel::request(int offset)
{
    if (!m_worker || m_pending)
        return;
    m_pending = true;
    const quint64 generation = m_generation;
    m_worker->run(
        this,
        [offset, filter = m_filter, orderBy = m_orderBy, descending = m_descending](
            DatabaseConnection& c, QString* error) -> QJsonValue {
            const auto rows
                = PulumiQueries::softDeletedStacks(c.database(), offset, kPageSize, filter, orderBy, descending, error);
            return rows ? QJsonValue(*rows) : QJsonValue();
        },
        [this, generation, offset](const QJsonValue& result, const QString& error) {
            if (generation != m_generation)
                return;
            m_pending = false;
            if (!error.isEmpty()) {
                m_error = error;
                m_atEnd = true;
                emit progressChanged();
                return;
            }
            const QJsonArray rows = result.toArray();
            if (rows.size() < kPageSize)
                m_atEnd = true;
            if (!rows.isEmpty() && offset == m_rows.size()) {
                beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(m_rows.size() + rows.size() - 1));
                for (const QJsonValue& row : rows)
                    m_rows << row.toObject();
                endInsertRows();
            }
            emit progressChanged();
        });
}

QString PulumiStackModel::stackName(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row].value(QStringLiteral("stack")).toString() : QString();
}

int PulumiStackModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PulumiStackModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PulumiStackModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size() || role != Qt::DisplayRole)
        return {};
    const QJsonObject& row = m_rows[index.row()];
    switch (index.column()) {
    case Organization:
        return row.value(QStringLiteral("org")).toString();
    case Stack:
        return row.value(QStringLiteral("stack")).toString();
    case Project:
        return row.value(QStringLiteral("project")).toString();
    case DeletedAt:
        return QDateTime::fromSecsSinceEpoch(row.value(QStringLiteral("deletedAt")).toInteger())
            .toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    default:
        return {};
    }
}

QVariant PulumiStackModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Organization:
        return tr("Organisation");
    case Stack:
        return tr("Stack");
    case Project:
        return tr("Project");
    case DeletedAt:
        return tr("Deleted at");
    default:
        return {};
    }
}

bool PulumiStackModel::canFetchMore(const QModelIndex& parent) const
{
    return !parent.isValid() && m_worker && !m_atEnd && !m_pending;
}

void PulumiStackModel::fetchMore(const QModelIndex& parent)
{
    if (canFetchMore(parent))
        request(static_cast<int>(m_rows.size()));
}

void PulumiStackModel::sort(int column, Qt::SortOrder order)
{
    static const QStringList names
        = { QStringLiteral("org"), QStringLiteral("stack"), QStringLiteral("project"), QStringLiteral("deletedAt") };
    m_orderBy = names.value(column, QStringLiteral("stack"));
    m_descending = order == Qt::DescendingOrder;
    reload();
}

} // namespace opsdeck
