#pragma once

#include "datamon/DatamonOutput.h"

#include "NaturalSortProxyModel.h"
#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace opsdeck {

// The repos of one datamon context as `repo list` streams them: each batch is appended at the end (one
// beginInsertRows per batch, never a reset), so the first rows show while datamon2 is still listing and a view
// keeps its selection and scroll position. All rows are in memory (10,000 repos are a few MB): a
// DatamonRepoFilter sorts and filters them.
class DatamonRepoModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Name,
        Description,
        Contributor,
        Created,
        ColumnCount
    };
    // The value a column sorts by (the time as a QDateTime, not its text).
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit DatamonRepoModel(QObject* parent = nullptr);

    // Appends a batch as it came; a repo already listed is updated in place instead (a listing never repeats a
    // name, but a caller must not be able to make two rows of one repo).
    void appendRepos(const QList<DatamonRepo>& repos);
    void clear();

    const QList<DatamonRepo>& repos() const { return m_repos; }
    // The row of `name`, or -1.
    int rowOf(const QString& name) const { return m_rows.value(name, -1); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<DatamonRepo> m_repos;
    QHash<QString, int> m_rows; // name -> row, so that appending stays linear
};

// Sorts the repos by SortRole and keeps those whose name, description or contributor (name or email) contains the
// filter text, case-insensitively.
class DatamonRepoFilter : public NaturalSortProxyModel
{
    Q_OBJECT
public:
    explicit DatamonRepoFilter(QObject* parent = nullptr);

    // The text as typed (no pattern syntax); empty keeps every repo.
    void setText(const QString& text);
    QString text() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString m_text;
};

// A time cell of the datamon tables: UTC in the locale's short format for the display, ISO 8601 (UTC, and the
// offset datamon stored when it was another) in the tooltip.
namespace DatamonCells {
QVariant time(const QDateTime& time, int role);
// The first line of a text that may have several; the whole text in the tooltip when it had more.
QVariant oneLine(const QString& text, int role);
} // namespace DatamonCells

} // namespace opsdeck
