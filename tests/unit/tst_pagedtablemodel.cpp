// The paged table model and its view over a fake row source whose answers the test gives (no sandbox): the count
// from unknown through partial to complete, failures shown, stale answers dropped, keyset pages to the end.
#include "PagedTableModel.h"
#include "PagedTableView.h"
#include "core/RowSource.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace opsdeck;

namespace {

enum Field
{
    IdField,
    NameField
};

// A table of `rows` rows {id "r00000", name "n<i % 7>"} (names repeat, so ids break ties), answering only when the
// test says so, pages computed as a database would: filtered, sorted by (field, id), strictly after the key.
class FakeRowSource : public RowSource
{
public:
    struct PageCall
    {
        PageRequest request;
        PageDone done;
    };
    struct CountCall
    {
        QString filter;
        CountDone done;
    };

    explicit FakeRowSource(int rows)
    {
        for (int i = 0; i < rows; ++i)
            m_table.append({ QStringLiteral("r%1").arg(i, 5, 10, QLatin1Char('0')), QStringLiteral("n%1").arg(i % 7) });
    }

    int idField() const override { return IdField; }
    void page(QObject*, const PageRequest& request, PageDone done) override { pages.append({ request, done }); }
    void count(QObject*, const QString& filter, CountDone done) override { counts.append({ filter, done }); }

    QList<RowValues> rowsFor(const PageRequest& request) const
    {
        QList<RowValues> rows;
        for (const RowValues& row : m_table) {
            if (row[NameField].toString().contains(request.filter))
                rows.append(row);
        }
        const auto less = [&](const RowValues& a, const RowValues& b) {
            const auto key = [&](const RowValues& r) {
                return std::pair(r[request.sort.field].toString(), r[IdField].toString());
            };
            return request.sort.descending ? key(b) < key(a) : key(a) < key(b);
        };
        std::sort(rows.begin(), rows.end(), less);
        if (request.after) {
            RowValues probe(2);
            probe[IdField] = request.after->id;
            probe[request.sort.field] = request.after->value;
            rows.erase(rows.begin(), std::upper_bound(rows.begin(), rows.end(), probe, less));
        }
        return rows.mid(0, request.limit);
    }
    qint64 countFor(const QString& filter) const
    {
        return std::count_if(m_table.begin(), m_table.end(),
            [&](const RowValues& row) { return row[NameField].toString().contains(filter); });
    }

    // Answers the oldest page question, as asked, or with `error`.
    void answerPage(const QString& error = {})
    {
        const PageCall call = pages.takeFirst();
        call.done(error.isEmpty() ? rowsFor(call.request) : QList<RowValues>(), error);
    }
    void answerCount(const QString& error = {})
    {
        const CountCall call = counts.takeFirst();
        call.done(error.isEmpty() ? countFor(call.filter) : -1, error);
    }

    QList<PageCall> pages;
    QList<CountCall> counts;

private:
    QList<RowValues> m_table;
};

QList<PagedTableModel::Column> columns()
{
    return { { QStringLiteral("Id"), IdField }, { QStringLiteral("Name"), NameField } };
}

} // namespace

class TestPagedTableModel : public QObject
{
    Q_OBJECT

private slots:
    void countGoesUnknownPartialComplete();
    void shortPageCompletesTheCount();
    void lastPageAfterKeysetPages();
    void failedCountIsShown();
    void failedPageIsShown();
    void sortChangeDropsTheStalePage();
    void filterChangeDropsTheStalePage();
    void unchangedSortDoesNotReload();
    void viewFiltersAfterAPauseAndExports();

private:
    static QString number(qint64 value) { return QLocale().toString(value); }
};

