#include "datamon/DatamonQueries.h"

#include "config/NameRules.h"
#include "datamon/DatamonLogging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace opsdeck {

namespace {

constexpr int kListTimeoutMs = 15 * 60 * 1000; // 10,000 repos from GCS, or a repo of many bundles
constexpr int kReadTimeoutMs = 2 * 60 * 1000;

QStringList withFormat(QStringList words, QStringView format)
{
    return words << QStringLiteral("--format") << format.toString();
}

// Splits a listing's stdout into lines; the last one may lack its newline. The views point into `out`, so a
// temporary is refused at compile time.
QList<QByteArrayView> lines(QByteArray&& out) = delete;
QList<QByteArrayView> lines(const QByteArray& out)
{
    QList<QByteArrayView> result;
    qsizetype start = 0;
    while (start < out.size()) {
        qsizetype end = out.indexOf('\n', start);
        if (end < 0)
            end = out.size();
        result << QByteArrayView(out).sliced(start, end - start);
        start = end + 1;
    }
    return result;
}

// One round trip for what a purge must know first: the bucket's root listing (its objects with their metadata, its
// "directories"), then purge.lock and the start of reverse-index/chunk-1.yaml, each only when the listing has it
// (gcloud takes a second or more to start). Markers separate the parts. A range past an object's end fails in gcloud,
// so the lock (datamon writes ~50 bytes) is read whole, and chunk-1 whole only when it is shorter than its range.
const QString kStoreStateScript = QStringLiteral(
    "gcloud=$1; m=$2\n"
    "root=$(\"$gcloud\" storage ls --json --quiet \"gs://$m/\") || exit $?\n"
    "printf '%s\\n' \"$root\"\n"
    "case $root in *'\"url\": \"gs://'\"$m\"'/purge.lock#'*)\n"
    "  echo '@@opsdeck-lock'; \"$gcloud\" storage cat --quiet \"gs://$m/purge.lock\" | head -c 200;;\n"
    "esac\n"
    "case $root in *'\"url\": \"gs://'\"$m\"'/reverse-index/\"'*)\n"
    "  echo '@@opsdeck-chunk'; \"$gcloud\" storage cat --quiet --range=0-63 \"gs://$m/reverse-index/chunk-1.yaml\" "
    "2>/dev/null || \"$gcloud\" storage cat --quiet \"gs://$m/reverse-index/chunk-1.yaml\" 2>&1 | head -c 64;;\n"
    "esac\n");

// Why a command on the host failed: the connection's error, else what it printed on stderr.
QString why(const ExecResult& result)
{
    return result.error.isError() ? result.error.message : QString::fromUtf8(result.stderrData).trimmed().left(400);
}

} // namespace

DatamonQueries::DatamonQueries(DatamonHost& host, const DatamonTarget& target)
    : m_host(host)
    , m_target(target)
{
}

bool DatamonQueries::run(const QStringList& words,
    int timeoutMs,
    QByteArray* out,
    QString* error,
    bool* notFound,
    const QString& otherContext,
    const HostConnection::OutputSink& sink,
    DatamonExit* exit)
{
    const QStringList argv = m_target.datamon(words, otherContext);
    DatamonStderrParser stderrParser;
    const ExecResult result = m_host.run(argv, timeoutMs, [&](int stream, const QByteArray& data) {
        if (stream == 1)
            stderrParser.feed(data);
        if (sink)
            sink(stream, data);
    });
    stderrParser.finish();
    const QString what = QStringLiteral("datamon2 %1 (context %2, on %3)")
                             .arg(words.mid(0, 2).join(u' '),
                                 otherContext.isEmpty() ? m_target.context.context : otherContext, m_host.where());
    if (notFound)
        *notFound = false;
    if (result.error.isError()) {
        *error = QStringLiteral("%1: %2").arg(what, result.error.message);
        if (exit)
            *exit = { DatamonExit::Kind::Unknown, result.error.message };
        return false;
    }
    const DatamonExit ended = DatamonOutput::classifyExit(result.exitStatus, stderrParser, false);
    if (exit)
        *exit = ended;
    if (out)
        *out = result.stdoutData;
    if (ended.kind == DatamonExit::Kind::Ok)
        return true;
    if (notFound && ended.kind == DatamonExit::Kind::NotFound) {
        *notFound = true;
        return false;
    }
    qCInfo(lcDatamon) << what << "failed:" << ended.message;
    *error = QStringLiteral("%1: %2").arg(what, ended.message);
    return false;
}

template <typename Row>
std::optional<QList<Row>> DatamonQueries::listing(
    const QStringList& words, std::optional<Row> (*parse)(QByteArrayView, qsizetype, QString*), QString* error)
{
    QByteArray out;
    if (!run(words, kListTimeoutMs, &out, error))
        return std::nullopt;
    QList<Row> rows;
    qsizetype number = 0;
    for (const QByteArrayView line : lines(out)) {
        ++number;
        const auto row = parse(line, number, error);
        if (!row)
            return std::nullopt;
        rows << *row;
    }
    return rows;
}

