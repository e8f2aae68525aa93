#include "runbook/RunRecord.h"

#include <QJsonDocument>
#include <QTest>
#include <QTimeZone>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestRunRecord : public QObject
{
    Q_OBJECT

private slots:
    void stateNames();
    void outcomeNames();
    void outcomeFromUnknownNameIsNotFinished();
    void jsonKeys();
    void roundTrip();
    void roundTripOfUnsetTimes();
    void timesAreUtcWithMilliseconds();
    void undoRoundTrip();
    void schemaOneRecordKeptNoUndoWindow();
    void undoSummary_data();
    void undoSummary();
    void runName_data();
    void runName();
    void countWordsFromPlan();
    void countWordsFromKeys();
};

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
    run.outcome = RunRecord::Outcome::Failed;
    run.startedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 3, 5, 123), Qt::UTC);
    run.finishedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 4, 6, 7), Qt::UTC);
    run.planCounts = { { u"packets"_s, 300 }, { u"files"_s, 1200 } };
    run.countLabels = { { u"packets"_s, u"Packets"_s } };
    run.countInfo = { { u"packets"_s, QJsonObject { { u"definition"_s, u"Every packet."_s }, { u"order"_s, 0 } } } };
    run.before = { { u"packets"_s, 301 } };
    run.after = { { u"packets"_s, 0 } };

    StepRecord stop;
    stop.id = u"stop-units"_s;
    stop.title = u"Stop outpack-training"_s;
    stop.command = u"systemctl stop outpack-training"_s;
    stop.verification = u"unit inactive"_s;
    stop.state = StepRecord::State::Succeeded;
    stop.startedAt = run.startedAt;
    stop.finishedAt = run.startedAt.addMSecs(1500);
    stop.output = u"stopped\n"_s;
    run.steps.append(stop);

    StepRecord restart;
    restart.id = u"start-units"_s;
    restart.title = u"Start outpack-training again"_s;
    restart.state = StepRecord::State::Failed;
    restart.error = u"unit failed to start; check journalctl -u outpack-training"_s;
    restart.recovery = true;
    run.steps.append(restart);

    run.deleted = { { u"packets"_s,
        QJsonArray { QJsonObject { { u"id"_s, u"20240501-abc"_s }, { u"name"_s, u"report"_s } } } } };
    run.summary = u"The wipe failed while restarting the services."_s;
    return run;
}

} // namespace

void TestRunRecord::stateNames()
{
    QCOMPARE(StepRecord::stateName(StepRecord::State::Pending), u"pending"_s);
    QCOMPARE(StepRecord::stateName(StepRecord::State::Running), u"running"_s);
    QCOMPARE(StepRecord::stateName(StepRecord::State::Succeeded), u"succeeded"_s);
    QCOMPARE(StepRecord::stateName(StepRecord::State::Failed), u"failed"_s);
    QCOMPARE(StepRecord::stateName(StepRecord::State::Skipped), u"skipped"_s);
    QCOMPARE(StepRecord::stateName(StepRecord::State::Cancelled), u"cancelled"_s);
}

void TestRunRecord::outcomeNames()
{
    const QList<RunRecord::Outcome> outcomes { RunRecord::Outcome::Running, RunRecord::Outcome::Succeeded,
        RunRecord::Outcome::Failed, RunRecord::Outcome::Cancelled };
    const QStringList names { u"running"_s, u"succeeded"_s, u"failed"_s, u"cancelled"_s };
    for (qsizetype i = 0; i < outcomes.size(); ++i) {
        QCOMPARE(RunRecord::outcomeName(outcomes.at(i)), names.at(i));
        QCOMPARE(RunRecord::outcomeFromName(names.at(i)), outcomes.at(i));
    }
}

void TestRunRecord::outcomeFromUnknownNameIsNotFinished()
{
    QCOMPARE(RunRecord::outcomeFromName(u"exploded"_s), RunRecord::Outcome::Running);
    QCOMPARE(RunRecord::outcomeFromName(QString()), RunRecord::Outcome::Running);
    QCOMPARE(RunRecord::outcomeFromName(u"Succeeded"_s), RunRecord::Outcome::Running);
}

