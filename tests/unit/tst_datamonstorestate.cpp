// What the store-state read prints (gcloud storage ls --json of the metadata bucket's root, then the lock and the
// start of the first index chunk behind markers), read back.
#include "datamon/DatamonQueries.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestDatamonStoreState : public QObject
{
    Q_OBJECT

private slots:
    void nothingThere();
    void lockAndIndex();
    void lockUnreadable();
    void indexWithoutChunk();
    void lockOnly();
    void bucketsListedTogether();
    void refusesWhatDoesNotAgree_data();
    void refusesWhatDoesNotAgree();
};

namespace {

const QByteArray kPrefixes = R"([
{
  "url": "gs://m/bundles/",
  "type": "prefix"
},
{
  "url": "gs://m/repos/",
  "type": "prefix"
})";

const QByteArray kLockEntry = R"(
{
  "url": "gs://m/purge.lock#1796461873602590",
  "type": "cloud_object",
  "metadata": {
    "bucket": "m",
    "generation": "1796461873602590",
    "name": "purge.lock",
    "size": "47",
    "updated": "2026-12-05T09:11:13.602000+00:00"
  }
},)";

const QByteArray kIndexEntry = R"(,
{
  "url": "gs://m/reverse-index/",
  "type": "prefix"
})";

QByteArray listing(bool lock, bool index)
{
    QByteArray text = kPrefixes;
    if (lock)
        text.insert(1, kLockEntry);
    if (index)
        text += kIndexEntry;
    return text + "\n]\n";
}

// One bucket's state from the store-state script's output.
std::optional<DatamonQueries::StoreState> parse(const QByteArray& out, QString* error)
{
    const auto states = DatamonQueries::parseStoreStates(out, { u"m"_s }, error);
    return states ? std::optional(states->front()) : std::nullopt;
}

} // namespace

