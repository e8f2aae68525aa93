// The datamon pane's models: repos appended in batches as datamon2 streams them (rows inserted at the end, never a
// reset, linear in the rows), what each cell says, the filter and sort proxy, bundles with sizes loaded on demand,
// and labels.
#include "DatamonRepoDetailModels.h"
#include "DatamonRepoModel.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QLocale>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

DatamonRepo repo(const QString& name, const QString& description = u"Flood depth grids"_s)
{
    DatamonRepo r;
    r.name = name;
    r.description = description;
    r.contributorName = u"Frédéric Bidon"_s;
    r.contributorEmail = u"frederic@oneconcern.com"_s;
    r.time = QDateTime(QDate(2025, 10, 31), QTime(9, 21, 26), Qt::OffsetFromUTC, 3600);
    return r;
}

QList<DatamonRepo> repos(int from, int count)
{
    QList<DatamonRepo> rows;
    for (int i = from; i < from + count; ++i)
        rows << repo(u"repo-%1"_s.arg(i, 5, 10, QChar(u'0')));
    return rows;
}

DatamonBundle bundle(const QString& id, quint64 indexFiles, const QString& message = u"initial upload"_s)
{
    DatamonBundle b;
    b.id = id;
    b.time = QDateTime(QDate(2025, 11, 1), QTime(11, 12, 6), Qt::UTC);
    b.message = message;
    b.indexFiles = indexFiles;
    return b;
}

} // namespace

class TestDatamonModels : public QObject
{
    Q_OBJECT

private slots:
    void batchesAppendAtTheEnd();
    void tenThousandReposInBatchesStayLinear();
    void repoCells();
    void filterAndSort();
    void bundlesWithSizesOnDemand();
    void labels();
};

void TestDatamonModels::batchesAppendAtTheEnd()
{
    DatamonRepoModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.appendRepos(repos(0, 3));
    model.appendRepos(repos(3, 2));
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 2); // one insert per batch
    QCOMPARE(inserted.at(1).at(1).toInt(), 3);
    QCOMPARE(inserted.at(1).at(2).toInt(), 4);
    QCOMPARE(model.rowOf(u"repo-00004"_s), 4);
    QCOMPARE(model.rowOf(u"repo-00005"_s), -1);

    // A name listed again updates its row instead of making a second one, within a batch too.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    DatamonRepo again = repo(u"repo-00001"_s, u"renamed"_s);
    model.appendRepos({ again, repo(u"repo-00009"_s), repo(u"repo-00009"_s, u"second"_s) });
    QCOMPARE(model.rowCount(), 6);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.index(1, DatamonRepoModel::Description).data().toString(), u"renamed"_s);
    QCOMPARE(model.index(5, DatamonRepoModel::Description).data().toString(), u"second"_s);
    QCOMPARE(model.rowOf(u"repo-00009"_s), 5);

    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.rowOf(u"repo-00001"_s), -1);
}

void TestDatamonModels::tenThousandReposInBatchesStayLinear()
{
    // 10,000 repos in batches of 16 (datamon2's output comes in small chunks) under the sorting proxy a view uses:
    // an append that looked names up by scanning, or a reset per batch, makes this quadratic.
    DatamonRepoModel model;
    DatamonRepoFilter filter;
    filter.setSourceModel(&model);
    filter.sort(DatamonRepoModel::Name);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QElapsedTimer clock;
    clock.start();
    for (int from = 0; from < 10000; from += 16)
        model.appendRepos(repos(from, std::min(16, 10000 - from)));
    const qint64 ms = clock.elapsed();
    QCOMPARE(model.rowCount(), 10000);
    QCOMPARE(filter.rowCount(), 10000);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(filter.index(9999, 0).data().toString(), u"repo-09999"_s);
    qInfo("10,000 repos in 625 batches through the sorted proxy: %lld ms", ms);
    QVERIFY2(ms < 3000, qPrintable(u"%1 ms"_s.arg(ms)));
}

void TestDatamonModels::repoCells()
{
    DatamonRepoModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.appendRepos({ repo(u"dev-flood-00001"_s, u"Flood depth grids\nsecond line, with & and %"_s) });
    const auto cell = [&](int column, int role = Qt::DisplayRole) { return model.index(0, column).data(role); };
    QCOMPARE(cell(DatamonRepoModel::Name).toString(), u"dev-flood-00001"_s);
    // One line in the table, the text as it is in the tooltip.
    QCOMPARE(cell(DatamonRepoModel::Description).toString(), u"Flood depth grids second line, with & and %"_s);
    QCOMPARE(cell(DatamonRepoModel::Description, Qt::ToolTipRole).toString(),
        u"Flood depth grids\nsecond line, with & and %"_s);
    QCOMPARE(cell(DatamonRepoModel::Contributor).toString(), u"Frédéric Bidon"_s);
    QCOMPARE(
        cell(DatamonRepoModel::Contributor, Qt::ToolTipRole).toString(), u"Frédéric Bidon <frederic@oneconcern.com>"_s);
    // Stored at +01:00: shown in UTC, the ISO time and the stored offset in the tooltip.
    QCOMPARE(cell(DatamonRepoModel::Created).toString(), u"2025-10-31 08:21 UTC"_s);
    const QString tip = cell(DatamonRepoModel::Created, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(u"2025-10-31T08:21:26.000Z"_s), qPrintable(tip));
    QVERIFY2(tip.contains(u"+01:00"_s), qPrintable(tip));
    QCOMPARE(cell(DatamonRepoModel::Created, DatamonRepoModel::SortRole).toDateTime(), repo(u"x"_s).time);
    QCOMPARE(model.headerData(DatamonRepoModel::Created, Qt::Horizontal).toString(), u"Created"_s);
}