void TestPagedTableModel::countGoesUnknownPartialComplete()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PagedTableView view;
    view.setModel(&model);
    QLabel* label = view.progressLabel();

    model.setSource(&source);
    QCOMPARE(model.countState(), PagedTableModel::CountState::Unknown);
    QCOMPARE(source.pages.size(), 1);
    QCOMPARE(source.counts.size(), 1);
    QVERIFY(!source.pages.first().request.after);
    QCOMPARE(model.total(), -1);
    QVERIFY(label->text().contains(QStringLiteral("Loading")));

    source.answerPage();
    QCOMPARE(model.rowCount(), PagedTableModel::kPageSize);
    QCOMPARE(model.countState(), PagedTableModel::CountState::Partial);
    QCOMPARE(model.total(), -1);
    QVERIFY2(label->text().contains(QStringLiteral("counting")), qPrintable(label->text()));
    QVERIFY(label->text().startsWith(number(PagedTableModel::kPageSize)));

    source.answerCount();
    QCOMPARE(model.countState(), PagedTableModel::CountState::Complete);
    QCOMPARE(model.total(), 1200);
    QCOMPARE(label->text(), QStringLiteral("%1 of %2 loaded").arg(number(500), number(1200)));
    QVERIFY(model.error().isEmpty());
}

void TestPagedTableModel::shortPageCompletesTheCount()
{
    FakeRowSource source(700);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSource(&source);
    source.answerPage();
    if (source.pages.isEmpty()) {
        QVERIFY(model.canFetchMore({}));
        model.fetchMore({});
    }
    QCOMPARE(source.pages.size(), 1);
    QVERIFY(!model.canFetchMore({})); // one page at a time
    source.answerPage();
    QCOMPARE(model.rowCount(), 700);
    QCOMPARE(model.countState(), PagedTableModel::CountState::Complete);
    QCOMPARE(model.total(), 700);
    QVERIFY(!model.canFetchMore({}));
    // The count's answer after the end changes nothing.
    source.answerCount();
    QCOMPARE(model.total(), 700);
    QVERIFY(source.pages.isEmpty());
}

void TestPagedTableModel::lastPageAfterKeysetPages()
{
    // Sorted by name (ties on every 7th row) descending: the pages must still cover every row exactly once.
    FakeRowSource source(2345);
    PagedTableModel model(columns(), { NameField, true });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSource(&source);
    source.answerCount();
    int pages = 0;
    while (!source.pages.isEmpty()) {
        const PageRequest request = source.pages.first().request;
        QCOMPARE(request.after.has_value(), model.rowCount() > 0);
        if (request.after) {
            // After the last loaded row: its sort value and id.
            QCOMPARE(request.after->value, model.value(model.rowCount() - 1, NameField));
            QCOMPARE(request.after->id, model.value(model.rowCount() - 1, IdField));
        }
        source.answerPage();
        ++pages;
        if (source.pages.isEmpty() && model.canFetchMore({}))
            model.fetchMore({});
    }
    QCOMPARE(pages, 5);
    QCOMPARE(model.rowCount(), 2345);
    QCOMPARE(model.total(), 2345);
    QVERIFY(!model.canFetchMore({}));
    QSet<QString> ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids.insert(model.value(row, IdField).toString());
    QCOMPARE(ids.size(), 2345);
    QCOMPARE(model.value(0, NameField).toString(), QStringLiteral("n6"));
    QCOMPARE(model.value(model.rowCount() - 1, NameField).toString(), QStringLiteral("n0"));
}

void TestPagedTableModel::failedCountIsShown()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PagedTableView view;
    view.setModel(&model);
    model.setSource(&source);
    source.answerPage();
    source.answerCount(QStringLiteral("canceling statement due to statement timeout"));
    QCOMPARE(model.countState(), PagedTableModel::CountState::Partial);
    QVERIFY(!model.isLoading() || !source.pages.isEmpty());
    QVERIFY(model.error().contains(QStringLiteral("statement timeout")));
    const QString text = view.problemLabel()->text();
    QVERIFY(!view.problemLabel()->isHidden());
    QVERIFY2(!text.contains(QStringLiteral("counting…")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("counting failed")) && text.contains(QStringLiteral("statement timeout")),
        qPrintable(text));
    // Pages go on; the end, when reached, is the count.
    while (model.canFetchMore({}) || !source.pages.isEmpty()) {
        if (source.pages.isEmpty())
            model.fetchMore({});
        source.answerPage();
    }
    QCOMPARE(model.total(), 1200);
    QVERIFY(model.error().isEmpty());
    QCOMPARE(view.progressLabel()->text(), QStringLiteral("%1 of %2 loaded").arg(number(1200), number(1200)));
    QVERIFY(view.problemLabel()->isHidden());
}

