#include "kube/KubeTarget.h"

#include "config/NameRules.h"
#include "kube/KubeLogging.h"

#include <QDir>

namespace opsdeck {

QStringList KubeTarget::defaultKubeconfigFiles()
{
    return Kubeconfig::defaultFiles(qEnvironmentVariable("KUBECONFIG"), QDir::homePath());
}

std::optional<KubeTarget> KubeTarget::resolveCluster(const Inventory& inventory,
    const QString& clusterName,
    Problem* problem,
    QString* error,
    const QStringList& kubeconfigFiles)
{
    auto refuse = [&](Problem kind, const QString& message) {
        *problem = kind;
        *error = message;
        return std::nullopt;
    };
    if (const QString bad = NameRules::nameError(QStringLiteral("cluster"), clusterName); !bad.isEmpty())
        return refuse(Problem::InvalidName, bad);
    const Cluster* cluster = inventory.cluster(clusterName);
    if (!cluster) {
        QStringList known;
        for (const Cluster& c : inventory.clusters)
            known << c.name;
        return refuse(Problem::UnknownCluster,
            QStringLiteral("no cluster \"%1\" in the inventory; it has: %2")
                .arg(clusterName, known.isEmpty() ? QStringLiteral("none") : known.join(QStringLiteral(", "))));
    }

    const QStringList files = cluster->kubeconfig.isEmpty() ? kubeconfigFiles : cluster->kubeconfig;
    QString why;
    const auto config = Kubeconfig::load(files, &why);
    const auto kube = config ? config->resolve(cluster->context, &why, Kubeconfig::Credentials::TokenSuppliedByCaller)
                             : std::nullopt;
    if (!kube)
        return refuse(Problem::Kubeconfig, QStringLiteral("cluster %1: %2").arg(clusterName, why));
    if (kube->insecureSkipTlsVerify && cluster->tags.production)
        return refuse(Problem::Refused,
            QStringLiteral("cluster %1 is production and its kubeconfig context \"%2\" skips TLS verification "
                           "(insecure-skip-tls-verify): give the cluster's CA (certificate-authority-data) instead")
                .arg(clusterName, kube->context.name));
    for (const QString& warning : kube->warnings)
        qCWarning(lcKube).noquote() << QStringLiteral("cluster %1: %2").arg(clusterName, warning);

    KubeTarget target;
    target.cluster = *cluster;
    target.kube = *kube;
    // kubectl's rule: a context without a namespace means "default".
    const QString contextNamespace = kube->context.ns.isEmpty() ? QStringLiteral("default") : kube->context.ns;
    target.namespaces = cluster->namespaces.isEmpty() ? QStringList { contextNamespace } : cluster->namespaces;
    target.ns = target.namespaces.first();
    *problem = Problem::None;
    return target;
}

std::optional<KubeTarget> KubeTarget::resolve(const Inventory& inventory,
    const QString& clusterName,
    const QString& ns,
    Problem* problem,
    QString* error,
    const QStringList& kubeconfigFiles)
{
    // Both names before anything is read, so a bad namespace is named as such whatever the cluster.
    if (const QString bad = NameRules::nameError(QStringLiteral("cluster"), clusterName); !bad.isEmpty()) {
        *problem = Problem::InvalidName;
        *error = bad;
        return std::nullopt;
    }
    if (const QString bad = NameRules::dnsLabelError(QStringLiteral("namespace"), ns); !bad.isEmpty()) {
        *problem = Problem::InvalidName;
        *error = bad;
        return std::nullopt;
    }
    auto target = resolveCluster(inventory, clusterName, problem, error, kubeconfigFiles);
    if (!target)
        return std::nullopt;
    if (!target->namespaces.contains(ns)) {
        *problem = Problem::UnknownNamespace;
        *error = QStringLiteral("namespace \"%1\" is not one of cluster %2's in the inventory (%3): add it to the "
                                "cluster's namespaces")
                     .arg(ns, clusterName, target->namespaces.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    target->ns = ns;
    return target;
}

} // namespace opsdeck
