#include "packit/PackitTarget.h"

#include "config/NameRules.h"

namespace opsdeck {

std::optional<PackitTarget> PackitTarget::resolve(
    const Inventory& inventory, const QString& hostName, const QString& instanceName, Problem* problem, QString* error)
{
    auto refuse = [&](Problem kind, const QString& message) {
        *problem = kind;
        *error = message;
        return std::nullopt;
    };
    if (const QString bad = NameRules::nameError(QStringLiteral("host"), hostName); !bad.isEmpty())
        return refuse(Problem::InvalidName, bad);
    if (const QString bad = NameRules::nameError(QStringLiteral("instance"), instanceName); !bad.isEmpty())
        return refuse(Problem::InvalidName, bad);
    const Host* host = inventory.host(hostName);
    if (!host)
        return refuse(Problem::UnknownHost, QStringLiteral("no host \"%1\" in the inventory").arg(hostName));
    for (const PackitInstance& instance : host->instances) {
        if (instance.name != instanceName)
            continue;
        PackitTarget target;
        target.host = *host;
        target.instance = instance;
        if (!NameRules::isStrictlyUnder(instance.outpackRoot, host->outpackBase))
            return refuse(Problem::UnsafeRoot,
                QStringLiteral("the outpack root %1 of %2 does not lie strictly under %3; fix the inventory")
                    .arg(instance.outpackRoot, target.id(), host->outpackBase));
        if (const Database* database = inventory.database(instance.database)) {
            target.database = *database;
        } else {
            // packit-infra: one database and role per instance, named after it, trusted on the host's loopback.
            target.database.name = instance.name;
            target.database.kind = DatabaseKind::Postgres;
            target.database.via = host->name;
            target.database.port = 5432;
            target.database.database = instance.name;
            target.database.user = instance.name;
        }
        *problem = Problem::None;
        return target;
    }
    QStringList known;
    for (const PackitInstance& instance : host->instances)
        known << instance.name;
    return refuse(Problem::UnknownInstance,
        QStringLiteral("no Packit instance \"%1\" on %2; it has: %3")
            .arg(instanceName, hostName, known.isEmpty() ? QStringLiteral("none") : known.join(u", ")));
}

} // namespace opsdeck