std::optional<QStringList> DatamonQueries::contexts(QString* error)
{
    QByteArray out;
    if (!run({ QStringLiteral("context"), QStringLiteral("list") }, kReadTimeoutMs, &out, error))
        return std::nullopt;
    auto names = DatamonOutput::parseContextList(out, error);
    if (!names)
        return std::nullopt;
    for (const QString& name : *names) {
        if (const QString problem = NameRules::datamonContextError(QStringLiteral("listed context"), name);
            !problem.isEmpty()) {
            *error = QStringLiteral("context list of config bucket %1: %2").arg(m_target.context.config, problem);
            return std::nullopt;
        }
    }
    return names;
}

std::optional<DatamonContextBuckets> DatamonQueries::buckets(const QString& context, QString* error)
{
    QByteArray out;
    if (!run(withFormat({ QStringLiteral("context"), QStringLiteral("get") }, DatamonOutput::kContextFormat),
            kReadTimeoutMs, &out, error, nullptr, context))
        return std::nullopt;
    const QList<QByteArrayView> got = lines(out);
    if (got.size() != 1) {
        *error = QStringLiteral("datamon2 context get printed %1 lines, not 1").arg(got.size());
        return std::nullopt;
    }
    return DatamonOutput::parseContextLine(got.front(), 1, error);
}

std::optional<QList<DatamonContextBuckets>> DatamonQueries::sharingBlobBucket(QString* error)
{
    const auto own = buckets({}, error);
    if (!own)
        return std::nullopt;
    const auto names = contexts(error);
    if (!names)
        return std::nullopt;
    QList<DatamonContextBuckets> sharing { *own };
    for (const QString& name : *names) {
        if (name == m_target.context.context)
            continue;
        const auto other = buckets(name, error);
        if (!other)
            return std::nullopt;
        if (other->blob == own->blob)
            sharing << *other;
    }
    return sharing;
}

bool DatamonQueries::repos(const std::function<void(const QList<DatamonRepo>&)>& rows, QString* error)
{
    QByteArray pending; // stdout after the last complete line
    qsizetype number = 0;
    QString parseError;
    const auto take = [&](const QByteArray& data) {
        if (!parseError.isEmpty())
            return; // the listing failed already: the rest is not read
        pending += data;
        const qsizetype end = pending.lastIndexOf('\n');
        if (end < 0)
            return;
        const QByteArray complete = pending.left(end + 1);
        QList<DatamonRepo> batch;
        for (const QByteArrayView line : lines(complete)) {
            const auto repo = DatamonOutput::parseRepoLine(line, ++number, &parseError);
            if (!repo)
                break;
            batch << *repo;
        }
        pending.remove(0, end + 1);
        if (!batch.isEmpty())
            rows(batch);
    };
    const bool ok = run(withFormat({ QStringLiteral("repo"), QStringLiteral("list") }, DatamonOutput::kRepoFormat),
        kListTimeoutMs, nullptr, error, nullptr, {}, [&](int stream, const QByteArray& data) {
            if (stream == 0)
                take(data);
        });
    if (ok && !pending.isEmpty())
        take(QByteArray("\n"));
    if (ok && !parseError.isEmpty())
        *error = QStringLiteral("repo list of context %1: %2").arg(m_target.context.context, parseError);
    return ok && parseError.isEmpty();
}

std::optional<DatamonQueries::StoreState> DatamonQueries::storeState(const QString& metadataBucket, QString* error)
{
    const ExecResult result = m_host.run({ QStringLiteral("/bin/sh"), QStringLiteral("-c"), kStoreStateScript,
                                             QStringLiteral("sh"), m_target.context.gcloud, metadataBucket },
        kReadTimeoutMs);
    if (!result.succeeded()) {
        *error
            = QStringLiteral("reading purge.lock and reverse-index/ of gs://%1/ with %2 on %3 failed: %4; check that "
                             "gcloud there has datamon's credentials")
                  .arg(metadataBucket, m_target.context.gcloud, m_host.where(), why(result));
        return std::nullopt;
    }
    return parseStoreState(result.stdoutData, metadataBucket, error);
}

std::optional<QList<DatamonBundleObject>> DatamonQueries::bundleObjects(
    const QStringList& metadataBuckets, QString* error)
{
    QStringList words { QStringLiteral("objects"), QStringLiteral("list") };
    for (const QString& bucket : metadataBuckets)
        words << QStringLiteral("gs://%1/bundles/*/*/bundle.yaml").arg(bucket);
    words << QStringLiteral("--format=") + DatamonOutput::kBundleObjectFormat.toString();
    const QString where = QStringLiteral("gs://%1/").arg(metadataBuckets.join(QStringLiteral("/, gs://")));
    const ExecResult result = m_host.run(m_target.gcloudStorage(words), kListTimeoutMs);
    if (!result.succeeded()) {
        *error = QStringLiteral("listing the bundles of %1 with %2 on %3 failed: %4")
                     .arg(where, m_target.context.gcloud, m_host.where(), why(result));
        return std::nullopt;
    }
    QString problem;
    auto objects = DatamonOutput::parseBundleObjects(result.stdoutData, &problem);
    if (!objects)
        *error = QStringLiteral("the bundles of %1: %2").arg(where, problem);
    return objects;
}

