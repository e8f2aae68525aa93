// Undo windows: how journal entries fold into windows (open, expired by the journal's clock, restored, ended), and
// the engine's part, through OperationRunner on a local journal: a window turned off needs a reason, which the
// journal keeps; a run journals the window it keeps; a restore closes it once it succeeded, and a window that is not
// open any more is refused whatever the restore's plan read; a run that makes open windows unrestorable (a datamon
// purge) names them in its plan and ends them first, or runs nothing.
#include "TestRuns.h"
#include "runbook/Journal.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunContext.h"
#include "runbook/UndoWindow.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

const QDateTime kOpened = QDateTime::fromString(u"2026-12-01T10:00:00.000Z"_s, Qt::ISODateWithMs);

JournalEntry entry(const QString& runId, const QString& kind, const QJsonObject& data, int minutes = 0)
{
    JournalEntry e;
    e.runId = runId;
    e.kind = kind;
    e.operation = u"deploy"_s;
    e.target = u"wpia-packit"_s;
    e.user = u"ann@laptop"_s;
    e.at = kOpened.addSecs(minutes * 60);
    e.data = data;
    return e;
}

JournalEntry opened(const QString& runId, const QDateTime& until)
{
    UndoWindow window;
    window.until = until;
    window.where = u"the journal"_s;
    window.bytes = 0;
    window.restorable = { u"wpia-packit back to 0123456789"_s };
    window.confirmWith = u"wpia-packit"_s;
    window.restore = { { u"machines"_s, QJsonObject { { u"wpia-packit"_s, u"x"_s } } } };
    return entry(runId, UndoWindow::kOpenedKind, window.entryData());
}

// A run that keeps a window at its only step (when the plan's undo window is open), and may restore another's.
std::unique_ptr<test::StepsOperation> keeping(const QString& restores = {}, bool available = true)
{
    auto operation = std::make_unique<test::StepsOperation>(u"deploy"_s, u"wpia-packit"_s, u"wpia-packit"_s,
        QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } },
        [](const QString& step, RunContext& context) {
            context.begin(step);
            UndoWindow window;
            window.where = u"the journal"_s;
            window.bytes = 0;
            window.confirmWith = u"wpia-packit"_s;
            if (context.record().undo.opens() && !context.openUndoWindow(window)) {
                context.fail(u"could not keep the window"_s);
                return false;
            }
            context.succeed();
            return true;
        });
    operation->shapePlan([restores, available](Plan* plan) {
        plan->undo.available = available;
        plan->undo.retentionSeconds = 3600;
        if (!restores.isEmpty())
            plan->parameters.insert(u"restores"_s, restores);
    });
    return operation;
}

// A run that takes what "deploy" windows need (as a datamon purge takes deleted repos' blobs): it ends them first.
class EndingOperation : public test::StepsOperation
{
public:
    EndingOperation(bool canEnd, QStringList* ended, bool* acted)
        : StepsOperation(u"purge"_s,
            u"wpia-packit"_s,
            u"wpia-packit"_s,
            QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } },
            [acted](const QString& step, RunContext& context) {
                *acted = true;
                context.begin(step);
                context.succeed();
                return true;
            })
        , m_canEnd(canEnd)
        , m_ended(ended)
    {
    }
    QString endsOpen(const UndoWindow& window) const override
    {
        return window.operation == u"deploy"_s ? u"it takes what the window needs"_s : QString();
    }
    bool endWindow(const UndoWindow& window, QString* error) override
    {
        if (!m_canEnd) {
            *error = u"its copy cannot be deleted"_s;
            return false;
        }
        *m_ended << window.runId;
        return true;
    }

private:
    bool m_canEnd;
    QStringList* m_ended;
};

} // namespace

class TestUndoWindow : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void anOpenWindowExpiresAtItsEnd();
    void aClosedWindowStaysClosed();
    void aWindowWithoutAnEndIsNotOpen();
    void turningItOffNeedsAReason();
    void theReasonIsJournaled();
    void aRunJournalsTheWindowItKeeps();
    void aRestoreClosesTheWindowOnlyOnceItSucceeded();
    void aWindowThatIsNotOpenIsNotRestored();
    void aRunEndsTheOpenWindowsItNames();
    void aWindowThatCannotEndStopsTheRun();

private:
    test::DrivenRun run(std::unique_ptr<Operation> operation, const std::function<void(Plan*)>& choose = {});

    QTemporaryDir m_dir;
    QString m_journal;
};

void TestUndoWindow::init()
{
    m_journal
        = m_dir.filePath(QStringLiteral("journal-%1.sqlite").arg(QString::fromLatin1(QTest::currentTestFunction())));
}

