#pragma once

#include "config/Inventory.h"
#include "kube/Kubeconfig.h"

#include <QString>

#include <optional>

namespace opsdeck {

// One namespace of one inventory cluster, with its kubeconfig context resolved (server, TLS, token), ready for a
// worker thread's KubeClient and KubeExec. Secrets (a token from the keychain) are filled in by the caller, on the
// GUI or CLI thread, before the target is handed to a worker.
struct RaftTarget
{
    Cluster cluster; // the inventory's entry: name, tags
    Kubeconfig::Resolved kube;
    QString ns;

    QString id() const { return cluster.name + u'/' + ns; }
};

} // namespace opsdeck
