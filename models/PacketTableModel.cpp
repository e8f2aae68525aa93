#include "PacketTableModel.h"

#include "packit/PackitWorker.h"

#include <QDateTime>
#include <QLocale>

namespace opsdeck {

namespace {
QString sqlColumn(int column)
{
    switch (column) {
    case PacketTableModel::Name:
        return QStringLiteral("name");
    case PacketTableModel::DisplayName:
        return QStringLiteral("display_name");
    case PacketTableModel::Started:
        return QStringLiteral("start_time");
    case PacketTableModel::Finished:
        return QStringLiteral("end_time");
    default:
        return QStringLiteral("id");
    }
}

QString timeText(double epochSeconds)
{
    return QDateTime::fromMSecsSinceEpoch(qint64(epochSeconds * 1000)).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}
} // namespace

PacketTableModel::PacketTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void PacketTableModel::setWorker(PackitWorker* worker)
{
    if (m_worker)
        disconnect(m_worker, nullptr, this, nullptr);
    m_worker = worker;
    if (worker) {
        connect(worker, &PackitWorker::packetsReady, this, &PacketTableModel::onPackets);
        connect(worker, &PackitWorker::packetCountReady, this, &PacketTableModel::onCount);
    }
    reload();
}

void PacketTableModel::setFilter(const QString& filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void PacketTableModel::reload()
{
    beginResetModel();
    ++m_generation;
    m_rows.clear();
    m_total = -1;
    m_pending = false;
    m_exhausted = !m_worker;
    m_error.clear();
    endResetModel();
    emit progressChanged();
    if (m_worker)
        request(0);
}

void PacketTableModel::request(int offset)
{
    m_pending = true;
    m_worker->requestPackets(
        m_generation, offset, kPageSize, m_filter, sqlColumn(m_sortColumn), m_sortOrder == Qt::DescendingOrder);
}

void PacketTableModel::onPackets(quint64 tag, int offset, const QJsonArray& rows, const QString& error)
{
    if (tag != m_generation || offset != m_rows.size())
        return;
    m_pending = false;
    m_error = error;
    if (rows.size() < kPageSize)
        m_exhausted = true;
    if (!rows.isEmpty()) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + rows.size() - 1));
        for (const QJsonValue& row : rows)
            m_rows << row.toObject();
        endInsertRows();
    }
    emit progressChanged();
}

void PacketTableModel::onCount(quint64 tag, qint64 total)
{
    if (tag != m_generation)
        return;
    m_total = total;
    emit progressChanged();
}

QString PacketTableModel::packetId(int row) const
{
    return m_rows.value(row).value(QStringLiteral("id")).toString();
}

int PacketTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PacketTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PacketTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const QJsonObject& row = m_rows[index.row()];
    switch (index.column()) {
    case Id:
        return row.value(QStringLiteral("id")).toString();
    case Name:
        return row.value(QStringLiteral("name")).toString();
    case DisplayName:
        return row.value(QStringLiteral("displayName")).toString();
    case Started:
        return timeText(row.value(QStringLiteral("startTime")).toDouble());
    case Finished:
        return timeText(row.value(QStringLiteral("endTime")).toDouble());
    }
    return {};
}

QVariant PacketTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Id:
        return tr("Packet id");
    case Name:
        return tr("Name");
    case DisplayName:
        return tr("Display name");
    case Started:
        return tr("Started");
    case Finished:
        return tr("Finished");
    }
    return {};
}

bool PacketTableModel::canFetchMore(const QModelIndex& parent) const
{
    return !parent.isValid() && m_worker && !m_pending && !m_exhausted;
}

void PacketTableModel::fetchMore(const QModelIndex& parent)
{
    if (canFetchMore(parent))
        request(int(m_rows.size()));
}

void PacketTableModel::sort(int column, Qt::SortOrder order)
{
    if (column == m_sortColumn && order == m_sortOrder)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    reload();
}

} // namespace opsdeck
