// DatamonTrash, the names of a repo delete's undo window: where each of the repo's metadata objects is kept and where
// it comes back to (and nowhere else), the window's data read back only when every name in it is plain, the digest
// the window journals, gcloud's listing, and the commands that copy.
#include "datamon/DatamonTarget.h"
#include "datamon/DatamonTrash.h"

#include <QJsonArray>
#include <QTest>

using namespace opsdeck;
using namespace Qt::StringLiterals;

namespace {

DatamonContextBuckets buckets()
{
    return { u"dm-dev"_s, u"dm-blob"_s, u"dm-meta"_s, u"dm-vmeta"_s, u"dm-wal"_s, u"dm-readlog"_s };
}

DatamonTrash trash()
{
    return DatamonTrash(buckets(), DatamonTrash::base(buckets(), {}), u"run-1"_s, u"census"_s);
}

DatamonObject kept(const QString& name, const QString& bucket = u"dm-meta"_s)
{
    return { bucket, name, 10, u"AAAAAA=="_s };
}

} // namespace

class TestDatamonTrash : public QObject
{
    Q_OBJECT

private slots:
    void keptUnderTheRunsFolder();
    void mapsBackOnlyToTheRepo_data();
    void mapsBackOnlyToTheRepo();
    void windowDataIsChecked_data();
    void windowDataIsChecked();
    void digestIsOfTheSetOfObjects();
    void listingIsParsed();
    void objectListRoundTrips();
    void copiesKeepTheFolderNames();
    void neverInDatamonsOwnFolders();
};

void TestDatamonTrash::keptUnderTheRunsFolder()
{
    QCOMPARE(trash().url(), u"gs://dm-meta/opsdeck-trash/run-1/"_s);
    const DatamonTrash elsewhere(buckets(), u"gs://dm-trash/a/b"_s, u"run-1"_s, u"census"_s);
    QCOMPARE(elsewhere.url(), u"gs://dm-trash/a/b/run-1/"_s);
    QCOMPARE(DatamonTrash(buckets(), u"gs://dm-trash"_s, u"run-1"_s, u"census"_s).url(), u"gs://dm-trash/run-1/"_s);
    QCOMPARE(trash().originalPatterns(),
        (QStringList { u"gs://dm-meta/bundles/census/**"_s, u"gs://dm-vmeta/labels/census/**"_s,
            u"gs://dm-meta/repos/census/**"_s }));
    // The data a window journals names the same folder again.
    QString error;
    const auto back = DatamonTrash::fromJson(elsewhere.toJson(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->url(), elsewhere.url());
    QCOMPARE(back->repo(), u"census"_s);
    QCOMPARE(back->blobBucket(), u"dm-blob"_s);
}

void TestDatamonTrash::mapsBackOnlyToTheRepo_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("bucket");
    QTest::addColumn<QString>("original"); // empty: refused
    const QString run = u"opsdeck-trash/run-1/"_s;
    QTest::newRow("bundle") << run + u"dm-meta/bundles/census/34x/bundle.yaml"_s << u"dm-meta"_s
                            << u"gs://dm-meta/bundles/census/34x/bundle.yaml"_s;
    QTest::newRow("repo.yaml") << run + u"dm-meta/repos/census/repo.yaml"_s << u"dm-meta"_s
                               << u"gs://dm-meta/repos/census/repo.yaml"_s;
    QTest::newRow("label") << run + u"dm-vmeta/labels/census/v1/label.yaml"_s << u"dm-meta"_s
                           << u"gs://dm-vmeta/labels/census/v1/label.yaml"_s;
    QTest::newRow("another repo") << run + u"dm-meta/repos/census-2/repo.yaml"_s << u"dm-meta"_s << QString();
    QTest::newRow("labels in the metadata bucket")
        << run + u"dm-meta/labels/census/v1/label.yaml"_s << u"dm-meta"_s << QString();
    QTest::newRow("the blob bucket") << run + u"dm-blob/repos/census/repo.yaml"_s << u"dm-meta"_s << QString();
    QTest::newRow("another run") << u"opsdeck-trash/run-2/dm-meta/repos/census/repo.yaml"_s << u"dm-meta"_s
                                 << QString();
    QTest::newRow("not in the trash bucket") << run + u"dm-meta/repos/census/repo.yaml"_s << u"dm-vmeta"_s << QString();
    QTest::newRow("outside the repo's folder")
        << run + u"dm-meta/reverse-index/chunk-1.yaml"_s << u"dm-meta"_s << QString();
    QTest::newRow("the folder itself") << run + u"dm-meta"_s << u"dm-meta"_s << QString();
}

