// The kubeconfig reader (services/kube/Kubeconfig) on an arbitrary file: parsed, then every context resolved (which
// reads the files it names, each capped at 1 MiB).
#include "kube/Kubeconfig.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;
    const auto config = opsdeck::Kubeconfig::parse(yaml, QStringLiteral("/tmp/kubeconfig"), &error);
    if (!config)
        return 0;
    (void)config->resolve({}, &error);
    for (const QString& context : config->contextNames())
        (void)config->resolve(context, &error);
    return 0;
}
