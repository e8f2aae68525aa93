#include "config/Inventory.h"

namespace opsdeck {

const Host* Inventory::host(const QString& name) const
{
    for (const Host& h : hosts) {
        if (h.name == name)
            return &h;
    }
    return nullptr;
}

const Database* Inventory::database(const QString& name) const
{
    for (const Database& d : databases) {
        if (d.name == name)
            return &d;
    }
    return nullptr;
}

const DeployMachine* Inventory::machine(const QString& name) const
{
    for (const DeployMachine& m : machines) {
        if (m.name == name)
            return &m;
    }
    return nullptr;
}

} // namespace opsdeck
