// DatamonOutput on datamon2 v2.6.9's output as ../shared/reference/datamon.md (sections 1, 2 and 4) and upstream's
// source show it: the --format lines opsdeck asks for (urlquery-encoded as Go's url.QueryEscape does it), the default
// `repo get --with-size` output, the purge summaries, the lock object, an index chunk, and stderr (fatal.go's ERROR and
// INFO lines, cobra's usage error, zap's JSON lines with ISO 8601 times, a Go panic), fed in chunks split anywhere.
#include "datamon/DatamonOutput.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

QDateTime utc(int year, int month, int day, int hour, int minute, int second, int ms = 0)
{
    return QDateTime(QDate(year, month, day), QTime(hour, minute, second, ms), Qt::UTC);
}

// A description with spaces, ',', '&', '+', '%', UTF-8 and a newline, and Go's url.QueryEscape of it (letters,
// digits and -_.~ kept, ' ' as '+', every other byte as %XX in capitals).
const QString kDescription = u"Flood maps, 2023 & beyond: +5% rise\nrevised — été"_s;
const QByteArray kDescriptionEscaped
    = "Flood+maps%2C+2023+%26+beyond%3A+%2B5%25+rise%0Arevised+%E2%80%94+%C3%A9t%C3%A9";

// `repo list --format kRepoFormat`: urlquery fields, then .Timestamp.UTC.Format(RFC3339Nano).
const QByteArray kRepoLine = "flood-maps " + kDescriptionEscaped
    + " Fr%C3%A9d%C3%A9ric+Bidon frederic%40oneconcern.com 2019-12-05T13:01:18.181535Z";

// Stderr of several runs in one, every kind of line once: fatal.go's INFO and ERROR prefixes, cobra's Error and usage
// (cobra prints the usage, then a blank line, then root.go's ERROR), zap's production JSON with datamon's ISO 8601
// time encoder (the purge messages and fields of pkg/core/purge.go), a line from a library's own log, a zap line cut
// short, an ERROR whose message goes on over lines (googleapi's "More details"), and a Go panic; no final newline.
const QByteArray kMixedStderr
    = "INFO: warning: the config file extension is not of a supported type.Use a well-known config file extension "
      "(.yaml, .json, ...)\n"
      "Error: unknown flag: --bogus\n"
      "Usage:\n"
      "  datamon purge delete-unused [flags]\n"
      "\n"
      "Flags:\n"
      "      --concurrency-factor int   Heuristic on the amount of concurrency used by various operations.  Turn this "
      "value down to use less memory, increase for faster operations. (default 100)\n"
      "      --dry-run                  Report about the purge, but don't actually delete anything\n"
      "  -h, --help                     help for delete-unused\n"
      "\n"
      "Global Flags:\n"
      "      --force                     Forces a locked purge job to run. You MUST make sure that no such concurrent "
      "job is running\n"
      "\n"
      "ERROR: unknown flag: --bogus\n"
      R"({"level":"info","ts":"2023-01-27T10:00:00.101Z","caller":"cmd/purge_reverse_lookup.go:54","msg":"building reverse-lookup index","context":"prod","force?":false,"resume?":false,"context BLOB bucket":"datamon-blob","context metadata bucket":"datamon-prod-meta"})"
      "\n"
      R"({"level":"info","ts":"2023-01-27T11:00:01.250+0100","caller":"core/purge.go:197","msg":"scanning repos","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","context metadata":"gs://datamon-prod-meta/","num_repos_in_context":2})"
      "\n"
      R"({"level":"info","ts":"2023-01-27T10:00:01.251Z","caller":"core/purge.go:217","msg":"in-progress percent of current context","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","context metadata":"gs://datamon-prod-meta/","number of repos in this context":2,"percent_repos_in_context":50})"
      "\n"
      "2023/01/27 10:00:03 storage: retrying after 503 \xe2\x80\x93 r\xc3\xa9sum\xc3\xa9\n"
      R"({"level":"info","ts":"2023-01-27T10:00:04.000Z","caller":"core/purge.go:336","msg":"finished scanning repo entries","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","context metadata":"gs://datamon-prod-meta/","repo":"flood-maps","repo_keys":1500})"
      "\n"
      "{\"level\":\"info\",\"ts\":\"2023-01-27T10:0"
      "\n"
      R"({"level":"info","ts":"2023-01-27T10:05:01.250Z","caller":"core/purge.go:259","msg":"keys scanned so far for this context","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","context metadata":"gs://datamon-prod-meta/","keys":2600,"unique_keys":2100,"keys_since_last_report":2600,"throughput keys scanned/s":8,"db_size":"1.2MB"})"
      "\n"
      R"({"level":"info","ts":"2023-01-27T10:05:02.000Z","caller":"core/purge.go:468","msg":"done uploading index chunk file to metadata","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","index_file":"reverse-index/chunk-1.yaml","keys_uploaded_in_chunk":2100})"
      "\n"
      "ERROR: build-reverse-lookup failed (could remove job lock before exiting): googleapi: Error 403: caller does "
      "not "
      "have storage.objects.delete access, forbidden\n"
      "More details:\n"
      "Reason: forbidden, Message: caller does not have storage.objects.delete access\n"
      "panic: runtime error: invalid memory address or nil pointer dereference\n"
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c2f3a5]\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.main()\n"
      "\t/home/runner/work/datamon/datamon/cmd/datamon/main.go:8 +0x17";

// delete-unused without an index chunk (reference section 2): the nil index time is logged as null, then
// dereferenced. Another goroutine's line lands after the panic's first line.
const QByteArray kPanicStderr
    = R"({"level":"info","ts":"2023-01-27T10:05:00.000Z","caller":"core/purge.go:598","msg":"done with dumping index entries to local KV store","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","blob_store":"gs://datamon-blob/","index_creation_time":null,"num_keys":0,"last_index_file":0})"
      "\n"
      R"({"level":"info","ts":"2023-01-27T10:05:00.001Z","caller":"core/purge.go:608","msg":"scanning blob entries against index","index_path":"gs://datamon-prod-meta//reverse-index","local_index_path":"/var/lib/datamon/work","blob_store":"gs://datamon-blob/"})"
      "\n"
      "panic: runtime error: invalid memory address or nil pointer dereference\n"
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c2f3a5]\n"
      "\n"
      "goroutine 1 [running]:\n"
      "github.com/oneconcern/datamon/pkg/core.PurgeDeleteUnused({0x2a1d7e0, 0xc0003a6000}, {0xc000531e00, 0x5, 0x8})\n"
      "\t/home/runner/work/datamon/datamon/pkg/core/purge.go:614 +0x6a5\n"
      R"({"level":"info","ts":"2023-01-27T10:05:00.002Z","caller":"core/purge.go:700","msg":"loaded index chunk","chunk":"x"})"
      "\n"
      "github.com/oneconcern/datamon/cmd/datamon/cmd.glob..func49(0x3b4c7a0?, {0x25c5e5c?, 0x4?, 0x4?})\n"
      "\t/home/runner/work/datamon/datamon/cmd/datamon/cmd/purge_delete_unused.go:75 +0x5b2\n"
      "main.main()\n"
      "\t/home/runner/work/datamon/datamon/cmd/datamon/main.go:8 +0x17\n";

QString kindName(DatamonStderrEvent::Kind kind)
{
    switch (kind) {
    case DatamonStderrEvent::Kind::Fatal:
        return u"Fatal"_s;
    case DatamonStderrEvent::Kind::Info:
        return u"Info"_s;
    case DatamonStderrEvent::Kind::UsageError:
        return u"UsageError"_s;
    case DatamonStderrEvent::Kind::Zap:
        return u"Zap"_s;
    case DatamonStderrEvent::Kind::Panic:
        return u"Panic"_s;
    case DatamonStderrEvent::Kind::Other:
        return u"Other"_s;
    }
    return {};
}

// Everything an event holds, for comparing two runs of the parser.
QString describe(const DatamonStderrEvent& event)
{
    return u"%1 line %2 text[%3] usage[%4] level[%5] time[%6] caller[%7] fields%8"_s.arg(kindName(event.kind),
        QString::number(event.line), event.text, event.usage, event.level, event.time.toString(Qt::ISODateWithMs),
        event.caller, QString::fromUtf8(QJsonDocument(event.fields).toJson(QJsonDocument::Compact)));
}

