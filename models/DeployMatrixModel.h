#pragma once

#include "deploy/MachineStatus.h"

#include <QAbstractTableModel>
#include <QSet>

namespace opsdeck {

// The deploy matrix: one row per machine, in inventory order, with its state (icon, colour, tooltip), what it
// runs against the branch, and each instance's Packit and outpack_server revision. Rows update one by one as
// their machine answers.
class DeployMatrixModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Machine,
        State,
        Deployed,
        Expected,
        Behind,
        NarHash,
        Checked,
        Error,
        Packit,
        Outpack,
        ColumnCount
    };

    explicit DeployMatrixModel(QObject* parent = nullptr);

    // `production`: those of them whose row carries the production mark.
    void setMachines(const QStringList& machines, const QSet<QString>& production = {});
    // The machine is being read: its state shows as busy until its status arrives.
    void setChecking(const QString& machine);
    void setStatus(const MachineStatus& status);

    QStringList machines() const { return m_machines; }
    const MachineStatus* status(const QString& machine) const;
    QList<MachineStatus> statuses() const;
    int count(DeployState state) const;

    // The matrix as the CLI's JSON (an array of MachineStatus::toJson) and as CSV with the same fields.
    QByteArray toJson() const;
    QByteArray toCsv() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant stateData(const MachineStatus* status, bool checking, int role) const;

    QStringList m_machines;
    QHash<QString, MachineStatus> m_statuses;
    QSet<QString> m_checking;
    QSet<QString> m_production;
};

} // namespace opsdeck
