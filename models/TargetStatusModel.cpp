#include "TargetStatusModel.h"

#include "StatusIcons.h"

#include <QLocale>

namespace opsdeck {

namespace {
enum StatusColumn
{
    Reachability = 0,
    HostKey = 1,
    Error = 2,
    StatusColumnCount = 3
};

StatusIcons::Kind iconKind(const HostStatus& status)
{
    switch (status.reachability) {
    case HostStatus::Reachability::Reachable:
        return StatusIcons::Kind::Ok;
    case HostStatus::Reachability::Unreachable:
        return status.hostKey.status == HostKeyInfo::Status::Unknown ? StatusIcons::Kind::Warning
                                                                     : StatusIcons::Kind::Error;
    case HostStatus::Reachability::Checking:
        return StatusIcons::Kind::Busy;
    case HostStatus::Reachability::Unchecked:
        return StatusIcons::Kind::Unknown;
    }
    return StatusIcons::Kind::Unknown;
}
} // namespace

TargetStatusModel::TargetStatusModel(const QStringList& headers, QObject* parent)
    : QAbstractTableModel(parent)
    , m_headers(headers)
{
}

void TargetStatusModel::setTargets(const QList<Target>& targets)
{
    beginResetModel();
    m_targets = targets;
    endResetModel();
}

void TargetStatusModel::updateHost(const HostStatus& status)
{
    m_hosts.insert(status.name, status);
    for (int row = 0; row < m_targets.size(); ++row) {
        if (m_targets[row].host == status.name)
            emit dataChanged(index(row, statusColumn()), index(row, columnCount() - 1));
    }
}

void TargetStatusModel::setCells(int row, const QStringList& cells)
{
    if (row < 0 || row >= m_targets.size())
        return;
    m_targets[row].cells = cells;
    emit dataChanged(index(row, 0), index(row, statusColumn() - 1));
}

int TargetStatusModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_targets.size());
}

int TargetStatusModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_headers.size()) + StatusColumnCount;
}

QVariant TargetStatusModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    if (section < m_headers.size())
        return m_headers[section];
    switch (section - m_headers.size()) {
    case Reachability:
        return tr("Reachability");
    case HostKey:
        return tr("Host key");
    case Error:
        return tr("Error");
    }
    return {};
}

QVariant TargetStatusModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Target& target = m_targets[index.row()];
    if (index.column() < m_headers.size()) {
        if (index.column() == 0 && target.production && StatusIcons::productionMark(role).isValid())
            return StatusIcons::productionMark(role);
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
            return target.cells.value(index.column());
        return {};
    }
    return statusData(target, index.column() - int(m_headers.size()), role);
}

QString TargetStatusModel::statusText(const HostStatus& status)
{
    switch (status.reachability) {
    case HostStatus::Reachability::Reachable:
        return tr("Reachable");
    case HostStatus::Reachability::Unreachable:
        switch (status.error.kind) {
        case SshError::Kind::HostKeyUnknown:
            return tr("Host key not trusted");
        case SshError::Kind::HostKeyChanged:
            return tr("HOST KEY CHANGED");
        case SshError::Kind::AuthFailed:
        case SshError::Kind::SecretRequired:
            return tr("Login failed");
        default:
            return tr("Unreachable");
        }
    case HostStatus::Reachability::Checking:
        return tr("Checking…");
    case HostStatus::Reachability::Unchecked:
        return tr("Not checked");
    }
    return {};
}

QString TargetStatusModel::hostKeyText(const HostStatus& status)
{
    if (status.hostKey.sha256.isEmpty())
        return QStringLiteral("—");
    switch (status.hostKey.status) {
    case HostKeyInfo::Status::Known:
        return tr("%1 (known)").arg(status.hostKey.sha256);
    case HostKeyInfo::Status::Unknown:
        return tr("%1 (not in known_hosts)").arg(status.hostKey.sha256);
    case HostKeyInfo::Status::Changed:
        return tr("%1 (was %2)").arg(status.hostKey.sha256, status.hostKey.knownSha256);
    case HostKeyInfo::Status::NotChecked:
        break;
    }
    return status.hostKey.sha256;
}

QVariant TargetStatusModel::statusData(const Target& target, int column, int role) const
{
    if (target.host.isEmpty()) {
        if (column == Reachability && (role == Qt::DisplayRole || role == Qt::ToolTipRole))
            return target.unreachedReason;
        if (column == Reachability && role == Qt::DecorationRole)
            return StatusIcons::icon(StatusIcons::Kind::Unknown);
        return {};
    }
    const HostStatus status = m_hosts.value(target.host);
    switch (column) {
    case Reachability:
        switch (role) {
        case Qt::DisplayRole:
            return statusText(status);
        case Qt::DecorationRole:
            return StatusIcons::icon(iconKind(status));
        case Qt::ForegroundRole:
            return StatusIcons::color(iconKind(status));
        case Qt::ToolTipRole:
            if (status.reachability == HostStatus::Reachability::Reachable)
                return tr("Connected to %1 as %2 and ran a command (checked %3)")
                    .arg(target.host, status.auth,
                        QLocale().toString(status.checkedAt.toLocalTime(), QLocale::ShortFormat));
            return status.error.isError() ? status.error.message : statusText(status);
        }
        return {};
    case HostKey:
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
            return hostKeyText(status);
        return {};
    case Error:
        if (role == Qt::DisplayRole)
            return StatusIcons::errorCellText(status.error.message);
        if (role == Qt::ToolTipRole)
            return status.error.message;
        if (role == Qt::ForegroundRole && status.error.isError())
            return StatusIcons::color(StatusIcons::Kind::Error);
        return {};
    }
    return {};
}

} // namespace opsdeck
