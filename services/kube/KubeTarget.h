#pragma once

#include "config/Inventory.h"
#include "kube/Kubeconfig.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// One namespace of one inventory cluster, with its kubeconfig context resolved (server, TLS, token), ready for a
// worker thread's KubeClient. What every system that reaches a cluster starts from (the RAFT reset's StatefulSets,
// datamon's purge Jobs). Secrets (a token from the keychain) are filled in by the caller, on the GUI or CLI thread,
// before the target is handed to a worker (resolveKubeSecrets).
struct KubeTarget
{
    Cluster cluster; // the inventory's entry: name, tags
    Kubeconfig::Resolved kube;
    QString ns;
    QStringList namespaces; // what the inventory allows on this cluster: its list, else the context's namespace

    enum class Problem
    {
        None,
        InvalidName, // a name that is not one (cluster, namespace)
        UnknownCluster,
        UnknownNamespace, // valid, but not one the inventory lists for the cluster
        Kubeconfig, // the kubeconfig or its context cannot be used
        Refused, // a production cluster that does not verify TLS
    };

    // Validates the names first (nothing with path or shell syntax gets further), then the cluster, its kubeconfig
    // (`kubeconfigFiles` when the inventory names none: Kubeconfig::defaultFiles of the environment) and context,
    // then the namespace against the cluster's list.
    static std::optional<KubeTarget> resolve(const Inventory& inventory,
        const QString& cluster,
        const QString& ns,
        Problem* problem,
        QString* error,
        const QStringList& kubeconfigFiles = defaultKubeconfigFiles());
    // The cluster on its first namespace, for a caller that lists the namespaces (target.namespaces) first.
    static std::optional<KubeTarget> resolveCluster(const Inventory& inventory,
        const QString& cluster,
        Problem* problem,
        QString* error,
        const QStringList& kubeconfigFiles = defaultKubeconfigFiles());
    // $KUBECONFIG, then ~/.kube/config.
    static QStringList defaultKubeconfigFiles();

    // The kubeconfig's user has neither token nor client certificate: the token comes from tokenEnv or the keychain.
    bool needsToken() const { return !kube.authenticates(); }
    QString id() const { return cluster.name + u'/' + ns; }
};

} // namespace opsdeck