void TestDatamonModels::filterAndSort()
{
    DatamonRepoModel model;
    DatamonRepoFilter filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter, QAbstractItemModelTester::FailureReportingMode::QtTest);
    DatamonRepo old = repo(u"b-old"_s, u"Lidar (2019) [raw]"_s);
    old.time = old.time.addYears(-3);
    DatamonRepo other = repo(u"a-new"_s, u"Soil"_s);
    other.contributorName = u"Ada"_s;
    other.contributorEmail = u"ada@example.org"_s;
    model.appendRepos({ old, other, repo(u"c-mid"_s, u"Tide gauges"_s) });

    filter.sort(DatamonRepoModel::Name);
    QCOMPARE(filter.index(0, 0).data().toString(), u"a-new"_s);
    filter.sort(DatamonRepoModel::Created, Qt::AscendingOrder); // by time, not by the text
    QCOMPARE(filter.index(0, 0).data().toString(), u"b-old"_s);

    // Plain text, not a pattern; any of name, description, contributor name or email; any case.
    filter.setText(u"(2019) [RAW"_s);
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data().toString(), u"b-old"_s);
    filter.setText(u"example.org"_s);
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data().toString(), u"a-new"_s);
    filter.setText(u"TIDE"_s);
    QCOMPARE(filter.rowCount(), 1);
    // Rows appended while filtering are filtered too.
    model.appendRepos({ repo(u"d-tide"_s, u"more tide"_s), repo(u"e-none"_s, u"nothing"_s) });
    QCOMPARE(filter.rowCount(), 2);
    filter.setText({});
    QCOMPARE(filter.rowCount(), 5);
}

void TestDatamonModels::bundlesWithSizesOnDemand()
{
    DatamonBundleModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setBundles(u"dev-flood"_s,
        { bundle(u"34sHnYFgygMZjKu61r5xkIh0VDD"_s, 2, u"first\nsecond"_s),
            bundle(u"34sHnYFgygMZjKu61r5xkIh0VDE"_s, 1) });
    const auto cell
        = [&](int row, int column, int role = Qt::DisplayRole) { return model.index(row, column).data(role); };
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(cell(0, DatamonBundleModel::Id).toString(), u"34sHnYFgygMZjKu61r5xkIh0VDD"_s);
    QCOMPARE(cell(0, DatamonBundleModel::Time).toString(), u"2025-11-01 11:12 UTC"_s);
    QCOMPARE(cell(0, DatamonBundleModel::Message).toString(), u"first second"_s);
    QCOMPARE(cell(0, DatamonBundleModel::Message, Qt::ToolTipRole).toString(), u"first\nsecond"_s);
    QCOMPARE(cell(0, DatamonBundleModel::IndexFiles).toString(), u"2"_s);
    // Labelled honestly: the file lists, not the files.
    QCOMPARE(model.headerData(DatamonBundleModel::IndexFiles, Qt::Horizontal).toString(), u"File lists"_s);
    QVERIFY(model.headerData(DatamonBundleModel::IndexFiles, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains(u"BundleEntriesFileCount"_s));
    QCOMPARE(cell(0, DatamonBundleModel::Size).toString(), u"not loaded"_s);
    QVERIFY(!model.hasSizes());

    // Another repo's sizes are ignored.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    DatamonRepoSizes sizes;
    sizes.repo = u"other"_s;
    sizes.bundleBytes.insert(u"34sHnYFgygMZjKu61r5xkIh0VDD"_s, 4101);
    model.setSizes(sizes);
    QCOMPARE(changed.count(), 0);
    QCOMPARE(cell(0, DatamonBundleModel::Size).toString(), u"not loaded"_s);

    sizes.repo = u"dev-flood"_s;
    sizes.totalBytes = 4101;
    model.setSizes(sizes);
    QCOMPARE(changed.count(), 1);
    QVERIFY(model.hasSizes());
    QCOMPARE(cell(0, DatamonBundleModel::Size).toString(), QLocale().formattedDataSize(4101));
    QCOMPARE(cell(0, DatamonBundleModel::Size, Qt::ToolTipRole).toString(), QLocale().toString(4101) + u" bytes"_s);
    // A bundle the sizes do not list (newer than them) says so.
    QCOMPARE(cell(1, DatamonBundleModel::Size).toString(), u"unknown"_s);

    // Another repo's bundles forget the sizes.
    model.setBundles(u"dev-quake"_s, { bundle(u"34sHnYFgygMZjKu61r5xkIh0VDD"_s, 1) });
    QVERIFY(!model.hasSizes());
    QCOMPARE(cell(0, DatamonBundleModel::Size).toString(), u"not loaded"_s);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestDatamonModels::labels()
{
    DatamonLabelModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    DatamonLabel label;
    label.name = u"latest"_s;
    label.bundleId = u"34sHnYFgygMZjKu61r5xkIh0VDD"_s;
    label.time = QDateTime(QDate(2025, 11, 2), QTime(8, 0, 1, 250), Qt::UTC);
    model.setLabels({ label });
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, DatamonLabelModel::Name).data().toString(), u"latest"_s);
    QCOMPARE(model.index(0, DatamonLabelModel::Bundle).data().toString(), u"34sHnYFgygMZjKu61r5xkIh0VDD"_s);
    QCOMPARE(model.index(0, DatamonLabelModel::Time).data().toString(), u"2025-11-02 08:00 UTC"_s);
    QCOMPARE(model.index(0, DatamonLabelModel::Time).data(Qt::ToolTipRole).toString(), u"2025-11-02T08:00:01.250Z"_s);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

QTEST_MAIN(TestDatamonModels)
#include "tst_datamonmodels.moc"
