// The Prometheus text parser (services/deploy/PrometheusText) on arbitrary text: a machine's metrics, its proxy's
// answers and the repository metrics file all come from outside.
#include "deploy/PrometheusText.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace opsdeck;
    const QByteArray text(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const QList<PrometheusSample> samples = PrometheusText::parse(text);
    // The lookups the deploy matrix makes.
    (void)PrometheusText::find(
        samples, QStringLiteral("nixos_configuration_info"), QStringLiteral("hostname"), QStringLiteral("wpia-packit"));
    (void)PrometheusText::find(samples, QStringLiteral("nixos_source_info"));
    return 0;
}
