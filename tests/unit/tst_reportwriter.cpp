#include "runbook/Plan.h"
#include "runbook/ReportWriter.h"

#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>

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
    run.countLabels = { { u"packets"_s, u"Packets"_s }, { u"files"_s, u"Files in the outpack root"_s } };
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

// A run that kept an undo window.
RunRecord openedRun()
{
    RunRecord run = sampleRun();
    run.undo.available = true;
    run.undo.enabled = true;
    run.undo.retentionSeconds = 7 * 24 * 3600;
    run.undo.until = QDateTime(QDate(2026, 12, 13), QTime(14, 0), Qt::UTC);
    run.undo.bytesHeld = 1536LL * 1024 * 1024; // 1.5 GiB
    run.undo.where = u"wpia-packit:/var/lib/outpack/.opsdeck-wipe-3f1c2d4e"_s;
    run.undo.restorable = QStringList { u"the 1,234 packets and their files"_s, u"the metadata database's rows"_s };
    run.undo.notRestorable = QStringList { u"the search index: it is rebuilt from the packets"_s };
    run.undo.endsWindows = QStringList { u"0a0b0c0d-9999: the previous wipe's 12 packets"_s };
    run.undoOpened = true;
    return run;
}

// What a reader sees of the page (and what the PDF, rendered from the same HTML, shows): the text without markup.
QString pageText(const QString& html)
{
    QTextDocument document;
    document.setHtml(html);
    return document.toPlainText().simplified();
}

// The plain text of the one table row (one line of the page's HTML) whose first cell starts with `label`: "Programs
// rows Planned: ... 3 10 7". Empty when no row or several rows start with it.
QString rowText(const QString& html, const QString& label)
{
    QStringList found;
    for (const QString& line : html.split(u'\n')) {
        if (line.startsWith(u"<tr><td>"_s + label.toHtmlEscaped()))
            found << pageText(u"<table>"_s + line + u"</table>"_s);
    }
    return found.size() == 1 ? found.first() : QString();
}

// A Pulumi purge's and a Packit wipe's counts as their plans describe them: a count measured under another key, a table
// of estimates, a value no plan names.
RunRecord countedRun()
{
    Plan plan;
    plan.counts << Plan::Count { u"runInfoLeft"_s, u"run_info rows left pointing at deleted packets"_s, 5,
        u"Records of packet runs that name a packet: they stay."_s }
                << Plan::Count { u"rows.Programs"_s, u"Programs rows"_s, 3, u"Planned: the rows deleted."_s };
    plan.measures << Plan::Measure { u"runInfoWithPacket"_s, u"run_info rows that name a packet"_s, {}, false,
        u"runInfoLeft"_s }
                  << Plan::Measure { u"Programs"_s, u"Programs rows"_s, {}, false, u"rows.Programs"_s }
                  << Plan::Measure { u"globalGrants"_s, u"Global grants"_s, u"Kept."_s }
                  << Plan::Measure { u"tableRows"_s, u"Rows per table after the purge"_s,
                         u"information_schema TABLE_ROWS."_s, true }
                  << Plan::Measure { u"skipped"_s, u"Stacks skipped, and why"_s };
    RunRecord run = sampleRun();
    run.setCountWords(plan);
    run.before = { { u"runInfoWithPacket"_s, 5 }, { u"Programs"_s, 10 }, { u"globalGrants"_s, 2 } };
    run.after = { { u"runInfoWithPacket"_s, 5 }, { u"Programs"_s, 7 }, { u"globalGrants"_s, 2 },
        { u"slowestStatementMs"_s, 40 }, { u"tableRows"_s, QJsonObject { { u"Programs"_s, 8 }, { u"Stacks"_s, 12 } } },
        { u"skipped"_s,
            QJsonArray {
                QJsonObject { { u"name"_s, u"dev/app"_s }, { u"reason"_s, u"undeleted since the plan"_s } } } } };
    return run;
}

