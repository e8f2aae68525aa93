#pragma once

#include "config/Inventory.h"

#include <QObject>

#include <functional>
#include <optional>

namespace opsdeck {

class CredentialStore;

// One database of the inventory with what reaches it: the host whose SSH tunnel leads there (if any) and the
// secrets, filled in on the GUI or CLI thread before a worker uses it.
struct DatabaseTarget
{
    Database database;
    std::optional<Host> via;
    QString sshSecret;
    QString password;

    // nullopt with *error when the name is not a database of the inventory (or its via host is missing).
    static std::optional<DatabaseTarget> resolve(const Inventory& inventory, const QString& name, QString* error);
};

// Fills in the via host's SSH secret and the database password from the credential store (asking if it must).
void resolveDatabaseSecrets(CredentialStore* store,
    DatabaseTarget target,
    QObject* context,
    std::function<void(std::optional<DatabaseTarget>, const QString& error)> done);

} // namespace opsdeck
