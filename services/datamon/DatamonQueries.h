#pragma once

#include "datamon/DatamonHost.h"
#include "datamon/DatamonOutput.h"
#include "datamon/DatamonTarget.h"

#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace opsdeck {

// Every read of the datamon pane and operations, on one worker thread's DatamonHost: datamon2 listings through the
// urlquery formats (DatamonOutput), and the purge lock and index objects through gcloud storage on the same host
// (it has the credentials datamon uses). Each failure is one sentence: the command, where it ran, and what to do.
class DatamonQueries
{
public:
    DatamonQueries(DatamonHost& host, const DatamonTarget& target);

    // `context list` of the context's config bucket, each name checked (NameRules::datamonContextError).
    std::optional<QStringList> contexts(QString* error);
    // `context get`: the buckets of `context` (empty: the target's own).
    std::optional<DatamonContextBuckets> buckets(const QString& context, QString* error);
    // The contexts of the config bucket whose blob bucket is this context's, this one first: build-reverse-lookup
    // scans them all, and a purge of one deletes blobs the others use.
    std::optional<QList<DatamonContextBuckets>> sharingBlobBucket(QString* error);

    // `repo list`, streamed: `rows` gets each batch of complete lines as datamon2 prints them (lexicographic order).
    bool repos(const std::function<void(const QList<DatamonRepo>&)>& rows, QString* error);
    // `repo get`: nullopt with *notFound set when datamon2 says there is no such repo (exit 2).
    std::optional<DatamonRepo> repo(const QString& repo, bool* notFound, QString* error);
    std::optional<QList<DatamonBundle>> bundles(const QString& repo, QString* error);
    std::optional<QList<DatamonLabel>> labels(const QString& repo, QString* error);
    // `repo get --with-size`: every bundle's total file size (it reads every bundle's file list: slow on big repos).
    std::optional<DatamonRepoSizes> sizes(const QString& repo, QString* error);

    // The purge lock and the reverse-lookup index of a metadata bucket, as gcloud storage on the host reads them.
    struct StoreState
    {
        bool locked = false; // purge.lock exists
        QDateTime lockedAt; // its locked_at; invalid when it could not be read (then lockText says what is there)
        QString lockText; // the object's first line, as it is
        QString lockGeneration; // for a delete that must not race a new lock (ifGenerationMatch)
        QDateTime lockUpdated; // GCS's updated time of the object
        bool indexed = false; // reverse-index/ exists
        QDateTime indexTime; // chunk-1's first line; invalid when chunk-1 is missing or unreadable
        QString indexProblem; // why there is no index time although reverse-index/ exists
    };
    std::optional<StoreState> storeState(const QString& metadataBucket, QString* error);
    // Reads storeState's script output (the root listing, then the lock and the first chunk behind markers).
    static std::optional<StoreState> parseStoreState(const QByteArray& out, const QString& bucket, QString* error);

    // Every bundle.yaml of the metadata buckets with its creation time, listed with one gcloud: what the purge
    // compares before and after its window to show whether a bundle was committed while the index was in use.
    std::optional<QList<DatamonBundleObject>> bundleObjects(const QStringList& metadataBuckets, QString* error);

    // Runs datamon2 `words` for the target (or `otherContext`), its output also to `sink`. True on exit 0; with
    // `notFound`, exit 2 with datamon's "didn't find" sets it instead of failing. *exit says how it ended.
    bool run(const QStringList& words,
        int timeoutMs,
        QByteArray* out,
        QString* error,
        bool* notFound = nullptr,
        const QString& otherContext = {},
        const HostConnection::OutputSink& sink = {},
        DatamonExit* exit = nullptr);

private:
    template <typename Row>
    std::optional<QList<Row>> listing(
        const QStringList& words, std::optional<Row> (*parse)(QByteArrayView, qsizetype, QString*), QString* error);

    DatamonHost& m_host;
    const DatamonTarget& m_target;
};

} // namespace opsdeck
