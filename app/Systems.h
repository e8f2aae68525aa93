#pragma once

#include "Cli.h"
#include "PaneRegistration.h"
#include "config/Inventory.h"
#include "secrets/CredentialStore.h"

#include <QList>

#include <functional>

namespace opsdeck {

// One system (Packit, Pulumi, Deploy, ...) as the console and the CLI see it: its pane, its subcommands and usage
// lines, and the secrets its targets need. docs/architecture.md, "Adding a system", says how to add one.
struct SystemModule
{
    QString name; // "packit"
    PaneRegistration pane;
    CliModule cli;
    // Every secret the inventory's targets of this system can ask for (SSH, database, API token), so that a
    // console can list, check or forget them in one place; the lookups themselves go through the credential store.
    std::function<QList<SecretSpec>(const Inventory& inventory)> secrets;
};

// Every system, in the sidebar's and the help's order. The list is written out (app/Systems.cpp) rather than
// collected by static registration: a registering global in a static library is dropped by the linker when nothing
// else refers to its object file.
const QList<SystemModule>& systemModules();
QList<PaneRegistration> systemPanes();
QList<CliModule> systemCommands();
// Every secret the console can ask for with this inventory: each system's, and the journal's (a team journal's
// database password and its via host's secret, the chain's key), so that it can list, check or forget them in one
// place. Each once, in that order.
QList<SecretSpec> consoleSecrets(const Inventory& inventory);

} // namespace opsdeck
