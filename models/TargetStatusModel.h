#pragma once

#include "ssh/HostStatus.h"

#include <QAbstractTableModel>
#include <QHash>

namespace opsdeck {

// A pane's inventory targets (instances, databases, machines, ...) with the live reachability of the host that
// reaches each. The pane names its own columns; the model appends Reachability, Host key and Error.
class TargetStatusModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    struct Target
    {
        QStringList cells;
        QString host; // inventory host that reaches it; empty: not reached over SSH
        QString unreachedReason; // shown instead of a status when host is empty
        bool production = false; // its name cell carries the production mark
    };

    explicit TargetStatusModel(const QStringList& headers, QObject* parent = nullptr);

    void setTargets(const QList<Target>& targets);
    void updateHost(const HostStatus& status);
    // Replaces a row's own cells (live values such as unit states and counts).
    void setCells(int row, const QStringList& cells);
    const Target& target(int row) const { return m_targets.at(row); }
    int statusColumn() const { return int(m_headers.size()); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString statusText(const HostStatus& status);
    static QString hostKeyText(const HostStatus& status);

private:
    QVariant statusData(const Target& target, int column, int role) const;

    QStringList m_headers;
    QList<Target> m_targets;
    QHash<QString, HostStatus> m_hosts;
};

} // namespace opsdeck
