#pragma once

#include "config/InventoryLoader.h"

#include <QWidget>

namespace opsdeck {

// Shown instead of the panes when the inventory cannot be used: every error with its file, line and column,
// and the ways out (fix and reload, or open another file).
class InventoryErrorView : public QWidget
{
    Q_OBJECT
public:
    InventoryErrorView(const QString& path, const QList<InventoryError>& errors, QWidget* parent = nullptr);

signals:
    void reloadRequested();
    void openRequested();
    void createRequested();
};

} // namespace opsdeck
