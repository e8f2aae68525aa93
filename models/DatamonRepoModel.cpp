#include "DatamonRepoModel.h"

namespace opsdeck {

namespace DatamonCells {

QVariant time(const QDateTime& time, int role)
{
    if (!time.isValid())
        return {};
    switch (role) {
    case Qt::DisplayRole:
        return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")) + QStringLiteral(" UTC");
    case Qt::ToolTipRole: {
        const QString utc = time.toUTC().toString(Qt::ISODateWithMs);
        // datamon keeps the offset it was written with; show it when it was not UTC.
        return time.offsetFromUtc() == 0 ? utc
                                         : QObject::tr("%1\n(stored as %2)").arg(utc, time.toString(Qt::ISODateWithMs));
    }
    case DatamonRepoModel::SortRole:
        return time;
    }
    return {};
}

QVariant oneLine(const QString& text, int role)
{
    switch (role) {
    case Qt::DisplayRole:
        return text.simplified();
    case Qt::ToolTipRole:
        return text.simplified() == text ? QVariant() : QVariant(text);
    case DatamonRepoModel::SortRole:
        return text;
    }
    return {};
}

} // namespace DatamonCells

DatamonRepoModel::DatamonRepoModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void DatamonRepoModel::appendRepos(const QList<DatamonRepo>& repos)
{
    QList<DatamonRepo> fresh;
    fresh.reserve(repos.size());
    QHash<QString, int> freshRows;
    for (const DatamonRepo& repo : repos) {
        if (const int row = rowOf(repo.name); row >= 0) {
            m_repos[row] = repo;
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        } else if (const auto at = freshRows.constFind(repo.name); at != freshRows.constEnd()) {
            fresh[*at] = repo;
        } else {
            freshRows.insert(repo.name, int(fresh.size()));
            fresh << repo;
        }
    }
    if (fresh.isEmpty())
        return;
    const int first = int(m_repos.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    for (const DatamonRepo& repo : fresh) {
        m_rows.insert(repo.name, int(m_repos.size()));
        m_repos << repo;
    }
    endInsertRows();
}

void DatamonRepoModel::clear()
{
    beginResetModel();
    m_repos.clear();
    m_rows.clear();
    endResetModel();
}

int DatamonRepoModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_repos.size());
}

int DatamonRepoModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DatamonRepoModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Repo");
    case Description:
        return tr("Description");
    case Contributor:
        return tr("Contributor");
    case Created:
        return tr("Created");
    }
    return {};
}

QVariant DatamonRepoModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const DatamonRepo& repo = m_repos.at(index.row());
    switch (index.column()) {
    case Name:
        return role == Qt::DisplayRole || role == SortRole ? QVariant(repo.name) : QVariant();
    case Description:
        return DatamonCells::oneLine(repo.description, role);
    case Contributor:
        if (role == Qt::DisplayRole || role == SortRole)
            return repo.contributorName;
        if (role == Qt::ToolTipRole)
            return repo.contributorEmail.isEmpty() ? repo.contributorName
                                                   : tr("%1 <%2>").arg(repo.contributorName, repo.contributorEmail);
        return {};
    case Created:
        return DatamonCells::time(repo.time, role);
    }
    return {};
}

DatamonRepoFilter::DatamonRepoFilter(QObject* parent)
    : NaturalSortProxyModel(parent)
{
    setSortRole(DatamonRepoModel::SortRole);
}

void DatamonRepoFilter::setText(const QString& text)
{
    if (text == m_text)
        return;
    m_text = text;
    invalidateFilter();
}

bool DatamonRepoFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    if (m_text.isEmpty() || sourceParent.isValid())
        return true;
    const auto* model = qobject_cast<const DatamonRepoModel*>(sourceModel());
    if (!model)
        return true;
    const DatamonRepo& repo = model->repos().at(sourceRow);
    for (const QString* field : { &repo.name, &repo.description, &repo.contributorName, &repo.contributorEmail }) {
        if (field->contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace opsdeck