QStringList describeAll(const QList<DatamonStderrEvent>& events)
{
    QStringList all;
    for (const DatamonStderrEvent& event : events)
        all.append(describe(event));
    return all;
}

QStringList kinds(const QList<DatamonStderrEvent>& events)
{
    QStringList all;
    for (const DatamonStderrEvent& event : events)
        all.append(kindName(event.kind));
    return all;
}

QList<DatamonStderrEvent> parseAll(const QByteArray& stderrBytes, DatamonStderrParser* parser)
{
    QList<DatamonStderrEvent> events = parser->feed(stderrBytes);
    events += parser->finish();
    return events;
}

// The progress after `lines` (zap JSON, one per entry).
DatamonProgress progressOf(const QList<QByteArray>& lines)
{
    DatamonStderrParser parser;
    for (const QByteArray& line : lines)
        parser.feed(line + '\n');
    parser.finish();
    return parser.progress();
}

QByteArray zap(const QByteArray& ts, const QByteArray& msg, const QByteArray& fields)
{
    return R"({"level":"info","ts":")" + ts + R"(","caller":"core/purge.go:1","msg":")" + msg + R"(",)" + fields + "}";
}

} // namespace

class TestDatamonOutput : public QObject
{
    Q_OBJECT

private slots:
    void formatsAreTheOnesOpsdeckPasses();
    void queryUnescape_data();
    void queryUnescape();
    void rfc3339_data();
    void rfc3339();
    void goTime_data();
    void goTime();
    void repoLine();
    void repoLineWithEmptyFields();
    void badRepoLines_data();
    void badRepoLines();
    void bundleLine();
    void badBundleLines_data();
    void badBundleLines();
    void labelLine();
    void badLabelLines_data();
    void badLabelLines();
    void contextLine();
    void contextList_data();
    void contextList();
    void badContextLists_data();
    void badContextLists();
    void repoSizes();
    void repoSizesWithoutBundles();
    void badRepoSizes_data();
    void badRepoSizes();
    void indexSummary();
    void badIndexSummaries_data();
    void badIndexSummaries();
    void purgeSummary_data();
    void purgeSummary();
    void badPurgeSummaries_data();
    void badPurgeSummaries();
    void lockedAt_data();
    void lockedAt();
    void badLocks_data();
    void badLocks();
    void indexChunkTime();
    void badIndexChunks();
    void bundleObjects();
    void stderrEvents();
    void stderrSplitAtEveryByte();
    void stderrByteByByte();
    void panicTrace();
    void zapLinesThatAreNot_data();
    void zapLinesThatAreNot();
    void lastLineWithoutNewline();
    void buildProgressWithSamplingGaps();
    void deleteProgressWithSamplingGaps();
    void exitClassification_data();
    void exitClassification();
};

void TestDatamonOutput::formatsAreTheOnesOpsdeckPasses()
{
    QCOMPARE(DatamonOutput::kRepoFormat,
        uR"({{urlquery .Name}} {{urlquery .Description}} {{urlquery .Contributor.Name}} {{urlquery .Contributor.Email}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}})"_s);
    QCOMPARE(DatamonOutput::kBundleFormat,
        uR"({{urlquery .ID}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}} {{urlquery .Message}} {{.BundleEntriesFileCount}})"_s);
    QCOMPARE(DatamonOutput::kLabelFormat,
        uR"({{urlquery .Name}} {{urlquery .BundleID}} {{.Timestamp.UTC.Format "2006-01-02T15:04:05.999999999Z07:00"}})"_s);
    QCOMPARE(DatamonOutput::kContextFormat,
        uR"({{urlquery .Name}} {{urlquery .Blob}} {{urlquery .Metadata}} {{urlquery .VMetadata}} {{urlquery .WAL}} {{urlquery .ReadLog}})"_s);
}

void TestDatamonOutput::queryUnescape_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QString>("text"); // a null QString: an error mentioning `error`
    QTest::addColumn<QString>("error");

    QTest::newRow("as it is") << "flood-maps_v1.2~x"_ba << u"flood-maps_v1.2~x"_s << QString();
    QTest::newRow("empty") << ""_ba << u""_s << QString();
    QTest::newRow("plus is a space") << "a+b++c"_ba << u"a b  c"_s << QString();
    QTest::newRow("escaped plus") << "%2B"_ba << u"+"_s << QString();
    QTest::newRow("either case of hex") << "%2c%2C%c3%A9"_ba << u",,é"_s << QString();
    QTest::newRow("the description") << kDescriptionEscaped << kDescription << QString();
    QTest::newRow("bytes Go would not escape stay") << "a/b:c"_ba << u"a/b:c"_s << QString();
    QTest::newRow("percent at the end") << "5%"_ba << QString() << u"bad escape \"%\" at byte 2"_s;
    QTest::newRow("one digit at the end") << "ab%4"_ba << QString() << u"bad escape \"%4\" at byte 3"_s;
    QTest::newRow("not hex") << "%zz"_ba << QString() << u"bad escape \"%zz\" at byte 1"_s;
    QTest::newRow("second not hex") << "x%4g"_ba << QString() << u"bad escape \"%4g\" at byte 2"_s;
    QTest::newRow("escaped percent then bad") << "%25%2"_ba << QString() << u"bad escape \"%2\" at byte 4"_s;
    QTest::newRow("half a UTF-8 character") << "%C3"_ba << QString() << u"not UTF-8"_s;
    QTest::newRow("a byte that is never UTF-8") << "%FF"_ba << QString() << u"not UTF-8"_s;
}

void TestDatamonOutput::queryUnescape()
{
    QFETCH(QByteArray, field);
    QFETCH(QString, text);
    QFETCH(QString, error);
    QString why;
    const std::optional<QString> result = DatamonOutput::queryUnescape(field, &why);
    if (text.isNull()) {
        QVERIFY(!result);
        QVERIFY2(why.contains(error), qPrintable(why));
    } else {
        QVERIFY2(result, qPrintable(why));
        QCOMPARE(*result, text);
    }
}

void TestDatamonOutput::rfc3339_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QDateTime>("time"); // invalid: an error

    QTest::newRow("microseconds") << u"2019-12-05T13:01:18.181535Z"_s << utc(2019, 12, 5, 13, 1, 18, 181);
    QTest::newRow("nanoseconds are cut, not rounded")
        << u"2023-01-27T10:00:00.999999999Z"_s << utc(2023, 1, 27, 10, 0, 0, 999);
    QTest::newRow("no fraction") << u"2023-01-27T10:00:00Z"_s << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("one digit") << u"2023-01-27T10:00:00.5Z"_s << utc(2023, 1, 27, 10, 0, 0, 500);
    QTest::newRow("offset") << u"2023-01-27T11:30:00.000+01:30"_s << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("zap's offset without colon") << u"2023-01-27T05:00:00.123-0500"_s << utc(2023, 1, 27, 10, 0, 0, 123);
    QTest::newRow("Go's zero time") << u"0001-01-01T00:00:00Z"_s << utc(1, 1, 1, 0, 0, 0);
    QTest::newRow("no such day") << u"2023-02-30T10:00:00Z"_s << QDateTime();
    QTest::newRow("no such hour") << u"2023-01-27T24:00:00Z"_s << QDateTime();
    QTest::newRow("no zone") << u"2023-01-27T10:00:00"_s << QDateTime();
    QTest::newRow("ten fraction digits") << u"2023-01-27T10:00:00.1234567890Z"_s << QDateTime();
    QTest::newRow("a dot and no digit") << u"2023-01-27T10:00:00.Z"_s << QDateTime();
    QTest::newRow("Go's String()") << u"2023-01-27 10:00:00 +0000 UTC"_s << QDateTime();
    QTest::newRow("other digits") << u"٢٠٢٣-01-27T10:00:00Z"_s << QDateTime();
    QTest::newRow("offset hours") << u"2023-01-27T10:00:00+24:00"_s << QDateTime();
    QTest::newRow("trailing space") << u"2023-01-27T10:00:00Z "_s << QDateTime();
}

void TestDatamonOutput::rfc3339()
{
    QFETCH(QString, text);
    QFETCH(QDateTime, time);
    QString error;
    const std::optional<QDateTime> result = DatamonOutput::parseRfc3339(text, &error);
    if (!time.isValid()) {
        QVERIFY(!result);
        QVERIFY2(error.contains(u'"' + text + u'"'), qPrintable(error));
        return;
    }
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(*result, time);
    QCOMPARE(result->timeSpec(), Qt::UTC);
}