void TestRunRecord::jsonKeys()
{
    const QJsonObject json = sampleRun().toJson();
    QCOMPARE(json.value(u"schemaVersion"_s).toInt(), 2);
    QCOMPARE(RunRecord::kSchemaVersion, 2);
    const QStringList topKeys { u"after"_s, u"before"_s, u"confirmation"_s, u"countInfo"_s, u"countLabels"_s,
        u"deleted"_s, u"environment"_s, u"finishedAt"_s, u"id"_s, u"journalAnchor"_s, u"operation"_s, u"outcome"_s,
        u"parameters"_s, u"planCounts"_s, u"schemaVersion"_s, u"startedAt"_s, u"steps"_s, u"summary"_s, u"target"_s,
        u"undo"_s, u"user"_s };
    QCOMPARE(json.keys(), topKeys);
    QCOMPARE(json.value(u"outcome"_s).toString(), u"failed"_s);

    // A run without a window still says so: "until" and "offReason" are left out when unset, the rest is there.
    const QJsonObject undo = json.value(u"undo"_s).toObject();
    const QStringList undoKeys { u"available"_s, u"bytesHeld"_s, u"enabled"_s, u"endsWindows"_s, u"notRestorable"_s,
        u"opened"_s, u"restorable"_s, u"retentionSeconds"_s, u"where"_s };
    QCOMPARE(undo.keys(), undoKeys);
    QCOMPARE(undo.value(u"opened"_s).toBool(), false);
    QCOMPARE(undo.value(u"available"_s).toBool(), false);
    QCOMPARE(undo.value(u"bytesHeld"_s).toInteger(), -1);

    const QJsonObject step = json.value(u"steps"_s).toArray().at(0).toObject();
    const QStringList stepKeys { u"command"_s, u"error"_s, u"finishedAt"_s, u"id"_s, u"output"_s, u"recovery"_s,
        u"startedAt"_s, u"state"_s, u"title"_s, u"verification"_s };
    QCOMPARE(step.keys(), stepKeys);
    QCOMPARE(step.value(u"state"_s).toString(), u"succeeded"_s);
    QCOMPARE(json.value(u"steps"_s).toArray().at(1).toObject().value(u"recovery"_s).toBool(), true);
}

void TestRunRecord::roundTrip()
{
    const RunRecord original = sampleRun();
    // Through text as well, as the journal and the JSON report store it.
    const QByteArray text = QJsonDocument(original.toJson()).toJson();
    const RunRecord copy = RunRecord::fromJson(QJsonDocument::fromJson(text).object());

    QCOMPARE(copy.id, original.id);
    QCOMPARE(copy.operation, original.operation);
    QCOMPARE(copy.target, original.target);
    QCOMPARE(copy.environment, original.environment);
    QCOMPARE(copy.user, original.user);
    QCOMPARE(copy.confirmation, original.confirmation);
    QCOMPARE(copy.parameters, original.parameters);
    QCOMPARE(copy.outcome, original.outcome);
    QCOMPARE(copy.startedAt, original.startedAt);
    QCOMPARE(copy.finishedAt, original.finishedAt);
    QCOMPARE(copy.planCounts, original.planCounts);
    QCOMPARE(copy.countLabels, original.countLabels);
    QCOMPARE(copy.countInfo, original.countInfo);
    QCOMPARE(copy.before, original.before);
    QCOMPARE(copy.after, original.after);
    QCOMPARE(copy.deleted, original.deleted);
    QCOMPARE(copy.summary, original.summary);
    QCOMPARE(copy.steps.size(), original.steps.size());
    for (qsizetype i = 0; i < copy.steps.size(); ++i) {
        const StepRecord& a = copy.steps.at(i);
        const StepRecord& b = original.steps.at(i);
        QCOMPARE(a.id, b.id);
        QCOMPARE(a.title, b.title);
        QCOMPARE(a.command, b.command);
        QCOMPARE(a.verification, b.verification);
        QCOMPARE(a.state, b.state);
        QCOMPARE(a.startedAt, b.startedAt);
        QCOMPARE(a.finishedAt, b.finishedAt);
        QCOMPARE(a.output, b.output);
        QCOMPARE(a.error, b.error);
        QCOMPARE(a.recovery, b.recovery);
    }
    QCOMPARE(copy.toJson(), original.toJson());
}

