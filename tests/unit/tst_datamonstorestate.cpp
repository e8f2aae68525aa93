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

} // namespace

void TestDatamonStoreState::nothingThere()
{
    QString error;
    const auto state = DatamonQueries::parseStoreState(listing(false, false), u"m"_s, &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(!state->locked);
    QVERIFY(!state->indexed);
}

void TestDatamonStoreState::lockAndIndex()
{
    QString error;
    const auto state = DatamonQueries::parseStoreState(listing(true, true)
            + "@@opsdeck-lock\nlocked_at: \"2026-12-05 09:00:00.123 +0000 UTC\"\n@@opsdeck-chunk\n"
              "2026-12-05T09:14:49.835123456Z\n0a1b2c",
        u"m"_s, &error);
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
    const auto state = DatamonQueries::parseStoreState(
        listing(true, false) + "@@opsdeck-lock\nheld by alice for the migration\n", u"m"_s, &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->locked);
    QVERIFY(!state->lockedAt.isValid());
    QCOMPARE(state->lockText, u"held by alice for the migration"_s);
}

// reverse-index/ with another chunk but no chunk-1: delete-unused would panic on it.
void TestDatamonStoreState::indexWithoutChunk()
{
    QString error;
    const auto state = DatamonQueries::parseStoreState(listing(false, true)
            + "@@opsdeck-chunk\nERROR: (gcloud.storage.cat) The following URLs matched no objects or files:\n",
        u"m"_s, &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->indexed);
    QVERIFY(!state->indexTime.isValid());
    QVERIFY2(state->indexProblem.startsWith(u"reverse-index/chunk-1.yaml gives no index time"_s),
        qPrintable(state->indexProblem));
}

void TestDatamonStoreState::refusesWhatDoesNotAgree_data()
{
    QTest::addColumn<QByteArray>("out");
    QTest::newRow("not JSON") << QByteArray("ERROR: (gcloud.storage.ls) gs://m not found: 404.\n");
    QTest::newRow("lock listed, not read") << listing(true, false);
    QTest::newRow("lock read, not listed") << listing(false, false) + "@@opsdeck-lock\nlocked_at: x\n";
    QTest::newRow("index listed, not read") << listing(false, true);
    // Another bucket's lock in the listing is not this bucket's.
    QTest::newRow("another bucket's lock")
        << QByteArray(listing(true, false)).replace("gs://m/purge.lock", "gs://mm/purge.lock")
            + "@@opsdeck-lock\nlocked_at: x\n";
}

void TestDatamonStoreState::refusesWhatDoesNotAgree()
{
    QFETCH(QByteArray, out);
    QString error;
    QVERIFY(!DatamonQueries::parseStoreState(out, u"m"_s, &error));
    QVERIFY(!error.isEmpty());
}

QTEST_GUILESS_MAIN(TestDatamonStoreState)
#include "tst_datamonstorestate.moc"
