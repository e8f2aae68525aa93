#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <optional>

namespace opsdeck {

// What `datamon2` v2.6.9 prints, read back (../shared/reference/datamon.md sections 1, 2 and 4). Listings are read
// through the --format templates below: urlquery leaves no space or newline in a field, so a line splits on single
// spaces and every field comes back exactly. Times become UTC QDateTimes; Go prints nanoseconds and QDateTime holds
// milliseconds, so the digits past the third are dropped (truncated, never rounded up past the real time).

// A repo as `repo list` and `repo get` print it with kRepoFormat.
struct DatamonRepo
{
    QString name; // ^[A-Za-z0-9-]+$
    QString description;
    QString contributorName;
    QString contributorEmail;
    QDateTime time;
};

// A bundle as `bundle list` prints it with kBundleFormat.
struct DatamonBundle
{
    QString id; // a ksuid: letters and digits
    QDateTime time;
    QString message;
    quint64 indexFiles = 0; // BundleEntriesFileCount: the bundle-files-N.yaml it has
};

// A label as `label list` prints it with kLabelFormat.
struct DatamonLabel
{
    QString name;
    QString bundleId;
    QDateTime time;
};

// A context's buckets as `context get` prints them with kContextFormat.
struct DatamonContextBuckets
{
    QString name;
    QString blob;
    QString metadata;
    QString vmetadata;
    QString wal;
    QString readLog;
};

// `repo get --with-size` with its default template (--with-size cannot be combined with --format).
struct DatamonRepoSizes
{
    QString repo; // from the grand total line
    QHash<QString, quint64> bundleBytes; // bundle id -> the sum of its files' sizes
    quint64 totalBytes = 0; // the grand total, checked against the sum of bundleBytes
};

// The stdout summary of `purge build-reverse-lookup`.
struct DatamonIndexSummary
{
    QString metadataStore; // gs://meta/
    QString blobStore;
    QDateTime indexTime;
    quint64 entries = 0; // "Num entries (blob keys)": the keys uploaded to the index
};

// The stdout summary of `purge delete-unused`, with or without --dry-run. In v2.6.9 "deleted" and "bytes
// relinquished" count failed deletes too: only a later dry run shows what is really left.
struct DatamonPurgeSummary
{
    QString metadataStore;
    QString blobStore;
    QDateTime indexTime;
    quint64 scanned = 0;
    quint64 inUse = 0;
    quint64 newerThanIndex = 0;
    quint64 deleted = 0; // to be deleted, in a dry run
    quint64 bytesRelinquished = 0;
    bool dryRun = false;
};

// A bundle's bundle.yaml in the metadata bucket, as `gcloud storage objects list` shows it: datamon writes it last
// when it commits a bundle, so its creation time is when the bundle's blobs started to be relied on.
struct DatamonBundleObject
{
    QString bucket; // the metadata bucket
    QString repo;
    QString bundleId;
    QDateTime created; // UTC, to the microsecond
};

namespace DatamonOutput {

// The --format templates opsdeck passes, byte for byte.
inline constexpr QStringView kRepoFormat = u"{{urlquery .Name}} {{urlquery .Description}} {{urlquery "
                                           u".Contributor.Name}} {{urlquery .Contributor.Email}} "
                                           u"{{.Timestamp.UTC.Format \"2006-01-02T15:04:05.999999999Z07:00\"}}";
inline constexpr QStringView kBundleFormat = u"{{urlquery .ID}} {{.Timestamp.UTC.Format "
                                             u"\"2006-01-02T15:04:05.999999999Z07:00\"}} {{urlquery .Message}} "
                                             u"{{.BundleEntriesFileCount}}";
inline constexpr QStringView kLabelFormat = u"{{urlquery .Name}} {{urlquery .BundleID}} {{.Timestamp.UTC.Format "
                                            u"\"2006-01-02T15:04:05.999999999Z07:00\"}}";
inline constexpr QStringView kContextFormat = u"{{urlquery .Name}} {{urlquery .Blob}} {{urlquery .Metadata}} "
                                              u"{{urlquery .VMetadata}} {{urlquery .WAL}} {{urlquery .ReadLog}}";

// Go's url.QueryUnescape: '+' is a space, %XX a byte (either case of hex), anything else itself; then UTF-8. A '%'
// without two hex digits, or bytes that are not UTF-8, give nullopt and *error.
std::optional<QString> queryUnescape(QByteArrayView field, QString* error);

// RFC 3339 with up to nine fraction digits ("2006-01-02T15:04:05.999999999Z07:00", as Go's RFC3339Nano and the
// templates above print it), also with the offset without a colon (zap's ISO 8601 "2006-01-02T15:04:05.000Z0700").
std::optional<QDateTime> parseRfc3339(QStringView text, QString* error);
// Go's time.String(): "2006-01-02 15:04:05.999999999 -0700 MST", the fraction optional, a monotonic clock suffix
// (" m=+0.000000001") tolerated. The numeric offset decides; the zone's abbreviation is not read.
std::optional<QDateTime> parseGoTime(QStringView text, QString* error);

// One stdout line of a listing (without its newline), as the matching format prints it. `lineNumber` only names the
// line in *error, which also names the field and what is wrong with it. A repo name outside ^[A-Za-z0-9-]+$ is an
// error: opsdeck never passes such a name on.
std::optional<DatamonRepo> parseRepoLine(QByteArrayView line, qsizetype lineNumber, QString* error);
std::optional<DatamonBundle> parseBundleLine(QByteArrayView line, qsizetype lineNumber, QString* error);
std::optional<DatamonLabel> parseLabelLine(QByteArrayView line, qsizetype lineNumber, QString* error);
std::optional<DatamonContextBuckets> parseContextLine(QByteArrayView line, qsizetype lineNumber, QString* error);

// `context list`'s stdout: Go's %v of a sorted []string, "[a b dev]\n" or "[]\n".
std::optional<QStringList> parseContextList(QByteArrayView output, QString* error);
// `repo get --with-size`'s stdout. Messages may hold ", " and newlines, so each bundle's record is read from its end
// (", <time>, <bytes> (<human size>)"); its id is the text before the first " , ".
std::optional<DatamonRepoSizes> parseRepoSizes(QByteArrayView output, QString* error);
// The summaries of `purge build-reverse-lookup` and `purge delete-unused` in their stdout.
std::optional<DatamonIndexSummary> parseIndexSummary(QByteArrayView output, QString* error);
std::optional<DatamonPurgeSummary> parsePurgeSummary(QByteArrayView output, QString* error);

// The purge lock object (`locked_at: "<Go time.String() in UTC>"`, the value quoted or not): when it was taken.
std::optional<QDateTime> parseLockedAt(QByteArrayView lockObject, QString* error);
// An index chunk (reverse-index/chunk-N.yaml), or its start: the index time on its first line, in RFC3339Nano.
std::optional<QDateTime> parseIndexChunkTime(QByteArrayView chunkStart, QString* error);

// The gcloud format that lists bundle.yaml objects as "<bucket>\t<creation time>\t<object name>" lines, and their
// parser.
inline constexpr QStringView kBundleObjectFormat = u"value(bucket,creation_time.date(%Y-%m-%dT%H:%M:%S.%f%z),name)";
std::optional<QList<DatamonBundleObject>> parseBundleObjects(QByteArrayView output, QString* error);

} // namespace DatamonOutput

// One event of datamon2's stderr.
struct DatamonStderrEvent
{
    enum class Kind
    {
        Fatal, // "ERROR: ..." (wrapFatalln): text without the prefix, the lines that follow it folded in
        Info, // "INFO: ...": text without the prefix
        UsageError, // cobra's "Error: ...": text without the prefix, the usage text that follows in usage
        Zap, // a zap JSON line: level, time, caller, text (msg) and the other fields
        Panic, // "panic: " or "fatal error: " and every line after it: text is the whole trace
        Other, // any other line, as it is
    };

