#include "packit/PackitSecrets.h"

#include "sql/DatabaseTarget.h"

namespace opsdeck {

// An instance needs what its database needs: the host's SSH secret for the tunnel, and the database password.
void resolvePackitSecrets(CredentialStore* store,
    PackitTarget target,
    QObject* context,
    std::function<void(std::optional<PackitTarget>, const QString& error)> done)
{
    resolveDatabaseSecrets(store, target.databaseTarget(), context,
        [target, done = std::move(done)](std::optional<DatabaseTarget> resolved, const QString& error) mutable {
            if (!resolved) {
                done(std::nullopt, error);
                return;
            }
            target.sshSecret = resolved->sshSecret;
            target.databasePassword = resolved->password;
            done(target, {});
        });
}

} // namespace opsdeck
