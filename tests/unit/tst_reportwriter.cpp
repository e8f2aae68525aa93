#include "runbook/ReportWriter.h"

#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

RunRecord sampleRun()
{
    RunRecord run;
    run.id = u"3f1c2d4e-1111-2222-3333-444455556666"_s;
    run.operation = u"packit-wipe"_s;
    run.target = u"wpia-packit/training"_s;
    run.environment = u"production"_s;
    run.user = u"alice@console"_s;
    run.confirmation = u"training"_s;
    run.parameters = { { u"host"_s, u"wpia-packit"_s }, { u"instance"_s, u"training"_s } };
    run.outcome = RunRecord::Outcome::Succeeded;
    run.startedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 3, 5, 123), Qt::UTC);
    run.finishedAt = run.startedAt.addSecs(95);
    run.planCounts = { { u"packets"_s, 1234 }, { u"files"_s, 3 } };
    run.before = { { u"packets"_s, 1234 }, { u"files"_s, 3 } };
    run.after = { { u"packets"_s, 0 }, { u"files"_s, 0 } };

    StepRecord step;
    step.id = u"delete-rows"_s;
    step.title = u"Delete the instance's rows"_s;
    step.command = u"DELETE FROM packet WHERE id = ANY($1)"_s;
    step.verification = u"no rows left"_s;
    step.state = StepRecord::State::Succeeded;
    step.startedAt = run.startedAt.addSecs(1);
    step.finishedAt = run.startedAt.addSecs(90);
    step.output = u"DELETE 1234\n"_s;
    run.steps.append(step);

    QJsonArray packets;
    for (int i = 0; i < 40; ++i)
        packets.append(QJsonObject {
            { u"id"_s, u"20240501-%1"_s.arg(i) }, { u"name"_s, u"report-%1"_s.arg(i) }, { u"bytes"_s, 1000 + i } });
    run.deleted = { { u"packets"_s, packets } };
    run.summary = u"Wiped training: 1,234 packets and 3 files."_s;
    return run;
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

} // namespace

class TestReportWriter : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void formatFromName();
    void json();
    void csvQuotingAndFormulas();
    void csvHeaderOnly();
    void html();
    void htmlEscapes();
    void htmlLimitsItemsPerKind();
    void pdf();
    void unwritablePath_data();
    void unwritablePath();
    void replacesExistingFile();

private:
    QTemporaryDir m_dir;
};

void TestReportWriter::init()
{
    QVERIFY(m_dir.isValid());
}

void TestReportWriter::formatFromName()
{
    QCOMPARE(ReportWriter::formatFromName(u"json"_s), ReportWriter::Format::Json);
    QCOMPARE(ReportWriter::formatFromName(u"csv"_s), ReportWriter::Format::Csv);
    QCOMPARE(ReportWriter::formatFromName(u"html"_s), ReportWriter::Format::Html);
    QCOMPARE(ReportWriter::formatFromName(u"pdf"_s), ReportWriter::Format::Pdf);
    QCOMPARE(ReportWriter::formatFromName(u"PDF"_s), ReportWriter::Format::Pdf);
    QVERIFY(!ReportWriter::formatFromName(u"xml"_s).has_value());
    QVERIFY(!ReportWriter::formatFromName(QString()).has_value());
}

void TestReportWriter::json()
{
    const RunRecord run = sampleRun();
    const QString path = m_dir.filePath(u"report.json"_s);
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Json, path, &error), qPrintable(error));
    const QByteArray text = readAll(path);
    QVERIFY(text.contains("\n    \"schemaVersion\": 1")); // indented, versioned
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(text, &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    QCOMPARE(document.object(), run.toJson());
    QCOMPARE(RunRecord::fromJson(document.object()).toJson(), run.toJson());
}

void TestReportWriter::csvQuotingAndFormulas()
{
    RunRecord run = sampleRun();
    run.deleted = {
        { u"blobs"_s,
            QJsonArray {
                QJsonObject { { u"hash"_s, u"=HYPERLINK(\"http://x\")"_s }, { u"size"_s, 5 } },
                u"-plain"_s,
            } },
        { u"packets"_s,
            QJsonArray {
                QJsonObject { { u"id"_s, u"a,b"_s }, { u"name"_s, u"say \"hi\""_s }, { u"bytes"_s, 10 },
                    { u"note"_s, u"line1\nline2"_s } },
                QJsonObject { { u"id"_s, 7 }, { u"name"_s, u"+1"_s }, { u"owner"_s, u"@me"_s } },
                QJsonObject { { u"name"_s, u"only a name"_s } },
            } },
    };
    const QString path = m_dir.filePath(u"report.csv"_s);
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Csv, path, &error), qPrintable(error));
    const QByteArray expected = "kind,id,name,details\r\n"
                                "blobs,\"'=HYPERLINK(\"\"http://x\"\")\",,size=5\r\n"
                                "blobs,'-plain,,\r\n"
                                "packets,\"a,b\",\"say \"\"hi\"\"\",\"bytes=10; note=line1\nline2\"\r\n"
                                "packets,7,'+1,owner=@me\r\n"
                                "packets,,only a name,\r\n";
    QCOMPARE(readAll(path), expected);
    QCOMPARE(ReportWriter::toCsv(run), expected);
}

