// PulumiRowFile, the restore file a Pulumi purge batch writes before it commits: what goes in comes back exactly (NULL
// apart from the empty string, tabs, newlines, backslashes, "\N" as text, non-ASCII), and a file that is not whole or
// not as written is refused with the line that is wrong, never read in part. Then random damage to a real file: every
// change is refused (the trailer's sha256), and random bytes never crash the reader.
#include "pulumi/PulumiRowFile.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

using Table = PulumiRowFile::Table;

QList<Table> sample()
{
    Table stacks { u"Stacks"_s, { u"id"_s, u"active_update_id"_s, u"name"_s }, { false, false, false }, {} };
    stacks.rows << PulumiRowFile::Row { u"a1"_s, std::nullopt, u"dev"_s }
                << PulumiRowFile::Row { u"a2"_s, u"u9"_s, QString() } // the empty string, not NULL
                << PulumiRowFile::Row { u"a3"_s, u"\\N"_s, u"tab\there\nnew line\r\\ back"_s }
                << PulumiRowFile::Row { u"a4"_s, u"ü€𝄞"_s, u" lead and trail "_s };
    Table blobs { u"Blobs"_s, { u"id"_s, u"data"_s }, { false, true }, {} };
    blobs.rows << PulumiRowFile::Row { u"1"_s, u"00FF7F"_s } << PulumiRowFile::Row { u"2"_s, std::nullopt };
    Table empty { u"StackTags"_s, { u"stack_id"_s, u"name"_s }, { false, false }, {} };
    return { stacks, blobs, empty };
}

// The file with the trailer made to match whatever the lines above it now say.
QByteArray resealed(const QByteArray& body, qint64 rows)
{
    return body + "E\t" + QByteArray::number(rows) + '\t' + PulumiRowFile::sum(body).toLatin1() + '\n';
}

QByteArray bodyOf(const QByteArray& file)
{
    return file.left(file.lastIndexOf('\n', file.size() - 2) + 1);
}

} // namespace

