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

    // The contexts of the config bucket whose blob bucket is this context's, this one first: build-reverse-lookup
    // scans them all, and a purge of one deletes blobs the others use.
    std::optional<QList<DatamonContextBuckets>> sharingBlobBucket(QString* error);

    // `context get`: this context's buckets.
    std::optional<DatamonContextBuckets> buckets(QString* error);
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
    // Several buckets' in one read that can run together with others (DatamonHost::runTogether): every bucket's
    // lock, and the first bucket's index when the listing has one (the others' index only listed: indexTime invalid,
    // indexProblem "not read"). Expected reads chunk-1 while the listing runs: for a purge's delete, which needs one.
    enum class IndexRead
    {
        IfListed = 1,
        Expected = 2
    };
    QStringList storeStateArgv(const QStringList& metadataBuckets, IndexRead index) const;
    std::optional<QList<StoreState>> readStoreStates(
        const ExecResult& result, const QStringList& metadataBuckets, QString* error) const;
    // Reads the store-state script's output (the listing, then the locks and the first chunk behind markers).
    static std::optional<QList<StoreState>> parseStoreStates(
        const QByteArray& out, const QStringList& buckets, QString* error);

    // Every bundle.yaml of the metadata buckets with its creation time, listed with one gcloud: what the purge
    // compares before and after its window to show whether a bundle was committed while the index was in use.
    std::optional<QList<DatamonBundleObject>> bundleObjects(const QStringList& metadataBuckets, QString* error);
    QStringList bundleObjectsArgv(const QStringList& metadataBuckets) const;
    std::optional<QList<DatamonBundleObject>> readBundleObjects(
        const ExecResult& result, const QStringList& metadataBuckets, QString* error) const;

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
    // What run() makes of a finished datamon2 command (also one run together with others).
    bool finish(const ExecResult& result,
        const QStringList& words,
        const QString& otherContext,
        QByteArray* out,
        QString* error,
        bool* notFound = nullptr,
        DatamonExit* exit = nullptr) const;
    // `context list`'s output, each name checked (NameRules::datamonContextError).
    std::optional<QStringList> contextNames(const QByteArray& out, QString* error) const;
    // `context get`'s output: one context's buckets.
    static std::optional<DatamonContextBuckets> contextBuckets(const QByteArray& out, QString* error);
    template <typename Row>
    std::optional<QList<Row>> listing(
        const QStringList& words, std::optional<Row> (*parse)(QByteArrayView, qsizetype, QString*), QString* error);

    DatamonHost& m_host;
    const DatamonTarget& m_target;
};

} // namespace opsdeck
