#pragma once

#include "config/Inventory.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace opsdeck {

struct InventoryError
{
    QString file; // as the caller gave it
    int line = 0; // 1-based; 0 when the file could not be read at all
    int column = 0;
    QString message;

    // "FILE:LINE:COL", the form compilers use, so editors and terminals can jump to it; only "FILE" when the problem
    // is the file as a whole (line 0).
    QString where() const;
    // "FILE:LINE:COL: message" ("FILE: message" for the file as a whole).
    QString toString() const;
};

struct InventoryLoadResult
{
    std::optional<Inventory> inventory; // set only when there are no errors
    QList<InventoryError> errors; // every problem in the file, in file order

    bool ok() const { return inventory.has_value() && errors.isEmpty(); }
};

// Reads and validates the inventory described in docs/inventory.md. Validation is complete: one pass reports
// every error, so an admin fixes the file in one go.
class InventoryLoader
{
public:
    static InventoryLoadResult loadFile(const QString& path);
    static InventoryLoadResult loadString(const QByteArray& yaml, const QString& fileName);

    // ~/.config/opsdeck/inventory.yaml, or wherever the platform keeps configuration.
    static QString defaultPath();
    // --inventory beats $OPSDECK_INVENTORY beats defaultPath().
    static QString resolvePath(const QString& cliValue);
};

} // namespace opsdeck