std::optional<DatamonQueries::StoreState> DatamonQueries::parseStoreState(
    const QByteArray& out, const QString& bucket, QString* error)
{
    const qsizetype lockAt = out.indexOf("\n@@opsdeck-lock\n");
    const qsizetype chunkAt = out.indexOf("\n@@opsdeck-chunk\n");
    const qsizetype listingEnd = lockAt >= 0 ? lockAt : chunkAt >= 0 ? chunkAt : out.size();
    QJsonParseError parseError;
    const QJsonDocument listing = QJsonDocument::fromJson(out.left(listingEnd), &parseError);
    if (!listing.isArray()) {
        *error = QStringLiteral("gcloud storage ls --json gs://%1/ printed no JSON array: %2")
                     .arg(bucket, parseError.errorString());
        return std::nullopt;
    }
    StoreState state;
    const QString lockUrl = QStringLiteral("gs://%1/purge.lock#").arg(bucket);
    const QString indexUrl = QStringLiteral("gs://%1/reverse-index/").arg(bucket);
    for (const QJsonValue& entry : listing.array()) {
        const QJsonObject o = entry.toObject();
        const QString url = o.value(QStringLiteral("url")).toString();
        if (url.startsWith(lockUrl)) {
            const QJsonObject metadata = o.value(QStringLiteral("metadata")).toObject();
            state.locked = true;
            state.lockGeneration = metadata.value(QStringLiteral("generation")).toString();
            state.lockUpdated
                = QDateTime::fromString(metadata.value(QStringLiteral("updated")).toString(), Qt::ISODateWithMs);
        } else if (url == indexUrl) {
            state.indexed = true;
        }
    }
    if (state.locked != (lockAt >= 0) || state.indexed != (chunkAt >= 0)) {
        *error = QStringLiteral("the read of gs://%1/ is incomplete: the listing and the parts read do not agree")
                     .arg(bucket);
        return std::nullopt;
    }
    const auto part = [&](qsizetype at, qsizetype marker) {
        const qsizetype start = at + marker;
        const qsizetype end = chunkAt > at ? chunkAt : out.size();
        return out.mid(start, end - start);
    };
    if (state.locked) {
        const QByteArray lock = part(lockAt, qsizetype(sizeof("\n@@opsdeck-lock\n") - 1));
        state.lockText = QString::fromUtf8(lock.left(lock.indexOf('\n'))).left(200);
        QString lockError;
        if (const auto lockedAt = DatamonOutput::parseLockedAt(lock, &lockError))
            state.lockedAt = *lockedAt;
    }
    if (state.indexed) {
        const QByteArray chunk = out.mid(chunkAt + qsizetype(sizeof("\n@@opsdeck-chunk\n") - 1));
        if (const auto time = DatamonOutput::parseIndexChunkTime(chunk, &state.indexProblem))
            state.indexTime = *time;
        else
            state.indexProblem
                = QStringLiteral("reverse-index/chunk-1.yaml gives no index time (%1)").arg(state.indexProblem);
    }
    return state;
}

std::optional<DatamonRepo> DatamonQueries::repo(const QString& repo, bool* notFound, QString* error)
{
    QByteArray out;
    if (!run(withFormat({ QStringLiteral("repo"), QStringLiteral("get"), QStringLiteral("--repo"), repo },
                 DatamonOutput::kRepoFormat),
            kReadTimeoutMs, &out, error, notFound))
        return std::nullopt;
    const QList<QByteArrayView> got = lines(out);
    if (got.size() != 1) {
        *error = QStringLiteral("datamon2 repo get printed %1 lines, not 1").arg(got.size());
        return std::nullopt;
    }
    return DatamonOutput::parseRepoLine(got.front(), 1, error);
}

std::optional<QList<DatamonBundle>> DatamonQueries::bundles(const QString& repo, QString* error)
{
    return listing<DatamonBundle>(
        withFormat({ QStringLiteral("bundle"), QStringLiteral("list"), QStringLiteral("--repo"), repo },
            DatamonOutput::kBundleFormat),
        &DatamonOutput::parseBundleLine, error);
}

std::optional<QList<DatamonLabel>> DatamonQueries::labels(const QString& repo, QString* error)
{
    return listing<DatamonLabel>(
        withFormat({ QStringLiteral("label"), QStringLiteral("list"), QStringLiteral("--repo"), repo },
            DatamonOutput::kLabelFormat),
        &DatamonOutput::parseLabelLine, error);
}

std::optional<DatamonRepoSizes> DatamonQueries::sizes(const QString& repo, QString* error)
{
    // Without --format: with it datamon2 applies the repo template to the bundle lines too, and fails.
    QByteArray out;
    if (!run({ QStringLiteral("repo"), QStringLiteral("get"), QStringLiteral("--repo"), repo,
                 QStringLiteral("--with-size") },
            kListTimeoutMs, &out, error))
        return std::nullopt;
    return DatamonOutput::parseRepoSizes(out, error);
}

} // namespace opsdeck
