#include "packit/PackitSecrets.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretSpecs.h"

namespace opsdeck {

namespace {

using Done = std::function<void(std::optional<PackitTarget>, const QString&)>;

void resolveDatabase(CredentialStore* store, PackitTarget target, QObject* context, Done done)
{
    if (!SecretSpecs::databaseNeedsSecret(target.database)) {
        done(target, {});
        return;
    }
    store->lookup(
        SecretSpecs::forDatabase(target.database), context, [target, done](const SecretResult& result) mutable {
            if (!result.ok) {
                done(std::nullopt, result.error);
                return;
            }
            target.databasePassword = result.secret;
            done(target, {});
        });
}

} // namespace

void resolvePackitSecrets(CredentialStore* store, PackitTarget target, QObject* context, Done done)
{
    if (!SecretSpecs::hostNeedsSecret(target.host)) {
        resolveDatabase(store, std::move(target), context, std::move(done));
        return;
    }
    store->lookup(
        SecretSpecs::forHost(target.host), context, [store, target, context, done](const SecretResult& result) mutable {
            if (!result.ok) {
                done(std::nullopt, result.error);
                return;
            }
            target.sshSecret = result.secret;
            resolveDatabase(store, std::move(target), context, std::move(done));
        });
}

} // namespace opsdeck