    Kind kind = Kind::Other;
    qsizetype line = 0; // the stderr line it starts on, from 1
    QString text;
    QString usage;
    QString level;
    QDateTime time; // zap's ts, UTC; invalid when missing or unreadable
    QString caller;
    QJsonObject fields; // zap's fields other than level, ts, caller and msg
};

// The progress of a purge step, accumulated from its zap lines (the messages of reference section 2). No total is
// known ahead, so it is for an indeterminate display: counts and a rate. -1 is "not reported yet". zap samples
// repeated messages (100 a second, then every 100th), so per-repo and per-chunk counts are lower bounds; the
// periodic counts (every 5 minutes) are datamon's own totals.
struct DatamonProgress
{
    QString phase; // a sentence for the display, from the latest progress line
    QDateTime updatedAt; // that line's ts
    // build-reverse-lookup
    QString contextMetadata; // the context's metadata store being scanned (one build scans each context that shares
                             // the blob store)
    qint64 reposInContext = -1;
    int percent = -1; // of that context's repos started
    qint64 reposFinished = 0; // in that context
    qint64 keys = -1; // keys scanned so far: in the context (build), in the blob store (delete-unused)
    qint64 uniqueKeys = -1;
    qint64 throughput = -1; // keys per second over the last report's interval
    qint64 chunksUploaded = 0;
    qint64 keysUploaded = 0;
    // delete-unused
    qint64 chunksLoaded = 0;
    qint64 indexKeys = -1; // keys loaded from the index
    QDateTime indexTime; // invalid when the index has none (datamon2 then panics)
    qint64 deletedSoFar = -1; // deleted (to be deleted, in a dry run) so far
};

// Reads stderr as it arrives: feed() raw chunks (a line may be split anywhere, even inside a UTF-8 character), then
// finish() once at the end. An ERROR or cobra Error event is returned when a line that starts another event (or
// finish()) shows that it ended: the lines between are its own (an error's further lines, cobra's usage text). A panic
// takes every line to the end and comes out of finish(). The accessors already include what is held back.
class DatamonStderrParser
{
public:
    QList<DatamonStderrEvent> feed(QByteArrayView chunk);
    // The last line even without a newline, and any held event.
    QList<DatamonStderrEvent> finish();

