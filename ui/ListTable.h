#pragma once

#include <QString>

class QAbstractItemModel;
class QTableView;
class QWidget;

namespace opsdeck {

// How a pane's list table keeps its column widths.
enum class ColumnFit
{
    ToRows, // fitted to what the rows say whenever rows come or change (a refresh that changes nothing leaves them)
    ByCaller, // the pane fits them (a 10,000-row stream is fitted once, to its first rows)
};

// A read-only list table of a pane (targets, repos, bundles, StatefulSets, pods): whole rows selected one at a time,
// no editing, alternating rows, no wrapping, no row numbers, the last column taking the rest of the width.
void setUpListTable(QTableView* view);
// Columns as wide as their contents, but none wider than 280 pixels (the last one then fills what is left): a long
// value (a host key, an error) is elided in the middle, whole in its tooltip, and no column pushes the others off
// screen.
void fitColumns(QTableView* view);
// A new such table on `model`.
QTableView* makeListTable(QAbstractItemModel* model, const QString& objectName, QWidget* parent, ColumnFit fit);

} // namespace opsdeck