// The header cells of the table right under the Deleted section's heading `heading` ("Locks (1)").
QStringList headersUnder(const QString& html, const QString& heading)
{
    const qsizetype at = html.indexOf(u"<h3>%1</h3>\n<table"_s.arg(heading.toHtmlEscaped()));
    if (at < 0)
        return {};
    const qsizetype end = html.indexOf(u"</thead>"_s, at);
    static const QRegularExpression cell(u"<th[^>]*>([^<]*)</th>"_s);
    QStringList headers;
    for (auto it = cell.globalMatch(html.mid(at, end - at)); it.hasNext();)
        headers << it.next().captured(1);
    return headers;
}

// The Undo section of the page: from its heading to the next one.
QString undoSection(const QString& html)
{
    const qsizetype start = html.indexOf(u"<h2>Undo</h2>"_s);
    if (start < 0)
        return {};
    return html.mid(start, html.indexOf(u"<h2>"_s, start + 1) - start);
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
    void htmlDeletedInWords();
    void htmlUndoOpened();
    void htmlUndoHoldsNoSpace();
    void htmlUndoSizeEstimated();
    void htmlUndoTurnedOff();
    void htmlUndoNotAvailable();
    void htmlUndoNotKept();
    void htmlUndoEscapes();
    void countsOneRowPerThing();
    void countsEstimatesMarked();
    void countsOfARecordWithoutWords();
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
    QVERIFY(text.contains("\n    \"schemaVersion\": 2")); // indented, versioned
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
    QVERIFY(html.contains(u"<title>Wipe Packit instance on wpia-packit/training</title>"_s));
    QVERIFY(html.contains(u"<h1>Wipe Packit instance on wpia-packit/training</h1>"_s));
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
    // The plan's words for each count, its key in small print; a step's output in a section of its own.
    QVERIFY(html.contains(u"<td>Files in the outpack root</td>"_s));
    QVERIFY(html.contains(u"<h2>Step output</h2>\n<p><b>1. Delete the instance's rows</b>"_s));
    QVERIFY(html.indexOf(u"DELETE 1234"_s) > html.indexOf(u"<h2>Step output</h2>"_s));
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
    QVERIFY(html.contains(u"<td align=\"right\"><small>999</small></td>"_s));
    QVERIFY(!html.contains(u"<small>1000</small>"_s));
    QVERIFY(html.contains(u"\u2026 and 5 more; see the CSV"_s));
    QVERIFY(html.contains(u"Blobs (1,005)"_s));
}

