#include "deploy/DeploySetup.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretResolver.h"
#include "secrets/SecretSpecs.h"
#include "ssh/SshSecretSpecs.h"

namespace opsdeck {

void resolveDeploySetup(CredentialStore* store,
    const Inventory& inventory,
    QObject* context,
    std::function<void(DeploySetup setup, const QString& warning)> done)
{
    QStringList hosts; // the hosts whose secrets the specs ask for, then maybe the GitHub token
    QList<SecretSpec> specs;
    for (const DeployMachine& m : inventory.machines) {
        const Host* host = inventory.host(m.host);
        if (host && SshSecretSpecs::hostNeedsSecret(*host) && !hosts.contains(host->name)) {
            hosts << host->name;
            specs << SshSecretSpecs::forHost(*host);
        }
    }
    const bool wantsToken = !inventory.deploy.repository.isEmpty();
    if (wantsToken)
        specs << SecretSpecs::forGithub(inventory.github, inventory.deploy);
    // A missing secret is a warning, not the end: the other machines (and public reads) still work.
    SecretResolver::resolveEach(store, specs, context,
        [inventory, hosts, wantsToken, done = std::move(done)](const QList<SecretResult>& results) {
            DeploySetup setup;
            setup.inventory = inventory;
            QStringList warnings;
            for (qsizetype i = 0; i < hosts.size(); ++i) {
                if (results[i].ok)
                    setup.sshSecrets.insert(hosts[i], results[i].secret);
                else
                    warnings << QStringLiteral("no SSH secret for %1: %2").arg(hosts[i], results[i].error);
            }
            if (wantsToken) {
                if (results.last().ok)
                    setup.githubToken = results.last().secret;
                else
                    warnings << QStringLiteral("no GitHub token: %1").arg(results.last().error);
            }
            done(setup, warnings.join(QStringLiteral("; ")));
        });
}

} // namespace opsdeck
