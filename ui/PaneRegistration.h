#pragma once

#include "config/Inventory.h"
#include "runbook/JournalLocation.h"

#include <QString>

#include <functional>

namespace opsdeck {

class CredentialStore;
class RunsDock;
class SystemPane;

// What the console gives a system's pane when it builds it.
struct PaneContext
{
    const Inventory& inventory;
    CredentialStore* credentials;
    RunsDock* runs;
    JournalLocation journalLocation;
};

// A system's entry in the console: how to build its pane (whose title() names the sidebar entry). The console
// shows the registrations it is given, in their order, between Hosts and the Journal; app/Systems.cpp lists them.
struct PaneRegistration
{
    std::function<SystemPane*(const PaneContext& context)> create;
};

} // namespace opsdeck