void TestReportWriter::htmlDeletedInWords()
{
    // What each operation records in `deleted`, with the keys it uses.
    RunRecord run = sampleRun();
    run.deleted = {
        { u"locks"_s,
            QJsonArray { QJsonObject { { u"target"_s, u"wpia-packit/training"_s }, { u"runId"_s, u"0a0b-1111"_s },
                { u"holder"_s, u"bob@laptop"_s } } } },
        { u"killed queries"_s,
            QJsonArray { QJsonObject { { u"process"_s, 4711 }, { u"user"_s, u"pulumi"_s },
                { u"database"_s, u"pulumi"_s }, { u"statement"_s, u"SELECT 1"_s } } } },
        { u"stacks of acme"_s, QJsonArray { QJsonObject { { u"id"_s, 17 }, { u"name"_s, u"dev/app"_s } } } },
        { u"raftDirectories"_s,
            QJsonArray { QJsonObject { { u"pod"_s, u"raft-0"_s }, { u"dataDir"_s, u"/var/raft/data"_s },
                { u"indexBefore"_s, 120 }, { u"indexAfterReset"_s, 1 }, { u"raftAfterRestart"_s, u"recreated"_s },
                { u"unchanged"_s, false } } } },
        { u"bundles"_s,
            QJsonArray { QJsonObject { { u"repo"_s, u"images"_s }, { u"bundle"_s, u"b1"_s },
                { u"time"_s, u"2024-05-01 12:00 UTC"_s }, { u"message"_s, u"first"_s } } } },
        { u"labels"_s,
            QJsonArray { QJsonObject { { u"repo"_s, u"images"_s }, { u"label"_s, u"latest"_s },
                { u"bundle"_s, u"b1"_s }, { u"time"_s, u"2024-05-01 12:00 UTC"_s } } } },
        { u"scopedGrants"_s,
            QJsonArray { QJsonObject { { u"role"_s, u"reader"_s }, { u"permission"_s, u"packet.read"_s },
                { u"scope"_s, u"group"_s }, { u"group"_s, u"reports"_s } } } },
        { u"packets"_s,
            QJsonArray { QJsonObject {
                { u"id"_s, u"20240501-1"_s }, { u"name"_s, u"report"_s }, { u"bytes"_s, 5LL * 1024 * 1024 } } } },
        { u"keys"_s, 1234 },
        { u"bytes"_s, 3LL * 1024 * 1024 * 1024 },
    };
    const QString html = ReportWriter::toHtml(run);
    QCOMPARE(headersUnder(html, u"Locks (1)"_s), (QStringList { u"Held by"_s, u"Run id"_s, u"Target"_s }));
    QCOMPARE(headersUnder(html, u"Killed queries (1)"_s),
        (QStringList { u"Database"_s, u"Statement"_s, u"User"_s, u"Process id"_s }));
    QCOMPARE(headersUnder(html, u"Stacks of acme (1)"_s), (QStringList { u"Id"_s, u"Name"_s }));
    QCOMPARE(headersUnder(html, u"Raft directories (1)"_s),
        (QStringList { u"Pod"_s, u"Data directory"_s, u"RAFT after restart"_s, u"Unchanged"_s, u"Index after reset"_s,
            u"Index before"_s }));
    QCOMPARE(headersUnder(html, u"Bundles (1)"_s), (QStringList { u"Repo"_s, u"Bundle"_s, u"Message"_s, u"Time"_s }));
    QCOMPARE(headersUnder(html, u"Labels (1)"_s), (QStringList { u"Repo"_s, u"Bundle"_s, u"Label"_s, u"Time"_s }));
    QCOMPARE(headersUnder(html, u"Scoped grants (1)"_s),
        (QStringList { u"Group"_s, u"Permission"_s, u"Role"_s, u"Scope"_s }));
    // A size as the rest of the report shows sizes, not a count of bytes; numbers and sizes right-aligned.
    QCOMPARE(headersUnder(html, u"Packets (1)"_s), (QStringList { u"Id"_s, u"Name"_s, u"Size"_s }));
    QVERIFY(html.contains(u"<td align=\"right\"><small>5.00 MiB</small></td>"_s));
    QVERIFY(html.contains(u"<td align=\"right\"><small>4711</small></td>"_s));
    QVERIFY(html.contains(u"<td><small>pulumi</small></td>"_s));
    QVERIFY(!html.contains(u"5242880"_s));
    // A kind that is one number (a datamon purge's): a count grouped, a size as a size.
    QVERIFY(html.contains(u"<h3>Blob keys</h3>\n<p>1,234</p>"_s));
    QVERIFY(html.contains(u"<h3>Size</h3>\n<p>3.00 GiB</p>"_s));
    // The plan's words for a kind win.
    run.countLabels.insert(u"raftDirectories"_s, u"RAFT directories deleted"_s);
    QCOMPARE(headersUnder(ReportWriter::toHtml(run), u"RAFT directories deleted (1)"_s).size(), 6);
    // The CSV stays for machines: the keys and the numbers as recorded.
    const QString csv = QString::fromUtf8(ReportWriter::toCsv(run));
    QVERIFY2(csv.contains(u"packets,20240501-1,report,bytes=5242880\r\n"_s), qPrintable(csv));
    QVERIFY(csv.contains(u"locks,bob@laptop,,runId=0a0b-1111; target=wpia-packit/training\r\n"_s));
    QVERIFY(csv.contains(u"keys,1234,,\r\n"_s));
    QVERIFY(csv.contains(u"bytes,3221225472,,\r\n"_s));
}

