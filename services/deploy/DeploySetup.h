#pragma once

#include "config/Inventory.h"

#include <QMap>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace opsdeck {

class CredentialStore;

// The inventory plus the secrets the deploy services need, resolved on the GUI (or CLI) thread before any
// worker starts: worker threads never prompt.
struct DeploySetup
{
    Inventory inventory;
    QMap<QString, QString> sshSecrets; // host name -> key passphrase or password, for hosts that need one
    QString githubToken; // empty: none stored; public reads still work (at GitHub's lower rate limit)

    const DeployMachine* machine(const QString& name) const { return inventory.machine(name); }
};

// Looks up the GitHub token and the SSH secrets of the machines' hosts. A missing SSH secret leaves that host
// out (its machine shows the error); a missing token is reported in `warning` and reads go without one.
void resolveDeploySetup(CredentialStore* store,
    const Inventory& inventory,
    QObject* context,
    std::function<void(DeploySetup setup, const QString& warning)> done);

} // namespace opsdeck
