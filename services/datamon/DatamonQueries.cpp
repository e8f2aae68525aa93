#include "datamon/DatamonQueries.h"

#include "config/NameRules.h"
#include "datamon/DatamonLogging.h"

#include <QHash>
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

// One round trip for what a purge must know first: one listing of every bucket's root (objects with their metadata,
// "directories"), then each purge.lock and the start of the first bucket's reverse-index/chunk-1.yaml, only where
// the listing has them, each behind a marker line. gcloud takes a second or more to start (a CPU-second here), so
// it starts as few times as it can, and with $2 = 2 chunk-1 is read while the listing runs (its answer dropped when
// there is no index). A range past an object's end fails in gcloud, so a lock (datamon writes ~50 bytes) is read
// whole, and chunk-1 whole only when it is shorter than its range. The `for` loop appends each bucket's URL to the
// arguments; a subshell resets the EXIT trap.
const QString kStoreStateScript = QStringLiteral(
    "gcloud=$1; index=$2; shift 2; m=$1; n=$#\n"
    "t=$(mktemp -d) || exit 125\n"
    "trap 'rm -rf \"$t\"' EXIT\n"
    "chunk() {\n"
    "  \"$gcloud\" storage cat --quiet --range=0-63 \"gs://$m/reverse-index/chunk-1.yaml\" > \"$t/chunk\" 2>/dev/null\n"
    "  echo $? > \"$t/rc\"\n"
    "}\n"
    "if [ \"$index\" = 2 ]; then chunk & fi\n"
    "for b do set -- \"$@\" \"gs://$b/\"; done\n"
    "root=$(shift \"$n\"; \"$gcloud\" storage ls --json --quiet \"$@\") || { s=$?; wait; exit $s; }\n"
    "printf '%s\\n' \"$root\"\n"
    "i=0\n"
    "for b do\n"
    "  [ $i -lt \"$n\" ] || break; i=$((i + 1))\n"
    "  case $root in *'\"url\": \"gs://'\"$b\"'/purge.lock#'*)\n"
    "    printf '\\n@@opsdeck-lock %s\\n' \"$b\"; \"$gcloud\" storage cat --quiet \"gs://$b/purge.lock\" | head -c "
    "200;;\n"
    "  esac\n"
    "done\n"
    "wait\n"
    "case $root in *'\"url\": \"gs://'\"$m\"'/reverse-index/\"'*)\n"
    "  [ \"$index\" = 2 ] || chunk\n"
    "  printf '\\n@@opsdeck-chunk\\n'\n"
    "  if [ \"$(cat \"$t/rc\")\" = 0 ]; then cat \"$t/chunk\"\n"
    "  else \"$gcloud\" storage cat --quiet \"gs://$m/reverse-index/chunk-1.yaml\" 2>&1 | head -c 64; fi;;\n"
    "esac\n");

// The JSON arrays gcloud storage ls --json prints, one after another (one per URL listed).
std::optional<QList<QJsonArray>> jsonArrays(QByteArrayView text, QString* error)
{
    QList<QJsonArray> arrays;
    qsizetype start = 0;
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"' && depth > 0) {
            inString = true;
        } else if ((c == '[' && depth == 0) || ((c == '[' || c == '{') && depth > 0)) {
            if (depth++ == 0)
                start = i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            if (--depth > 0)
                continue;
            QJsonParseError parseError;
            const QJsonDocument document
                = QJsonDocument::fromJson(text.sliced(start, i + 1 - start).toByteArray(), &parseError);
            if (!document.isArray()) {
                *error = parseError.errorString();
                return std::nullopt;
            }
            arrays << document.array();
        } else if (depth == 0 && !QChar::isSpace(uchar(c))) {
            *error = QStringLiteral("%1 outside a JSON array")
                         .arg(QString::fromUtf8(
                             text.sliced(i).first(std::min<qsizetype>(40, text.size() - i)).toByteArray()));
            return std::nullopt;
        }
    }
    if (depth > 0 || arrays.isEmpty()) {
        *error = QStringLiteral("no complete JSON array");
        return std::nullopt;
    }
    return arrays;
}

// "gs://a/, gs://b/", for messages.
QString bucketList(const QStringList& buckets)
{
    return QStringLiteral("gs://%1/").arg(buckets.join(QStringLiteral("/, gs://")));
}

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
    const ExecResult result = m_host.run(m_target.datamon(words, otherContext), timeoutMs, sink);
    return finish(result, words, otherContext, out, error, notFound, exit);
}