void TestDatamonTrash::mapsBackOnlyToTheRepo()
{
    QFETCH(QString, name);
    QFETCH(QString, bucket);
    QFETCH(QString, original);
    QString error;
    const auto mapped = trash().original(kept(name, bucket), &error);
    QCOMPARE(mapped ? mapped->url() : QString(), original);
    QCOMPARE(error.isEmpty(), !original.isEmpty());
    if (mapped)
        QCOMPARE(mapped->crc32c, u"AAAAAA=="_s);
}

void TestDatamonTrash::windowDataIsChecked_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::newRow("a bucket with a slash") << u"metadata"_s << u"dm/meta"_s;
    QTest::newRow("an upper-case bucket") << u"trashBucket"_s << u"DM"_s;
    QTest::newRow("no blob bucket") << u"blob"_s << QString();
    QTest::newRow("a dot-dot folder") << u"trashFolder"_s << u"../run-1"_s;
    QTest::newRow("an empty folder part") << u"trashFolder"_s << u"opsdeck-trash//run-1"_s;
    QTest::newRow("another run's folder") << u"trashFolder"_s << u"opsdeck-trash/run-2"_s;
    QTest::newRow("a run with a slash") << u"run"_s << u"a/run-1"_s;
    QTest::newRow("shell in the repo") << u"repo"_s << u"census;rm -rf /"_s;
    QTest::newRow("an empty repo") << u"repo"_s << QString();
}

void TestDatamonTrash::windowDataIsChecked()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QJsonObject data = trash().toJson();
    QString error;
    QVERIFY(DatamonTrash::fromJson(data, &error));
    data.insert(key, value);
    QVERIFY(!DatamonTrash::fromJson(data, &error));
    QVERIFY2(error.startsWith(u"the trash's data"_s), qPrintable(error));
}

void TestDatamonTrash::digestIsOfTheSetOfObjects()
{
    const QList<DatamonObject> objects { kept(u"repos/census/repo.yaml"_s), kept(u"bundles/census/1/bundle.yaml"_s) };
    const QString digest = DatamonTrash::digest(objects);
    QCOMPARE(digest.size(), 64);
    QCOMPARE(DatamonTrash::digest({ objects[1], objects[0] }), digest);
    QList<DatamonObject> changed = objects;
    changed[0].crc32c = u"AAAAAB=="_s;
    QVERIFY(DatamonTrash::digest(changed) != digest);
    changed = objects;
    changed[1].size = 11;
    QVERIFY(DatamonTrash::digest(changed) != digest);
    QVERIFY(DatamonTrash::digest({ objects[0] }) != digest);
    QCOMPARE(DatamonTrash::bytes(objects), 20);
}

void TestDatamonTrash::listingIsParsed()
{
    QString error;
    const auto listed = DatamonTrash::parseListing(
        R"([{"bucket": "dm-meta", "name": "repos/census/repo.yaml", "size": 176, "crc32c_hash": "h9p1Vw=="},
            {"bucket": "dm-vmeta", "name": "labels/census/v1/label.yaml", "size": "20", "crc32c_hash": "4FVgAQ=="}])",
        &error);
    QVERIFY2(listed, qPrintable(error));
    QCOMPARE(listed->size(), 2);
    QCOMPARE(listed->at(1).size, 20);
    QCOMPARE(listed->at(0).url(), u"gs://dm-meta/repos/census/repo.yaml"_s);
    QVERIFY(DatamonTrash::parseListing("[]", &error)->isEmpty());
    for (const QByteArray& bad :
        { QByteArray("{}"), QByteArray("not json"), QByteArray(R"([{"bucket": "dm-meta", "name": "x", "size": 1}])"),
            QByteArray(R"([{"bucket": "dm-meta", "name": "x", "size": -1, "crc32c_hash": "A"}])"),
            QByteArray(R"([{"bucket": "Bad Bucket", "name": "x", "size": 1, "crc32c_hash": "A"}])") }) {
        error.clear();
        QVERIFY2(!DatamonTrash::parseListing(bad, &error), bad.constData());
        QVERIFY(!error.isEmpty());
    }
}

