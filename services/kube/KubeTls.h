#pragma once

#include "kube/Kubeconfig.h"

#include <QSslConfiguration>
#include <QString>

#include <optional>

namespace opsdeck {

// The TLS of a resolved kubeconfig context, as client-go sets it up: the kubeconfig's CA is the only trusted root
// when it names one (else the system's), insecure-skip-tls-verify turns verification off, and a client
// certificate with its key authenticates. Shared by the REST client and exec, so both trust the same things.
std::optional<QSslConfiguration> kubeTlsConfiguration(const Kubeconfig::Resolved& cluster, QString* error);

} // namespace opsdeck