void TestReportWriter::csvHeaderOnly()
{
    RunRecord run = sampleRun();
    run.deleted = {};
    const QString path = m_dir.filePath(u"empty.csv"_s);
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Csv, path, &error), qPrintable(error));
    QCOMPARE(readAll(path), QByteArray("kind,id,name,details\r\n"));
}

void TestReportWriter::html()
{
    const RunRecord run = sampleRun();
    const QString path = m_dir.filePath(u"report.html"_s);
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Html, path, &error), qPrintable(error));
    const QString html = QString::fromUtf8(readAll(path));
    QVERIFY(html.startsWith(u"<!DOCTYPE html>"_s));
    QVERIFY(html.contains(u"<title>packit-wipe on wpia-packit/training</title>"_s));
    QVERIFY(html.contains(u"<h1>packit-wipe on wpia-packit/training</h1>"_s));
    QVERIFY(html.contains(u"Succeeded"_s));
    QVERIFY(html.contains(u"production"_s));
    QVERIFY(html.contains(u"alice@console"_s));
    QVERIFY(html.contains(u"2024-05-01 12:03:05 UTC"_s));
    QVERIFY(html.contains(u"1 min 35 s"_s));
    QVERIFY(html.contains(u"1,234"_s));
    QVERIFY(html.contains(u"DELETE FROM packet WHERE id = ANY($1)"_s));
    QVERIFY(html.contains(u"report-39"_s));
    QVERIFY(html.contains(u"Wiped training"_s));
    QVERIFY(!html.contains(u"more; see the CSV"_s));
    QCOMPARE(html, ReportWriter::toHtml(run));
}

void TestReportWriter::htmlEscapes()
{
    RunRecord run = sampleRun();
    run.target = u"<script>alert(1)</script>"_s;
    run.steps[0].command = u"echo <script>x</script> && rm -rf \"$DIR\""_s;
    run.deleted = { { u"packets"_s, QJsonArray { QJsonObject { { u"name"_s, u"<img src=x onerror=y>"_s } } } } };
    const QString html = ReportWriter::toHtml(run);
    QVERIFY(!html.contains(u"<script>"_s));
    QVERIFY(!html.contains(u"<img"_s));
    QVERIFY(html.contains(u"&lt;script&gt;alert(1)&lt;/script&gt;"_s));
    QVERIFY(html.contains(u"echo &lt;script&gt;x&lt;/script&gt; &amp;&amp; rm -rf &quot;$DIR&quot;"_s));
}

void TestReportWriter::htmlLimitsItemsPerKind()
{
    RunRecord run = sampleRun();
    QJsonArray items;
    for (int i = 0; i < 1005; ++i)
        items.append(QJsonObject { { u"id"_s, i } });
    run.deleted = { { u"blobs"_s, items } };
    const QString html = ReportWriter::toHtml(run);
    QVERIFY(html.contains(u"<td>999</td>"_s));
    QVERIFY(!html.contains(u"<td>1000</td>"_s));
    QVERIFY(html.contains(u"\u2026 and 5 more; see the CSV"_s));
    QVERIFY(html.contains(u"blobs (1,005)"_s));
}

void TestReportWriter::pdf()
{
    const QString path = m_dir.filePath(u"report.pdf"_s);
    QString error;
    QVERIFY2(ReportWriter::write(sampleRun(), ReportWriter::Format::Pdf, path, &error), qPrintable(error));
    const QByteArray pdf = readAll(path);
    QVERIFY(pdf.startsWith("%PDF-"));
    QVERIFY2(pdf.size() > 1024, QByteArray::number(pdf.size()).constData());
    QVERIFY(pdf.trimmed().endsWith("%%EOF"));
}

void TestReportWriter::unwritablePath_data()
{
    QTest::addColumn<ReportWriter::Format>("format");
    QTest::newRow("json") << ReportWriter::Format::Json;
    QTest::newRow("csv") << ReportWriter::Format::Csv;
    QTest::newRow("html") << ReportWriter::Format::Html;
    QTest::newRow("pdf") << ReportWriter::Format::Pdf;
}

void TestReportWriter::unwritablePath()
{
    QFETCH(ReportWriter::Format, format);
    const QString path = m_dir.filePath(u"no-such-folder/report.out"_s);
    QString error;
    QVERIFY(!ReportWriter::write(sampleRun(), format, path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY(!QFile::exists(path));
}

void TestReportWriter::replacesExistingFile()
{
    const QString path = m_dir.filePath(u"again.csv"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("old content that is longer than the new one, to show it is replaced and not overwritten in place\n");
    file.close();
    RunRecord run = sampleRun();
    run.deleted = {};
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Csv, path, &error), qPrintable(error));
    QCOMPARE(readAll(path), QByteArray("kind,id,name,details\r\n"));
}

QTEST_MAIN(TestReportWriter)
#include "tst_reportwriter.moc"
