// The Pulumi purge's restore files (services/pulumi/PulumiRowFile) on arbitrary bytes: as a whole file, and as the
// lines above a trailer made to match them (a correct sha256 and the row count the first byte gives), so that the
// parser proper reads them rather than stopping at the checksum. A file that decodes is encoded again and must come
// back the same.
#include "pulumi/PulumiRowFile.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace opsdeck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;
    (void)PulumiRowFile::decode(bytes, &error);

    QByteArray body = QByteArrayLiteral("opsdeck-pulumi-rows 1\n") + bytes.mid(1);
    if (!body.endsWith('\n'))
        body += '\n';
    const QByteArray sealed = body + "E\t" + QByteArray::number(size > 0 ? data[0] % 8 : 0) + '\t'
        + PulumiRowFile::sum(body).toLatin1() + '\n';
    if (const auto tables = PulumiRowFile::decode(sealed, &error)) {
        const auto again = PulumiRowFile::decode(PulumiRowFile::encode(*tables), &error);
        if (!again || *again != *tables)
            std::abort();
    }
    return 0;
}