void TestReportWriter::htmlUndoOpened()
{
    const RunRecord run = openedRun();
    const QString html = ReportWriter::toHtml(run);
    // Right after the summary: whether the run can be taken back is the next thing a reader asks.
    const qsizetype summary = html.indexOf(u"<h2>Summary</h2>"_s);
    const qsizetype undo = html.indexOf(u"<h2>Undo</h2>"_s);
    QVERIFY(summary >= 0);
    QVERIFY(undo > summary);
    QCOMPARE(html.indexOf(u"<h2>"_s, summary + 1), undo);
    QCOMPARE(html.indexOf(u"<h2>"_s, undo + 1), html.indexOf(u"<h2>Parameters</h2>"_s));

    const QString section = undoSection(html);
    QVERIFY2(section.contains(u"class=\"undo undo-open\""_s), qPrintable(section));
    QVERIFY(section.contains(u"<code>opsdeck restore 3f1c2d4e-1111-2222-3333-444455556666</code>"_s));
    QVERIFY(section.contains(u"<li>the 1,234 packets and their files</li>"_s));
    QVERIFY(section.contains(u"<li>the metadata database's rows</li>"_s));
    QVERIFY(section.contains(u"<li>the search index: it is rebuilt from the packets</li>"_s));
    QVERIFY(section.contains(u"<li>0a0b0c0d-9999: the previous wipe's 12 packets</li>"_s));

    const QString text = pageText(section);
    QVERIFY2(text.startsWith(u"Undo Can be undone until 2026-12-13 14:00 UTC. "
                             u"To undo it, run: opsdeck restore 3f1c2d4e-1111-2222-3333-444455556666 "
                             u"Holds 1.50 GiB at wpia-packit:/var/lib/outpack/.opsdeck-wipe-3f1c2d4e. "
                             u"A restore puts back:"_s),
        qPrintable(text));
    QVERIFY(text.contains(u"Cannot be undone:"_s));
    QVERIFY(text.contains(u"This run ended the undo windows of:"_s));
    QVERIFY(!text.contains(u"This cannot be undone"_s));

    // The JSON report carries it (RunRecord's schema); the CSV lists what was deleted, as before.
    QCOMPARE(run.toJson().value(u"undo"_s).toObject().value(u"opened"_s).toBool(), true);
    QCOMPARE(ReportWriter::toCsv(run), ReportWriter::toCsv(sampleRun()));

    // Written to a file, as `opsdeck report` does.
    const QString path = m_dir.filePath(u"undo.html"_s);
    QString error;
    QVERIFY2(ReportWriter::write(run, ReportWriter::Format::Html, path, &error), qPrintable(error));
    QCOMPARE(QString::fromUtf8(readAll(path)), html);
}

void TestReportWriter::htmlUndoHoldsNoSpace()
{
    RunRecord run = openedRun();
    run.undo.bytesHeld = 0;
    run.undo.where = u"the machines' previous revisions"_s;
    QVERIFY(pageText(undoSection(ReportWriter::toHtml(run)))
                .contains(u"Holds no space at the machines' previous revisions."_s));

    // Unknown size: where it is kept, and no made-up number.
    run.undo.bytesHeld = -1;
    const QString text = pageText(undoSection(ReportWriter::toHtml(run)));
    QVERIFY2(text.contains(u"Kept at the machines' previous revisions."_s), qPrintable(text));
    QVERIFY(!text.contains(u"Holds"_s));

    // Nothing restorable listed, nothing ended: no empty lists.
    run.undo.restorable.clear();
    run.undo.endsWindows.clear();
    const QString fewer = pageText(undoSection(ReportWriter::toHtml(run)));
    QVERIFY(!fewer.contains(u"A restore puts back"_s));
    QVERIFY(!fewer.contains(u"ended the undo windows"_s));
    QVERIFY(fewer.contains(u"Cannot be undone:"_s));
}

