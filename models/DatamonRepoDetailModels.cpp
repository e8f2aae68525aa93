#include "DatamonRepoDetailModels.h"

#include "DatamonRepoModel.h"

#include <QColor>
#include <QLocale>

namespace opsdeck {

DatamonBundleModel::DatamonBundleModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void DatamonBundleModel::setBundles(const QString& repo, const QList<DatamonBundle>& bundles)
{
    beginResetModel();
    m_repo = repo;
    m_bundles = bundles;
    m_sizes.reset();
    endResetModel();
}

void DatamonBundleModel::setSizes(const DatamonRepoSizes& sizes)
{
    if (sizes.repo != m_repo)
        return;
    m_sizes = sizes;
    if (!m_bundles.isEmpty())
        emit dataChanged(index(0, Size), index(int(m_bundles.size()) - 1, Size));
}

int DatamonBundleModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_bundles.size());
}

int DatamonBundleModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DatamonBundleModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == IndexFiles)
        return tr("How many file lists (bundle-files-N.yaml) the bundle's metadata has: datamon's "
                  "BundleEntriesFileCount. Not the number of files in the bundle.");
    if (role == Qt::ToolTipRole && section == Size)
        return tr("The sum of the bundle's file sizes, from `repo get --with-size`: read on demand with Load sizes.");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Id:
        return tr("Bundle");
    case Time:
        return tr("Time");
    case Message:
        return tr("Message");
    case IndexFiles:
        return tr("File lists");
    case Size:
        return tr("Size");
    }
    return {};
}

QVariant DatamonBundleModel::sizeData(const DatamonBundle& bundle, int role) const
{
    const auto bytes = m_sizes ? m_sizes->bundleBytes.constFind(bundle.id) : QHash<QString, quint64>::const_iterator();
    const bool known = m_sizes && bytes != m_sizes->bundleBytes.constEnd();
    switch (role) {
    case Qt::DisplayRole:
        if (!m_sizes)
            return tr("not loaded");
        return known ? QLocale().formattedDataSize(qint64(*bytes)) : tr("unknown");
    case Qt::ToolTipRole:
        if (!m_sizes)
            return tr("Load sizes reads them (slow on a big repo)");
        return known ? tr("%1 bytes").arg(QLocale().toString(*bytes))
                     : tr("Not in the sizes read: the bundle is newer than them");
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        return known ? QVariant() : QVariant(QColor(Qt::gray));
    }
    return {};
}

QVariant DatamonBundleModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const DatamonBundle& bundle = m_bundles.at(index.row());
    switch (index.column()) {
    case Id:
        return role == Qt::DisplayRole ? QVariant(bundle.id) : QVariant();
    case Time:
        return DatamonCells::time(bundle.time, role);
    case Message:
        return DatamonCells::oneLine(bundle.message, role);
    case IndexFiles:
        if (role == Qt::DisplayRole)
            return QLocale().toString(bundle.indexFiles);
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Size:
        return sizeData(bundle, role);
    }
    return {};
}

DatamonLabelModel::DatamonLabelModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void DatamonLabelModel::setLabels(const QList<DatamonLabel>& labels)
{
    beginResetModel();
    m_labels = labels;
    endResetModel();
}

int DatamonLabelModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_labels.size());
}

int DatamonLabelModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DatamonLabelModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Label");
    case Bundle:
        return tr("Bundle");
    case Time:
        return tr("Set at");
    }
    return {};
}

QVariant DatamonLabelModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const DatamonLabel& label = m_labels.at(index.row());
    switch (index.column()) {
    case Name:
        return role == Qt::DisplayRole ? QVariant(label.name) : QVariant();
    case Bundle:
        return role == Qt::DisplayRole ? QVariant(label.bundleId) : QVariant();
    case Time:
        return DatamonCells::time(label.time, role);
    }
    return {};
}

} // namespace opsdeck
