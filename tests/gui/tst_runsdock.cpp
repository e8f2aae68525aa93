// The Runs dock at start-up: runs of the journal left without an outcome by a console that is gone, offered for
// recovery here when a pane recovers their operation, else with the command to type in a terminal; and such a row
// while its recovery runs and once it succeeded.
#include "KilledRun.h"
#include "ReportExport.h"
#include "RunsDock.h"
#include "TestRuns.h"
#include "runbook/Journal.h"
#include "runbook/Operation.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunContext.h"

#include <QApplication>
#include <QClipboard>
#include <QDeadlineTimer>
#include <QGuiApplication>
#include <QHeaderView>
#include <QJsonObject>
#include <QMainWindow>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>

#include <atomic>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {

// The recovery of run-1 in these tests: one step, on run-1's target, that succeeds or fails.
std::unique_ptr<Operation> recoveryOperation(bool succeeds)
{
    auto operation = std::make_unique<test::StepsOperation>(QStringLiteral("packit-wipe-recover"),
        QStringLiteral("wpia-packit/training"), QStringLiteral("training"),
        QList<test::StepsOperation::Step> {
            { QStringLiteral("observe"), QStringLiteral("Read the instance"), QStringLiteral("true") } },
        [succeeds](const QString& step, RunContext& context) {
            context.begin(step);
            if (!succeeds) {
                context.fail(QStringLiteral("the host did not answer"));
                context.record().summary = QStringLiteral("Not safe: the host did not answer.");
                return false;
            }
            context.succeed();
            context.record().summary = QStringLiteral("End state: untouched.");
            return true;
        });
    operation->shapePlan([](Plan* plan) {
        plan->verb = QStringLiteral("Recover");
        plan->parameters = { { QStringLiteral("recovers"), QStringLiteral("run-1") } };
    });
    return operation;
}

// A deploy-update on reside-ic/packit-infra whose one step runs until `release` (20 s at most).
std::unique_ptr<Operation> heldRun(std::atomic<bool>& release)
{
    return std::make_unique<test::StepsOperation>(u"deploy-update"_s, u"reside-ic/packit-infra"_s, u"packit-infra"_s,
        QList<test::StepsOperation::Step> { { u"wait"_s, u"Wait"_s, u"true"_s } },
        [&release](const QString& step, RunContext& context) {
            context.begin(step);
            QDeadlineTimer deadline(20000);
            while (!release && !deadline.hasExpired())
                QThread::msleep(20);
            context.succeed();
            return true;
        });
}

} // namespace

class TestRunsDock : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void runsNobodyRecoversKeepTheCommand();
    void recoverableRunsOfferRecover();
    void aRecoveryStartedHereClosesTheRow();
    void aFailedRecoveryOffersTheRunAgain();
    void reportNamesNeedNoQuoting();
    void clearFinishedKeepsWhatRunsAndWhatToRecover();
    void longRunTellsItsEndWhenNoWindowIsInFront();
    void columnsFitAWindowOf1280();

private:
    // Plans `operation` (a StepsOperation on `target`, confirmed by its last part) and starts it in the dock.
    bool startRun(RunsDock& dock, std::unique_ptr<Operation> operation, const QString& confirmation);
    // Plans the recovery of run-1 and starts it in the dock; its record once it ended.
    RunRecord runRecovery(RunsDock& dock, bool succeeds);
    QTreeWidget* listOf(RunsDock& dock) const { return dock.findChild<QTreeWidget*>(QStringLiteral("runs")); }
    QTemporaryDir m_dir;
    QString m_path;
};

// A journal with run-1, a packit-wipe whose console was killed during move-root.
void TestRunsDock::init()
{
    m_path = m_dir.filePath(QStringLiteral("journal-%1.sqlite").arg(QString::fromLatin1(QTest::currentTestFunction())));
    Journal journal(m_path);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    const QString target = QStringLiteral("wpia-packit/training");
    QVERIFY(journalKilledRun(journal, QStringLiteral("run-1"), QStringLiteral("packit-wipe"), target,
        { { QStringLiteral("confirmWith"), QStringLiteral("training") } }));
    QVERIFY(journal.append(QStringLiteral("run-1"), QStringLiteral("step-start"), QStringLiteral("packit-wipe"), target,
        { { QStringLiteral("step"), QStringLiteral("move-root") } }));
}