void TestDatamonTrash::objectListRoundTrips()
{
    const QList<DatamonObject> objects { kept(u"repos/census/repo.yaml"_s), kept(u"labels/census/v1/label.yaml"_s) };
    QString error;
    QCOMPARE(DatamonTrash::objectsFrom(DatamonTrash::objectsJson(objects), &error), objects);
    QVERIFY(!DatamonTrash::objectsFrom(QJsonArray { QJsonArray { u"dm-meta"_s, u"x"_s, 1 } }, &error));
    QVERIFY(!DatamonTrash::objectsFrom(QJsonArray { u"dm-meta/x"_s }, &error));
}

void TestDatamonTrash::copiesKeepTheFolderNames()
{
    DatamonTarget target;
    target.context.gcloud = u"gcloud"_s;
    const DatamonTrash t = trash();
    const QList<DatamonObject> objects { kept(u"repos/census/repo.yaml"_s),
        kept(u"labels/census/v1/label.yaml"_s, u"dm-vmeta"_s) };
    const auto folders = t.foldersWith(objects);
    QCOMPARE(folders.size(), 2); // no bundles: no copy of an empty folder (gcloud would fail on it)
    // Into the trash: each folder into its parent there, so that its name stays; back: never replacing an object,
    // repo.yaml's folder last.
    QCOMPARE(t.copyArgvs(target, folders, false).first(),
        (QStringList { u"gcloud"_s, u"storage"_s, u"cp"_s, u"--recursive"_s, u"gs://dm-vmeta/labels/census"_s,
            u"gs://dm-meta/opsdeck-trash/run-1/dm-vmeta/labels/"_s, u"--quiet"_s, u"--verbosity=error"_s }));
    QCOMPARE(t.copyArgvs(target, folders, true).last(),
        (QStringList { u"gcloud"_s, u"storage"_s, u"cp"_s, u"--recursive"_s, u"--no-clobber"_s,
            u"gs://dm-meta/opsdeck-trash/run-1/dm-meta/repos/census"_s, u"gs://dm-meta/repos/"_s, u"--quiet"_s,
            u"--verbosity=error"_s }));
    QCOMPARE(t.folders().last().first, u"gs://dm-meta/repos/census"_s);
}

void TestDatamonTrash::neverInDatamonsOwnFolders()
{
    const auto problem
        = [](const QString& base) { return DatamonTrash(buckets(), base, u"run-1"_s, u"census"_s).placeProblem(); };
    QVERIFY(problem(DatamonTrash::base(buckets(), {})).isEmpty());
    QVERIFY(problem(u"gs://dm-meta"_s).isEmpty()); // the bucket's root: datamon lists only its own folders
    QVERIFY(problem(u"gs://dm-trash/bundles"_s).isEmpty()); // another bucket
    QVERIFY(problem(u"gs://dm-vmeta/repos"_s).isEmpty()); // not the vmetadata bucket's own folder
    for (const QString& base : { u"gs://dm-meta/bundles"_s, u"gs://dm-meta/repos/trash"_s,
             u"gs://dm-meta/reverse-index"_s, u"gs://dm-vmeta/labels/x"_s }) {
        const QString why = problem(base);
        QVERIFY2(why.contains(u"datamon's own"_s) && why.contains(u"trash:"_s), qPrintable(base + u": "_s + why));
    }
}

QTEST_GUILESS_MAIN(TestDatamonTrash)
#include "tst_datamontrash.moc"
