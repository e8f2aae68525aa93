// datamon2's output parsers (services/datamon/DatamonOutput) on arbitrary bytes: every line as a repo, bundle, label
// and context line; the whole input as each stdout block (context list, repo sizes, both purge summaries), a lock
// object, an index chunk and gcloud's bundle.yaml listing; and as stderr, fed in two chunks split where the first byte
// says, then classified with the exit status the second byte gives. Also what the console's own scripts print on the
// datamon host: the store-state read (the first byte says whether an index was asked for), commands run together, a
// job's poll and the list of jobs. And the undo window's trash: gcloud's object listing, mapped back from the trash,
// and a window's restore data (its object list and its trash).
#include "datamon/DatamonHost.h"
#include "datamon/DatamonOutput.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonTrash.h"
#include "datamon/DetachedJob.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

using namespace opsdeck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;

    qsizetype lineNumber = 0;
    for (qsizetype start = 0; start <= bytes.size(); ++lineNumber) {
        const qsizetype newline = bytes.indexOf('\n', start);
        const qsizetype end = newline < 0 ? bytes.size() : newline;
        const QByteArrayView line = bytes.sliced(start, end - start);
        (void)DatamonOutput::parseRepoLine(line, lineNumber + 1, &error);
        (void)DatamonOutput::parseBundleLine(line, lineNumber + 1, &error);
        (void)DatamonOutput::parseLabelLine(line, lineNumber + 1, &error);
        (void)DatamonOutput::parseContextLine(line, lineNumber + 1, &error);
        start = end + 1;
    }

    (void)DatamonOutput::parseContextList(bytes, &error);
    (void)DatamonOutput::parseRepoSizes(bytes, &error);
    (void)DatamonOutput::parseIndexSummary(bytes, &error);
    (void)DatamonOutput::parsePurgeSummary(bytes, &error);
    (void)DatamonOutput::parseLockedAt(bytes, &error);
    (void)DatamonOutput::parseIndexChunkTime(bytes, &error);
    (void)DatamonOutput::parseBundleObjects(bytes, &error);

    const QByteArray whole = bytes.toByteArray();
    (void)DatamonQueries::parseStoreStates(whole, { QStringLiteral("m"), QStringLiteral("mm") }, &error);
    (void)DatamonHost::parseTogether(whole, size > 0 ? data[0] % 4 : 0, &error);
    (void)DetachedJob::parsePoll(whole, &error);
    (void)DetachedJob::parseFound(whole, &error);

    if (const auto listed = DatamonTrash::parseListing(whole, &error)) {
        const DatamonTrash trash(
            { {}, QStringLiteral("blob"), QStringLiteral("meta"), QStringLiteral("vmeta"), {}, {} },
            QStringLiteral("gs://meta/opsdeck-trash"), QStringLiteral("run"), QStringLiteral("repo"));
        for (const DatamonObject& object : *listed)
            (void)trash.original(object, &error);
        (void)DatamonTrash::digest(*listed);
    }
    const QJsonDocument document = QJsonDocument::fromJson(whole);
    (void)DatamonTrash::objectsFrom(document.array(), &error);
    (void)DatamonTrash::fromJson(document.object(), &error);

    DatamonStderrParser parser;
    const qsizetype split = bytes.isEmpty() ? 0 : qsizetype(data[0]) % (bytes.size() + 1);
    (void)parser.feed(bytes.first(split));
    (void)parser.feed(bytes.sliced(split));
    (void)parser.finish();
    const int status = size > 1 ? int(data[1]) - 1 : 0; // -1 (crash) to 254
    (void)DatamonOutput::classifyExit(status, parser, size > 0 && (data[0] & 1));
    return 0;
}