void TestReportWriter::htmlUndoSizeEstimated()
{
    // A Pulumi purge's size is its plan's estimate: said as the counts say an estimate.
    RunRecord run = openedRun();
    run.undo.bytesEstimated = true;
    QString text = pageText(undoSection(ReportWriter::toHtml(run)));
    QVERIFY2(text.contains(u"Holds \u2248 1.50 GiB (estimate) at wpia-packit:"_s), qPrintable(text));
    run.undo.where.clear();
    text = pageText(undoSection(ReportWriter::toHtml(run)));
    QVERIFY2(text.contains(u"Holds \u2248 1.50 GiB (estimate) on the target."_s), qPrintable(text));

    // A measured size has no mark, and a record from before the mark (no "bytesEstimated") reads as measured.
    QVERIFY(!pageText(undoSection(ReportWriter::toHtml(openedRun()))).contains(u"estimate"_s));
    QJsonObject json = run.toJson();
    QJsonObject undo = json.value(u"undo"_s).toObject();
    QVERIFY(undo.value(u"bytesEstimated"_s).toBool());
    undo.remove(u"bytesEstimated"_s);
    json.insert(u"undo"_s, undo);
    text = pageText(undoSection(ReportWriter::toHtml(RunRecord::fromJson(json))));
    QVERIFY2(text.contains(u"Holds 1.50 GiB on the target."_s), qPrintable(text));
}

void TestReportWriter::htmlUndoTurnedOff()
{
    RunRecord run = sampleRun();
    run.undo.available = true;
    run.undo.enabled = false;
    run.undo.offReason = u"  the disk is nearly full. "_s;
    run.undo.until = QDateTime(QDate(2026, 12, 13), QTime(14, 0), Qt::UTC); // the plan's estimate, not kept
    run.undo.endsWindows = QStringList { u"0a0b0c0d-9999: the previous wipe's 12 packets"_s };
    const QString section = undoSection(ReportWriter::toHtml(run));
    QVERIFY2(section.contains(u"class=\"undo undo-closed\""_s), qPrintable(section));
    const QString text = pageText(section);
    QVERIFY2(text.startsWith(u"Undo The undo window was turned off for this run by alice@console: the disk is nearly "
                             u"full. This cannot be undone."_s),
        qPrintable(text));
    QVERIFY(text.contains(u"This run ended the undo windows of: 0a0b0c0d-9999"_s));
    QVERIFY(!text.contains(u"opsdeck restore"_s));
    QVERIFY(!text.contains(u"Can be undone"_s));
    QVERIFY(!text.contains(u"2026-12-13"_s));
}

void TestReportWriter::htmlUndoNotAvailable()
{
    // What every run before undo windows (a schema 1 record) reads as, too.
    RunRecord run = sampleRun();
    QCOMPARE(run.undo.available, false);
    QString section = undoSection(ReportWriter::toHtml(run));
    QVERIFY(section.contains(u"class=\"undo undo-closed\""_s));
    QCOMPARE(pageText(section), u"Undo This cannot be undone."_s);

    run.undo.notRestorable = QStringList { u"packets' files: outpack keeps no copy of them"_s };
    section = undoSection(ReportWriter::toHtml(run));
    QCOMPARE(pageText(section), u"Undo This cannot be undone. Why: packets' files: outpack keeps no copy of them"_s);
}