void TestRunsDock::runsNobodyRecoversKeepTheCommand()
{
    RunsDock dock;
    dock.showUnfinished(m_path, [](const QString& operation) { return operation == QStringLiteral("raft-reset"); });
    QTreeWidget* list = listOf(dock);
    QVERIFY(list);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    const QTreeWidgetItem* item = list->topLevelItem(0);
    QCOMPARE(item->text(0), QStringLiteral("Wipe Packit instance on wpia-packit/training"));
    QVERIFY2(item->toolTip(0).contains(QStringLiteral("packit-wipe")), qPrintable(item->toolTip(0)));
    QCOMPARE(item->text(1), QStringLiteral("unfinished — recover"));
    QVERIFY2(item->text(2).contains(QStringLiteral("move-root")), qPrintable(item->text(2)));
    // It says why it is not recovered here.
    QVERIFY2(
        item->text(2).contains(QStringLiteral("recover packit-wipe runs from a terminal")), qPrintable(item->text(2)));
    QVERIFY2(item->toolTip(2).contains(QStringLiteral("The console does not recover packit-wipe runs")),
        qPrintable(item->toolTip(2)));
    const QString command = QStringLiteral("opsdeck recover run-1 --confirm training");
    QVERIFY2(item->toolTip(2).contains(command), qPrintable(item->toolTip(2)));
    QVERIFY(!list->findChild<QPushButton*>(QStringLiteral("recoverRun")));
    // The command to type in a terminal, one click away.
    auto* copy = qobject_cast<QPushButton*>(list->itemWidget(list->topLevelItem(0), 4));
    QVERIFY(copy);
    QCOMPARE(copy->objectName(), QStringLiteral("copyRecoverCommand"));
    QGuiApplication::clipboard()->clear();
    copy->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), command);

    // Listed again (a reloaded inventory): the row is replaced, not repeated.
    list->topLevelItem(0)->setData(0, Qt::UserRole + 1, QStringLiteral("listed before"));
    dock.showUnfinished(m_path);
    QTRY_VERIFY(list->topLevelItemCount() != 1 || list->topLevelItem(0)->data(0, Qt::UserRole + 1).isNull());
    QCOMPARE(list->topLevelItemCount(), 1);
}

void TestRunsDock::recoverableRunsOfferRecover()
{
    RunsDock dock;
    dock.showUnfinished(m_path, [](const QString& operation) { return operation == QStringLiteral("packit-wipe"); });
    QTreeWidget* list = listOf(dock);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    QTreeWidgetItem* item = list->topLevelItem(0);
    auto* recover = qobject_cast<QPushButton*>(list->itemWidget(item, 4));
    QVERIFY(recover);
    QCOMPARE(recover->objectName(), QStringLiteral("recoverRun"));
    QCOMPARE(recover->text(), QStringLiteral("Recover…"));
    const QString command = QStringLiteral("opsdeck recover run-1 --confirm training");
    QVERIFY2(recover->toolTip().contains(command), qPrintable(recover->toolTip()));

    QList<Journal::UnfinishedRun> requested;
    connect(&dock, &RunsDock::recoverRequested, this, [&](const Journal::UnfinishedRun& run) { requested << run; });
    recover->click();
    QCOMPARE(requested.size(), 1);
    QCOMPARE(requested.first().runId, QStringLiteral("run-1"));
    QCOMPARE(requested.first().operation, QStringLiteral("packit-wipe"));
    QCOMPARE(requested.first().confirmWith, QStringLiteral("training"));
    QCOMPARE(requested.first().lastStep, QStringLiteral("move-root"));

    // The terminal's command is still in the row's context menu.
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    QString copied;
    QTimer::singleShot(200, this, [&] {
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        if (!menu)
            return;
        for (QAction* action : menu->actions()) {
            if (action->text() == QStringLiteral("Copy recover command"))
                action->trigger();
        }
        copied = QGuiApplication::clipboard()->text();
        menu->close();
    });
    QGuiApplication::clipboard()->clear();
    emit list->customContextMenuRequested(list->visualItemRect(item).center());
    QCOMPARE(copied, command);
}