void TestPagedTableModel::failedPageIsShown()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PagedTableView view;
    view.setModel(&model);
    model.setSource(&source);
    source.answerPage(QStringLiteral("server closed the connection unexpectedly"));
    QVERIFY(model.pageFailed());
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(view.problemLabel()->text().contains(QStringLiteral("failed: server closed the connection")));
    // The count still answers; the failure stays on show.
    source.answerCount();
    QVERIFY(view.problemLabel()->text().contains(QStringLiteral("failed")));
    QVERIFY(!model.isLoading());
    // A reload starts over.
    model.reload();
    QVERIFY(!model.pageFailed());
    source.answerPage();
    QCOMPARE(model.rowCount(), PagedTableModel::kPageSize);
}

void TestPagedTableModel::sortChangeDropsTheStalePage()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSource(&source);
    model.sort(1, Qt::DescendingOrder);
    QCOMPARE(source.pages.size(), 2);
    QCOMPARE(source.pages[1].request.sort, (RowSort { NameField, true }));
    source.answerPage(); // the stale one, by id
    source.answerCount();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.countState(), PagedTableModel::CountState::Unknown);
    source.answerPage();
    QCOMPARE(model.rowCount(), PagedTableModel::kPageSize);
    QCOMPARE(model.value(0, NameField).toString(), QStringLiteral("n6"));
}

void TestPagedTableModel::filterChangeDropsTheStalePage()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSource(&source);
    source.answerPage();
    source.answerCount();
    if (source.pages.isEmpty())
        model.fetchMore({});
    QCOMPARE(source.pages.size(), 1); // the second page, in flight
    model.setFilter(QStringLiteral("n3"));
    QCOMPARE(model.rowCount(), 0);
    source.answerPage(); // the second page of the unfiltered table
    QCOMPARE(model.rowCount(), 0);
    source.answerPage();
    source.answerCount();
    QCOMPARE(model.total(), source.countFor(QStringLiteral("n3")));
    for (int row = 0; row < model.rowCount(); ++row)
        QCOMPARE(model.value(row, NameField).toString(), QStringLiteral("n3"));
}

void TestPagedTableModel::unchangedSortDoesNotReload()
{
    FakeRowSource source(1200);
    PagedTableModel model(columns(), { NameField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSource(&source);
    source.answerPage();
    source.answerCount();
    const qsizetype asked = source.pages.size();
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.sort(1, Qt::AscendingOrder);
    model.setFilter(QString());
    QCOMPARE(reset.size(), 0);
    QCOMPARE(source.pages.size(), asked);
    QCOMPARE(source.counts.size(), 0);
    QCOMPARE(model.rowCount(), PagedTableModel::kPageSize);
    QCOMPARE(model.sortColumn(), 1);
}

void TestPagedTableModel::viewFiltersAfterAPauseAndExports()
{
    FakeRowSource source(20);
    PagedTableModel model(columns(), { IdField, false });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PagedTableView view;
    view.setModel(&model);
    model.setSource(&source);
    source.answerPage();
    source.answerCount();
    QCOMPARE(view.progressLabel()->text(), QStringLiteral("20 of 20 loaded"));

    view.filterEdit()->setText(QStringLiteral("n"));
    view.filterEdit()->setText(QStringLiteral("n1 "));
    QCOMPARE(model.filter(), QString()); // not yet: typing has not paused
    QTRY_COMPARE_WITH_TIMEOUT(model.filter(), QStringLiteral("n1"), PagedTableView::kFilterPauseMs * 10);
    QCOMPARE(source.pages.size(), 1); // one query for the two keys
    source.answerPage();
    QCOMPARE(model.rowCount(), 3);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.csv"));
    QString error;
    QVERIFY2(view.exportCsv(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("Id,Name\r\nr00001,n1\r\nr00008,n1\r\nr00015,n1\r\n"));
    QVERIFY(!view.exportCsv(dir.filePath(QStringLiteral("missing/t.csv")), &error));
    QVERIFY(error.contains(QStringLiteral("missing")));
}

QTEST_MAIN(TestPagedTableModel)
#include "tst_pagedtablemodel.moc"
