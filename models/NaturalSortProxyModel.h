#pragma once

#include <QSortFilterProxyModel>

namespace opsdeck {

// Sorts as people read names: digits by their value (dev-9, dev-89, dev-99, dev-890), case ignored; numbers as
// numbers. Every sortable table of a pane sorts through it, so that one order holds everywhere.
class NaturalSortProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit NaturalSortProxyModel(QObject* parent = nullptr);

    // <0, 0, >0: runs of digits compare by their value, the rest case-insensitively. Written out rather than
    // QCollator's numeric mode, which the C locale of a console started without LANG ignores.
    static int compare(QStringView left, QStringView right);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

} // namespace opsdeck