bool TestRunsDock::startRun(RunsDock& dock, std::unique_ptr<Operation> operation, const QString& confirmation)
{
    auto* runner = new OperationRunner(std::move(operation), m_path);
    std::optional<Plan> plan;
    connect(runner, &OperationRunner::planned, this, [&plan](const Plan& planned) { plan = planned; });
    runner->plan();
    if (!QTest::qWaitFor([&] { return plan.has_value(); }, 10000)) {
        delete runner;
        return false;
    }
    dock.start(runner, *plan, confirmation);
    return true;
}

RunRecord TestRunsDock::runRecovery(RunsDock& dock, bool succeeds)
{
    auto* runner = new OperationRunner(recoveryOperation(succeeds), m_path);
    QSignalSpy planned(runner, &OperationRunner::planned);
    runner->plan();
    if (!planned.wait(10000))
        return {};
    QSignalSpy finished(&dock, &RunsDock::runFinished);
    dock.start(runner, planned.first().first().value<Plan>(), QStringLiteral("training"));
    // While it runs, the row says so and offers nothing.
    QTreeWidgetItem* unfinished = listOf(dock)->topLevelItem(0);
    if (unfinished->text(1) != QStringLiteral("being recovered") || listOf(dock)->itemWidget(unfinished, 4)
        || !finished.wait(10000))
        return {};
    return finished.first().first().value<RunRecord>();
}

void TestRunsDock::aRecoveryStartedHereClosesTheRow()
{
    RunsDock dock;
    dock.showUnfinished(m_path, [](const QString&) { return true; });
    QTreeWidget* list = listOf(dock);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    QTreeWidgetItem* unfinished = list->topLevelItem(0);

    const RunRecord record = runRecovery(dock, true);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(unfinished->text(1), QStringLiteral("recovered"));
    QCOMPARE(unfinished->text(2), QStringLiteral("Recovered by run %1").arg(record.id));
    QVERIFY(!list->itemWidget(unfinished, 4));

    // The journal closed it, so a later look lists nothing.
    Journal journal(m_path);
    QString error;
    QVERIFY(journal.open(&error));
    QVERIFY(journal.unfinishedRuns(&error).isEmpty());
}

// The journal keeps a run whose recovery failed unfinished: its row offers it again, and says how the recovery ended.
void TestRunsDock::aFailedRecoveryOffersTheRunAgain()
{
    RunsDock dock;
    dock.showUnfinished(m_path, [](const QString&) { return true; });
    QTreeWidget* list = listOf(dock);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    QTreeWidgetItem* unfinished = list->topLevelItem(0);

    const RunRecord record = runRecovery(dock, false);
    QCOMPARE(record.outcome, RunRecord::Outcome::Failed);
    QCOMPARE(unfinished->text(1), QStringLiteral("unfinished — recover"));
    QVERIFY2(unfinished->toolTip(1).contains(QStringLiteral("Not safe: the host did not answer.")),
        qPrintable(unfinished->toolTip(1)));
    auto* recover = qobject_cast<QPushButton*>(list->itemWidget(unfinished, 4));
    QVERIFY(recover);
    QCOMPARE(recover->objectName(), QStringLiteral("recoverRun"));
    Journal journal(m_path);
    QString error;
    QVERIFY(journal.open(&error));
    QCOMPARE(journal.unfinishedRuns(&error).size(), 1);
}

