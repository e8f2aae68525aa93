// The one CSV writer: RFC 4180 quoting and spreadsheet formulas neutralised.
#include "core/CsvWriter.h"

#include <QTest>

using namespace opsdeck;

class TestCsvWriter : public QObject
{
    Q_OBJECT

private slots:
    void cells_data();
    void cells();
    void rowsAndLineEnds();
};

void TestCsvWriter::cells_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("written");
    QTest::newRow("plain") << QStringLiteral("reside") << QStringLiteral("reside");
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("comma") << QStringLiteral("a,b") << QStringLiteral("\"a,b\"");
    QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QStringLiteral("\"say \"\"hi\"\"\"");
    QTest::newRow("newline") << QStringLiteral("a\nb") << QStringLiteral("\"a\nb\"");
    QTest::newRow("equals") << QStringLiteral("=HYPERLINK(\"x\")") << QStringLiteral("\"'=HYPERLINK(\"\"x\"\")\"");
    QTest::newRow("plus") << QStringLiteral("+1") << QStringLiteral("'+1");
    QTest::newRow("minus") << QStringLiteral("-2+3") << QStringLiteral("'-2+3");
    QTest::newRow("at") << QStringLiteral("@SUM(A1)") << QStringLiteral("'@SUM(A1)");
    QTest::newRow("tab") << QStringLiteral("\tx") << QStringLiteral("'\tx");
    QTest::newRow("carriage return") << QStringLiteral("\rx") << QStringLiteral("\"'\rx\"");
    QTest::newRow("formula sign inside") << QStringLiteral("a=b") << QStringLiteral("a=b");
}

void TestCsvWriter::cells()
{
    QFETCH(QString, text);
    QFETCH(QString, written);
    QCOMPARE(CsvWriter::cell(text), written);
}

void TestCsvWriter::rowsAndLineEnds()
{
    CsvWriter crlf;
    crlf.addRow({ QStringLiteral("id"), QStringLiteral("name") });
    crlf.addRow({ QStringLiteral("1"), QStringLiteral("=cmd") });
    QCOMPARE(crlf.toUtf8(), QByteArray("id,name\r\n1,'=cmd\r\n"));
    CsvWriter lf(QStringLiteral("\n"));
    lf.addRow({ QStringLiteral("ü"), QString() });
    QCOMPARE(lf.toUtf8(), QByteArray("\xc3\xbc,\n"));
    QCOMPARE(CsvWriter().toUtf8(), QByteArray());
}

QTEST_GUILESS_MAIN(TestCsvWriter)
#include "tst_csvwriter.moc"