void TestRunRecord::roundTripOfUnsetTimes()
{
    RunRecord run;
    run.id = u"x"_s;
    run.startedAt = QDateTime::currentDateTimeUtc();
    run.steps.append(StepRecord());
    const QJsonObject json = run.toJson();
    QVERIFY(json.value(u"finishedAt"_s).isNull());
    QVERIFY(json.value(u"steps"_s).toArray().at(0).toObject().value(u"startedAt"_s).isNull());

    const RunRecord copy = RunRecord::fromJson(json);
    QVERIFY(!copy.finishedAt.isValid());
    QVERIFY(!copy.steps.at(0).startedAt.isValid());
    QCOMPARE(copy.steps.at(0).state, StepRecord::State::Pending);
    QCOMPARE(copy.outcome, RunRecord::Outcome::Running);
}

void TestRunRecord::timesAreUtcWithMilliseconds()
{
    RunRecord run;
    // 14:03:05.120 at +02:00 is 12:03:05.120 UTC.
    run.startedAt = QDateTime(QDate(2024, 5, 1), QTime(14, 3, 5, 120), QTimeZone(7200));
    QCOMPARE(run.toJson().value(u"startedAt"_s).toString(), u"2024-05-01T12:03:05.120Z"_s);
    QCOMPARE(RunRecord::fromJson(run.toJson()).startedAt, run.startedAt);
}

void TestRunRecord::undoRoundTrip()
{
    RunRecord original = sampleRun();
    original.undo.available = true;
    original.undo.enabled = true;
    original.undo.offReason = u"kept for the round trip"_s;
    original.undo.retentionSeconds = 7 * 24 * 3600;
    // 16:00 at +02:00: the record keeps 14:00 UTC.
    original.undo.until = QDateTime(QDate(2026, 12, 13), QTime(16, 0), QTimeZone(7200));
    original.undo.bytesHeld = 1536LL * 1024 * 1024 * 1024; // beyond 32 bits
    original.undo.bytesEstimated = true;
    original.undo.where = u"wpia-packit:/var/lib/outpack/.opsdeck-wipe-3f1c2d4e"_s;
    original.undo.restorable = QStringList { u"the 300 packets and their files"_s, u"the metadata rows"_s };
    original.undo.notRestorable = QStringList { u"the search index: it is rebuilt"_s };
    original.undo.endsWindows = QStringList { u"0a0b0c0d-1111: the previous wipe's packets"_s };
    original.undoOpened = true;

    const QJsonObject json = original.toJson();
    const QJsonObject undo = json.value(u"undo"_s).toObject();
    QCOMPARE(undo.value(u"until"_s).toString(), u"2026-12-13T14:00:00Z"_s);
    QCOMPARE(undo.value(u"opened"_s).toBool(), true);
    QCOMPARE(undo.value(u"offReason"_s).toString(), original.undo.offReason);
    QCOMPARE(undo.value(u"bytesEstimated"_s).toBool(), true);

    const QByteArray text = QJsonDocument(json).toJson();
    const RunRecord copy = RunRecord::fromJson(QJsonDocument::fromJson(text).object());
    QCOMPARE(copy.undoOpened, true);
    QCOMPARE(copy.undo.available, true);
    QCOMPARE(copy.undo.enabled, true);
    QCOMPARE(copy.undo.offReason, original.undo.offReason);
    QCOMPARE(copy.undo.retentionSeconds, original.undo.retentionSeconds);
    QCOMPARE(copy.undo.until, original.undo.until); // the same instant
    QCOMPARE(copy.undo.until.timeSpec(), Qt::UTC);
    QCOMPARE(copy.undo.until, QDateTime(QDate(2026, 12, 13), QTime(14, 0), Qt::UTC));
    QCOMPARE(copy.undo.bytesHeld, original.undo.bytesHeld);
    QCOMPARE(copy.undo.bytesEstimated, true);
    QCOMPARE(copy.undo.where, original.undo.where);
    QCOMPARE(copy.undo.restorable, original.undo.restorable);
    QCOMPARE(copy.undo.notRestorable, original.undo.notRestorable);
    QCOMPARE(copy.undo.endsWindows, original.undo.endsWindows);
    QCOMPARE(copy.toJson(), json);

    // A window turned off: enabled false survives (it defaults to true when absent).
    RunRecord off = sampleRun();
    off.undo.available = true;
    off.undo.enabled = false;
    off.undo.offReason = u"disk full"_s;
    const RunRecord offCopy = RunRecord::fromJson(off.toJson());
    QCOMPARE(offCopy.undo.available, true);
    QCOMPARE(offCopy.undo.enabled, false);
    QCOMPARE(offCopy.undo.offReason, u"disk full"_s);
    QCOMPARE(offCopy.undoOpened, false);
    QVERIFY(!offCopy.undo.until.isValid());
    QCOMPARE(offCopy.undo.bytesHeld, -1);
    // A size not marked as an estimate (as every record before the mark) reads as measured.
    QVERIFY(!off.toJson().value(u"undo"_s).toObject().contains(u"bytesEstimated"_s));
    QCOMPARE(offCopy.undo.bytesEstimated, false);
}

