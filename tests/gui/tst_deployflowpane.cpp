// The whole update-and-deploy flow clicked through the Deploy pane offscreen: trigger the update workflow, the
// pull request appears with its checks, deploy it to staging, the automatic checks, the manual checklist, merge,
// deploy main everywhere; the matrix ends all up to date; undo that from the Runs dock, and undo the undo. Runs after
// tst_deployflow (it opens the next pull request on the sandbox's GitHub).
#include "ConfirmDialog.h"
#include "DeployAllDialog.h"
#include "DeployMatrixModel.h"
#include "DeployPane.h"
#include "MainWindow.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "config/InventoryLoader.h"
#include "runbook/ReportWriter.h"

#include <QApplication>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestDeployFlowPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void deployAllWithTheSpareDownReachesProduction();
    void wholeFlowThroughThePane();
    void cleanupTestCase();

private:
    DeployPane* showDeployPane(MainWindow& window);
    RunRecord click(MainWindow& window, DeployPane* pane, const QString& button);
    RunRecord undo(MainWindow& window);

    Sandbox m_sandbox;
};

void TestDeployFlowPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
}

// The sandbox's spare machine is down: a deploy of main to every machine leaves it out (the chooser starts with it
// unchecked, and the plan, reading it again, agrees), reaches production, and says so in its report.
void TestDeployFlowPane::deployAllWithTheSpareDownReachesProduction()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    DeployPane* pane = showDeployPane(window);
    QVERIFY(pane);
    QTRY_VERIFY_WITH_TIMEOUT(!pane->refreshing(), 60000);
    QCOMPARE(pane->matrix()->status(u"wpia-packit-spare"_s)->state, DeployState::Unreachable);

    // The chooser as the admin sees it: the spare unchecked, the rest checked, stop on a failure.
    {
        const InventoryLoadResult loaded = InventoryLoader::loadFile(m_sandbox.inventoryPath());
        QVERIFY(loaded.inventory);
        DeployAllDialog dialog(*loaded.inventory, pane->matrix()->statuses(), pane->pull());
        const DeployOperation::Selection selection = dialog.selection();
        // Unchecked because unreachable: left to the plan, which reads it again.
        const auto spare = dialog.findChild<QTreeWidget*>(u"deployAllMachines"_s)
                               ->findItems(u"wpia-packit-spare"_s, Qt::MatchExactly);
        QCOMPARE(spare.size(), 1);
        QCOMPARE(spare.front()->checkState(0), Qt::Unchecked);
        QVERIFY(selection.leaveOut.isEmpty());
        QVERIFY(selection.include.isEmpty());
        QVERIFY(!selection.goOnAfterFailure);
    }

    DeployAllDialog::setNextAnswer(true);
    const RunRecord record = click(window, pane, u"deployAll"_s);
    QCOMPARE(record.operation, u"deploy-all"_s);
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    QCOMPARE(record.parameters[u"machines"_s].toVariant().toStringList(),
        QStringList({ u"wpia-packit-dev"_s, u"wpia-packit-private"_s, u"wpia-packit"_s }));
    QVERIFY(record.parameters[u"leftOut"_s][u"wpia-packit-spare"_s].toString().startsWith(u"unreachable now"_s));
    QVERIFY(record.after.contains(u"wpia-packit"_s));
    QVERIFY2(record.summary.contains(u"Left out: wpia-packit-spare (unreachable now"_s), qPrintable(record.summary));
    const QString report = ReportWriter::toHtml(record);
    QVERIFY2(report.contains(u"Left out: wpia-packit-spare"_s), qPrintable(report));
    QTRY_COMPARE_WITH_TIMEOUT(pane->matrix()->status(u"wpia-packit"_s)->state, DeployState::UpToDate, 60000);
}

void TestDeployFlowPane::cleanupTestCase()
{
    m_sandbox.script(u"kill-host"_s, { u"wpia-packit-spare"_s });
}

// The window at 1280x800 on the Deploy pane, once the pane has read every machine; null if it did not.
DeployPane* TestDeployFlowPane::showDeployPane(MainWindow& window)
{
    auto* pane = qobject_cast<DeployPane*>(window.pane(u"Deploy"_s));
    if (!pane)
        return nullptr;
    window.resize(1280, 800);
    window.show();
    QSignalSpy refreshed(pane, &DeployPane::refreshed);
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"Deploy"_s)
            window.sidebar()->setCurrentRow(i);
    }
    return refreshed.wait(60000) ? pane : nullptr;
}

// Clicks a flow button, confirms the plan, and waits for the run.
RunRecord TestDeployFlowPane::click(MainWindow& window, DeployPane* pane, const QString& button)
{
    auto* widget = pane->findChild<QPushButton*>(button);
    if (!widget || !widget->isEnabled()) {
        qWarning("%s is missing or disabled", qPrintable(button));
        return {};
    }
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    widget->click();
    if (!finished.wait(180000))
        return {};
    return finished.first().first().value<RunRecord>();
}