bool DatamonQueries::finish(const ExecResult& result,
    const QStringList& words,
    const QString& otherContext,
    QByteArray* out,
    QString* error,
    bool* notFound,
    DatamonExit* exit) const
{
    DatamonStderrParser stderrParser;
    stderrParser.feed(result.stderrData);
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

std::optional<QStringList> DatamonQueries::contextNames(const QByteArray& out, QString* error) const
{
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

std::optional<DatamonContextBuckets> DatamonQueries::contextBuckets(const QByteArray& out, QString* error)
{
    const QList<QByteArrayView> got = lines(out);
    if (got.size() != 1) {
        *error = QStringLiteral("datamon2 context get printed %1 lines, not 1").arg(got.size());
        return std::nullopt;
    }
    return DatamonOutput::parseContextLine(got.front(), 1, error);
}

// Two round trips, each running its datamon2 commands together: this context's buckets and the context list, then
// every other context's buckets.
std::optional<QList<DatamonContextBuckets>> DatamonQueries::sharingBlobBucket(QString* error)
{
    const QStringList get
        = withFormat({ QStringLiteral("context"), QStringLiteral("get") }, DatamonOutput::kContextFormat);
    const QStringList list { QStringLiteral("context"), QStringLiteral("list") };
    const QList<ExecResult> first
        = m_host.runTogether({ m_target.datamon(get, {}), m_target.datamon(list, {}) }, kReadTimeoutMs);
    QByteArray out;
    if (!finish(first[0], get, {}, &out, error))
        return std::nullopt;
    const auto own = contextBuckets(out, error);
    if (!own || !finish(first[1], list, {}, &out, error))
        return std::nullopt;
    const auto names = contextNames(out, error);
    if (!names)
        return std::nullopt;
    QStringList others;
    QList<QStringList> gets;
    for (const QString& name : *names) {
        if (name != m_target.context.context) {
            others << name;
            gets << m_target.datamon(get, name);
        }
    }
    const QList<ExecResult> results = m_host.runTogether(gets, kReadTimeoutMs);
    QList<DatamonContextBuckets> sharing { *own };
    for (qsizetype i = 0; i < others.size(); ++i) {
        if (!finish(results[i], get, others[i], &out, error))
            return std::nullopt;
        const auto other = contextBuckets(out, error);
        if (!other)
            return std::nullopt;
        if (other->blob == own->blob)
            sharing << *other;
    }
    return sharing;
}

std::optional<DatamonContextBuckets> DatamonQueries::buckets(QString* error)
{
    const QStringList get
        = withFormat({ QStringLiteral("context"), QStringLiteral("get") }, DatamonOutput::kContextFormat);
    QByteArray out;
    if (!run(get, kReadTimeoutMs, &out, error))
        return std::nullopt;
    return contextBuckets(out, error);
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
    const QStringList buckets { metadataBucket };
    const auto states
        = readStoreStates(m_host.run(storeStateArgv(buckets, IndexRead::IfListed), kReadTimeoutMs), buckets, error);
    return states ? std::optional(states->front()) : std::nullopt;
}

QStringList DatamonQueries::storeStateArgv(const QStringList& metadataBuckets, IndexRead index) const
{
    return QStringList { QStringLiteral("/bin/sh"), QStringLiteral("-c"), kStoreStateScript, QStringLiteral("sh"),
        m_target.context.gcloud, QString::number(int(index)) }
    + metadataBuckets;
}

std::optional<QList<DatamonQueries::StoreState>> DatamonQueries::readStoreStates(
    const ExecResult& result, const QStringList& metadataBuckets, QString* error) const
{
    if (!result.succeeded()) {
        *error = QStringLiteral("reading purge.lock and reverse-index/ of %1 with %2 on %3 failed: %4; check that "
                                "gcloud there has datamon's credentials")
                     .arg(bucketList(metadataBuckets), m_target.context.gcloud, m_host.where(), why(result));
        return std::nullopt;
    }
    return parseStoreStates(result.stdoutData, metadataBuckets, error);
}

std::optional<QList<DatamonBundleObject>> DatamonQueries::bundleObjects(
    const QStringList& metadataBuckets, QString* error)
{
    return readBundleObjects(m_host.run(bundleObjectsArgv(metadataBuckets), kListTimeoutMs), metadataBuckets, error);
}

QStringList DatamonQueries::bundleObjectsArgv(const QStringList& metadataBuckets) const
{
    QStringList words { QStringLiteral("objects"), QStringLiteral("list") };
    for (const QString& bucket : metadataBuckets)
        words << QStringLiteral("gs://%1/bundles/*/*/bundle.yaml").arg(bucket);
    words << QStringLiteral("--format=") + DatamonOutput::kBundleObjectFormat.toString();
    return m_target.gcloudStorage(words);
}

std::optional<QList<DatamonBundleObject>> DatamonQueries::readBundleObjects(
    const ExecResult& result, const QStringList& metadataBuckets, QString* error) const
{
    const QString where = bucketList(metadataBuckets);
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

std::optional<QList<DatamonQueries::StoreState>> DatamonQueries::parseStoreStates(
    const QByteArray& out, const QStringList& buckets, QString* error)
{
    const QString where = bucketList(buckets);
    // The listing, then marker lines, each with the part it introduces.
    const QByteArrayView marker("\n@@opsdeck-");
    qsizetype at = out.indexOf(marker);
    QString listingError;
    const auto arrays = jsonArrays(QByteArrayView(out).first(at < 0 ? out.size() : at), &listingError);
    if (!arrays) {
        *error = QStringLiteral("gcloud storage ls --json %1 printed no JSON listing: %2").arg(where, listingError);
        return std::nullopt;
    }
    QHash<QString, QByteArray> locks; // bucket -> what purge.lock holds
    std::optional<QByteArray> chunk;
    while (at >= 0) {
        const qsizetype eol = out.indexOf('\n', at + marker.size());
        const QByteArray head = out.mid(at + 1, eol < 0 ? -1 : eol - at - 1);
        const qsizetype next = eol < 0 ? -1 : out.indexOf(marker, eol);
        const QByteArray part
            = eol < 0 ? QByteArray() : out.mid(eol + 1, next < 0 ? -1 : std::max<qsizetype>(0, next - eol - 1));
        if (head.startsWith("@@opsdeck-lock ") && !locks.contains(QString::fromUtf8(head.mid(15)))) {
            locks.insert(QString::fromUtf8(head.mid(15)), part);
        } else if (head == "@@opsdeck-chunk" && !chunk) {
            chunk = part;
        } else {
            *error = QStringLiteral("the read of %1 has an unexpected part: %2")
                         .arg(where, QString::fromUtf8(head.left(60)));
            return std::nullopt;
        }
        at = next;
    }
    QList<StoreState> states(buckets.size());
    for (const QJsonArray& array : *arrays) {
        for (const QJsonValue& entry : array) {
            const QJsonObject o = entry.toObject();
            const QString url = o.value(QStringLiteral("url")).toString();
            for (qsizetype i = 0; i < buckets.size(); ++i) {
                StoreState& state = states[i];
                if (url.startsWith(QStringLiteral("gs://%1/purge.lock#").arg(buckets[i]))) {
                    const QJsonObject metadata = o.value(QStringLiteral("metadata")).toObject();
                    state.locked = true;
                    state.lockGeneration = metadata.value(QStringLiteral("generation")).toString();
                    state.lockUpdated = QDateTime::fromString(
                        metadata.value(QStringLiteral("updated")).toString(), Qt::ISODateWithMs);
                } else if (url == QStringLiteral("gs://%1/reverse-index/").arg(buckets[i])) {
                    state.indexed = true;
                }
            }
        }
    }
    qsizetype locked = 0;
    for (qsizetype i = 0; i < buckets.size(); ++i)
        locked += states[i].locked && locks.contains(buckets[i]) ? 1 : 0;
    const bool indexRead = !states.isEmpty() && states.front().indexed;
    if (locked != locks.size()
        || std::count_if(states.cbegin(), states.cend(), [](const StoreState& s) { return s.locked; }) != locked
        || indexRead != chunk.has_value()) {
        *error = QStringLiteral("the read of %1 is incomplete: the listing and the parts read do not agree").arg(where);
        return std::nullopt;
    }
    for (qsizetype i = 0; i < buckets.size(); ++i) {
        StoreState& state = states[i];
        if (state.locked) {
            const QByteArray& lock = locks[buckets[i]];
            state.lockText = QString::fromUtf8(lock.left(lock.indexOf('\n'))).left(200);
            QString lockError;
            if (const auto lockedAt = DatamonOutput::parseLockedAt(lock, &lockError))
                state.lockedAt = *lockedAt;
        }
        if (state.indexed && i > 0) {
            state.indexProblem = QStringLiteral("not read");
        } else if (state.indexed) {
            if (const auto time = DatamonOutput::parseIndexChunkTime(*chunk, &state.indexProblem))
                state.indexTime = *time;
            else
                state.indexProblem
                    = QStringLiteral("reverse-index/chunk-1.yaml gives no index time (%1)").arg(state.indexProblem);
        }
    }
    return states;
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
