#include "datamon/DatamonQueries.h"

#include "config/NameRules.h"
#include "datamon/DatamonLogging.h"

namespace opsdeck {

namespace {

constexpr int kListTimeoutMs = 15 * 60 * 1000; // 10,000 repos from GCS, or a repo of many bundles
constexpr int kReadTimeoutMs = 2 * 60 * 1000;

QStringList withFormat(QStringList words, QStringView format)
{
    return words << QStringLiteral("--format") << format.toString();
}

// Splits a listing's stdout into lines; the last one may lack its newline.
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
    const DatamonExit ended = DatamonOutput::classifyExit(result.exitStatus, stderrParser);
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
        QList<DatamonRepo> batch;
        for (const QByteArrayView line : lines(pending.left(end + 1))) {
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
