#pragma once

#include "kube/KubeTarget.h"
#include "secrets/CredentialStore.h"

#include <QObject>

#include <functional>
#include <optional>

namespace opsdeck {

// A cluster's API token when its kubeconfig user has none: the variable the cluster's tokenEnv names, else the
// keychain's opsdeck/k8s/<cluster>/token.
SecretSpec kubeTokenSpec(const Cluster& cluster);

// Fills in the token a cluster target needs when the kubeconfig gives none (KubeTarget::needsToken), from the
// credential store, asking the admin if it must. Runs on the GUI or CLI thread, never in a worker; `done` runs on
// `context`'s thread (never inside this call), with the target or with what is missing.
void resolveKubeSecrets(CredentialStore* store,
    KubeTarget target,
    QObject* context,
    std::function<void(std::optional<KubeTarget>, const QString& error)> done);

} // namespace opsdeck