void TestReportWriter::htmlUndoNotKept()
{
    RunRecord run = openedRun();
    run.undoOpened = false;
    run.outcome = RunRecord::Outcome::Failed;
    const QString section = undoSection(ReportWriter::toHtml(run));
    QVERIFY(section.contains(u"class=\"undo undo-closed\""_s));
    const QString text = pageText(section);
    QVERIFY2(text.startsWith(u"Undo No undo window was kept: the run ended before it kept what a restore needs. This "
                             u"cannot be undone."_s),
        qPrintable(text));
    QVERIFY(!text.contains(u"opsdeck restore"_s));
    QVERIFY(!text.contains(u"A restore puts back"_s));
    QVERIFY(!text.contains(u"Holds"_s));
    QVERIFY(text.contains(u"Even with a window, a restore could not put back: the search index"_s));
    QVERIFY(text.contains(u"This run ended the undo windows of:"_s));
}

void TestReportWriter::htmlUndoEscapes()
{
    RunRecord run = openedRun();
    run.id = u"<b>id</b>"_s;
    run.undo.where = u"host:/tmp/<i>x</i> & y"_s;
    run.undo.restorable = QStringList { u"<img src=x onerror=y>"_s };
    run.undo.notRestorable = QStringList { u"<u>rows</u>"_s };
    run.undo.endsWindows = QStringList { u"<s>old</s>"_s };
    QString html = ReportWriter::toHtml(run);
    QVERIFY(!html.contains(u"<img"_s));
    QVERIFY(!html.contains(u"<b>id</b>"_s));
    QVERIFY(!html.contains(u"<i>x</i>"_s));
    QVERIFY(!html.contains(u"<u>rows</u>"_s));
    QVERIFY(!html.contains(u"<s>old</s>"_s));
    QVERIFY(html.contains(u"<code>opsdeck restore &lt;b&gt;id&lt;/b&gt;</code>"_s));
    QVERIFY(html.contains(u"host:/tmp/&lt;i&gt;x&lt;/i&gt; &amp; y"_s));

    run = sampleRun();
    run.user = u"<em>mallory</em>"_s;
    run.undo.available = true;
    run.undo.enabled = false;
    run.undo.offReason = u"<script>alert(1)</script>"_s;
    html = ReportWriter::toHtml(run);
    QVERIFY(!html.contains(u"<script>"_s));
    QVERIFY(!html.contains(u"<em>"_s));
    QVERIFY(html.contains(u"&lt;em&gt;mallory&lt;/em&gt;"_s));
    QVERIFY(html.contains(u"&lt;script&gt;alert(1)&lt;/script&gt;"_s));
    QVERIFY(pageText(undoSection(html))
                .contains(u"turned off for this run by <em>mallory</em>: <script>alert(1)</script>. This cannot"_s));
}

void TestReportWriter::countsOneRowPerThing()
{
    const QString html = ReportWriter::toHtml(countedRun());
    // A count and the snapshot value that measures it on one row, planned, before and after; the definition under the
    // label.
    QCOMPARE(rowText(html, u"run_info rows left pointing at deleted packets"_s),
        u"run_info rows left pointing at deleted packets Records of packet runs that name a packet: they stay. 5 5 5"_s);
    QCOMPARE(rowText(html, u"Programs rows"_s), u"Programs rows Planned: the rows deleted. 3 10 7"_s);
    QCOMPARE(rowText(html, u"Global grants"_s), u"Global grants Kept. \u2014 2 2"_s);
    // A value no plan names reads as words made from its key.
    QCOMPARE(rowText(html, u"Slowest statement ms"_s), u"Slowest statement ms \u2014 \u2014 40"_s);
    QVERIFY(rowText(html, u"run_info rows that name a packet"_s).isEmpty());
    // A number that names something is not a count: no digit grouping.
    RunRecord named = countedRun();
    named.after.insert(u"workflowRun"_s, 19311250001LL);
    named.countInfo.insert(u"workflowRun"_s, QJsonObject { { u"identifier"_s, true } });
    QCOMPARE(rowText(ReportWriter::toHtml(named), u"Workflow run"_s), u"Workflow run \u2014 \u2014 19311250001"_s);
    // The plan's order: its counts first, then its measures, then the rest.
    QVERIFY(html.indexOf(u"<tr><td>run_info rows left"_s) < html.indexOf(u"<tr><td>Programs rows"_s));
    QVERIFY(html.indexOf(u"<tr><td>Programs rows"_s) < html.indexOf(u"<tr><td>Global grants"_s));
    QVERIFY(html.indexOf(u"<tr><td>Global grants"_s) < html.indexOf(u"<tr><td>Slowest"_s));
    // A reader sees no internal key, in the counts or their lists.
    const QString text = pageText(html);
    for (const QString& key : { u"runInfoLeft"_s, u"runInfoWithPacket"_s, u"rows.Programs"_s, u"globalGrants"_s,
             u"tableRows"_s, u"slowestStatementMs"_s })
        QVERIFY2(!text.contains(key), qPrintable(key));
    // A list under its words, as a table.
    QVERIFY(text.contains(u"Stacks skipped, and why After: Name Reason dev/app undeleted since the plan"_s));
}