test::DrivenRun TestUndoWindow::run(std::unique_ptr<Operation> operation, const std::function<void(Plan*)>& choose)
{
    OperationRunner runner(std::move(operation), m_journal);
    if (!choose)
        return test::driveRun(runner, u"wpia-packit"_s);
    // The admin's choice is made on the confirmed plan, as the dialog and --no-undo do.
    test::DrivenRun outcome;
    connect(&runner, &OperationRunner::planned, this, [&](const Plan& plan) {
        Plan confirmed = plan;
        choose(&confirmed);
        outcome.plan = confirmed;
        runner.run(confirmed, u"wpia-packit"_s);
    });
    connect(&runner, &OperationRunner::refused, this, [&](OperationRunner::Refusal why, const QString& text) {
        outcome.refusal = why;
        outcome.refusalText = text;
    });
    connect(&runner, &OperationRunner::finished, this, [&](const RunRecord& record) { outcome.record = record; });
    runner.plan();
    if (!QTest::qWaitFor([&] { return outcome.refusal || outcome.record; }, 10000))
        qWarning("the run neither ended nor was refused in 10 s");
    return outcome;
}

void TestUndoWindow::anOpenWindowExpiresAtItsEnd()
{
    const QDateTime until = kOpened.addSecs(3600);
    const QList<JournalEntry> entries { opened(u"r1"_s, until) };
    const QList<UndoWindow> before = UndoWindows::fold(entries, until.addMSecs(-1));
    QCOMPARE(before.size(), 1);
    QCOMPARE(before[0].state, UndoWindow::State::Open);
    QCOMPARE(before[0].runId, u"r1"_s);
    QCOMPARE(before[0].operation, u"deploy"_s);
    QCOMPARE(before[0].user, u"ann@laptop"_s);
    QCOMPARE(before[0].until, until);
    QCOMPARE(before[0].confirmWith, u"wpia-packit"_s);
    QCOMPARE(before[0].restorable, QStringList { u"wpia-packit back to 0123456789"_s });
    QVERIFY(before[0].restore.contains(u"machines"_s));
    // At its end exactly, by the clock given (the journal's), it is over.
    QCOMPARE(UndoWindows::fold(entries, until)[0].state, UndoWindow::State::Expired);
    QVERIFY(UndoWindows::fold(entries, until)[0].stateText().startsWith(u"expired at 2026-12-01 11:00 UTC"_s));
}

void TestUndoWindow::aClosedWindowStaysClosed()
{
    const QDateTime until = kOpened.addSecs(3600);
    const QList<JournalEntry> entries { opened(u"r1"_s, until), opened(u"r2"_s, until),
        entry(u"r3"_s, UndoWindow::kClosedKind,
            UndoWindows::closedData(u"r1"_s, UndoWindow::State::Restored, u"deployed back"_s), 5),
        // A second close of a closed window (two restores past their plans) changes nothing.
        entry(u"r4"_s, UndoWindow::kClosedKind,
            UndoWindows::closedData(u"r1"_s, UndoWindow::State::Ended, u"too late"_s), 6),
        // An unknown state (a newer console's) leaves the window as it was.
        entry(u"r5"_s, UndoWindow::kClosedKind, { { u"window"_s, u"r2"_s }, { u"state"_s, u"vanished"_s } }, 7) };
    const QList<UndoWindow> windows = UndoWindows::fold(entries, kOpened.addSecs(60));
    QCOMPARE(windows.size(), 2);
    QCOMPARE(windows[0].state, UndoWindow::State::Restored);
    QCOMPARE(windows[0].closedBy, u"r3"_s);
    QCOMPARE(windows[0].closedAt, kOpened.addSecs(300));
    // Restored stays restored, even past its end.
    QCOMPARE(UndoWindows::fold(entries, until.addDays(1))[0].state, UndoWindow::State::Restored);
    QCOMPARE(windows[1].state, UndoWindow::State::Open);
    QVERIFY(UndoWindows::find(windows, u"r2"_s));
    QVERIFY(!UndoWindows::find(windows, u"r3"_s));
}

void TestUndoWindow::aWindowWithoutAnEndIsNotOpen()
{
    const QList<UndoWindow> windows = UndoWindows::fold({ opened(u"r1"_s, QDateTime()) }, kOpened);
    QCOMPARE(windows[0].state, UndoWindow::State::Expired);
}