// A report's suggested file name says what and when, in letters, digits, '.', '_' and '-' only.
void TestRunsDock::reportNamesNeedNoQuoting()
{
    RunRecord record;
    record.operation = u"deploy-all"_s;
    record.target = u"3 machines (wpia-packit-dev, wpia-packit-private, wpia-packit)"_s;
    record.startedAt = QDateTime(QDate(2026, 12, 7), QTime(6, 32, 22), Qt::LocalTime);
    QCOMPARE(ReportExport::suggestedName(record),
        u"deploy-all-3-machines-wpia-packit-dev-wpia-packit-private-wpia-packit-20261207-063222.pdf"_s);
    record.operation = u"packit-wipe"_s;
    record.target = u"wpia-packit/training"_s;
    QCOMPARE(ReportExport::suggestedName(record), u"packit-wipe-wpia-packit-training-20261207-063222.pdf"_s);
}

// "Clear finished" takes away this console's ended runs; a running run and an unfinished run to recover stay.
void TestRunsDock::clearFinishedKeepsWhatRunsAndWhatToRecover()
{
    RunsDock dock;
    dock.showUnfinished(m_path, [](const QString&) { return true; });
    QTreeWidget* list = listOf(dock);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    auto* clear = dock.findChild<QToolButton*>(u"clearFinished"_s);
    QVERIFY(clear);
    QVERIFY(!clear->isEnabled());

    std::atomic<bool> release = false;
    QVERIFY(startRun(dock, heldRun(release), u"packit-infra"_s));
    QSignalSpy finished(&dock, &RunsDock::runFinished);
    QVERIFY(startRun(dock,
        std::make_unique<test::StepsOperation>(u"deploy"_s, u"wpia-packit-dev"_s, u"wpia-packit-dev"_s,
            QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } }),
        u"wpia-packit-dev"_s));
    QVERIFY(finished.wait(10000));
    QCOMPARE(list->topLevelItemCount(), 3);
    QCOMPARE(list->topLevelItem(1)->text(0), u"Trigger update workflow on reside-ic/packit-infra"_s);
    QCOMPARE(list->topLevelItem(2)->text(0), u"Deploy on wpia-packit-dev"_s);
    QVERIFY2(list->topLevelItem(2)->toolTip(0).contains(u"Operation deploy · run "_s),
        qPrintable(list->topLevelItem(2)->toolTip(0)));
    QCOMPARE(dock.finished(), 1);
    QTRY_COMPARE(dock.running(), 1);
    QVERIFY(clear->isEnabled());

    clear->click();
    QCOMPARE(list->topLevelItemCount(), 2);
    QCOMPARE(list->topLevelItem(0)->text(1), u"unfinished — recover"_s);
    QCOMPARE(list->topLevelItem(1)->text(0), u"Trigger update workflow on reside-ic/packit-infra"_s);
    QVERIFY(list->itemWidget(list->topLevelItem(1), 4)); // its Cancel
    QCOMPARE(dock.finished(), 0);
    QVERIFY(!clear->isEnabled());

    // The run left ends in its row (found by its runner, not by its place), and goes with the next clear.
    release = true;
    QVERIFY(finished.wait(20000));
    QCOMPARE(finished.last().first().value<RunRecord>().operation, u"deploy-update"_s);
    QCOMPARE(list->topLevelItem(1)->text(2), finished.last().first().value<RunRecord>().summary);
    QVERIFY(clear->isEnabled());
    dock.clearFinished();
    QCOMPARE(list->topLevelItemCount(), 1);
    QCOMPARE(list->topLevelItem(0)->text(1), u"unfinished — recover"_s);
}

