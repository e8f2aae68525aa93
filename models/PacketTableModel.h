#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QPointer>

namespace opsdeck {

class PackitWorker;

// The packets of one instance, loaded a page at a time as the view scrolls (canFetchMore/fetchMore). Sorting
// and filtering happen in the database, because only part of the table is here; the total is counted
// separately so the first rows show at once.
class PacketTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Id,
        Name,
        DisplayName,
        Started,
        Finished,
        ColumnCount
    };
    static constexpr int kPageSize = 500;

    explicit PacketTableModel(QObject* parent = nullptr);

    // Starts over on another instance (or none).
    void setWorker(PackitWorker* worker);
    void setFilter(const QString& filter);
    void reload();

    qint64 loaded() const { return m_rows.size(); }
    qint64 total() const { return m_total; } // -1 while unknown
    QString error() const { return m_error; }
    QString packetId(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;
    void sort(int column, Qt::SortOrder order) override;

signals:
    void progressChanged(); // loaded, total or error changed

private:
    void onPackets(quint64 tag, int offset, const QJsonArray& rows, const QString& error);
    void onCount(quint64 tag, qint64 total);
    void request(int offset);

    QPointer<PackitWorker> m_worker;
    QList<QJsonObject> m_rows;
    qint64 m_total = -1;
    bool m_pending = false;
    bool m_exhausted = false;
    quint64 m_generation = 0; // answers tagged with an older generation are stale
    QString m_filter;
    int m_sortColumn = Id;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    QString m_error;
};

} // namespace opsdeck