void TestRunRecord::schemaOneRecordKeptNoUndoWindow()
{
    // A record the journal saved before undo windows: schema 1, no "undo" key.
    QJsonObject json = sampleRun().toJson();
    json.remove(u"undo"_s);
    json.insert(u"schemaVersion"_s, 1);
    const RunRecord run = RunRecord::fromJson(QJsonDocument::fromJson(QJsonDocument(json).toJson()).object());

    QCOMPARE(run.id, sampleRun().id);
    QCOMPARE(run.outcome, RunRecord::Outcome::Failed);
    QCOMPARE(run.steps.size(), 2);
    QCOMPARE(run.deleted, sampleRun().deleted);
    QCOMPARE(run.undo.available, false);
    QCOMPARE(run.undoOpened, false);
    QVERIFY(!run.undo.until.isValid());
    QCOMPARE(run.undo.bytesHeld, -1);
    QCOMPARE(run.undo.bytesEstimated, false);
    QVERIFY(run.undo.restorable.isEmpty());
    QVERIFY(run.undo.notRestorable.isEmpty());
    QVERIFY(run.undo.endsWindows.isEmpty());
    QCOMPARE(run.undoSummary(), u"This cannot be undone."_s);
    // Written again, it is a schema 2 record that says it kept no window.
    const QJsonObject again = run.toJson();
    QCOMPARE(again.value(u"schemaVersion"_s).toInt(), 2);
    QCOMPARE(again.value(u"undo"_s).toObject().value(u"opened"_s).toBool(), false);
    QCOMPARE(again.value(u"undo"_s).toObject().value(u"available"_s).toBool(), false);
}