class TestPulumiRowFile : public QObject
{
    Q_OBJECT

private slots:
    void roundTripIsExact()
    {
        const QByteArray file = PulumiRowFile::encode(sample());
        QString error;
        const auto back = PulumiRowFile::decode(file, &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(*back, sample());
        QVERIFY(!back->at(0).rows[1][2]->isNull()); // empty, not NULL
        QVERIFY(!back->at(0).rows[0][1]);
        QCOMPARE(back->at(0).rows[2][1], std::optional(u"\\N"_s));
        // One line per row: the escapes keep a value's newlines out of the format.
        QCOMPARE(file.count('\n'), 1 + 3 + 6 + 1);
        QVERIFY(file.startsWith("opsdeck-pulumi-rows 1\nT\tStacks\tid\tactive_update_id\tname\nR\ta1\t\\N\tdev\n"));
        QVERIFY(file.contains("T\tBlobs\tid\tdata:hex\n"));
    }

    void emptyFileHasNoTables()
    {
        QString error;
        const auto back = PulumiRowFile::decode(PulumiRowFile::encode({}), &error);
        QVERIFY2(back, qPrintable(error));
        QVERIFY(back->isEmpty());
    }

    void damagedFilesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("message");
        const QByteArray good = PulumiRowFile::encode(sample());
        const QByteArray body = bodyOf(good);
        QTest::newRow("empty") << QByteArray() << u"line 0: the file does not end with a whole line"_s;
        QTest::newRow("truncated mid-line") << good.left(good.size() - 10) << u"does not end with a whole line"_s;
        QTest::newRow("no trailer") << body << u"is not the file's trailer"_s;
        QTest::newRow("a byte changed") << QByteArray(good).replace("dev", "DEV")
                                        << u"does not match its trailer: it was changed"_s;
        QTest::newRow("a line dropped, resealed")
            << resealed(QByteArray(body).replace("R\ta1\t\\N\tdev\n", ""), 6) << u"the trailer counts 6 rows"_s;
        QTest::newRow("wrong count") << resealed(body, 7) << u"the trailer counts 7 rows, the file holds 6"_s;
        QTest::newRow("other header") << resealed("opsdeck-pulumi-rows 2\n", 0) << u"line 1: not an opsdeck"_s;
        QTest::newRow("row before a table")
            << resealed("opsdeck-pulumi-rows 1\nR\tx\n", 1) << u"line 2: a row before any table"_s;
        QTest::newRow("too few values") << resealed("opsdeck-pulumi-rows 1\nT\tStacks\tid\tname\nR\tx\n", 1)
                                        << u"1 values for the 2 columns"_s;
        QTest::newRow("bad escape") << resealed("opsdeck-pulumi-rows 1\nT\tStacks\tid\nR\ta\\x\n", 1)
                                    << u"line 3: a bad escape in column id"_s;
        QTest::newRow("lone backslash at the end")
            << resealed("opsdeck-pulumi-rows 1\nT\tStacks\tid\nR\ta\\\n", 1) << u"a bad escape"_s;
        QTest::newRow("not hex") << resealed("opsdeck-pulumi-rows 1\nT\tB\tdata:hex\nR\t0G\n", 1)
                                 << u"column data is not hex"_s;
        QTest::newRow("odd hex") << resealed("opsdeck-pulumi-rows 1\nT\tB\tdata:hex\nR\tABC\n", 1)
                                 << u"column data is not hex"_s;
        QTest::newRow("SQL in a table name")
            << resealed("opsdeck-pulumi-rows 1\nT\tStacks`; DROP\tid\n", 0) << u"is not a table name"_s;
        QTest::newRow("SQL in a column name")
            << resealed("opsdeck-pulumi-rows 1\nT\tStacks\tid) VALUES\n", 0) << u"is not a column name"_s;
        QTest::newRow("table without columns")
            << resealed("opsdeck-pulumi-rows 1\nT\tStacks\n", 0) << u"table Stacks has no columns"_s;
        QTest::newRow("unknown line") << resealed("opsdeck-pulumi-rows 1\nX\ty\n", 0)
                                      << u"line 2: neither a table (T) nor a row (R)"_s;
    }

    void damagedFilesAreRefused()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, message);
        QString error;
        QVERIFY(!PulumiRowFile::decode(file, &error));
        QVERIFY2(error.contains(message), qPrintable(error));
    }

    // Any single byte changed anywhere in a real file, or the file cut anywhere, is refused.
    void everyChangeIsRefused()
    {
        const QByteArray good = PulumiRowFile::encode(sample());
        QRandomGenerator random(20261206);
        for (int i = 0; i < 2000; ++i) {
            QByteArray bad = good;
            const qsizetype at = random.bounded(static_cast<int>(good.size()));
            bad[at] = static_cast<char>(bad[at] ^ (1 + random.bounded(255)));
            QString error;
            QVERIFY2(!PulumiRowFile::decode(bad, &error), qPrintable(u"byte %1"_s.arg(at)));
        }
        for (qsizetype cut = 0; cut < good.size(); ++cut) {
            QString error;
            QVERIFY2(!PulumiRowFile::decode(good.left(cut), &error), qPrintable(u"cut at %1"_s.arg(cut)));
        }
    }

    // Random bytes, sealed with a correct trailer so that the parser proper reads them, never crash it.
    void randomInputNeverCrashes()
    {
        QRandomGenerator random(7);
        const QByteArray alphabet = "TRE\t\n\\N:hex0123456789abcdefXYZ_ ";
        for (int i = 0; i < 3000; ++i) {
            QByteArray body = "opsdeck-pulumi-rows 1\n";
            const int n = random.bounded(200);
            for (int j = 0; j < n; ++j)
                body += alphabet[random.bounded(static_cast<int>(alphabet.size()))];
            if (!body.endsWith('\n'))
                body += '\n';
            QString error;
            const auto tables = PulumiRowFile::decode(resealed(body, random.bounded(4)), &error);
            QVERIFY(tables || !error.isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestPulumiRowFile)
#include "tst_pulumirowfile.moc"
