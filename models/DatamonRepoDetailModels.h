#pragma once

#include "datamon/DatamonOutput.h"

#include <QAbstractTableModel>
#include <QList>
#include <optional>

namespace opsdeck {

// The bundles of one repo as `bundle list` prints them, and their sizes once `repo get --with-size` has been read
// (on demand: it reads every bundle's file list, slow on a big repo). "Index files" is datamon's
// BundleEntriesFileCount, the bundle-files-N.yaml lists the bundle has, not the number of files in it: the header's
// tooltip says so.
class DatamonBundleModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Id,
        Time,
        Message,
        IndexFiles,
        Size,
        ColumnCount
    };

    explicit DatamonBundleModel(QObject* parent = nullptr);

    // The repo's bundles; the sizes of the repo shown before are forgotten.
    void setBundles(const QString& repo, const QList<DatamonBundle>& bundles);
    // The sizes of `sizes.repo`'s bundles; ignored when another repo is shown. A bundle it does not list (made
    // after the sizes were read) shows as unknown.
    void setSizes(const DatamonRepoSizes& sizes);
    void clear() { setBundles({}, {}); }

    QString repo() const { return m_repo; }
    const QList<DatamonBundle>& bundles() const { return m_bundles; }
    bool hasSizes() const { return m_sizes.has_value(); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant sizeData(const DatamonBundle& bundle, int role) const;

    QString m_repo;
    QList<DatamonBundle> m_bundles;
    std::optional<DatamonRepoSizes> m_sizes;
};

// The labels of one repo as `label list` prints them: name, the bundle it points at, when it was set.
class DatamonLabelModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Name,
        Bundle,
        Time,
        ColumnCount
    };

    explicit DatamonLabelModel(QObject* parent = nullptr);

    void setLabels(const QList<DatamonLabel>& labels);
    void clear() { setLabels({}); }
    const QList<DatamonLabel>& labels() const { return m_labels; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<DatamonLabel> m_labels;
};

} // namespace opsdeck