void TestDeployFlowPane::wholeFlowThroughThePane()
{
    // Every machine must be reachable for the deploy to all of them to succeed.
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"wpia-packit-spare"_s }), 0);
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    DeployPane* pane = showDeployPane(window);
    QVERIFY(pane);

    // 1. Trigger, with one input.
    pane->findChild<QLineEdit*>(u"inputPackit"_s)->setText(u"mrc-7000"_s);
    RunRecord record = click(window, pane, u"triggerUpdate"_s);
    QCOMPARE(record.operation, u"deploy-update"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.parameters[u"inputs"_s][u"packit"_s].toString(), u"mrc-7000"_s);

    // 2. The pull request shows, with its commits, and its checks once they pass.
    QTRY_VERIFY_WITH_TIMEOUT(pane->pull().number > 0, 30000);
    QTRY_VERIFY_WITH_TIMEOUT((pane->pull().checksPassed() || (pane->refreshPull(), false)), 30000);
    const int number = pane->pull().number;
    QVERIFY(pane->findChild<QLabel*>(u"pullTitle"_s)->text().contains(u"#%1"_s.arg(number)));

    // 3. Staging: deploy the pull request, then the automatic checks, then the checklist.
    record = click(window, pane, u"deployStaging"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.parameters[u"ref"_s].toString(), u"refs/pull/%1/merge"_s.arg(number));
    QTRY_VERIFY_WITH_TIMEOUT(pane->findChild<QPushButton*>(u"checkStaging"_s)->isEnabled(), 30000);
    record = click(window, pane, u"checkStaging"_s);
    QCOMPARE(record.operation, u"deploy-checks"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QTRY_VERIFY(pane->findChild<QLabel*>(u"stagingState"_s)->text().contains(u"passed the automatic checks"_s));
    auto* checklist = pane->findChild<QListWidget*>();
    for (int i = 0; i < checklist->count(); ++i)
        checklist->item(i)->setCheckState(Qt::Checked);

    // 4. Merge exactly what was checked, then deploy main everywhere.
    record = click(window, pane, u"mergePull"_s);
    QCOMPARE(record.operation, u"deploy-merge"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.parameters[u"manualChecks"_s].toArray().size(), checklist->count());
    QCOMPARE(record.parameters[u"stagingVerifiedAt"_s].toString(), record.parameters[u"testMerge"_s].toString());
    QTRY_VERIFY_WITH_TIMEOUT(!pane->refreshing() && pane->matrix()->count(DeployState::UpToDate) == 0, 60000);

    DeployAllDialog::setNextAnswer(true);
    record = click(window, pane, u"deployAll"_s);
    QCOMPARE(record.operation, u"deploy-all"_s);
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    const int machines = pane->matrix()->rowCount();
    QTRY_COMPARE_WITH_TIMEOUT(pane->matrix()->count(DeployState::UpToDate), machines, 60000);

    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + u"/deploy-flow-done.png"_s);

    // 5. Undo from the Runs dock: every machine the deploy switched goes back to what it ran before; then undo that.
    const RunRecord deployAll = record;
    QVERIFY(deployAll.undoOpened);
    record = undo(window);
    QCOMPARE(record.operation, u"deploy-previous"_s);
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    QCOMPARE(record.parameters[u"restores"_s].toString(), deployAll.id);
    const QJsonObject revisions = record.parameters[u"revisions"_s].toObject();
    QVERIFY(!revisions.isEmpty());
    for (auto it = revisions.begin(); it != revisions.end(); ++it) {
        QCOMPARE(it.value().toString(), deployAll.before[it.key()].toString());
        QCOMPARE(record.after[it.key()].toString(), it.value().toString());
    }
    QTRY_VERIFY_WITH_TIMEOUT(!pane->refreshing() && pane->matrix()->count(DeployState::UpToDate) < machines, 60000);
    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + u"/deploy-flow-undone.png"_s);
    record = undo(window);
    QCOMPARE(record.operation, u"deploy-previous"_s);
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    QTRY_COMPARE_WITH_TIMEOUT(pane->matrix()->count(DeployState::UpToDate), machines, 60000);
}

// Clicks "Undo…" of the newest run in the Runs dock that has one, confirms the plan, and waits for the restore.
RunRecord TestDeployFlowPane::undo(MainWindow& window)
{
    auto* list = window.runs()->findChild<QTreeWidget*>();
    QPushButton* button = nullptr;
    for (int row = list->topLevelItemCount() - 1; row >= 0 && !button; --row) {
        if (QWidget* actions = list->itemWidget(list->topLevelItem(row), 4))
            button = actions->findChild<QPushButton*>(u"undoRun"_s);
    }
    if (!button) {
        qWarning("no run offers Undo…");
        return {};
    }
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    button->click();
    if (!finished.wait(180000))
        return {};
    return finished.first().first().value<RunRecord>();
}

QTEST_MAIN(TestDeployFlowPane)
#include "tst_deployflowpane.moc"
