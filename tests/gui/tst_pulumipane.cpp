// The Pulumi pane offscreen on the sandbox: organisations with their counts, the soft-deleted stacks loaded
// lazily and filtered in the database, the process list (read when its tab is first shown, without the pane's own
// statement) with a long statement killed from it, and a purge with a
// kept stack, confirmed and followed in the Runs dock. Runs after tst_pulumipurge, which expects the seeded data
// untouched.
#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "PlanningBanner.h"
#include "PulumiPane.h"
#include "PulumiStackModel.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "SqlSleeper.h"
#include "Systems.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestPulumiPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void processListReadWhenShownWithoutItsOwnQuery();
    void organisationsStacksProcessesAndAPurge();

private:
    Sandbox m_sandbox;
};

void TestPulumiPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
}

namespace {

// The window at 1280x800 on the Pulumi pane.
void showPulumi(MainWindow& window)
{
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"Pulumi"_s)
            window.sidebar()->setCurrentRow(i);
    }
}

} // namespace

// The Processes tab reads the list when it is first shown, and again with Refresh. The pane's own session (whose
// statement is the list's query) is left out; another session's statement is listed, whatever it says.
void TestPulumiPane::processListReadWhenShownWithoutItsOwnQuery()
{
    // A session of someone else's whose statement mentions the process list too: it is listed.
    SqlSleeper other(m_sandbox.mariadb(), { u"SELECT SLEEP(60), 'not opsdeck: information_schema.PROCESSLIST'"_s });
    QTRY_VERIFY_WITH_TIMEOUT(other.id() > 0 || other.done(), 10000);
    QVERIFY(other.id() > 0);

    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = qobject_cast<PulumiPane*>(window.pane(u"Pulumi"_s));
    QVERIFY(pane);
    QSignalSpy loaded(pane, &PulumiPane::organizationsLoaded);
    QSignalSpy processes(pane, &PulumiPane::processesLoaded);
    showPulumi(window);
    QVERIFY(loaded.wait(60000));
    // Not read until looked at.
    auto* table = pane->findChild<QTableWidget*>(u"processes"_s);
    QCOMPARE(processes.count(), 0);
    QCOMPARE(table->rowCount(), 0);

    auto* tabs = pane->findChild<QTabWidget*>();
    QVERIFY(tabs);
    QVERIFY(tabs->currentWidget() != table->parentWidget());
    tabs->setCurrentWidget(table->parentWidget());
    QVERIFY(processes.wait(30000));
    const auto rowsWith = [&](const QString& text) {
        QStringList found;
        for (int row = 0; row < table->rowCount(); ++row) {
            if (table->item(row, 5)->text().contains(text))
                found << table->item(row, 0)->text();
        }
        return found;
    };
    QCOMPARE(rowsWith(u"SELECT ID, USER, HOST, DB, COMMAND"_s), QStringList());
    QCOMPARE(rowsWith(u"not opsdeck"_s), QStringList { QString::number(other.id()) });

    // Refresh reads it again (the pane's own statement still left out); back and forth between the tabs does not.
    QPushButton* refresh = nullptr;
    for (QPushButton* b : pane->findChildren<QPushButton*>()) {
        if (b->text() == u"&Refresh"_s)
            refresh = b;
    }
    QVERIFY(refresh);
    processes.clear();
    refresh->click();
    QVERIFY(processes.wait(30000));
    QCOMPARE(rowsWith(u"SELECT ID, USER, HOST, DB, COMMAND"_s), QStringList());
    tabs->setCurrentIndex(0);
    tabs->setCurrentWidget(table->parentWidget());
    QTest::qWait(500);
    QCOMPARE(processes.count(), 1);

    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + u"/pulumi-processes.png"_s);
    {
        QSqlDatabase db = m_sandbox.mariadb().addMysqlConnection(u"killer"_s, u"pulumi"_s);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery kill(db);
        QVERIFY2(kill.exec(u"KILL QUERY %1"_s.arg(other.id())), qPrintable(kill.lastError().text()));
    }
    QSqlDatabase::removeDatabase(u"killer"_s);
    QTRY_VERIFY_WITH_TIMEOUT(other.done(), 10000);
}

