#include "DeployMatrixModel.h"

#include "StatusIcons.h"
#include "core/Counted.h"
#include "core/CsvWriter.h"

#include <QBrush>
#include <QFont>
#include <QFontDatabase>
#include <QJsonArray>
#include <QJsonDocument>

namespace opsdeck {

namespace {

StatusIcons::Kind kindOf(DeployState state)
{
    switch (state) {
    case DeployState::UpToDate:
        return StatusIcons::Kind::Ok;
    case DeployState::ConfigMatches:
        return StatusIcons::Kind::Equivalent;
    case DeployState::Behind:
        return StatusIcons::Kind::Behind;
    case DeployState::Dirty:
        return StatusIcons::Kind::Warning;
    case DeployState::Unreachable:
        return StatusIcons::Kind::Error;
    case DeployState::Unknown:
        break;
    }
    return StatusIcons::Kind::Unknown;
}

// Every instance's revision, for export: "reside 71718c4a, training 71718c4a".
QString builds(const MachineStatus& status, bool packit)
{
    QStringList parts;
    for (const InstanceBuild& b : status.instances) {
        const QString revision = packit ? b.packit : b.outpack;
        parts << QStringLiteral("%1 %2").arg(b.instance, revision.isEmpty() ? QStringLiteral("?") : revision.left(8));
    }
    return parts.join(QStringLiteral(", "));
}

// For the table: one revision when the instances agree (as they do after a deploy), else how many differ.
QString buildsShort(const MachineStatus& status, bool packit)
{
    QSet<QString> revisions;
    for (const InstanceBuild& b : status.instances)
        revisions.insert(packit ? b.packit : b.outpack);
    if (revisions.isEmpty())
        return QStringLiteral("—");
    if (revisions.size() == 1) {
        const QString revision = revisions.cbegin()->isEmpty() ? QStringLiteral("?") : revisions.cbegin()->left(8);
        const qsizetype n = status.instances.size();
        return n == 1 ? QObject::tr("%1 (1 instance)").arg(revision)
                      : QObject::tr("%1 (%2 instances)").arg(revision, QString::number(n));
    }
    return QObject::tr("%1 different revisions").arg(revisions.size());
}

} // namespace

DeployMatrixModel::DeployMatrixModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void DeployMatrixModel::setMachines(const QStringList& machines, const QSet<QString>& production)
{
    beginResetModel();
    m_machines = machines;
    m_production = production;
    m_statuses.clear();
    m_checking.clear();
    endResetModel();
}

void DeployMatrixModel::setChecking(const QString& machine)
{
    const int row = static_cast<int>(m_machines.indexOf(machine));
    if (row < 0)
        return;
    m_checking.insert(machine);
    emit dataChanged(index(row, State), index(row, State));
}

void DeployMatrixModel::setStatus(const MachineStatus& status)
{
    const int row = static_cast<int>(m_machines.indexOf(status.machine));
    if (row < 0)
        return;
    m_checking.remove(status.machine);
    m_statuses.insert(status.machine, status);
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

const MachineStatus* DeployMatrixModel::status(const QString& machine) const
{
    const auto it = m_statuses.constFind(machine);
    return it == m_statuses.cend() ? nullptr : &*it;
}

QList<MachineStatus> DeployMatrixModel::statuses() const
{
    QList<MachineStatus> result;
    for (const QString& machine : m_machines) {
        if (const MachineStatus* s = status(machine))
            result << *s;
    }
    return result;
}

int DeployMatrixModel::count(DeployState state) const
{
    return static_cast<int>(std::count_if(
        m_statuses.cbegin(), m_statuses.cend(), [state](const MachineStatus& s) { return s.state == state; }));
}

QByteArray DeployMatrixModel::toJson() const
{
    QJsonArray array;
    for (const MachineStatus& s : statuses())
        array.append(s.toJson());
    return QJsonDocument(array).toJson(QJsonDocument::Indented);
}

QByteArray DeployMatrixModel::toCsv() const
{
    // "\n" line ends, as this export always had (scripts read it line by line).
    CsvWriter csv(QStringLiteral("\n"));
    csv.addRow({ QStringLiteral("machine"), QStringLiteral("state"), QStringLiteral("revision"),
        QStringLiteral("narHash"), QStringLiteral("dirty"), QStringLiteral("expectedRevision"),
        QStringLiteral("expectedNarHash"), QStringLiteral("behindBy"), QStringLiteral("packit"),
        QStringLiteral("outpackServer"), QStringLiteral("checkedAt"), QStringLiteral("error") });
    for (const MachineStatus& s : statuses()) {
        csv.addRow({ s.machine, MachineStatus::stateName(s.state), s.revision, s.narHash,
            s.dirty ? QStringLiteral("true") : QStringLiteral("false"), s.expectedRevision, s.expectedNarHash,
            s.behindBy < 0 ? QString() : QString::number(s.behindBy), builds(s, true), builds(s, false),
            s.checkedAt.toUTC().toString(Qt::ISODateWithMs), s.error });
    }
    return csv.toUtf8();
}

int DeployMatrixModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_machines.size());
}

int DeployMatrixModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeployMatrixModel::stateData(const MachineStatus* status, bool checking, int role) const
{
    if (checking
        && (role == Qt::DisplayRole || role == Qt::DecorationRole || role == Qt::ToolTipRole
            || role == Qt::ForegroundRole)) {
        if (role == Qt::DecorationRole)
            return StatusIcons::icon(StatusIcons::Kind::Busy);
        if (role == Qt::ForegroundRole)
            return QBrush(StatusIcons::color(StatusIcons::Kind::Busy));
        return role == Qt::DisplayRole ? tr("Checking…") : tr("Reading what this machine runs…");
    }
    const DeployState state = status ? status->state : DeployState::Unknown;
    switch (role) {
    case Qt::DisplayRole:
        return status ? MachineStatus::stateTitle(state) : tr("Not checked");
    case Qt::DecorationRole:
        return StatusIcons::icon(kindOf(state));
    case Qt::ForegroundRole:
        return QBrush(StatusIcons::color(kindOf(state)));
    case Qt::ToolTipRole: {
        if (!status)
            return tr("Not checked yet: press Refresh.");
        QString tip = QStringLiteral("<b>%1</b> (%2)<br>%3")
                          .arg(MachineStatus::stateTitle(state), MachineStatus::stateName(state),
                              MachineStatus::stateExplanation(state).toHtmlEscaped());
        if (status->behindBy > 0)
            tip += tr("<br>%1 behind.").arg(counted(status->behindBy, tr("commit")));
        if (status->compareStatus == QStringLiteral("diverged"))
            tip += tr("<br>Its commit is not on the branch (a pull request's test merge?).");
        if (!status->error.isEmpty())
            tip += QStringLiteral("<br><i>%1</i>").arg(status->error.toHtmlEscaped());
        return tip;
    }
    default:
        return {};
    }
}

QVariant DeployMatrixModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_machines.size())
        return {};
    const QString machine = m_machines[index.row()];
    const MachineStatus* s = status(machine);
    const int column = index.column();
    if (column == State)
        return stateData(s, m_checking.contains(machine), role);
    if (column == Machine && m_production.contains(machine) && StatusIcons::productionMark(role).isValid())
        return StatusIcons::productionMark(role);
    if (role == Qt::FontRole
        && (column == Deployed || column == Expected || column == NarHash || column == Packit || column == Outpack))
        return QFontDatabase::systemFont(QFontDatabase::FixedFont);
    if (role == Qt::TextAlignmentRole && column == Behind)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && s) {
        switch (column) {
        case Deployed:
            return s->revision;
        case Expected:
            return s->expectedRevision;
        case NarHash:
            return tr("Deployed: %1\nBranch: %2")
                .arg(s->narHash, s->expectedNarHash.isEmpty() ? tr("unknown") : s->expectedNarHash);
        case Packit:
        case Outpack: {
            QStringList lines;
            for (const InstanceBuild& b : s->instances)
                lines << QStringLiteral("%1: %2%3")
                             .arg(b.instance, column == Packit ? b.packit : b.outpack,
                                 b.error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(b.error));
            return lines.join(u'\n');
        }
        case Checked:
            return QLocale().toString(s->checkedAt.toLocalTime(), QLocale::LongFormat)
                + tr(" (took %1 ms)").arg(s->elapsedMs);
        case Error:
            return s->error;
        default:
            break;
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    if (column == Machine)
        return machine;
    if (!s)
        return {};
    switch (column) {
    case Deployed:
        return s->revision.isEmpty() ? QStringLiteral("—") : MachineStatus::shortRevision(s->revision);
    case Expected:
        return s->expectedRevision.isEmpty() ? QStringLiteral("—") : MachineStatus::shortRevision(s->expectedRevision);
    case Behind:
        return s->behindBy < 0 ? QStringLiteral("—") : QString::number(s->behindBy);
    case NarHash:
        return s->narHash.isEmpty() ? QStringLiteral("—") : s->narHash.left(19) + QStringLiteral("…");
    case Packit:
        return buildsShort(*s, true);
    case Outpack:
        return buildsShort(*s, false);
    case Checked:
        return s->checkedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    case Error:
        return StatusIcons::errorCellText(s->error);
    default:
        return {};
    }
}

QVariant DeployMatrixModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == NarHash)
        return tr("The hash of the system without the revision metric: it changes only when the configuration does.");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Machine:
        return tr("Machine");
    case State:
        return tr("State");
    case Deployed:
        return tr("Deployed");
    case Expected:
        return tr("Branch head");
    case Behind:
        return tr("Behind");
    case NarHash:
        return tr("narHash");
    case Packit:
        return tr("Packit");
    case Outpack:
        return tr("outpack_server");
    case Checked:
        return tr("Checked");
    case Error:
        return tr("Error");
    default:
        return {};
    }
}

} // namespace opsdeck
