#pragma once

#include "KeyedRowsModel.h"
#include "raft/RaftQueries.h"

namespace opsdeck {

// The StatefulSets of one namespace, as the RAFT pane shows them: replicas Ready of desired, the image, the image
// trigger annotation (what it follows, or a warning when it is gone), the current and update revision (a rollout
// when they differ) and the pod management policy. Each state has a colour, an icon and a tooltip.
class StatefulSetTableModel : public KeyedRowsModel<StatefulSetRow>
{
    Q_OBJECT
public:
    enum Column
    {
        Name,
        Ready,
        Image,
        Trigger,
        Revision,
        PodManagement,
        ColumnCount
    };

    explicit StatefulSetTableModel(QObject* parent = nullptr);

    // The namespace's StatefulSets as last read, in the order given; rows are updated in place by name.
    void setStatefulSets(const QList<StatefulSetRow>& statefulSets);
    void clear() { setStatefulSets({}); }

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // The trigger that sets the StatefulSet's container image (the one tracing its container, else the first);
    // nullptr when there is none.
    static const ImageTrigger* imageTrigger(const StatefulSetRow& statefulSet);
    // "permie:latest", or "other/permie:latest" for another namespace's image stream.
    static QString triggerTag(const ImageTrigger& trigger);

private:
    QVariant readyData(const StatefulSetRow& row, int role) const;
    QVariant triggerData(const StatefulSetRow& row, int role) const;
    QVariant revisionData(const StatefulSetRow& row, int role) const;
};

} // namespace opsdeck
