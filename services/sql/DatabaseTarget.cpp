#include "sql/DatabaseTarget.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretSpecs.h"

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
    const auto password = [store, context, done](DatabaseTarget resolved) {
        if (!SecretSpecs::databaseNeedsSecret(resolved.database)) {
            done(resolved, {});
            return;
        }
        store->lookup(
            SecretSpecs::forDatabase(resolved.database), context, [resolved, done](const SecretResult& result) mutable {
                if (!result.ok) {
                    done(std::nullopt, result.error);
                    return;
                }
                resolved.password = result.secret;
                done(resolved, {});
            });
    };
    if (!target.via || !SecretSpecs::hostNeedsSecret(*target.via)) {
        password(std::move(target));
        return;
    }
    store->lookup(
        SecretSpecs::forHost(*target.via), context, [target, password, done](const SecretResult& result) mutable {
            if (!result.ok) {
                done(std::nullopt, result.error);
                return;
            }
            target.sshSecret = result.secret;
            password(std::move(target));
        });
}

} // namespace opsdeck