    bool sawPanic() const { return m_sawPanic; }
    QString panicHeadline() const { return m_panicHeadline; } // the "panic: ..." line
    QString fatalText() const { return m_fatal; } // the last ERROR text
    QString usageError() const { return m_usageError; } // the last cobra Error text
    const DatamonProgress& progress() const { return m_progress; }

private:
    void takeLine(QByteArrayView line, QList<DatamonStderrEvent>* events);
    void release(QList<DatamonStderrEvent>* events);
    void updateProgress(const DatamonStderrEvent& zap);

    QByteArray m_partial; // the bytes after the last newline
    qsizetype m_lines = 0;
    std::optional<DatamonStderrEvent> m_held;
    bool m_sawPanic = false;
    QString m_panicHeadline;
    QString m_fatal;
    QString m_usageError;
    DatamonProgress m_progress;
    QSet<QString> m_reposFinished; // in the context being scanned
    QSet<QString> m_chunksUploaded;
    QSet<QString> m_chunksLoaded;
};

// How a datamon2 run ended, from its exit status and stderr (reference section 1: 0 ok, 1 any failure, 2 not found
// or a Go panic; no signal handling, so a signal kills it on the spot).
struct DatamonExit
{
    enum class Kind
    {
        Ok,
        Failed, // exit 1
        LockHeld, // exit 1: another purge holds purge.lock
        NotFound, // exit 2 without a panic: "didn't find ..."
        Panic, // exit 2 after a Go panic or fatal error
        Killed, // by a signal
        Unknown, // a code datamon2 does not use (255: ssh's own failure)
    };

    Kind kind = Kind::Unknown;
    QString message; // one sentence: what happened and what to do
};

namespace DatamonOutput {

// `exitStatus` as a shell reports it ($?, ssh, a container's exit code): datamon2's own code, or 128 + N after signal
// N; negative when killed by a signal that is not known (QProcess::CrashExit). `errors` after finish(). A `purgeStep`
// that crashes or is killed leaves purge.lock behind; other commands take no lock.
DatamonExit classifyExit(int exitStatus, const DatamonStderrParser& errors, bool purgeStep);

} // namespace DatamonOutput
} // namespace opsdeck
