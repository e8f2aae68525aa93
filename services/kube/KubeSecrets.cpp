#include "kube/KubeSecrets.h"

#include "secrets/SecretResolver.h"

namespace opsdeck {

SecretSpec kubeTokenSpec(const Cluster& cluster)
{
    SecretSpec spec;
    spec.kind = QStringLiteral("k8s");
    spec.target = cluster.name;
    spec.account = QStringLiteral("token");
    spec.envVar = cluster.tokenEnv;
    spec.label = QStringLiteral("API token for cluster %1 (oc whoami -t)").arg(cluster.name);
    return spec;
}

void resolveKubeSecrets(CredentialStore* store,
    KubeTarget target,
    QObject* context,
    std::function<void(std::optional<KubeTarget>, const QString& error)> done)
{
    const QList<SecretSpec> specs
        = target.needsToken() ? QList<SecretSpec> { kubeTokenSpec(target.cluster) } : QList<SecretSpec> {};
    SecretResolver::resolve(store, specs, context,
        [target, done = std::move(done)](const QStringList& secrets, const QString& error) mutable {
            if (!error.isEmpty()) {
                // A user that logs in through a plugin needs its token from elsewhere: say which plugin.
                done(std::nullopt,
                    target.kube.plugin.isEmpty()
                        ? error
                        : QStringLiteral("%1 (context \"%2\" logs in through the %3, which opsdeck does not run)")
                              .arg(error, target.kube.context.name, target.kube.plugin));
                return;
            }
            // The credential store has given the token to SecretScrubber.
            if (!secrets.isEmpty())
                target.kube.token = secrets.first();
            done(target, {});
        });
}

} // namespace opsdeck