void TestDatamonOutput::goTime_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QDateTime>("time"); // invalid: an error

    QTest::newRow("the lock's") << u"2023-01-27 10:00:00.123 +0000 UTC"_s << utc(2023, 1, 27, 10, 0, 0, 123);
    QTest::newRow("repo list's example") << u"2019-12-05 14:01:18.181535 +0100 CET"_s
                                         << utc(2019, 12, 5, 13, 1, 18, 181);
    QTest::newRow("no fraction") << u"2023-01-27 10:00:00 +0000 UTC"_s << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("nanoseconds") << u"2023-01-27 10:00:00.123456789 +0000 UTC"_s << utc(2023, 1, 27, 10, 0, 0, 123);
    QTest::newRow("monotonic clock") << u"2023-01-27 10:00:00.5 +0000 UTC m=+0.000012345"_s
                                     << utc(2023, 1, 27, 10, 0, 0, 500);
    QTest::newRow("negative monotonic") << u"2023-01-27 10:00:00 +0000 UTC m=-3.000000001"_s
                                        << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("zone without abbreviation") << u"2023-01-27 15:30:00 +0530 +0530"_s << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("west") << u"2023-01-26 23:00:00 -1100 SST"_s << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("no zone name") << u"2023-01-27 10:00:00 +0000"_s << QDateTime();
    QTest::newRow("RFC 3339") << u"2023-01-27T10:00:00Z"_s << QDateTime();
    QTest::newRow("no such day") << u"2023-02-29 10:00:00 +0000 UTC"_s << QDateTime();
    QTest::newRow("monotonic without digits") << u"2023-01-27 10:00:00 +0000 UTC m=+"_s << QDateTime();
    QTest::newRow("empty") << u""_s << QDateTime();
}

void TestDatamonOutput::goTime()
{
    QFETCH(QString, text);
    QFETCH(QDateTime, time);
    QString error;
    const std::optional<QDateTime> result = DatamonOutput::parseGoTime(text, &error);
    if (!time.isValid()) {
        QVERIFY(!result);
        QVERIFY2(error.contains(u"Go time"_s) || error.contains(u"no such"_s), qPrintable(error));
        return;
    }
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(*result, time);
}

void TestDatamonOutput::repoLine()
{
    QString error;
    const std::optional<DatamonRepo> repo = DatamonOutput::parseRepoLine(kRepoLine, 1, &error);
    QVERIFY2(repo, qPrintable(error));
    QCOMPARE(repo->name, u"flood-maps"_s);
    QCOMPARE(repo->description, kDescription);
    QCOMPARE(repo->contributorName, u"Frédéric Bidon"_s);
    QCOMPARE(repo->contributorEmail, u"frederic@oneconcern.com"_s);
    QCOMPARE(repo->time, utc(2019, 12, 5, 13, 1, 18, 181));
}

void TestDatamonOutput::repoLineWithEmptyFields()
{
    // An empty description and no contributor: urlquery of "" is "", so two spaces follow each other.
    QString error;
    const std::optional<DatamonRepo> repo
        = DatamonOutput::parseRepoLine("Legacy-2    0001-01-01T00:00:00Z"_ba, 7, &error);
    QVERIFY2(repo, qPrintable(error));
    QCOMPARE(repo->name, u"Legacy-2"_s);
    QVERIFY(repo->description.isEmpty());
    QVERIFY(repo->contributorName.isEmpty());
    QVERIFY(repo->contributorEmail.isEmpty());
    QCOMPARE(repo->time, utc(1, 1, 1, 0, 0, 0));
}

void TestDatamonOutput::badRepoLines_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("error");

    QTest::newRow("bad escape in the description") << "fred 100%25+sure%2 Fred fred%40x.org 2019-12-05T13:01:18Z"_ba
                                                   << u"line 12, field 2 (description): bad escape \"%2\" at byte 12"_s;
    QTest::newRow("underscore in the name") << "flood_maps d n e 2019-12-05T13:01:18Z"_ba
                                            << u"line 12, field 1 (name): \"flood_maps\" is not a repo name"_s;
    QTest::newRow("slash in the name") << "a%2Fb d n e 2019-12-05T13:01:18Z"_ba
                                       << u"line 12, field 1 (name): \"a/b\" is not a repo name"_s;
    QTest::newRow("a letter outside ASCII")
        << "r%C3%A9seau d n e 2019-12-05T13:01:18Z"_ba << u"line 12, field 1 (name): \"réseau\" is not a repo name"_s;
    QTest::newRow("space in the name") << "a+b d n e 2019-12-05T13:01:18Z"_ba
                                       << u"line 12, field 1 (name): \"a b\" is not a repo name"_s;
    QTest::newRow("empty name") << " d n e 2019-12-05T13:01:18Z"_ba
                                << u"line 12, field 1 (name): \"\" is not a repo name"_s;
    QTest::newRow("missing field") << "fred d n 2019-12-05T13:01:18Z"_ba
                                   << u"line 12: expected 5 fields separated by single spaces (name, description, "
                                      u"contributor name, contributor email, time), found 4"_s;
    QTest::newRow("extra field") << "fred d n e 2019-12-05T13:01:18Z x"_ba << u"found 6"_s;
    QTest::newRow("the default template's line")
        << "fred , test fred , Frédéric Bidon , frederic@oneconcern.com , 2019-12-05 14:01:18.181535 +0100 CET"_ba
        << u"found 14"_s;
    QTest::newRow("empty line") << ""_ba << u"found 1"_s;
    QTest::newRow("bad time") << "fred d n e 2019-12-05"_ba
                              << u"line 12, field 5 (time): \"2019-12-05\" is not an RFC 3339 time"_s;
    QTest::newRow("bad contributor email") << "fred d n %E2%80 2019-12-05T13:01:18Z"_ba
                                           << u"line 12, field 4 (contributor email): the unescaped bytes are not "
                                              u"UTF-8"_s;
}

void TestDatamonOutput::badRepoLines()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseRepoLine(line, 12, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::bundleLine()
{
    QString error;
    const std::optional<DatamonBundle> bundle = DatamonOutput::parseBundleLine(
        "kY9pF34Qy6nB3Wwd25rq4f5zr3Q 2023-01-27T10:00:00.123456789Z fix%3A+a%2C+b%2C+and+c%0Asecond+line 3"_ba, 1,
        &error);
    QVERIFY2(bundle, qPrintable(error));
    QCOMPARE(bundle->id, u"kY9pF34Qy6nB3Wwd25rq4f5zr3Q"_s);
    QCOMPARE(bundle->time, utc(2023, 1, 27, 10, 0, 0, 123));
    QCOMPARE(bundle->message, u"fix: a, b, and c\nsecond line"_s);
    QCOMPARE(bundle->indexFiles, 3u);

    const std::optional<DatamonBundle> empty = DatamonOutput::parseBundleLine(
        "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z  18446744073709551615"_ba, 2, &error);
    QVERIFY2(empty, qPrintable(error));
    QVERIFY(empty->message.isEmpty());
    QCOMPARE(empty->indexFiles, std::numeric_limits<quint64>::max());
}

void TestDatamonOutput::badBundleLines_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("error");

    QTest::newRow("negative count") << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z m -1"_ba
                                    << u"line 4, field 4 (index file count): \"-1\" is not a count"_s;
    QTest::newRow("count past uint64") << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z m 18446744073709551616"_ba
                                       << u"is not a count"_s;
    QTest::newRow("empty count") << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z m "_ba << u"is not a count"_s;
    QTest::newRow("id with a dash") << "A7YeEEBY3ABp-e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z m 1"_ba
                                    << u"line 4, field 1 (id): \"A7YeEEBY3ABp-e2zS8iq9y7AjzQ\" is not a bundle id"_s;
    QTest::newRow("message with a raw space")
        << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z a b 1"_ba << u"found 5"_s;
    QTest::newRow("bad escape in the message") << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00Z 100% 1"_ba
                                               << u"line 4, field 3 (message): bad escape \"%\" at byte 4"_s;
    QTest::newRow("local time") << "A7YeEEBY3ABp3e2zS8iq9y7AjzQ 2023-01-27T10:00:00 m 1"_ba
                                << u"line 4, field 2 (time)"_s;
}