void TestUndoWindow::turningItOffNeedsAReason()
{
    for (const QString& reason : { QString(), u"   "_s }) {
        const test::DrivenRun outcome = run(keeping(), [&](Plan* plan) {
            plan->undo.enabled = false;
            plan->undo.offReason = reason;
        });
        QCOMPARE(outcome.refusal, OperationRunner::Refusal::Undo);
        QVERIFY2(outcome.refusalText.contains(u"needs a reason"_s), qPrintable(outcome.refusalText));
        QVERIFY(!outcome.record);
    }
    // Nothing was journaled: a refusal comes before the run.
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    QVERIFY(journal.entries().isEmpty());
    // Where no window is available, there is nothing to turn off: no reason is asked.
    const test::DrivenRun plain = run(keeping({}, false), [](Plan* plan) { plan->undo.enabled = false; });
    QVERIFY(plain.record);
    QCOMPARE(plain.record->outcome, RunRecord::Outcome::Succeeded);
}

void TestUndoWindow::theReasonIsJournaled()
{
    const test::DrivenRun outcome = run(keeping(), [](Plan* plan) {
        plan->undo.enabled = false;
        plan->undo.offReason = u"the disk is full"_s;
        plan->undo.bytesHeld = 5000;
        plan->undo.bytesEstimated = true;
    });
    QVERIFY(outcome.record);
    QCOMPARE(outcome.record->outcome, RunRecord::Outcome::Succeeded);
    QVERIFY(!outcome.record->undoOpened);
    QVERIFY2(outcome.record->undoSummary().contains(u"the disk is full"_s), qPrintable(outcome.record->undoSummary()));
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    bool planSaysOff = false;
    bool confirmSaysWhy = false;
    for (const JournalEntry& e : journal.entries(outcome.record->id)) {
        QVERIFY(e.kind != UndoWindow::kOpenedKind);
        if (e.kind == u"plan"_s)
            planSaysOff = !e.data[u"undo"_s][u"enabled"_s].toBool()
                && e.data[u"undo"_s][u"offReason"_s].toString() == u"the disk is full"_s;
        if (e.kind == u"confirm"_s)
            confirmSaysWhy = e.data[u"undo"_s].toString() == u"turned off: the disk is full"_s;
    }
    QVERIFY(planSaysOff);
    QVERIFY(confirmSaysWhy);
    // The record keeps the plan's window, its estimated size marked as one.
    const auto saved = journal.run(outcome.record->id);
    QVERIFY(saved);
    QCOMPARE(saved->undo.bytesHeld, 5000);
    QVERIFY(saved->undo.bytesEstimated);
}

void TestUndoWindow::aRunJournalsTheWindowItKeeps()
{
    const QDateTime before = QDateTime::currentDateTimeUtc();
    // The plan's size is an estimate (a Pulumi purge's); the window's is what the run measured it keeps.
    const test::DrivenRun outcome = run(keeping(), [](Plan* plan) {
        plan->undo.bytesHeld = 5000;
        plan->undo.bytesEstimated = true;
    });
    QVERIFY(outcome.record);
    QVERIFY(outcome.record->undoOpened);
    QCOMPARE(outcome.record->undo.bytesHeld, 0);
    QVERIFY(!outcome.record->undo.bytesEstimated);
    // Its end is the retention from the journal's clock when it opened.
    QVERIFY(outcome.record->undo.until >= before.addSecs(3600).addMSecs(-1));
    QVERIFY(outcome.record->undo.until <= QDateTime::currentDateTimeUtc().addSecs(3600));
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    QString error;
    const auto windows = UndoWindows::read(journal, &error);
    QVERIFY2(windows, qPrintable(error));
    QCOMPARE(windows->size(), 1);
    QCOMPARE(windows->front().runId, outcome.record->id);
    QCOMPARE(windows->front().state, UndoWindow::State::Open);
    QCOMPARE(windows->front().until, outcome.record->undo.until);
    // The saved record says it too.
    QVERIFY(journal.run(outcome.record->id)->undoOpened);
    QVERIFY(!journal.run(outcome.record->id)->undo.bytesEstimated);
}

void TestUndoWindow::aRestoreClosesTheWindowOnlyOnceItSucceeded()
{
    const test::DrivenRun kept = run(keeping());
    QVERIFY(kept.record);
    // A restore that fails leaves the window open, to try again.
    auto failing = std::make_unique<test::StepsOperation>(u"deploy-previous"_s, u"wpia-packit"_s, u"wpia-packit"_s,
        QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"false"_s } },
        [](const QString& step, RunContext& context) {
            context.begin(step);
            context.fail(u"the machine is unreachable"_s);
            return false;
        });
    failing->shapePlan([id = kept.record->id](Plan* plan) { plan->parameters.insert(u"restores"_s, id); });
    QCOMPARE(run(std::move(failing)).record->outcome, RunRecord::Outcome::Failed);
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    QCOMPARE(UndoWindows::read(journal, nullptr)->front().state, UndoWindow::State::Open);

    const test::DrivenRun restored = run(keeping(kept.record->id, false));
    QVERIFY(restored.record);
    QCOMPARE(restored.record->outcome, RunRecord::Outcome::Succeeded);
    const UndoWindow window = *UndoWindows::find(*UndoWindows::read(journal, nullptr), kept.record->id);
    QCOMPARE(window.state, UndoWindow::State::Restored);
    QCOMPARE(window.closedBy, restored.record->id);
    QVERIFY(journal.verify().intact);
}

