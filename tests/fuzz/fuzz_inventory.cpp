// The inventory loader (services/config/InventoryLoader) on arbitrary YAML: it must answer an inventory or its
// errors, whatever the file holds.
#include "config/InventoryLoader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const opsdeck::InventoryLoadResult result = opsdeck::InventoryLoader::loadString(yaml, QStringLiteral("fuzz.yaml"));
    for (const opsdeck::InventoryError& error : result.errors)
        (void)error.toString();
    return 0;
}
