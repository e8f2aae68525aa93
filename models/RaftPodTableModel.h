#pragma once

#include "KeyedRowsModel.h"
#include "raft/RaftQueries.h"

#include <QDateTime>

namespace opsdeck {

// The pods of the selected StatefulSet: ordinal, phase, Ready, image, revision (marked when not yet on the
// StatefulSet's update revision), restarts and age. Each state has a colour, an icon and a tooltip.
class RaftPodTableModel : public KeyedRowsModel<PodRow>
{
    Q_OBJECT
public:
    enum Column
    {
        Ordinal,
        Name,
        Phase,
        Ready,
        Image,
        Revision,
        Restarts,
        Age,
        ColumnCount
    };

    explicit RaftPodTableModel(QObject* parent = nullptr);

    // The pods as read at `readAt` (their age counts to it), in the order given; rows are updated in place by name.
    // `updateRevision` is the StatefulSet's: a pod on another revision is still to be rolled.
    void setPods(const QList<PodRow>& pods, const QString& updateRevision, const QDateTime& readAt);
    void clear() { setPods({}, {}, {}); }

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant phaseData(const PodRow& pod, int role) const;
    QVariant readyData(const PodRow& pod, int role) const;
    QVariant revisionData(const PodRow& pod, int role) const;
    QVariant restartsData(const PodRow& pod, int role) const;
    void columnChanged(int column);

    QString m_updateRevision;
    QDateTime m_readAt;
};

} // namespace opsdeck
