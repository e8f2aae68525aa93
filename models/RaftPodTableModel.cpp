#include "RaftPodTableModel.h"

#include "KubeCells.h"
#include "StatusIcons.h"

namespace opsdeck {

namespace {

bool samePod(const PodRow& a, const PodRow& b)
{
    return a.ordinal == b.ordinal && a.phase == b.phase && a.ready == b.ready && a.terminating == b.terminating
        && a.image == b.image && a.imageId == b.imageId && a.revision == b.revision && a.restarts == b.restarts
        && a.created == b.created;
}

} // namespace

RaftPodTableModel::RaftPodTableModel(QObject* parent)
    : KeyedRowsModel<PodRow>(parent)
{
}

void RaftPodTableModel::setPods(const QList<PodRow>& pods, const QString& updateRevision, const QDateTime& readAt)
{
    const bool revisionMoved = updateRevision != m_updateRevision;
    const bool clockMoved = readAt != m_readAt;
    m_updateRevision = updateRevision;
    m_readAt = readAt;
    replaceRows(pods, samePod);
    if (revisionMoved)
        columnChanged(Revision);
    if (clockMoved)
        columnChanged(Age);
}

void RaftPodTableModel::columnChanged(int column)
{
    if (rowCount())
        emit dataChanged(index(0, column), index(rowCount() - 1, column));
}

int RaftPodTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RaftPodTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Ordinal:
        return tr("#");
    case Name:
        return tr("Pod");
    case Phase:
        return tr("Phase");
    case Ready:
        return tr("Ready");
    case Image:
        return tr("Image");
    case Revision:
        return tr("Revision");
    case Restarts:
        return tr("Restarts");
    case Age:
        return tr("Age");
    }
    return {};
}

QVariant RaftPodTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const PodRow& pod = rows().at(index.row());
    switch (index.column()) {
    case Ordinal:
        if (role == Qt::DisplayRole)
            return pod.ordinal;
        if (role == Qt::TextAlignmentRole)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Name:
        return role == Qt::DisplayRole || role == Qt::ToolTipRole ? QVariant(pod.name) : QVariant();
    case Phase:
        return phaseData(pod, role);
    case Ready:
        return readyData(pod, role);
    case Image:
        if (role == Qt::DisplayRole)
            return KubeCells::shortImage(pod.image);
        if (role == Qt::ToolTipRole)
            return pod.imageId.isEmpty() ? pod.image : tr("%1\nrunning %2").arg(pod.image, pod.imageId);
        return {};
    case Revision:
        return revisionData(pod, role);
    case Restarts:
        return restartsData(pod, role);
    case Age:
        if (role == Qt::DisplayRole)
            return KubeCells::age(pod.created, m_readAt);
        if (role == Qt::ToolTipRole && pod.created.isValid())
            return tr("Created %1 UTC").arg(pod.created.toUTC().toString(Qt::ISODate));
        return {};
    }
    return {};
}

QVariant RaftPodTableModel::phaseData(const PodRow& pod, int role) const
{
    if (pod.terminating)
        return StatusIcons::cell(role, StatusIcons::Kind::Busy, tr("Terminating"),
            tr("Being deleted: it stays listed until its container has stopped"));
    if (pod.phase == QStringLiteral("Running"))
        return pod.ready ? StatusIcons::cell(role, StatusIcons::Kind::Ok, pod.phase, tr("Running and Ready"))
                         : StatusIcons::cell(role, StatusIcons::Kind::Warning, pod.phase,
                             tr("Running but not Ready: its readiness check fails, and an OrderedReady StatefulSet "
                                "waits for it before it goes on"));
    if (pod.phase == QStringLiteral("Pending"))
        return StatusIcons::cell(
            role, StatusIcons::Kind::Busy, pod.phase, tr("Pending: scheduled or pulling its image, not started yet"));
    if (pod.phase == QStringLiteral("Failed") || pod.phase == QStringLiteral("Succeeded"))
        return StatusIcons::cell(role, StatusIcons::Kind::Error, pod.phase,
            tr("%1: its containers have stopped, so it serves nothing").arg(pod.phase));
    return StatusIcons::cell(role, StatusIcons::Kind::Unknown, pod.phase.isEmpty() ? tr("Unknown") : pod.phase,
        tr("The node does not report this pod's state"));
}

QVariant RaftPodTableModel::readyData(const PodRow& pod, int role) const
{
    if (pod.ready && !pod.terminating)
        return StatusIcons::cell(role, StatusIcons::Kind::Ok, tr("Ready"), tr("Its Ready condition is True"));
    return StatusIcons::cell(role, StatusIcons::Kind::Warning, tr("Not ready"),
        pod.terminating ? tr("Being deleted") : tr("Its Ready condition is not True: it gets no traffic"));
}

QVariant RaftPodTableModel::revisionData(const PodRow& pod, int role) const
{
    if (m_updateRevision.isEmpty() || pod.revision == m_updateRevision) {
        if (role == Qt::DisplayRole)
            return pod.revision;
        if (role == Qt::ToolTipRole)
            return tr("On the StatefulSet's update revision");
        return {};
    }
    return StatusIcons::cell(role, StatusIcons::Kind::Behind, pod.revision,
        tr("Not on the update revision %1 yet: the rollout replaces it (highest ordinal first)").arg(m_updateRevision));
}

QVariant RaftPodTableModel::restartsData(const PodRow& pod, int role) const
{
    if (role == Qt::TextAlignmentRole)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (pod.restarts == 0)
        return role == Qt::DisplayRole ? QVariant(0) : QVariant();
    return StatusIcons::cell(role, StatusIcons::Kind::Warning, QString::number(pod.restarts),
        tr("Container restarts: %1. It crashed or failed its liveness check.").arg(pod.restarts));
}

} // namespace opsdeck