void TestRunRecord::undoSummary_data()
{
    QTest::addColumn<bool>("available");
    QTest::addColumn<bool>("enabled");
    QTest::addColumn<bool>("opened");
    QTest::addColumn<QString>("offReason");
    QTest::addColumn<QStringList>("notRestorable");
    QTest::addColumn<QString>("expected");

    const QString opened = u"Can be undone until 2026-12-13 14:00 UTC with "
                           u"`opsdeck restore 3f1c2d4e-1111-2222-3333-444455556666`."_s;
    const QString notKept = u"No undo window was kept: the run ended before it kept what a restore needs."_s;
    const QString off = u"This cannot be undone: alice@console turned the undo window off for this run "
                        u"(the disk is nearly full)."_s;
    const QString unavailable = u"This cannot be undone."_s;
    const QStringList none;
    const QStringList two { u"the search index: it is rebuilt"_s, u"the audit log: append-only"_s };
    const QString twoSentence = u" Cannot be undone: the search index: it is rebuilt; the audit log: append-only."_s;

    QTest::newRow("opened") << true << true << true << QString() << none << opened;
    QTest::newRow("opened, some not restorable") << true << true << true << QString() << two << opened + twoSentence;
    QTest::newRow("available, not opened") << true << true << false << QString() << none << notKept;
    QTest::newRow("available, not opened, some not restorable")
        << true << true << false << QString() << two << notKept + twoSentence;
    QTest::newRow("turned off") << true << false << false << u"  the disk is nearly full "_s << none << off;
    QTest::newRow("turned off, some not restorable")
        << true << false << false << u"the disk is nearly full"_s << two << off + twoSentence;
    QTest::newRow("not available") << false << true << false << QString() << none << unavailable;
    QTest::newRow("not available, why") << false << true << false << QString()
                                        << QStringList { u"packets' files: outpack keeps no copy"_s }
                                        << unavailable + u" Cannot be undone: packets' files: outpack keeps no copy."_s;
}

void TestRunRecord::undoSummary()
{
    QFETCH(bool, available);
    QFETCH(bool, enabled);
    QFETCH(bool, opened);
    QFETCH(QString, offReason);
    QFETCH(QStringList, notRestorable);
    QFETCH(QString, expected);

    RunRecord run = sampleRun();
    run.undo.available = available;
    run.undo.enabled = enabled;
    run.undo.offReason = offReason;
    run.undo.until = QDateTime(QDate(2026, 12, 13), QTime(14, 0), Qt::UTC);
    run.undo.notRestorable = notRestorable;
    run.undoOpened = opened;
    QCOMPARE(run.undoSummary(), expected);
    // What the record says survives the journal.
    QCOMPARE(RunRecord::fromJson(run.toJson()).undoSummary(), expected);
}

void TestRunRecord::runName_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("name");
    QTest::newRow("wipe") << u"packit-wipe"_s << u"wpia-packit/training"_s
                          << u"Wipe Packit instance on wpia-packit/training"_s;
    QTest::newRow("update workflow") << u"deploy-update"_s << u"reside-ic/packit-infra"_s
                                     << u"Trigger update workflow on reside-ic/packit-infra"_s;
    QTest::newRow("deploy back") << u"deploy-previous"_s << u"wpia-packit"_s << u"Deploy back on wpia-packit"_s;
    QTest::newRow("raft") << u"raft-reset"_s << u"fg-prod/fg/permie"_s << u"Reset RAFT on fg-prod/fg/permie"_s;
    QTest::newRow("datamon") << u"datamon-restore-repo-recover"_s << u"dm-dev/repo"_s
                             << u"Recover datamon repo restore on dm-dev/repo"_s;
    QTest::newRow("pulumi") << u"pulumi-purge"_s << u"acme on pulumi"_s
                            << u"Purge soft-deleted stacks on acme on pulumi"_s;
    QTest::newRow("no target") << u"lock-break"_s << QString() << u"Break lock"_s;
    // An operation this build does not know (a newer console's, on a team journal) keeps its id.
    QTest::newRow("unknown") << u"frobnicate"_s << u"host/thing"_s << u"frobnicate on host/thing"_s;
}

void TestRunRecord::runName()
{
    QFETCH(QString, operation);
    QFETCH(QString, target);
    QFETCH(QString, name);
    QCOMPARE(RunRecord::runName(operation, target), name);
    RunRecord run = sampleRun();
    run.operation = operation;
    run.target = target;
    QCOMPARE(run.name(), name);
    // The name is for people: the record keeps the id.
    QCOMPARE(run.toJson().value(u"operation"_s).toString(), operation);
}