void TestUndoWindow::aWindowThatIsNotOpenIsNotRestored()
{
    const test::DrivenRun kept = run(keeping());
    QVERIFY(kept.record);
    QVERIFY(run(keeping(kept.record->id, false)).record);
    // Restored once: a second restore is refused by the engine, after its plan.
    const test::DrivenRun again = run(keeping(kept.record->id, false));
    QCOMPARE(again.refusal, OperationRunner::Refusal::Undo);
    QVERIFY2(again.refusalText.contains(u"restored by run"_s), qPrintable(again.refusalText));
    // A run that kept no window cannot be restored.
    const test::DrivenRun none = run(keeping(u"no-such-run"_s, false));
    QCOMPARE(none.refusal, OperationRunner::Refusal::Undo);
    QVERIFY2(none.refusalText.contains(u"kept no undo window"_s), qPrintable(none.refusalText));
    // A window past its end: the journal's clock decides.
    auto shortLived = keeping();
    shortLived->shapePlan([](Plan* plan) {
        plan->undo.available = true;
        plan->undo.retentionSeconds = 1;
    });
    const test::DrivenRun brief = run(std::move(shortLived));
    QVERIFY(brief.record);
    QTest::qWait(1100);
    const test::DrivenRun late = run(keeping(brief.record->id, false));
    QCOMPARE(late.refusal, OperationRunner::Refusal::Undo);
    QVERIFY2(late.refusalText.contains(u"expired at"_s), qPrintable(late.refusalText));
}

void TestUndoWindow::aRunEndsTheOpenWindowsItNames()
{
    const test::DrivenRun kept = run(keeping());
    QVERIFY(kept.record);
    QStringList ended;
    bool acted = false;
    const test::DrivenRun purge = run(std::make_unique<EndingOperation>(true, &ended, &acted));
    QVERIFY(purge.plan && purge.record);
    // The plan names the window (the confirmation shows it), and ending it is the run's first step.
    QCOMPARE(purge.plan->undo.endsWindows.size(), 1);
    QVERIFY(purge.plan->undo.endsWindows.front().startsWith(kept.record->id));
    QVERIFY(purge.plan->warnings.join(u' ').contains(u"ends the undo window of run "_s + kept.record->id));
    QCOMPARE(purge.plan->steps.front().id, u"end-open-windows"_s);
    QCOMPARE(purge.record->outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(ended, QStringList { kept.record->id });
    QVERIFY(acted);
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    const UndoWindow window = *UndoWindows::find(*UndoWindows::read(journal, nullptr), kept.record->id);
    QCOMPARE(window.state, UndoWindow::State::Ended);
    QCOMPARE(window.closedBy, purge.record->id);
    QVERIFY2(window.closedReason.contains(u"it takes what the window needs"_s), qPrintable(window.closedReason));
    // Ended once: the next run names nothing.
    ended.clear();
    const test::DrivenRun again = run(std::make_unique<EndingOperation>(true, &ended, &acted));
    QVERIFY(again.plan && again.plan->undo.endsWindows.isEmpty());
    QVERIFY(ended.isEmpty());
}

void TestUndoWindow::aWindowThatCannotEndStopsTheRun()
{
    const test::DrivenRun kept = run(keeping());
    QVERIFY(kept.record);
    QStringList ended;
    bool acted = false;
    const test::DrivenRun purge = run(std::make_unique<EndingOperation>(false, &ended, &acted));
    QVERIFY(purge.record);
    QCOMPARE(purge.record->outcome, RunRecord::Outcome::Failed);
    QVERIFY(!acted); // nothing of its own ran: the window could still be restored
    QVERIFY2(purge.record->summary.contains(u"its copy cannot be deleted"_s), qPrintable(purge.record->summary));
    Journal journal(m_journal);
    QVERIFY(journal.open(nullptr));
    QCOMPARE(UndoWindows::find(*UndoWindows::read(journal, nullptr), kept.record->id)->state, UndoWindow::State::Open);
}

QTEST_GUILESS_MAIN(TestUndoWindow)
#include "tst_undowindow.moc"
