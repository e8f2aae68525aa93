// Names sort as people read them, in every pane's sortable table: digits by value, case ignored; numbers as numbers.
#include "NaturalSortProxyModel.h"

#include <QStandardItemModel>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestNaturalSort : public QObject
{
    Q_OBJECT

private slots:
    void namesByTheirNumbers();
    void numbersAsNumbers();
    void compare();
};

namespace {

QStringList sorted(const QList<QVariant>& values)
{
    QStandardItemModel model;
    for (const QVariant& value : values) {
        auto* item = new QStandardItem;
        item->setData(value, Qt::DisplayRole);
        model.appendRow(item);
    }
    NaturalSortProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.sort(0);
    QStringList result;
    for (int row = 0; row < proxy.rowCount(); ++row)
        result << proxy.index(row, 0).data().toString();
    return result;
}

} // namespace

void TestNaturalSort::namesByTheirNumbers()
{
    QCOMPARE(sorted({ u"dev-99"_s, u"dev-890"_s, u"Dev-9"_s, u"dev-89"_s, u"bastion"_s }),
        QStringList({ u"bastion"_s, u"Dev-9"_s, u"dev-89"_s, u"dev-99"_s, u"dev-890"_s }));
}

void TestNaturalSort::numbersAsNumbers()
{
    QCOMPARE(sorted({ 100, 9, 25 }), QStringList({ u"9"_s, u"25"_s, u"100"_s }));
}

void TestNaturalSort::compare()
{
    QVERIFY(NaturalSortProxyModel::compare(u"a2", u"a10") < 0);
    QVERIFY(NaturalSortProxyModel::compare(u"a010", u"a9") > 0);
    QCOMPARE(NaturalSortProxyModel::compare(u"A07b", u"a7B"), 0);
    QVERIFY(NaturalSortProxyModel::compare(u"a", u"a1") < 0);
    QVERIFY(NaturalSortProxyModel::compare(u"", u"a") < 0);
    QVERIFY(NaturalSortProxyModel::compare(u"a-b", u"a1") < 0);
}

QTEST_MAIN(TestNaturalSort)
#include "tst_naturalsort.moc"