void TestReportWriter::countsEstimatesMarked()
{
    const RunRecord run = countedRun();
    const QString text = pageText(ReportWriter::toHtml(run));
    QVERIFY(text.contains(u"Rows per table after the purge (estimate) information_schema TABLE_ROWS. Name After "
                          "Programs \u2248 8 Stacks \u2248 12"_s));
    QVERIFY(text.contains(u"\u2248 marks an estimate, not a count"_s));
    // An estimate among the counts: its label says so and every number of its row.
    RunRecord counted = run;
    QJsonObject info = counted.countInfo.value(u"rows.Programs"_s).toObject();
    info.insert(u"estimate"_s, true);
    counted.countInfo.insert(u"rows.Programs"_s, info);
    QCOMPARE(rowText(ReportWriter::toHtml(counted), u"Programs rows"_s),
        u"Programs rows (estimate) Planned: the rows deleted. \u2248 3 \u2248 10 \u2248 7"_s);
    // Exact counts carry no mark, and a report without estimates no note on them.
    QVERIFY(!rowText(ReportWriter::toHtml(run), u"Programs rows"_s).contains(u"\u2248"_s));
    RunRecord exact = sampleRun();
    QVERIFY(!pageText(ReportWriter::toHtml(exact)).contains(u"\u2248"_s));
    // The JSON report says which values are estimates.
    const QJsonObject json = run.toJson();
    QVERIFY(json.value(u"countInfo"_s)[u"tableRows"_s][u"estimate"_s].toBool());
    QVERIFY(!json.value(u"countInfo"_s)[u"rows.Programs"_s].toObject().contains(u"estimate"_s));
}

void TestReportWriter::countsOfARecordWithoutWords()
{
    // A record from before the plans described their counts: words from the keys, still one row each.
    RunRecord run = sampleRun();
    run.countLabels = {};
    run.countInfo = {};
    run.planCounts = { { u"runInfoLeft"_s, 5 }, { u"rows.Programs"_s, 3 } };
    run.before = { { u"globalGrants"_s, 2 } };
    run.after = { { u"globalGrants"_s, 2 }, { u"wpia-packit-dev"_s, u"0123abcd"_s } };
    const QString html = ReportWriter::toHtml(run);
    QCOMPARE(rowText(html, u"Run info left"_s), u"Run info left 5 \u2014 \u2014"_s);
    QCOMPARE(rowText(html, u"Programs rows"_s), u"Programs rows 3 \u2014 \u2014"_s);
    QCOMPARE(rowText(html, u"Global grants"_s), u"Global grants \u2014 2 2"_s);
    QCOMPARE(rowText(html, u"wpia-packit-dev"_s), u"wpia-packit-dev \u2014 \u2014 0123abcd"_s);
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
