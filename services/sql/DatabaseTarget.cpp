#include "sql/DatabaseTarget.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretResolver.h"
#include "secrets/SecretSpecs.h"
#include "ssh/SshSecretSpecs.h"

namespace opsdeck {

std::optional<DatabaseTarget> DatabaseTarget::resolve(const Inventory& inventory, const QString& name, QString* error)
{
    const Database* database = inventory.database(name);
    if (!database) {
        *error = QStringLiteral("database \"%1\" is not in the inventory").arg(name);
        return std::nullopt;
    }
    DatabaseTarget target { *database, std::nullopt, {}, {} };
    if (!database->via.isEmpty()) {
        const Host* host = inventory.host(database->via);
        if (!host) {
            *error = QStringLiteral("database %1 is reached via host %2, which is not in the inventory")
                         .arg(name, database->via);
            return std::nullopt;
        }
        target.via = *host;
    }
    return target;
}

void resolveDatabaseSecrets(CredentialStore* store,
    DatabaseTarget target,
    QObject* context,
    std::function<void(std::optional<DatabaseTarget>, const QString& error)> done)
{
    QList<SecretSpec> specs;
    QList<QString DatabaseTarget::*> fields; // where each spec's secret goes
    if (target.via && SshSecretSpecs::hostNeedsSecret(*target.via)) {
        specs << SshSecretSpecs::forHost(*target.via);
        fields << &DatabaseTarget::sshSecret;
    }
    if (SecretSpecs::databaseNeedsSecret(target.database)) {
        specs << SecretSpecs::forDatabase(target.database);
        fields << &DatabaseTarget::password;
    }
    SecretResolver::resolve(store, specs, context,
        [target = std::move(target), fields, done = std::move(done)](
            const QStringList& secrets, const QString& error) mutable {
            if (!error.isEmpty()) {
                done(std::nullopt, error);
                return;
            }
            for (qsizetype i = 0; i < fields.size(); ++i)
                target.*fields[i] = secrets[i];
            done(target, {});
        });
}

} // namespace opsdeck