void TestPulumiPane::organisationsStacksProcessesAndAPurge()
{
    QFile summaryFile(m_sandbox.json().value(u"pulumi"_s)[u"summary"_s].toString());
    QVERIFY(summaryFile.open(QIODevice::ReadOnly));
    const QJsonObject summary = QJsonDocument::fromJson(summaryFile.readAll()).object();
    const auto seeded = [&](const QString& login) {
        for (const QJsonValue& o : summary[u"organizations"_s].toArray()) {
            if (o[u"github_login"_s].toString() == login)
                return o.toObject();
        }
        return QJsonObject();
    };

    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = qobject_cast<PulumiPane*>(window.pane(u"Pulumi"_s));
    QVERIFY(pane);
    QAbstractItemModelTester stacksTester(pane->stacks(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(pane, &PulumiPane::organizationsLoaded);
    showPulumi(window);
    QVERIFY(loaded.wait(60000));
    QTreeWidget* orgs = pane->organizations();
    QCOMPARE(orgs->topLevelItemCount(), summary[u"organizations"_s].toArray().size());
    QTreeWidgetItem* globex = nullptr;
    for (int i = 0; i < orgs->topLevelItemCount(); ++i) {
        if (orgs->topLevelItem(i)->text(0) == u"globex"_s)
            globex = orgs->topLevelItem(i);
    }
    QVERIFY(globex);
    QCOMPARE(globex->text(2).toLongLong(), seeded(u"globex"_s)[u"softDeleted"_s].toInteger());

    // The stacks: the first page, then a filter in the database.
    QTRY_VERIFY_WITH_TIMEOUT(pane->stacks()->rowCount() > 0 && pane->stacks()->total() > 0, 30000);
    pane->findChild<QLineEdit*>()->setText(u"globex"_s);
    QTRY_COMPARE_WITH_TIMEOUT(pane->stacks()->total(), seeded(u"globex"_s)[u"softDeleted"_s].toInteger(), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(qint64(pane->stacks()->rowCount()), pane->stacks()->total(), 30000);

    QSignalSpy processes(pane, &PulumiPane::processesLoaded);
    pane->refreshProcesses();
    QVERIFY(processes.wait(30000));

    // A long statement on another session, killed from the process list: planned, confirmed through the launcher
    // and followed in the Runs dock.
    SqlSleeper sleeper(m_sandbox.mariadb(), { u"SELECT SLEEP(60), 'opsdeck-gui-kill'"_s });
    auto* processTable = pane->findChild<QTableWidget*>(u"processes"_s);
    const auto sleepingRow = [&] {
        for (int row = 0; row < processTable->rowCount(); ++row) {
            if (processTable->item(row, 5)->text().contains(u"opsdeck-gui-kill"_s)
                && !processTable->item(row, 5)->text().contains(u"PROCESSLIST"_s))
                return row;
        }
        return -1;
    };
    for (int attempt = 0; attempt < 50 && sleepingRow() < 0; ++attempt) {
        pane->refreshProcesses();
        QVERIFY(processes.wait(30000));
    }
    QVERIFY(sleepingRow() >= 0);
    const QString process = processTable->item(sleepingRow(), 0)->text();
    processTable->selectRow(sleepingRow());
    QSignalSpy killed(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    for (QPushButton* b : pane->findChildren<QPushButton*>()) {
        if (QString(b->text()).remove(u'&') == u"Kill query…"_s)
            b->click();
    }
    QVERIFY(killed.wait(30000));
    const RunRecord kill = killed.first().first().value<RunRecord>();
    QCOMPARE(kill.operation, u"pulumi-kill-query"_s);
    QCOMPARE(kill.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(kill.confirmation, process);
    QVERIFY2(kill.summary.contains(u"process %1"_s.arg(process)), qPrintable(kill.summary));
    QTRY_VERIFY_WITH_TIMEOUT(sleeper.done(), 10000);

    // Keep one of globex's stacks, purge the rest of globex.
    auto* view = pane->findChild<QTableView*>(u"stacksView"_s);
    view->selectRow(0);
    const QString kept = pane->stacks()->stackName(0);
    for (QPushButton* b : pane->findChildren<QPushButton*>()) {
        if (QString(b->text()).remove(u'&') == u"Keep selected"_s)
            b->click();
    }
    QCOMPARE(pane->findChild<QListWidget*>(u"keptStacks"_s)->count(), 1);
    globex->setCheckState(0, Qt::Checked);
    QCOMPARE(pane->checkedOrganizations(), QStringList { u"globex"_s });
    auto* purge = pane->findChild<QPushButton*>(u"purge"_s);
    QVERIFY(purge->isEnabled());
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    // Batches of one stack with a pause between them: the run is slow enough to watch (and to screenshot).
    pane->findChild<QSpinBox*>(u"batch"_s)->setValue(1);
    pane->setThrottle(1500);
    ConfirmDialog::setNextAnswer(true);
    purge->click();
    QVERIFY(finished.wait(60000));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.operation, u"pulumi-purge"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(
        record.deleted[u"stacks of globex"_s].toArray().size(), seeded(u"globex"_s)[u"softDeleted"_s].toInteger() - 1);
    QCOMPARE(record.parameters[u"keepStacks"_s].toArray().first().toString(), kept);
    QCOMPARE(record.parameters[u"batch"_s].toInt(), 1);
    // The counts are read again: only the kept stack is left.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (int i = 0; i < pane->organizations()->topLevelItemCount(); ++i) {
                if (pane->organizations()->topLevelItem(i)->text(0) == u"globex"_s)
                    return pane->organizations()->topLevelItem(i)->text(2) == u"1"_s;
            }
            return false;
        }(),
        30000);

    // globex again, its one stack still kept: the plan finds nothing to purge, and the pane says so instead of asking
    // to confirm a list of zeros. While it plans, a banner says what is being planned.
    auto* runList = window.runs()->findChild<QTreeWidget*>();
    const int runsBefore = runList->topLevelItemCount();
    ConfirmDialog::setNextAnswer(true);
    purge->click();
    auto* planning = pane->findChild<PlanningBanner*>();
    QVERIFY(planning);
    QVERIFY2(planning->text().contains(u"Planning the purge of globex"_s), qPrintable(planning->text()));
    QTRY_VERIFY_WITH_TIMEOUT(planning->text().isEmpty(), 60000);
    QCOMPARE(runList->topLevelItemCount(), runsBefore);
    QCOMPARE(pane->findChild<ErrorBanner*>()->text(), QString());

    // "Undo…" in the Runs dock takes the purge back: globex's stacks are soft-deleted again, all of them.
    QPushButton* undo = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((undo = window.runs()->findChild<QPushButton*>(u"undoRun"_s)) != nullptr, 10000);
    QSignalSpy restored(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    undo->click();
    QVERIFY(restored.wait(60000));
    const RunRecord restore = restored.first().first().value<RunRecord>();
    QCOMPARE(restore.operation, u"pulumi-restore"_s);
    QVERIFY2(restore.outcome == RunRecord::Outcome::Succeeded, qPrintable(restore.summary));
    QCOMPARE(restore.parameters.value(u"restores"_s).toString(), record.id);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (int i = 0; i < pane->organizations()->topLevelItemCount(); ++i) {
                if (pane->organizations()->topLevelItem(i)->text(0) == u"globex"_s)
                    return pane->organizations()->topLevelItem(i)->text(2).toLongLong()
                        == seeded(u"globex"_s)[u"softDeleted"_s].toInteger();
            }
            return false;
        }(),
        30000);
}

QTEST_MAIN(TestPulumiPane)
#include "tst_pulumipane.moc"
