#include "pulumi/PulumiPurgeBatch.h"
#include "pulumi/PulumiPurgePlan.h"
#include "pulumi/PulumiQueries.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

// The purge's pure parts: which tables a delete reaches (from the schema's keys), and the input rules.
class TestPulumi : public QObject
{
    Q_OBJECT
private slots:
    void cascadeFollowsOnlyCascadingKeys();
    void scope_data();
    void scope();
    void placeholders();
    void identifiers();
    void batchSizeFollowsStatementTime();
};

void TestPulumi::cascadeFollowsOnlyCascadingKeys()
{
    using Key = PulumiQueries::ForeignKey;
    const QList<Key> keys = {
        { u"Programs"_s, u"org_id"_s, u"Organizations"_s, u"id"_s, u"CASCADE"_s },
        { u"Resources"_s, u"program_id"_s, u"Programs"_s, u"id"_s, u"CASCADE"_s },
        { u"Stacks"_s, u"active_update_id"_s, u"Updates"_s, u"id"_s, u"RESTRICT"_s }, // the circular one
        { u"Updates"_s, u"stack_id"_s, u"Stacks"_s, u"id"_s, u"CASCADE"_s },
        { u"UpdateLogs"_s, u"update_id"_s, u"Updates"_s, u"id"_s, u"CASCADE"_s },
        { u"UpdateCheckpointInfo"_s, u"update_id"_s, u"Updates"_s, u"id"_s, u"CASCADE"_s },
        // A child the runbook does not name, two levels down: found all the same.
        { u"UpdateEventPayloads"_s, u"event_id"_s, u"UpdateEvents"_s, u"id"_s, u"CASCADE"_s },
        { u"UpdateEvents"_s, u"update_id"_s, u"Updates"_s, u"id"_s, u"CASCADE"_s },
        { u"Audit"_s, u"stack_id"_s, u"Stacks"_s, u"id"_s, u"SET NULL"_s },
    };
    const auto tables = PulumiQueries::cascadeFrom(u"Stacks"_s, keys);
    QStringList names;
    for (const auto& t : tables)
        names << t.table;
    QCOMPARE(names,
        QStringList({ u"Stacks"_s, u"Updates"_s, u"UpdateLogs"_s, u"UpdateCheckpointInfo"_s, u"UpdateEvents"_s,
            u"UpdateEventPayloads"_s })); // breadth first, in the keys' order
    QCOMPARE(tables.last().path.size(), 3);
    QCOMPARE(tables.last().path.first().child, u"Updates"_s);
    QCOMPARE(tables.last().path.last().column, u"event_id"_s);

    const auto programs = PulumiQueries::cascadeFrom(u"Programs"_s, keys);
    QCOMPARE(programs.size(), 2);
    QCOMPARE(programs[1].table, u"Resources"_s);
}

void TestPulumi::scope_data()
{
    QTest::addColumn<QStringList>("orgs");
    QTest::addColumn<QStringList>("keep");
    QTest::addColumn<QString>("error");
    QTest::newRow("two orgs") << QStringList { u"moolumi"_s, u"pulumi"_s } << QStringList() << QString();
    QTest::newRow("keep a stack") << QStringList { u"pulumi"_s } << QStringList { u"prod.v2_x"_s } << QString();
    QTest::newRow("empty") << QStringList() << QStringList() << u"orgs is empty"_s;
    QTest::newRow("quote") << QStringList { u"pulumi\")--"_s } << QStringList() << u"is not allowed"_s;
    QTest::newRow("sql") << QStringList { u"x' OR '1'='1"_s } << QStringList() << u"is not allowed"_s;
    QTest::newRow("percent") << QStringList { u"pulu%"_s } << QStringList() << u"is not allowed"_s;
    QTest::newRow("double hyphen") << QStringList { u"a--b"_s } << QStringList() << u"is not allowed"_s;
    QTest::newRow("too long") << QStringList { QString(40, u'a') } << QStringList() << u"is not allowed"_s;
    QTest::newRow("trailing newline") << QStringList { u"pulumi\n"_s } << QStringList() << u"is not allowed"_s;
    QTest::newRow("keep with a trailing newline")
        << QStringList { u"pulumi"_s } << QStringList { u"prod\n"_s } << u"not allowed"_s;
    QTest::newRow("twice") << QStringList { u"pulumi"_s, u"pulumi"_s } << QStringList() << u"given twice"_s;
    QTest::newRow("keep with a quote") << QStringList { u"pulumi"_s } << QStringList { u"a'b"_s } << u"not allowed"_s;
}

void TestPulumi::scope()
{
    QFETCH(QStringList, orgs);
    QFETCH(QStringList, keep);
    QFETCH(QString, error);
    const QString actual = PulumiPurgeScope { orgs, keep }.error();
    if (error.isEmpty())
        QCOMPARE(actual, QString());
    else
        QVERIFY2(actual.contains(error), qPrintable(actual));
}

void TestPulumi::placeholders()
{
    QCOMPARE(PulumiPurgePlan::placeholders(1), u"(?)"_s);
    QCOMPARE(PulumiPurgePlan::placeholders(3), u"(?, ?, ?)"_s);
}

void TestPulumi::identifiers()
{
    QVERIFY(PulumiQueries::isPlainIdentifier(u"UpdateCheckpointInfo"_s));
    QVERIFY(!PulumiQueries::isPlainIdentifier(u"a`b"_s));
    QVERIFY(!PulumiQueries::isPlainIdentifier(u"a b"_s));
    QVERIFY(!PulumiQueries::isPlainIdentifier(QString()));
}

QTEST_GUILESS_MAIN(TestPulumi)
void TestPulumi::batchSizeFollowsStatementTime()
{
    PurgeBatchSizer sizer(500);
    QCOMPARE(sizer.size(), PurgeBatchSizer::kStart);
    // Quick statements: a quarter more each batch, up to the maximum and no further.
    sizer.record(sizer.size(), 10);
    QCOMPARE(sizer.size(), 63);
    for (int i = 0; i < 30; ++i)
        sizer.record(sizer.size(), 10);
    QCOMPARE(sizer.size(), 500);
    // A statement over the target: in proportion, at once.
    sizer.record(500, PurgeBatchSizer::kTargetMs * 4);
    QCOMPARE(sizer.size(), 125);
    // Between half the target and the target: stays.
    sizer.record(125, PurgeBatchSizer::kTargetMs * 3 / 4);
    QCOMPARE(sizer.size(), 125);
    // A short last batch says nothing about the size: it does not grow it.
    sizer.record(3, 1);
    QCOMPARE(sizer.size(), 125);
    // Never below one stack.
    sizer.record(125, 1000000);
    QCOMPARE(sizer.size(), 1);
    // A maximum below the start is the start.
    QCOMPARE(PurgeBatchSizer(7).size(), 7);
}

#include "tst_pulumi.moc"
