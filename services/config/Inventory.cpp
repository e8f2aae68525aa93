#include "config/Inventory.h"

namespace opsdeck {

namespace {

template <typename Entry> const Entry* byName(const QList<Entry>& entries, const QString& name)
{
    for (const Entry& entry : entries) {
        if (entry.name == name)
            return &entry;
    }
    return nullptr;
}

} // namespace

const Host* Inventory::host(const QString& name) const
{
    return byName(hosts, name);
}

const Database* Inventory::database(const QString& name) const
{
    return byName(databases, name);
}

const DeployMachine* Inventory::machine(const QString& name) const
{
    return byName(machines, name);
}

const Cluster* Inventory::cluster(const QString& name) const
{
    return byName(clusters, name);
}

const DatamonContext* Inventory::datamonContext(const QString& name) const
{
    return byName(datamon, name);
}

} // namespace opsdeck