// A run that took long tells of its end while no window of the console is in front, and only then.
void TestRunsDock::longRunTellsItsEndWhenNoWindowIsInFront()
{
    // In a window, as in the console: a dock that starts a run shows itself, and on its own it would be a window in
    // front.
    QMainWindow window;
    auto& dock = *new RunsDock(&window);
    window.addDockWidget(Qt::BottomDockWidgetArea, &dock);
    QStringList told;
    dock.setNotifier([&told](const QString& title, const QString& message) { told << title + u'|' + message; });
    QSignalSpy finished(&dock, &RunsDock::runFinished);
    const auto run = [&](const QString& target) {
        return startRun(dock,
                   std::make_unique<test::StepsOperation>(u"deploy"_s, target, target,
                       QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } }),
                   target)
            && finished.wait(10000);
    };

    // A short run: nothing, in front or not.
    QVERIFY(!QApplication::activeWindow());
    QVERIFY(run(u"machine-1"_s));
    QVERIFY(told.isEmpty());

    // A long one (any run is, here) with no window in front: told, by its name and outcome.
    dock.setNotifyAfter(-1);
    QVERIFY(run(u"machine-2"_s));
    QCOMPARE(told.size(), 1);
    QVERIFY2(told.first().startsWith(u"Deploy on machine-2: succeeded|"_s), qPrintable(told.first()));

    // The console's own way (no tray offscreen: the window's alert) neither crashes nor blocks.
    dock.setNotifier({});
    QVERIFY(run(u"machine-3"_s));
    dock.setNotifier([&told](const QString& title, const QString& message) { told << title + u'|' + message; });

    // In front: not told.
    window.show();
    window.activateWindow();
    if (!QTest::qWaitForWindowActive(&window))
        QSKIP("this platform does not activate windows");
    QVERIFY(run(u"machine-4"_s));
    QCOMPARE(told.size(), 1);
}

// At the bottom of a 1280x800 window, a finished run (its summary, its Export button) and a running one: the name,
// console, progress, time and buttons are whole, the step (a long summary) takes the rest, and nothing scrolls
// sideways. The Export button took 480 pixels and the step and time were cut.
void TestRunsDock::columnsFitAWindowOf1280()
{
    QMainWindow window;
    window.setCentralWidget(new QWidget(&window));
    auto* dock = new RunsDock(&window);
    window.addDockWidget(Qt::BottomDockWidgetArea, dock);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(dock, &RunsDock::runFinished);
    QVERIFY(startRun(*dock,
        std::make_unique<test::StepsOperation>(u"deploy"_s, u"wpia-packit-dev"_s, u"wpia-packit-dev"_s,
            QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } },
            [](const QString& step, RunContext& context) {
                context.begin(step);
                context.succeed();
                context.record().summary = u"Deployed 3f2a1b9 to wpia-packit-dev: the services restarted and "
                                           "answered their health checks; the previous build is kept for undo."_s;
                return true;
            }),
        u"wpia-packit-dev"_s));
    QVERIFY(finished.wait(10000));
    std::atomic<bool> release = false;
    QVERIFY(startRun(*dock, heldRun(release), u"packit-infra"_s));
    QTRY_COMPARE(dock->running(), 1);
    QTest::qWait(150); // the fit after the rows changed, and the header's stretch

    QTreeWidget* list = listOf(*dock);
    const QAbstractItemView* view = list; // sizeHintForColumn is public there
    QHeaderView* header = list->header();
    QVERIFY(!list->horizontalScrollBar()->isVisible());
    QCOMPARE(header->length(), list->viewport()->width());
    // The dock's columns, by number (Console is shown second).
    constexpr int Name = 0, Progress = 1, Step = 2, Time = 3, Actions = 4, Console = 5;
    for (int column : { Name, Progress, Time, Actions, Console }) {
        QVERIFY2(header->sectionSize(column) >= view->sizeHintForColumn(column),
            qPrintable(u"column %1: %2 < %3"_s.arg(column)
                           .arg(header->sectionSize(column))
                           .arg(view->sizeHintForColumn(column))));
    }
    auto* report = list->findChild<QPushButton*>(u"exportReport"_s);
    QVERIFY(report);
    QVERIFY2(header->sectionSize(Actions) < report->sizeHint().width() + 40,
        qPrintable(QString::number(header->sectionSize(Actions))));
    QVERIFY2(header->sectionSize(Step) >= 400, qPrintable(QString::number(header->sectionSize(Step))));
    release = true;
    QTRY_COMPARE(dock->running(), 0);
}

QTEST_MAIN(TestRunsDock)
#include "tst_runsdock.moc"
