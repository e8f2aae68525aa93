#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QPointer>

namespace opsdeck {

class DatabaseWorker;

// The soft-deleted stacks of a Pulumi database, loaded a page at a time as the view scrolls; sorted and filtered
// in the database (100,000 rows and more); the total is counted separately so the first rows show at once.
class PulumiStackModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Organization,
        Stack,
        Project,
        DeletedAt,
        ColumnCount
    };
    static constexpr int kPageSize = 500;

    explicit PulumiStackModel(QObject* parent = nullptr);

    // Where the pages come from; call reload() to read the first.
    void setWorker(DatabaseWorker* worker);
    void setFilter(const QString& filter);
    void reload();

    qint64 loaded() const { return m_rows.size(); }
    qint64 total() const { return m_total; } // -1 while unknown
    QString error() const { return m_error; }
    QString stackName(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;
    void sort(int column, Qt::SortOrder order) override;

signals:
    void progressChanged();

private:
    void request(int offset);

    QPointer<DatabaseWorker> m_worker;
    QList<QJsonObject> m_rows;
    qint64 m_total = -1;
    bool m_pending = false;
    bool m_atEnd = false;
    quint64 m_generation = 0; // answers for an older query are dropped
    QString m_filter;
    QString m_orderBy = QStringLiteral("stack");
    bool m_descending = false;
    QString m_error;
};

} // namespace opsdeck
