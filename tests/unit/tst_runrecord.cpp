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
    QCOMPARE(json.value(u"schemaVersion"_s).toInt(), 1);
    QCOMPARE(RunRecord::kSchemaVersion, 1);
    const QStringList topKeys { u"after"_s, u"before"_s, u"confirmation"_s, u"deleted"_s, u"environment"_s,
        u"finishedAt"_s, u"id"_s, u"journalAnchor"_s, u"operation"_s, u"outcome"_s, u"parameters"_s, u"planCounts"_s,
        u"schemaVersion"_s, u"startedAt"_s, u"steps"_s, u"summary"_s, u"target"_s, u"user"_s };
    QCOMPARE(json.keys(), topKeys);
    QCOMPARE(json.value(u"outcome"_s).toString(), u"failed"_s);

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

QTEST_GUILESS_MAIN(TestRunRecord)
#include "tst_runrecord.moc"