void TestDatamonOutput::badBundleLines()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseBundleLine(line, 4, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::labelLine()
{
    QString error;
    const std::optional<DatamonLabel> label = DatamonOutput::parseLabelLine(
        "release%2F1.0+final Hb6BAEcn6zJ4A3DdvHyrNktBXtn 2023-01-27T10:00:00.5Z"_ba, 1, &error);
    QVERIFY2(label, qPrintable(error));
    QCOMPARE(label->name, u"release/1.0 final"_s);
    QCOMPARE(label->bundleId, u"Hb6BAEcn6zJ4A3DdvHyrNktBXtn"_s);
    QCOMPARE(label->time, utc(2023, 1, 27, 10, 0, 0, 500));
}

void TestDatamonOutput::badLabelLines_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("error");

    QTest::newRow("empty name") << " Hb6BAEcn6zJ4A3DdvHyrNktBXtn 2023-01-27T10:00:00Z"_ba
                                << u"line 9, field 1 (name): \"\" is not a label name"_s;
    QTest::newRow("empty bundle id") << "latest  2023-01-27T10:00:00Z"_ba
                                     << u"line 9, field 2 (bundle id): \"\" is not a bundle id"_s;
    QTest::newRow("missing time") << "latest Hb6BAEcn6zJ4A3DdvHyrNktBXtn"_ba << u"line 9: expected 3 fields"_s;
    QTest::newRow("extra field") << "latest Hb6BAEcn6zJ4A3DdvHyrNktBXtn 2023-01-27T10:00:00Z x"_ba << u"found 4"_s;
}

void TestDatamonOutput::badLabelLines()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseLabelLine(line, 9, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::contextLine()
{
    QString error;
    const std::optional<DatamonContextBuckets> context = DatamonOutput::parseContextLine(
        "prod datamon-blob datamon-prod-meta datamon-prod-vmeta datamon-prod-wal datamon-prod-readlog"_ba, 1, &error);
    QVERIFY2(context, qPrintable(error));
    QCOMPARE(context->name, u"prod"_s);
    QCOMPARE(context->blob, u"datamon-blob"_s);
    QCOMPARE(context->metadata, u"datamon-prod-meta"_s);
    QCOMPARE(context->vmetadata, u"datamon-prod-vmeta"_s);
    QCOMPARE(context->wal, u"datamon-prod-wal"_s);
    QCOMPARE(context->readLog, u"datamon-prod-readlog"_s);

    QVERIFY(!DatamonOutput::parseContextLine("prod blob meta vmeta wal"_ba, 1, &error));
    QVERIFY2(error.contains(u"expected 6 fields"_s), qPrintable(error));
    QVERIFY(!DatamonOutput::parseContextLine("prod blob meta vmeta wal read%zlog"_ba, 1, &error));
    QVERIFY2(error.contains(u"line 1, field 6 (read log): bad escape \"%zl\""_s), qPrintable(error));
}

void TestDatamonOutput::contextList_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QStringList>("contexts");

    QTest::newRow("three") << "[a b dev]\n"_ba << QStringList { u"a"_s, u"b"_s, u"dev"_s };
    QTest::newRow("none") << "[]\n"_ba << QStringList();
    QTest::newRow("one, no newline") << "[dev]"_ba << QStringList { u"dev"_s };
}

void TestDatamonOutput::contextList()
{
    QFETCH(QByteArray, output);
    QFETCH(QStringList, contexts);
    QString error;
    const std::optional<QStringList> result = DatamonOutput::parseContextList(output, &error);
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(*result, contexts);
}

void TestDatamonOutput::badContextLists_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QString>("error");

    QTest::newRow("empty") << ""_ba << u"printed \"\", not one bracketed list"_s;
    QTest::newRow("no brackets") << "a b\n"_ba << u"printed \"a b\""_s;
    QTest::newRow("two lines") << "[a]\n[b]\n"_ba << u"not one bracketed list"_s;
    QTest::newRow("two spaces") << "[a  b]\n"_ba << u"has an empty context name"_s;
    QTest::newRow("one space") << "[ ]\n"_ba << u"has an empty context name"_s;
}

