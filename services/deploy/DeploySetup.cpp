#include "deploy/DeploySetup.h"

#include "secrets/CredentialStore.h"
#include "secrets/SecretSpecs.h"

#include <memory>

namespace opsdeck {

namespace {

struct Pending
{
    DeploySetup setup;
    QStringList warnings;
    int left = 0;
    std::function<void(DeploySetup, const QString&)> done;

    void finishOne()
    {
        if (--left == 0)
            done(setup, warnings.join(QStringLiteral("; ")));
    }
};

} // namespace

void resolveDeploySetup(CredentialStore* store,
    const Inventory& inventory,
    QObject* context,
    std::function<void(DeploySetup setup, const QString& warning)> done)
{
    auto pending = std::make_shared<Pending>();
    pending->setup.inventory = inventory;
    pending->done = std::move(done);
    QList<const Host*> hosts;
    for (const DeployMachine& m : inventory.machines) {
        const Host* host = inventory.host(m.host);
        if (host && SecretSpecs::hostNeedsSecret(*host) && !hosts.contains(host))
            hosts << host;
    }
    pending->left = static_cast<int>(hosts.size()) + (inventory.deploy.repository.isEmpty() ? 0 : 1) + 1;
    for (const Host* host : hosts) {
        const QString name = host->name;
        store->lookup(SecretSpecs::forHost(*host), context, [pending, name](const SecretResult& result) {
            if (result.ok)
                pending->setup.sshSecrets.insert(name, result.secret);
            else
                pending->warnings << QStringLiteral("no SSH secret for %1: %2").arg(name, result.error);
            pending->finishOne();
        });
    }
    if (!inventory.deploy.repository.isEmpty()) {
        store->lookup(
            SecretSpecs::forGithub(inventory.github, inventory.deploy), context, [pending](const SecretResult& result) {
                if (result.ok)
                    pending->setup.githubToken = result.secret;
                else
                    pending->warnings << QStringLiteral("no GitHub token: %1").arg(result.error);
                pending->finishOne();
            });
    }
    // The one left over: so that `done` runs once, after every lookup, even when there is none.
    pending->finishOne();
}

} // namespace opsdeck
