#include "StatefulSetTableModel.h"

#include "KubeCells.h"
#include "StatusIcons.h"

namespace opsdeck {

namespace {

// resourceVersion changes on every write to the object, its status included, and only then.
bool sameStatefulSet(const StatefulSetRow& a, const StatefulSetRow& b)
{
    return a.resourceVersion == b.resourceVersion;
}

} // namespace

StatefulSetTableModel::StatefulSetTableModel(QObject* parent)
    : KeyedRowsModel<StatefulSetRow>(parent)
{
}

void StatefulSetTableModel::setStatefulSets(const QList<StatefulSetRow>& statefulSets)
{
    replaceRows(statefulSets, sameStatefulSet);
}

int StatefulSetTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant StatefulSetTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("StatefulSet");
    case Ready:
        return tr("Ready");
    case Image:
        return tr("Image");
    case Trigger:
        return tr("Image trigger");
    case Revision:
        return tr("Revision");
    case PodManagement:
        return tr("Pod management");
    }
    return {};
}

const ImageTrigger* StatefulSetTableModel::imageTrigger(const StatefulSetRow& statefulSet)
{
    for (const ImageTrigger& trigger : statefulSet.triggers) {
        if (trigger.container == statefulSet.container)
            return &trigger;
    }
    return statefulSet.triggers.isEmpty() ? nullptr : &statefulSet.triggers.front();
}

QString StatefulSetTableModel::triggerTag(const ImageTrigger& trigger)
{
    return trigger.tagNamespace.isEmpty() ? trigger.tag : trigger.tagNamespace + u'/' + trigger.tag;
}

QVariant StatefulSetTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const StatefulSetRow& row = rows().at(index.row());
    switch (index.column()) {
    case Name:
        if (role == Qt::DisplayRole)
            return row.name;
        if (role == Qt::ToolTipRole)
            return tr("%1 (%2 update strategy)").arg(row.name, row.updateStrategy);
        return {};
    case Ready:
        return readyData(row, role);
    case Image:
        if (role == Qt::DisplayRole)
            return KubeCells::shortImage(row.image);
        if (role == Qt::ToolTipRole)
            return tr("Container %1 runs %2").arg(row.container, row.image);
        return {};
    case Trigger:
        return triggerData(row, role);
    case Revision:
        return revisionData(row, role);
    case PodManagement:
        if (role == Qt::DisplayRole)
            return row.podManagementPolicy;
        if (role == Qt::ToolTipRole)
            return row.podManagementPolicy == QStringLiteral("Parallel")
                ? tr("Parallel: pods are created and deleted all at once")
                : tr("OrderedReady: pods start one at a time from ordinal 0, each once the previous is Running and "
                     "Ready, and stop from the highest ordinal down");
        return {};
    }
    return {};
}

QVariant StatefulSetTableModel::readyData(const StatefulSetRow& row, int role) const
{
    if (role == Qt::TextAlignmentRole)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    const QString text = QStringLiteral("%1/%2").arg(row.readyReplicas).arg(row.desiredReplicas);
    if (row.generation > row.observedGeneration)
        return StatusIcons::cell(role, StatusIcons::Kind::Busy, text,
            tr("The controller has not seen the latest change yet (generation %1, observed %2)")
                .arg(row.generation)
                .arg(row.observedGeneration));
    if (row.desiredReplicas == 0)
        return StatusIcons::cell(role, StatusIcons::Kind::Warning, text,
            row.replicas ? tr("Scaling to 0: %1 pods still exist").arg(row.replicas)
                         : tr("Scaled to 0: no pod runs, the service is down"));
    if (row.readyReplicas >= row.desiredReplicas && row.replicas == row.desiredReplicas)
        return StatusIcons::cell(
            role, StatusIcons::Kind::Ok, text, tr("All %1 pods are Ready").arg(row.desiredReplicas));
    return StatusIcons::cell(role, StatusIcons::Kind::Busy, text,
        tr("%1 of %2 pods Ready (%3 exist): pods are starting, stopping or failing their readiness check")
            .arg(row.readyReplicas)
            .arg(row.desiredReplicas)
            .arg(row.replicas));
}

QVariant StatefulSetTableModel::triggerData(const StatefulSetRow& row, int role) const
{
    static const QString key = QStringLiteral("image.openshift.io/triggers");
    if (!row.hasTrigger)
        return StatusIcons::cell(role, StatusIcons::Kind::Warning, tr("none"),
            tr("No %1 annotation: the image follows no image stream tag. A RAFT reset removes it while it runs; "
               "otherwise someone removed it, and the image will not return to latest by itself.")
                .arg(key));
    const QString verbatim = tr("%1: %2").arg(key, row.triggerAnnotation);
    if (!row.triggerError.isEmpty())
        return StatusIcons::cell(role, StatusIcons::Kind::Error, tr("unusable"),
            tr("The annotation cannot be used (OpenShift rejects it too): %1\n%2").arg(row.triggerError, verbatim));
    const ImageTrigger* trigger = imageTrigger(row);
    if (!trigger)
        return StatusIcons::cell(role, StatusIcons::Kind::Warning, tr("empty"),
            tr("The annotation names no trigger: the image follows no image stream tag.\n%1").arg(verbatim));
    if (trigger->paused)
        return StatusIcons::cell(role, StatusIcons::Kind::Warning, tr("%1 (paused)").arg(triggerTag(*trigger)),
            tr("The trigger is paused: the image does not follow %1.\n%2").arg(triggerTag(*trigger), verbatim));
    return StatusIcons::cell(role, StatusIcons::Kind::Ok, triggerTag(*trigger),
        tr("Container %1 follows %2: OpenShift sets its image back to the tag's image whenever they differ.\n%3")
            .arg(trigger->container.isEmpty() ? row.container : trigger->container, triggerTag(*trigger), verbatim));
}

QVariant StatefulSetTableModel::revisionData(const StatefulSetRow& row, int role) const
{
    if (row.currentRevision == row.updateRevision) {
        if (role == Qt::DisplayRole)
            return row.updateRevision;
        if (role == Qt::ToolTipRole)
            return tr("Every pod is on revision %1").arg(row.updateRevision);
        return {};
    }
    if (role == Qt::BackgroundRole) {
        QColor tint = StatusIcons::color(StatusIcons::Kind::Busy);
        tint.setAlpha(40);
        return tint;
    }
    return StatusIcons::cell(role, StatusIcons::Kind::Busy, tr("%1 → %2").arg(row.currentRevision, row.updateRevision),
        tr("Rollout in progress: %1 of %2 pods on the update revision %3, the others still on %4")
            .arg(row.updatedReplicas)
            .arg(row.replicas)
            .arg(row.updateRevision, row.currentRevision));
}

} // namespace opsdeck