void TestRunRecord::countWordsFromPlan()
{
    Plan plan;
    plan.counts << Plan::Count { u"runInfoLeft"_s, u"run_info rows left"_s, 5, u"They stay."_s }
                << Plan::Count { u"packets"_s, u"Packets"_s, 300 };
    plan.measures << Plan::Measure { u"runInfoWithPacket"_s, u"run_info rows that name a packet"_s, u"Runs."_s, false,
        u"runInfoLeft"_s }
                  << Plan::Measure { u"tableRows"_s, u"Rows per table"_s, u"TABLE_ROWS."_s, true }
                  // A count's words win over a measure's of the same key.
                  << Plan::Measure { u"packets"_s, u"Packets in the instance"_s, u"Not these."_s };
    RunRecord run;
    run.setCountWords(plan);
    QCOMPARE(run.planCounts, plan.countsJson());
    QCOMPARE(run.countLabels.value(u"runInfoWithPacket"_s).toString(), u"run_info rows that name a packet"_s);
    QCOMPARE(run.countLabels.value(u"packets"_s).toString(), u"Packets"_s);

    RunRecord::CountWords words = run.countWords(u"runInfoLeft"_s);
    QCOMPARE(words.label, u"run_info rows left"_s);
    QCOMPARE(words.definition, u"They stay."_s);
    QCOMPARE(words.row, u"runInfoLeft"_s);
    QCOMPARE(words.order, 0);
    QVERIFY(!words.estimate);
    words = run.countWords(u"runInfoWithPacket"_s);
    QCOMPARE(words.row, u"runInfoLeft"_s);
    QCOMPARE(words.order, 2);
    words = run.countWords(u"tableRows"_s);
    QVERIFY(words.estimate);
    QCOMPARE(words.definition, u"TABLE_ROWS."_s);
    words = run.countWords(u"packets"_s);
    QCOMPARE(words.definition, QString());
    QCOMPARE(words.order, 1);

    // Kept through the journal's JSON; only what is set is written.
    const RunRecord copy = RunRecord::fromJson(run.toJson());
    QCOMPARE(copy.countInfo, run.countInfo);
    QVERIFY(copy.countWords(u"tableRows"_s).estimate);
    const QJsonObject info = run.toJson().value(u"countInfo"_s).toObject();
    QCOMPARE(info.value(u"tableRows"_s).toObject().value(u"estimate"_s).toBool(), true);
    QVERIFY(!info.value(u"packets"_s).toObject().contains(u"estimate"_s));
    QVERIFY(!info.value(u"packets"_s).toObject().contains(u"row"_s));
}

void TestRunRecord::countWordsFromKeys()
{
    // A record written before the plans described their counts (schema 2 without countInfo) still reads in words.
    QJsonObject json = sampleRun().toJson();
    json.remove(u"countInfo"_s);
    json.remove(u"countLabels"_s);
    const RunRecord run = RunRecord::fromJson(json);
    QCOMPARE(run.countWords(u"runInfoLeft"_s).label, u"Run info left"_s);
    QCOMPARE(run.countWords(u"globalGrants"_s).label, u"Global grants"_s);
    QCOMPARE(run.countWords(u"rows.Programs"_s).label, u"Programs rows"_s);
    QCOMPARE(run.countWords(u"packets"_s).label, u"packets"_s);
    QCOMPARE(run.countWords(u"wpia-packit-dev"_s).label, u"wpia-packit-dev"_s);
    QCOMPARE(run.countWords(u"runInfoLeft"_s).row, u"runInfoLeft"_s);
    QCOMPARE(run.countWords(u"runInfoLeft"_s).order, -1);
    QVERIFY(!run.countWords(u"runInfoLeft"_s).estimate);
}

QTEST_GUILESS_MAIN(TestRunRecord)
#include "tst_runrecord.moc"
