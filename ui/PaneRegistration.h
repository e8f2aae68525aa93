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

// A system's entry in the console: its name in the sidebar, and how to build its pane. The console shows the
// registrations it is given, in their order, between Hosts and the Journal (app/Systems.cpp lists them), and builds a
// pane only when it is first needed: the window is up before any system is read.
struct PaneRegistration
{
    QString title;
    std::function<SystemPane*(const PaneContext& context)> create;
};

} // namespace opsdeck
