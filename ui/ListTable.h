#pragma once

#include <QString>

class QAbstractItemModel;
class QAbstractItemView;
class QTableView;
class QTreeView;
class QWidget;

namespace opsdeck {

// How a pane's list table keeps its column widths.
enum class ColumnFit
{
    ToRows, // fitted to what the rows say whenever rows come or change (a refresh that changes nothing leaves them)
    ByCaller, // the pane fits them (a 10,000-row stream is fitted once, to its first rows)
};

// A read-only list table of a pane (targets, repos, bundles, StatefulSets, pods): whole rows selected one at a time,
// no editing, alternating rows of one height, no grid, no wrapping, no row numbers, long values elided in the middle,
// Tab leaving the table, the last column taking the rest of the width. Its columns are fitted again when it changes
// width or is shown, and the admin's own widths stay (fitColumns).
void setUpListTable(QTableView* view);
// The same look and keys for a tree view that shows a flat list (organisations, packet groups, files, runs): no root
// decoration, rows as tall as a list table's.
void setUpListTree(QTreeView* view);
// Fits the columns of a view set up by setUpListTable or setUpListTree: each as wide as its contents (the first, the
// row's name, up to a third of the view; the last one fills what is left), and when they do not fit, the widest
// narrowed alike until they do: a long value (a host key, an error) is elided in the middle, whole in its tooltip,
// and no column pushes the others off screen. A column whose edge the admin dragged
// keeps that width, also after a restart (QSettings, columns/<objectName>/<column>: every list view has a name of its
// own), until the header's "Fit columns to contents" or a double click on that edge.
void fitColumns(QAbstractItemView* view);
// Fits them again whenever rows come, change or go (once the model has settled, not at each row of a batch).
void fitColumnsToRows(QAbstractItemView* view);
// A new list table on `model`.
QTableView* makeListTable(QAbstractItemModel* model, const QString& objectName, QWidget* parent, ColumnFit fit);

} // namespace opsdeck