void TestDatamonStoreState::nothingThere()
{
    QString error;
    const auto state = parse(listing(false, false), &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(!state->locked);
    QVERIFY(!state->indexed);
}

void TestDatamonStoreState::lockAndIndex()
{
    QString error;
    const auto state = parse(listing(true, true)
            + "@@opsdeck-lock m\nlocked_at: \"2026-12-05 09:00:00.123 +0000 UTC\"\n@@opsdeck-chunk\n"
              "2026-12-05T09:14:49.835123456Z\n0a1b2c",
        &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->locked);
    QCOMPARE(state->lockedAt, QDateTime(QDate(2026, 12, 5), QTime(9, 0, 0, 123), Qt::UTC));
    QCOMPARE(state->lockGeneration, u"1796461873602590"_s);
    QCOMPARE(state->lockUpdated, QDateTime(QDate(2026, 12, 5), QTime(9, 11, 13, 602), Qt::UTC));
    QVERIFY(state->indexed);
    QCOMPARE(state->indexTime, QDateTime(QDate(2026, 12, 5), QTime(9, 14, 49, 835), Qt::UTC));
    QVERIFY(state->indexProblem.isEmpty());
}

// Someone's own lock file: held, but when since is unknown; the text says what is there.
void TestDatamonStoreState::lockUnreadable()
{
    QString error;
    const auto state = parse(listing(true, false) + "@@opsdeck-lock m\nheld by alice for the migration\n", &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->locked);
    QVERIFY(!state->lockedAt.isValid());
    QCOMPARE(state->lockText, u"held by alice for the migration"_s);
}

// reverse-index/ with another chunk but no chunk-1: delete-unused would panic on it.
void TestDatamonStoreState::indexWithoutChunk()
{
    QString error;
    const auto state = parse(listing(false, true)
            + "@@opsdeck-chunk\nERROR: (gcloud.storage.cat) The following URLs matched no objects or files:\n",
        &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->indexed);
    QVERIFY(!state->indexTime.isValid());
    QVERIFY2(state->indexProblem.startsWith(u"reverse-index/chunk-1.yaml gives no index time"_s),
        qPrintable(state->indexProblem));
}

// Another sharing context's bucket (not the first): its lock is read, its index only listed. A chunk part while the
// first bucket lists no index is not its own.
void TestDatamonStoreState::lockOnly()
{
    QString error;
    const QByteArray first = QByteArray(listing(false, false)).replace("gs://m/", "gs://x/");
    auto states = DatamonQueries::parseStoreStates(
        first + listing(true, true) + "\n@@opsdeck-lock m\nlocked_at: \"2026-12-05 09:00:00.123 +0000 UTC\"\n",
        { u"x"_s, u"m"_s }, &error);
    QVERIFY2(states, qPrintable(error));
    const DatamonQueries::StoreState& state = states->at(1);
    QVERIFY(state.locked);
    QVERIFY(state.lockedAt.isValid());
    QVERIFY(state.indexed);
    QVERIFY(!state.indexTime.isValid());
    QCOMPARE(state.indexProblem, u"not read"_s);
    QVERIFY(!DatamonQueries::parseStoreStates(
        first + listing(false, true) + "\n@@opsdeck-chunk\n2026-12-05T09:14:49Z\n", { u"x"_s, u"m"_s }, &error));
}

// One listing of three buckets (an array each, as gcloud prints them; a name that is a prefix of another's), the
// lock of the second, the index of the first.
void TestDatamonStoreState::bucketsListedTogether()
{
    QByteArray other = listing(true, true);
    other.replace("gs://m/", "gs://mm/").replace("\"bucket\": \"m\"", "\"bucket\": \"mm\"");
    QByteArray third = listing(false, false);
    third.replace("gs://m/", "gs://n/");
    const QByteArray out = listing(false, true) + other + third
        + "\n@@opsdeck-lock mm\nlocked_at: \"2026-12-05 09:00:00.123 +0000 UTC\"\n"
          "\n@@opsdeck-chunk\n2026-12-05T09:14:49.835123456Z\n0a1b2c";
    QString error;
    const auto states = DatamonQueries::parseStoreStates(out, { u"m"_s, u"mm"_s, u"n"_s }, &error);
    QVERIFY2(states, qPrintable(error));
    QCOMPARE(states->size(), 3);
    QVERIFY(!states->at(0).locked);
    QCOMPARE(states->at(0).indexTime, QDateTime(QDate(2026, 12, 5), QTime(9, 14, 49, 835), Qt::UTC));
    QVERIFY(states->at(1).locked);
    QCOMPARE(states->at(1).lockedAt, QDateTime(QDate(2026, 12, 5), QTime(9, 0, 0, 123), Qt::UTC));
    QCOMPARE(states->at(1).lockGeneration, u"1796461873602590"_s);
    QVERIFY(states->at(1).indexed);
    QCOMPARE(states->at(1).indexProblem, u"not read"_s);
    QVERIFY(!states->at(2).locked && !states->at(2).indexed);
    // A lock part for a bucket whose lock the listing does not have, or two chunk parts: refused.
    QVERIFY(!DatamonQueries::parseStoreStates(
        out + "\n@@opsdeck-lock n\nlocked_at: x\n", { u"m"_s, u"mm"_s, u"n"_s }, &error));
    QVERIFY(!DatamonQueries::parseStoreStates(out + "\n@@opsdeck-chunk\nx\n", { u"m"_s, u"mm"_s, u"n"_s }, &error));
    QVERIFY(!DatamonQueries::parseStoreStates(out, { u"n"_s, u"mm"_s, u"m"_s }, &error)); // n, first, lists no index
}

void TestDatamonStoreState::refusesWhatDoesNotAgree_data()
{
    QTest::addColumn<QByteArray>("out");
    QTest::newRow("not JSON") << QByteArray("ERROR: (gcloud.storage.ls) gs://m not found: 404.\n");
    QTest::newRow("text after the listing") << listing(false, false) + "Updates are available\n";
    QTest::newRow("a cut listing") << listing(false, false).left(40);
    QTest::newRow("unknown part") << listing(false, false) + "\n@@opsdeck-other\nx\n";
    QTest::newRow("lock listed, not read") << listing(true, false);
    QTest::newRow("lock read, not listed") << listing(false, false) + "@@opsdeck-lock m\nlocked_at: x\n";
    QTest::newRow("index listed, not read") << listing(false, true);
    // Another bucket's lock in the listing is not this bucket's.
    QTest::newRow("another bucket's lock")
        << QByteArray(listing(true, false)).replace("gs://m/purge.lock", "gs://mm/purge.lock")
            + "@@opsdeck-lock m\nlocked_at: x\n";
}

void TestDatamonStoreState::refusesWhatDoesNotAgree()
{
    QFETCH(QByteArray, out);
    QString error;
    QVERIFY(!parse(out, &error));
    QVERIFY(!error.isEmpty());
}

QTEST_GUILESS_MAIN(TestDatamonStoreState)
#include "tst_datamonstorestate.moc"
