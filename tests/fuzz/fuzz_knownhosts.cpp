// The known_hosts reader (services/ssh/KnownHostsFile) on an arbitrary file, for a host on the default port and
// one on another port (written "[address]:port"), plain and hashed.
#include "ssh/KnownHostsFile.h"

#include <QBuffer>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    QByteArray contents(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QBuffer file(&contents);
    file.open(QIODevice::ReadOnly);
    (void)opsdeck::KnownHostsFile::fingerprintsIn(file, QStringLiteral("wpia-packit.example.org"), 22);
    file.seek(0);
    (void)opsdeck::KnownHostsFile::fingerprintsIn(file, QStringLiteral("127.0.0.11"), 23022);
    return 0;
}