void TestDatamonOutput::badContextLists()
{
    QFETCH(QByteArray, output);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseContextList(output, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

namespace {

// `repo get --repo fred --with-size` with its default templates (repo.go, repo_get.go): the repo line, the header,
// one line per bundle in the order the concurrent listing finishes them, a blank line and the grand total. The
// second message holds ", " and a newline, the third is empty; times are time.String() in the process's zone.
const QByteArray kRepoSizes
    = "fred , test fred , Frédéric Bidon , frederic@oneconcern.com , 2019-12-05 14:01:18.181535 +0100 CET\n"
      "All bundles with their total size:\n"
      "kY9pF34Qy6nB3Wwd25rq4f5zr3Q , first upload, 2019-12-05 14:05:00.5 +0100 CET, 1500 (1.5kB)\n"
      "A7YeEEBY3ABp3e2zS8iq9y7AjzQ , fix: a, b, and c\n"
      "second line, 2019-12-05 15:00:00 +0100 CET, 2500000 (2.5MB)\n"
      "Hb6BAEcn6zJ4A3DdvHyrNktBXtn , , 2019-12-06 09:00:00.123456789 +0100 CET, 0 (0B)\n"
      "\n"
      "Grand total for repo \"fred\": 2501500 (2.502MB)\n";

} // namespace

void TestDatamonOutput::repoSizes()
{
    QString error;
    const std::optional<DatamonRepoSizes> sizes = DatamonOutput::parseRepoSizes(kRepoSizes, &error);
    QVERIFY2(sizes, qPrintable(error));
    QCOMPARE(sizes->repo, u"fred"_s);
    QCOMPARE(sizes->totalBytes, 2501500u);
    const QHash<QString, quint64> expected { { u"kY9pF34Qy6nB3Wwd25rq4f5zr3Q"_s, 1500 },
        { u"A7YeEEBY3ABp3e2zS8iq9y7AjzQ"_s, 2500000 }, { u"Hb6BAEcn6zJ4A3DdvHyrNktBXtn"_s, 0 } };
    QCOMPARE(sizes->bundleBytes, expected);
}

void TestDatamonOutput::repoSizesWithoutBundles()
{
    QString error;
    const std::optional<DatamonRepoSizes> sizes
        = DatamonOutput::parseRepoSizes("empty , nothing yet ,  ,  , 2019-12-05 14:01:18 +0000 UTC\n"
                                        "All bundles with their total size:\n"
                                        "\n"
                                        "Grand total for repo \"empty\": 0 (0B)\n"_ba,
            &error);
    QVERIFY2(sizes, qPrintable(error));
    QCOMPARE(sizes->repo, u"empty"_s);
    QVERIFY(sizes->bundleBytes.isEmpty());
    QCOMPARE(sizes->totalBytes, 0u);
}

void TestDatamonOutput::badRepoSizes_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QString>("error");

    QByteArray mismatch = kRepoSizes;
    mismatch.replace("2501500 (", "2501501 (");
    QTest::newRow("total is not the sum") << mismatch
                                          << u"the bundles' sizes add up to 2501500 bytes, but the grand total says "
                                             u"2501501"_s;
    QByteArray unterminated = kRepoSizes;
    unterminated.replace(", 0 (0B)\n", ", 0\n");
    QTest::newRow("last record without its size")
        << unterminated
        << u"line 6: \"Hb6BAEcn6zJ4A3DdvHyrNktBXtn , , 2019-12-06 09:00:00.123456789 +0100 CET, 0\" "
           u"does not end with"_s;
    QByteArray noId = kRepoSizes;
    noId.replace("kY9pF34Qy6nB3Wwd25rq4f5zr3Q , first", "first");
    QTest::newRow("record without an id") << noId << u"line 3: the bundle line \"first upload,"_s;
    QByteArray twice = kRepoSizes;
    twice.replace("Hb6BAEcn6zJ4A3DdvHyrNktBXtn", "kY9pF34Qy6nB3Wwd25rq4f5zr3Q");
    QTest::newRow("bundle twice") << twice << u"line 6: bundle kY9pF34Qy6nB3Wwd25rq4f5zr3Q is listed twice"_s;
    QByteArray badTime = kRepoSizes;
    badTime.replace("2019-12-05 15:00:00 +0100", "2019-12-35 15:00:00 +0100");
    QTest::newRow("no such day") << badTime << u"has no such date"_s;
    QByteArray noHeader = kRepoSizes;
    noHeader.replace("All bundles", "Some bundles");
    QTest::newRow("no header") << noHeader << u"no line \"All bundles with their total size:\""_s;
    QTest::newRow("no grand total (not --with-size)")
        << "fred , test fred , Frédéric Bidon , frederic@oneconcern.com , 2019-12-05 14:01:18.181535 +0100 CET\n"_ba
        << u"does not end with an empty line and Grand total"_s;
    QByteArray noBlank = kRepoSizes;
    noBlank.replace("(0B)\n\nGrand", "(0B)\nGrand");
    QTest::newRow("no blank line before the total") << noBlank << u"does not end with an empty line"_s;
    QTest::newRow("empty") << ""_ba << u"does not end with"_s;
}

void TestDatamonOutput::badRepoSizes()
{
    QFETCH(QByteArray, output);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseRepoSizes(output, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

namespace {

// build-reverse-lookup's stdout (purge_reverse_lookup.go's log.Printf, its wrong hint included).
const QByteArray kIndexSummary = "An index of the blob keys in use is now built in metadata.\n"
                                 "Metadata store: gs://datamon-prod-meta/\n"
                                 "Blob store: gs://datamon-blob/\n"
                                 "Index built at: 2023-01-27 10:00:00.250118741 +0000 UTC\n"
                                 "Num entries (blob keys): 1234567\n"
                                 "\n"
                                 "You may now use datamon purge remove-unused\n";

QByteArray purgeSummaryOutput(const QByteArray& dryRun)
{
    return "unused blob keys removed (none is actually removed if this is a dry-run).\n"
           "Metadata store: gs://datamon-prod-meta/\n"
           "Blob store: gs://datamon-blob/\n"
           "Index built at: 2023-01-27 10:00:00.250118741 +0000 UTC\n"
           "Num blob keys scanned: 200000\n"
           "Num blob keys found in use: 150000\n"
           "Num blob keys found more recent than index: 12\n"
           "Num blob keys deleted: 49988\n"
           "Num bytes relinquished: 52416118784\n"
           "Dry-run: "
        + dryRun + "\n";
}

} // namespace

void TestDatamonOutput::indexSummary()
{
    QString error;
    const std::optional<DatamonIndexSummary> summary = DatamonOutput::parseIndexSummary(kIndexSummary, &error);
    QVERIFY2(summary, qPrintable(error));
    QCOMPARE(summary->metadataStore, u"gs://datamon-prod-meta/"_s);
    QCOMPARE(summary->blobStore, u"gs://datamon-blob/"_s);
    QCOMPARE(summary->indexTime, utc(2023, 1, 27, 10, 0, 0, 250));
    QCOMPARE(summary->entries, 1234567u);
}

void TestDatamonOutput::badIndexSummaries_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QString>("error");

    QTest::newRow("nothing") << ""_ba << u"build-reverse-lookup printed no summary"_s;
    QTest::newRow("the other summary") << purgeSummaryOutput("true") << u"build-reverse-lookup printed no summary"_s;
    QTest::newRow("cut short")
        << kIndexSummary.first(kIndexSummary.indexOf("Index built"))
        << u"line 4 of build-reverse-lookup's summary: expected \"Index built at: \"..., found the end of the output"_s;
    QByteArray badCount = kIndexSummary;
    badCount.replace("1234567", "1,234,567");
    QTest::newRow("count with commas") << badCount
                                       << u"\"Num entries (blob keys): \" is followed by \"1,234,567\", not a count"_s;
    QByteArray badTime = kIndexSummary;
    badTime.replace(" +0000 UTC", "");
    QTest::newRow("time without zone") << badTime << u"after \"Index built at: \""_s;
}

void TestDatamonOutput::badIndexSummaries()
{
    QFETCH(QByteArray, output);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseIndexSummary(output, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::purgeSummary_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<bool>("dryRun");

    QTest::newRow("dry run") << purgeSummaryOutput("true") << true;
    QTest::newRow("real") << purgeSummaryOutput("false") << false;
}

void TestDatamonOutput::purgeSummary()
{
    QFETCH(QByteArray, output);
    QFETCH(bool, dryRun);
    QString error;
    const std::optional<DatamonPurgeSummary> summary = DatamonOutput::parsePurgeSummary(output, &error);
    QVERIFY2(summary, qPrintable(error));
    QCOMPARE(summary->metadataStore, u"gs://datamon-prod-meta/"_s);
    QCOMPARE(summary->blobStore, u"gs://datamon-blob/"_s);
    QCOMPARE(summary->indexTime, utc(2023, 1, 27, 10, 0, 0, 250));
    QCOMPARE(summary->scanned, 200000u);
    QCOMPARE(summary->inUse, 150000u);
    QCOMPARE(summary->newerThanIndex, 12u);
    QCOMPARE(summary->deleted, 49988u);
    QCOMPARE(summary->bytesRelinquished, 52416118784u);
    QCOMPARE(summary->dryRun, dryRun);
}

void TestDatamonOutput::badPurgeSummaries_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QString>("error");

    QTest::newRow("dry run spelled otherwise")
        << purgeSummaryOutput("yes") << u"Dry-run is \"yes\", not true or false"_s;
    QTest::newRow("the other summary") << kIndexSummary << u"delete-unused printed no summary"_s;
    QByteArray negative = purgeSummaryOutput("true");
    negative.replace("found more recent than index: 12", "found more recent than index: -12");
    QTest::newRow("negative count") << negative << u"is followed by \"-12\", not a count"_s;
    QByteArray missing = purgeSummaryOutput("false");
    missing.replace("Num blob keys found in use: 150000\n", "");
    QTest::newRow("line missing")
        << missing << u"line 6 of delete-unused's summary: expected \"Num blob keys found in use: \"..."_s;
}

void TestDatamonOutput::badPurgeSummaries()
{
    QFETCH(QByteArray, output);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parsePurgeSummary(output, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::lockedAt_data()
{
    QTest::addColumn<QByteArray>("lock");
    QTest::addColumn<QDateTime>("time");

    // PurgeLock: fmt.Fprintf(r, "locked_at: %q\n", time.Now().UTC()).
    QTest::newRow("as datamon writes it")
        << "locked_at: \"2023-01-27 10:00:00.123456789 +0000 UTC\"\n"_ba << utc(2023, 1, 27, 10, 0, 0, 123);
    QTest::newRow("unquoted") << "locked_at: 2023-01-27 10:00:00.123 +0000 UTC\n"_ba << utc(2023, 1, 27, 10, 0, 0, 123);
    QTest::newRow("single quotes, no newline")
        << "locked_at: '2023-01-27 10:00:00 +0000 UTC'"_ba << utc(2023, 1, 27, 10, 0, 0);
    QTest::newRow("comment and other keys")
        << "# taken by hand\nholder: someone\nlocked_at: 2023-01-27 10:00:00 +0000 UTC # stale?\r\n"_ba
        << utc(2023, 1, 27, 10, 0, 0);
}

void TestDatamonOutput::lockedAt()
{
    QFETCH(QByteArray, lock);
    QFETCH(QDateTime, time);
    QString error;
    const std::optional<QDateTime> result = DatamonOutput::parseLockedAt(lock, &error);
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(*result, time);
}

void TestDatamonOutput::badLocks_data()
{
    QTest::addColumn<QByteArray>("lock");
    QTest::addColumn<QString>("error");

    QTest::newRow("empty") << ""_ba << u"has 0 locked_at entries, not one"_s;
    QTest::newRow("twice") << "locked_at: 2023-01-27 10:00:00 +0000 UTC\nlocked_at: 2023-01-27 10:00:00 +0000 UTC\n"_ba
                           << u"has 2 locked_at entries"_s;
    QTest::newRow("unterminated quote") << "locked_at: \"2023-01-27 10:00:00 +0000 UTC\n"_ba
                                        << u"is not locked_at: \"<time>\""_s;
    QTest::newRow("escapes") << "locked_at: \"2023-01-27 10:00:00 +0000 \\\"UTC\"\n"_ba
                             << u"is not locked_at: \"<time>\""_s;
    QTest::newRow("no value") << "locked_at:\n"_ba << u"is not locked_at"_s;
    QTest::newRow("RFC 3339") << "locked_at: \"2023-01-27T10:00:00Z\"\n"_ba
                              << u"the purge lock's locked_at: \"2023-01-27T10:00:00Z\" is not a Go time"_s;
}

void TestDatamonOutput::badLocks()
{
    QFETCH(QByteArray, lock);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!DatamonOutput::parseLockedAt(lock, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestDatamonOutput::indexChunkTime()
{
    // uploader's dbReader: the index time in RFC3339Nano, then one blake2b key (128 hex digits) a line.
    const QByteArray chunk
        = "2023-01-27T10:00:00.250118741Z\n" + QByteArray(128, 'a') + '\n' + QByteArray(128, 'b') + '\n';
    QString error;
    std::optional<QDateTime> time = DatamonOutput::parseIndexChunkTime(chunk, &error);
    QVERIFY2(time, qPrintable(error));
    QCOMPARE(*time, utc(2023, 1, 27, 10, 0, 0, 250));
    // The last chunk datamon writes holds the time alone; a ranged read may stop before the newline.
    time = DatamonOutput::parseIndexChunkTime("2023-01-27T10:00:00Z", &error);
    QVERIFY2(time, qPrintable(error));
    QCOMPARE(*time, utc(2023, 1, 27, 10, 0, 0));
}

// gcloud storage objects list ... --format=kBundleObjectFormat, as the real gcloud prints it (UTC host).
void TestDatamonOutput::bundleObjects()
{
    QString error;
    const auto objects = DatamonOutput::parseBundleObjects(
        "dm-dev-meta\t2026-11-28T11:57:15.250000+0000\tbundles/dev-census-00005/34sorWOr8ZlKV2COm9UTAePBpNg/"
        "bundle.yaml\n"
        "dm-shared-meta\t2026-11-28T12:57:15.000000+0100\tbundles/s-1/2AbC/bundle.yaml\n",
        &error);
    QVERIFY2(objects, qPrintable(error));
    QCOMPARE(objects->size(), 2);
    QCOMPARE(objects->at(0).bucket, u"dm-dev-meta"_s);
    QCOMPARE(objects->at(0).repo, u"dev-census-00005"_s);
    QCOMPARE(objects->at(0).bundleId, u"34sorWOr8ZlKV2COm9UTAePBpNg"_s);
    QCOMPARE(objects->at(0).created, utc(2026, 11, 28, 11, 57, 15, 250));
    QCOMPARE(objects->at(1).created, utc(2026, 11, 28, 11, 57, 15));
    QVERIFY(DatamonOutput::parseBundleObjects("", &error).value_or(QList<DatamonBundleObject> { {} }).isEmpty());
    // A name that is not bundles/<repo>/<id>/bundle.yaml, a repo datamon would refuse, a bad time: refused.
    for (const QByteArray& bad : { QByteArray("b\t2026-11-28T11:57:15.000000+0000\tbundles/r/1/bundle-files-0.yaml"),
             QByteArray("b\t2026-11-28T11:57:15.000000+0000\tbundles/r;x/1/bundle.yaml"),
             QByteArray("b\tyesterday\tbundles/r/1/bundle.yaml"), QByteArray("bundles/r/1/bundle.yaml") }) {
        error.clear();
        QVERIFY2(!DatamonOutput::parseBundleObjects(bad, &error), bad.constData());
        QVERIFY2(error.contains(u"line 1"_s), qPrintable(error));
    }
}

void TestDatamonOutput::badIndexChunks()
{
    QString error;
    QVERIFY(!DatamonOutput::parseIndexChunkTime(QByteArray(128, 'a') + '\n', &error));
    QVERIFY2(error.startsWith(u"the index chunk's first line: \"aaaa"_s), qPrintable(error));
    QVERIFY(!DatamonOutput::parseIndexChunkTime(""_ba, &error));
    QVERIFY2(error.contains(u"\"\" is not an RFC 3339 time"_s), qPrintable(error));
}

void TestDatamonOutput::stderrEvents()
{
    DatamonStderrParser parser;
    const QList<DatamonStderrEvent> events = parseAll(kMixedStderr, &parser);
    QCOMPARE(kinds(events),
        QStringList({ u"Info"_s, u"UsageError"_s, u"Fatal"_s, u"Zap"_s, u"Zap"_s, u"Zap"_s, u"Other"_s, u"Zap"_s,
            u"Other"_s, u"Zap"_s, u"Zap"_s, u"Fatal"_s, u"Panic"_s }));

    QCOMPARE(events[0].line, 1);
    QCOMPARE(events[0].text,
        u"warning: the config file extension is not of a supported type.Use a well-known config file extension "
        u"(.yaml, .json, ...)"_s);

    // cobra's usage folded into its error: one event, the blank line before ERROR dropped.
    QCOMPARE(events[1].line, 2);
    QCOMPARE(events[1].text, u"unknown flag: --bogus"_s);
    QVERIFY(events[1].usage.startsWith(u"Usage:\n  datamon purge delete-unused [flags]\n\nFlags:\n"_s));
    QVERIFY(events[1].usage.endsWith(u"no such concurrent job is running"_s));
    QCOMPARE(events[1].usage.count(u'\n'), 9);
    QCOMPARE(events[2].line, 14);
    QCOMPARE(events[2].text, u"unknown flag: --bogus"_s);

    const DatamonStderrEvent& scanning = events[4];
    QCOMPARE(scanning.line, 16);
    QCOMPARE(scanning.level, u"info"_s);
    QCOMPARE(scanning.time, utc(2023, 1, 27, 10, 0, 1, 250)); // written as 11:00:01.250+0100
    QCOMPARE(scanning.caller, u"core/purge.go:197"_s);
    QCOMPARE(scanning.text, u"scanning repos"_s);
    QCOMPARE(scanning.fields.value(u"num_repos_in_context"_s).toInteger(), 2);
    QCOMPARE(scanning.fields.value(u"context metadata"_s).toString(), u"gs://datamon-prod-meta/"_s);
    QVERIFY(!scanning.fields.contains(u"msg"_s));
    QVERIFY(!scanning.fields.contains(u"ts"_s));
    QCOMPARE(scanning.fields.size(), 4);

    QCOMPARE(events[6].text, u"2023/01/27 10:00:03 storage: retrying after 503 – résumé"_s);
    QCOMPARE(events[8].text, u"{\"level\":\"info\",\"ts\":\"2023-01-27T10:0"_s);
    QCOMPARE(events[11].line, 23);
    QCOMPARE(events[11].text,
        u"build-reverse-lookup failed (could remove job lock before exiting): googleapi: Error 403: caller does not "
        u"have storage.objects.delete access, forbidden\nMore details:\nReason: forbidden, Message: caller does not "
        u"have storage.objects.delete access"_s);
    QCOMPARE(events[12].line, 26);
    QVERIFY(events[12].text.startsWith(u"panic: runtime error: invalid memory address or nil pointer dereference\n"_s));
    QVERIFY(events[12].text.endsWith(u"\n\t/home/runner/work/datamon/datamon/cmd/datamon/main.go:8 +0x17"_s));

    QCOMPARE(parser.fatalText(), events[11].text);
    QCOMPARE(parser.usageError(), u"unknown flag: --bogus"_s);
    QVERIFY(parser.sawPanic());
    QCOMPARE(parser.panicHeadline(), u"panic: runtime error: invalid memory address or nil pointer dereference"_s);

    const DatamonProgress& progress = parser.progress();
    QCOMPARE(progress.contextMetadata, u"gs://datamon-prod-meta/"_s);
    QCOMPARE(progress.reposInContext, 2);
    QCOMPARE(progress.percent, 50);
    QCOMPARE(progress.reposFinished, 1);
    QCOMPARE(progress.keys, 2600);
    QCOMPARE(progress.uniqueKeys, 2100);
    QCOMPARE(progress.throughput, 8);
    QCOMPARE(progress.chunksUploaded, 1);
    QCOMPARE(progress.keysUploaded, 2100);
    QCOMPARE(progress.updatedAt, utc(2023, 1, 27, 10, 5, 2));
    QCOMPARE(progress.phase, u"Uploaded index chunk reverse-index/chunk-1.yaml: 1 chunks, 2100 keys so far."_s);
}

void TestDatamonOutput::stderrSplitAtEveryByte()
{
    DatamonStderrParser whole;
    const QStringList expected = describeAll(parseAll(kMixedStderr, &whole));
    for (qsizetype at = 0; at <= kMixedStderr.size(); ++at) {
        DatamonStderrParser parser;
        QList<DatamonStderrEvent> events = parser.feed(kMixedStderr.first(at));
        events += parser.feed(kMixedStderr.sliced(at));
        events += parser.finish();
        if (describeAll(events) != expected) {
            qWarning("split at byte %lld", qlonglong(at));
            QCOMPARE(describeAll(events), expected);
        }
        QCOMPARE(parser.fatalText(), whole.fatalText());
        QCOMPARE(parser.progress().phase, whole.progress().phase);
    }
}

void TestDatamonOutput::stderrByteByByte()
{
    DatamonStderrParser whole;
    const QStringList expected = describeAll(parseAll(kMixedStderr, &whole));
    DatamonStderrParser parser;
    QList<DatamonStderrEvent> events;
    for (qsizetype at = 0; at < kMixedStderr.size(); ++at)
        events += parser.feed(kMixedStderr.sliced(at, 1));
    events += parser.finish();
    QCOMPARE(describeAll(events), expected);
}

void TestDatamonOutput::panicTrace()
{
    DatamonStderrParser parser;
    const QList<DatamonStderrEvent> fed = parser.feed(kPanicStderr);
    // The zap lines come out at once; the panic only at the end, all of it.
    QCOMPARE(kinds(fed), QStringList({ u"Zap"_s, u"Zap"_s }));
    QVERIFY(parser.sawPanic());
    const QList<DatamonStderrEvent> finished = parser.finish();
    QCOMPARE(kinds(finished), QStringList({ u"Panic"_s }));
    QCOMPARE(finished[0].line, 3);
    QCOMPARE(finished[0].text, QString::fromUtf8(kPanicStderr.sliced(kPanicStderr.indexOf("panic:")).chopped(1)));
    QVERIFY(finished[0].text.contains(u"\"msg\":\"loaded index chunk\""_s));
    // The line after the panic is part of the trace, not progress.
    QCOMPARE(parser.progress().chunksLoaded, 0);
    QVERIFY(!parser.progress().indexTime.isValid());
    QCOMPARE(parser.progress().indexKeys, 0);
    QVERIFY(fed[0].fields.value(u"index_creation_time"_s).isNull());

    const DatamonExit exit = DatamonOutput::classifyExit(2, parser, true);
    QCOMPARE(exit.kind, DatamonExit::Kind::Panic);
    QVERIFY2(exit.message.contains(u"panic: runtime error: invalid memory address"_s), qPrintable(exit.message));
    QVERIFY2(exit.message.contains(u"purge.lock"_s), qPrintable(exit.message));

    DatamonStderrParser fatalError;
    fatalError.feed("fatal error: concurrent map writes\n\ngoroutine 42 [running]:\n");
    QVERIFY(fatalError.sawPanic());
    QCOMPARE(kinds(fatalError.finish()), QStringList({ u"Panic"_s }));
}

void TestDatamonOutput::zapLinesThatAreNot_data()
{
    QTest::addColumn<QByteArray>("line");

    QTest::newRow("cut short") << R"({"level":"info","ts":"2023-01-27T10:00:00.000Z","msg":"scanning)"_ba;
    QTest::newRow("no level") << R"({"ts":"2023-01-27T10:00:00.000Z","msg":"scanning repos"})"_ba;
    QTest::newRow("msg not a string") << R"({"level":"info","msg":3})"_ba;
    QTest::newRow("a brace alone") << "{"_ba;
    QTest::newRow("trailing garbage") << R"({"level":"info","msg":"x"} and more)"_ba;
    QTest::newRow("not UTF-8") << "{\xff\xfe}"_ba;
}

void TestDatamonOutput::zapLinesThatAreNot()
{
    QFETCH(QByteArray, line);
    DatamonStderrParser parser;
    const QList<DatamonStderrEvent> events = parseAll(line + '\n', &parser);
    QCOMPARE(kinds(events), QStringList({ u"Other"_s }));
    QCOMPARE(events[0].text, QString::fromUtf8(line));
}

void TestDatamonOutput::lastLineWithoutNewline()
{
    DatamonStderrParser parser;
    QVERIFY(parser.feed("ERROR: user abort").isEmpty());
    QVERIFY(parser.feed("ed").isEmpty());
    QCOMPARE(parser.fatalText(), QString()); // the line is not complete yet
    const QList<DatamonStderrEvent> events = parser.finish();
    QCOMPARE(kinds(events), QStringList({ u"Fatal"_s }));
    QCOMPARE(events[0].text, u"user aborted"_s);
    QCOMPARE(parser.fatalText(), u"user aborted"_s);

    DatamonStderrParser zapParser;
    QVERIFY(
        zapParser.feed(zap("2023-01-27T10:00:00.000Z", "loaded index chunk", R"("chunk":"reverse-index/chunk-1.yaml")"))
            .isEmpty());
    QCOMPARE(kinds(zapParser.finish()), QStringList({ u"Zap"_s }));
    QCOMPARE(zapParser.progress().chunksLoaded, 1);
}

void TestDatamonOutput::buildProgressWithSamplingGaps()
{
    // Two contexts share the blob store. zap dropped most per-repo lines (sampling) and a chunk upload line; the
    // 5-minute reports and the final line are datamon's own totals.
    const DatamonProgress progress = progressOf({
        zap("2023-01-27T10:00:01.000Z", "scanning repos",
            R"("context metadata":"gs://a-meta/","num_repos_in_context":500)"),
        zap("2023-01-27T10:00:01.001Z", "in-progress percent of current context",
            R"("context metadata":"gs://a-meta/","number of repos in this context":500,"percent_repos_in_context":0)"),
        zap("2023-01-27T10:00:02.000Z", "finished scanning repo entries", R"("repo":"r1","repo_keys":10)"),
        zap("2023-01-27T10:00:02.000Z", "finished scanning repo entries", R"("repo":"r1","repo_keys":10)"),
        zap("2023-01-27T10:00:09.000Z", "in-progress percent of current context",
            R"("context metadata":"gs://a-meta/","number of repos in this context":500,"percent_repos_in_context":99)"),
        zap("2023-01-27T10:05:00.000Z", "keys scanned so far for this context",
            R"("keys":300000,"unique_keys":250000,"keys_since_last_report":300000,"throughput keys scanned/s":1000,"db_size":"12MB")"),
        zap("2023-01-27T10:05:10.000Z", "done uploading index chunk file to metadata",
            R"("index_file":"reverse-index/chunk-1.yaml","keys_uploaded_in_chunk":250000)"),
        zap("2023-01-27T10:06:00.000Z", "scanning repos",
            R"("context metadata":"gs://b-meta/","num_repos_in_context":7)"),
        zap("2023-01-27T10:06:01.000Z", "finished scanning repo entries", R"("repo":"r1","repo_keys":3)"),
        zap("2023-01-27T10:06:02.000Z", "finished scanning repo entries", R"("repo":"r2","repo_keys":4)"),
        // chunk-2's line was sampled away; chunk-3 is the last, empty one.
        zap("2023-01-27T10:07:00.000Z", "done uploading index chunk file to metadata",
            R"("index_file":"reverse-index/chunk-3.yaml","keys_uploaded_in_chunk":0)"),
        zap("2023-01-27T10:07:00.500Z", "key to be deleted (dry-run)", R"("key":"ab","size":5)"),
    });
    QCOMPARE(progress.contextMetadata, u"gs://b-meta/"_s);
    QCOMPARE(progress.reposInContext, 7);
    QCOMPARE(progress.percent, 0); // the new context's
    QCOMPARE(progress.reposFinished, 2); // r1 of a-meta is not counted in b-meta
    QCOMPARE(progress.keys, -1); // a-meta's count is not b-meta's
    QCOMPARE(progress.throughput, -1);
    QCOMPARE(progress.uniqueKeys, 250000); // global
    QCOMPARE(progress.chunksUploaded, 2);
    QCOMPARE(progress.keysUploaded, 250000);
    QCOMPARE(progress.updatedAt, utc(2023, 1, 27, 10, 7, 0));

    // The final line is the whole truth.
    const DatamonProgress done = progressOf({
        zap("2023-01-27T10:05:10.000Z", "done uploading index chunk file to metadata",
            R"("index_file":"reverse-index/chunk-1.yaml","keys_uploaded_in_chunk":250000)"),
        zap("2023-01-27T10:08:00.000Z", "uploaded index file to metadata",
            R"("index_file":"reverse-index","total_keys":310007,"unique_keys":260000,"uploaded_keys":260000)"),
    });
    QCOMPARE(done.keysUploaded, 260000);
    QCOMPARE(done.uniqueKeys, 260000);
    QCOMPARE(done.phase, u"Index uploaded: 260000 keys (310007 scanned in all contexts)."_s);
}

void TestDatamonOutput::deleteProgressWithSamplingGaps()
{
    // Chunks load in parallel, in any order; a dry run logs every decision (sampled), which is not progress.
    const DatamonProgress progress = progressOf({
        zap("2023-01-27T11:00:00.000Z", "loaded index chunk", R"("chunk":"reverse-index/chunk-2.yaml")"),
        zap("2023-01-27T11:00:00.100Z", "loaded index chunk", R"("chunk":"reverse-index/chunk-1.yaml")"),
        zap("2023-01-27T11:00:00.100Z", "loaded index chunk", R"("chunk":"reverse-index/chunk-1.yaml")"),
        zap("2023-01-27T11:00:05.000Z", "done with dumping index entries to local KV store",
            R"("blob_store":"gs://datamon-blob/","index_creation_time":"2023-01-27T10:00:00.250Z","num_keys":260000,"last_index_file":2)"),
        zap("2023-01-27T11:00:06.000Z", "key to be deleted (dry-run)", R"("key":"ab","size":5)"),
        zap("2023-01-27T11:00:06.000Z", "key found in index: keeping blob", R"("key":"cd")"),
        zap("2023-01-27T11:05:05.000Z", "keys scanned so far from blob store",
            R"("keys":100000,"keys_since_last_report":100000,"deleted_keys_so_far":2500,"throughput keys/s":333)"),
        zap("2023-01-27T11:10:05.000Z", "keys scanned so far from blob store",
            R"("keys":190000,"keys_since_last_report":90000,"deleted_keys_so_far":4000,"throughput keys/s":300)"),
        zap("2023-01-27T11:10:06.000Z", "key to be deleted (dry-run)", R"("key":"ef","size":5)"),
    });
    QCOMPARE(progress.chunksLoaded, 2);
    QCOMPARE(progress.indexKeys, 260000);
    QCOMPARE(progress.indexTime, utc(2023, 1, 27, 10, 0, 0, 250));
    QCOMPARE(progress.keys, 190000);
    QCOMPARE(progress.deletedSoFar, 4000);
    QCOMPARE(progress.throughput, 300);
    QCOMPARE(progress.updatedAt, utc(2023, 1, 27, 11, 10, 5));
    QCOMPARE(progress.phase, u"190000 blob keys scanned, 4000 unused so far, 300 keys/s."_s);
}

void TestDatamonOutput::exitClassification_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("stderrBytes");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message"); // contained in the message

    QTest::newRow("ok") << 0 << ""_ba << int(DatamonExit::Kind::Ok) << u"finished"_s;
    // PurgeLock's 412 text, wrapped by purge_delete_unused.go.
    QTest::newRow("lock held")
        << 1
        << "ERROR: delete-unused: another purge job is running: a lock exist [purge.lock]: gs://datamon-prod-meta/\n"_ba
        << int(DatamonExit::Kind::LockHeld)
        << u"The purge lock gs://datamon-prod-meta/purge.lock is held, so another purge may be running on this "
           u"metadata bucket: wait for it to end, and use --force only for a stale lock whose job is gone."_s;
    QTest::newRow("lock held, store without slash")
        << 1 << "ERROR: building reverse-lookup: another purge job is running: a lock exist [purge.lock]: gs://m\n"_ba
        << int(DatamonExit::Kind::LockHeld) << u"The purge lock gs://m/purge.lock is held"_s;
    QTest::newRow("lock not taken for another reason")
        << 1 << "ERROR: delete-unused: another purge job is running: googleapi: Error 403: forbidden\n"_ba
        << int(DatamonExit::Kind::Failed)
        << u"datamon2 failed: delete-unused: another purge job is running: googleapi: Error 403: forbidden; fix what "
           u"it names and run it again."_s;
    QTest::newRow("usage") << 1
                           << "Error: unknown flag: --bogus\nUsage:\n  datamon repo list [flags]\n\nERROR: "
                              "unknown flag: --bogus\n"_ba
                           << int(DatamonExit::Kind::Failed)
                           << u"datamon2 refused its command line (unknown flag: --bogus): check that the configured "
                              u"binary is datamon2 v2.6.9."_s;
    QTest::newRow("user aborted") << 1 << "ERROR: user aborted\n"_ba << int(DatamonExit::Kind::Failed)
                                  << u"datamon2 failed: user aborted;"_s;
    QTest::newRow("exit 1, silent") << 1 << ""_ba << int(DatamonExit::Kind::Failed) << u"without an ERROR line"_s;
    QTest::newRow("repo not found") << 2 << "ERROR: didn't find repo \"flood-maps\"\n"_ba
                                    << int(DatamonExit::Kind::NotFound)
                                    << u"datamon2 found no repo \"flood-maps\" (exit 2): check the name and the "
                                       u"context."_s;
    QTest::newRow("context not found") << 2 << "ERROR: didn't find context \"qa\"\n"_ba
                                       << int(DatamonExit::Kind::NotFound) << u"found no context \"qa\""_s;
    QTest::newRow("exit 2, silent") << 2 << ""_ba << int(DatamonExit::Kind::NotFound)
                                    << u"exited 2 (not found) without saying what"_s;
    QTest::newRow("panic") << 2 << kPanicStderr << int(DatamonExit::Kind::Panic) << u"leaves purge.lock"_s;
    QTest::newRow("panic headline without trace")
        << 2 << "panic: boom"_ba << int(DatamonExit::Kind::Panic) << u"datamon2 crashed (panic: boom, exit 2)"_s;
    QTest::newRow("SIGTERM") << 143 << ""_ba << int(DatamonExit::Kind::Killed)
                             << u"datamon2 was killed by SIGTERM before it finished; a purge step leaves purge.lock"_s;
    QTest::newRow("SIGHUP (ssh dropped)") << 129 << ""_ba << int(DatamonExit::Kind::Killed) << u"by SIGHUP"_s;
    QTest::newRow("SIGKILL") << 137 << ""_ba << int(DatamonExit::Kind::Killed) << u"by SIGKILL"_s;
    QTest::newRow("SIGINT") << 130 << ""_ba << int(DatamonExit::Kind::Killed) << u"by SIGINT"_s;
    QTest::newRow("signal 6") << 134 << ""_ba << int(DatamonExit::Kind::Killed) << u"by signal 6"_s;
    QTest::newRow("crash exit") << -1 << ""_ba << int(DatamonExit::Kind::Killed) << u"killed by a signal"_s;
    QTest::newRow("ssh failed") << 255 << ""_ba << int(DatamonExit::Kind::Unknown) << u"exit code 255"_s;
    QTest::newRow("exit 3") << 3 << ""_ba << int(DatamonExit::Kind::Unknown) << u"exit code 3, which it does not use"_s;
    QTest::newRow("panic text but exit 1")
        << 1 << "panic: boom\n"_ba << int(DatamonExit::Kind::Failed) << u"without an ERROR line"_s;
}

void TestDatamonOutput::exitClassification()
{
    QFETCH(int, status);
    QFETCH(QByteArray, stderrBytes);
    QFETCH(int, kind);
    QFETCH(QString, message);
    DatamonStderrParser parser;
    parser.feed(stderrBytes);
    parser.finish();
    const DatamonExit exit = DatamonOutput::classifyExit(status, parser, true);
    QCOMPARE(int(exit.kind), kind);
    QVERIFY2(exit.message.contains(message), qPrintable(exit.message));
    // A listing or a repo delete takes no purge lock: its crash or kill says so instead.
    const DatamonExit query = DatamonOutput::classifyExit(status, parser, false);
    QCOMPARE(int(query.kind), kind);
    if (kind == int(DatamonExit::Kind::Killed) || kind == int(DatamonExit::Kind::Panic)) {
        QVERIFY2(!query.message.contains(u"purge.lock"_s), qPrintable(query.message));
        QVERIFY2(query.message.contains(u"takes no purge lock"_s), qPrintable(query.message));
    }
}

QTEST_GUILESS_MAIN(TestDatamonOutput)
#include "tst_datamonoutput.moc"
