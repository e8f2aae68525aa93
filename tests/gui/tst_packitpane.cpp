// The Packit pane offscreen on the sandbox: live instance state, packets loaded lazily, and a whole wipe driven
// through the real confirmation dialog.
#include "ConfirmDialog.h"
#include "JournalPane.h"
#include "MainWindow.h"
#include "PacketTableModel.h"
#include "PackitPane.h"
#include "ReportExport.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "TargetStatusModel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace opsdeck;
using namespace opsdeck::test;

class TestPackitPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void instancesShowLiveStateAndPacketsLoad();
    void wipeThroughTheDialog();

private:
    int rowOf(PackitPane* pane, const QString& instance) const;
    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QString m_inventory;
};

void TestPackitPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
    // wpia-packit-private made production, so that its wipe needs the typed name.
    m_inventory = m_temp.filePath(QStringLiteral("inventory.yaml"));
    QVERIFY(m_sandbox.writeInventoryWith(
        m_inventory, QStringLiteral("wpia-packit-private"), QStringLiteral("tags: [production]")));
}

int TestPackitPane::rowOf(PackitPane* pane, const QString& instance) const
{
    for (int row = 0; row < pane->instances()->rowCount(); ++row) {
        if (pane->instances()->index(row, 0).data().toString() == instance)
            return row;
    }
    return -1;
}

void TestPackitPane::instancesShowLiveStateAndPacketsLoad()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    QVERIFY(pane);
    QAbstractItemModelTester instancesTester(pane->instances(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester packetsTester(pane->packets(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    window.show();
    window.sidebar()->setCurrentRow(1);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const int row = rowOf(pane, QStringLiteral("reside"));
    QVERIFY(row >= 0);
    // outpack state, API state, packet count come from the host and the database.
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 2).data().toString(), QStringLiteral("active"), 30000);
    QCOMPARE(pane->instances()->index(row, 3).data().toString(), QStringLiteral("active"));
    QCOMPARE(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"));

    pane->selectInstance(row);
    QTRY_VERIFY_WITH_TIMEOUT(pane->packets()->total() == 300, 30000);
    QVERIFY(pane->packets()->rowCount() > 0);
    auto* label = pane->findChild<QLabel*>(QStringLiteral("loadLabel"));
    QVERIFY(label->text().contains(QStringLiteral("of 300 loaded")));
    // Server-side filter.
    pane->findChild<QLineEdit*>()->setText(pane->packets()->packetId(0));
    QTRY_COMPARE_WITH_TIMEOUT(pane->packets()->total(), 1, 10000);
}

void TestPackitPane::wipeThroughTheDialog()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    window.show();
    window.sidebar()->setCurrentRow(1);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const int row = rowOf(pane, QStringLiteral("kipling"));
    pane->selectInstance(row);
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"), 30000);

    // Drive the real dialog: the verb stays disabled until the name is typed.
    bool disabledBeforeTyping = false;
    bool enabledAfterTyping = false;
    bool sawCounts = false;
    // The dialog runs its own event loop: a polling timer answers it from inside that loop.
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        if (!verb || !typed) {
            dialog->close();
            return;
        }
        sawCounts = dialog->findChildren<QLabel*>().size() > 10;
        disabledBeforeTyping = !verb->isEnabled();
        QTest::keyClicks(typed, QStringLiteral("kiplin"));
        disabledBeforeTyping = disabledBeforeTyping && !verb->isEnabled();
        QTest::keyClicks(typed, QStringLiteral("g"));
        enabledAfterTyping = verb->isEnabled();
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    auto* wipe = pane->findChild<QPushButton*>(QStringLiteral("wipeInstance"));
    QVERIFY(wipe->isEnabled());
    wipe->click();
    QVERIFY(QTest::qWaitFor([&] { return enabledAfterTyping || !finished.isEmpty(); }, 60000));
    QVERIFY(disabledBeforeTyping);
    QVERIFY(enabledAfterTyping);
    QVERIFY(sawCounts);

    // Progress shows in the Runs dock while it runs, then the outcome.
    auto* runs = window.runs()->findChild<QTreeWidget*>(QStringLiteral("runs"));
    QTRY_COMPARE_WITH_TIMEOUT(runs->topLevelItemCount(), 1, 10000);
    QVERIFY(window.runs()->isVisible());
    QVERIFY(finished.wait(120000));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.target, QStringLiteral("wpia-packit-private/kipling"));
    auto* bar = qobject_cast<QProgressBar*>(runs->itemWidget(runs->topLevelItem(0), 1));
    QVERIFY(bar);
    QCOMPARE(bar->value(), 1000);
    QVERIFY(runs->findChild<QPushButton*>(QStringLiteral("exportReport")));
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("0"), 30000);

    // The report exports, in every format.
    for (const QString& suffix :
        { QStringLiteral("pdf"), QStringLiteral("html"), QStringLiteral("csv"), QStringLiteral("json") }) {
        const QString path = m_temp.filePath(QStringLiteral("kipling.") + suffix);
        QString error;
        QVERIFY2(ReportExport::write(record, path, &error), qPrintable(error));
        QVERIFY(QFileInfo(path).size() > 100);
    }
    QString error;
    QVERIFY(!ReportExport::write(record, m_temp.filePath(QStringLiteral("kipling.txt")), &error));
    QVERIFY(error.contains(QStringLiteral(".pdf")));

    // The journal pane lists the run with its steps, and filters it.
    auto* journal = qobject_cast<JournalPane*>(window.pane(QStringLiteral("Journal")));
    QVERIFY(journal);
    QSignalSpy loaded(journal, &JournalPane::loaded);
    window.sidebar()->setCurrentRow(window.sidebar()->count() - 1);
    QVERIFY(loaded.wait(10000));
    QTreeWidgetItem* top = nullptr;
    for (int i = 0; i < journal->runList()->topLevelItemCount(); ++i) {
        if (journal->runList()->topLevelItem(i)->text(1) == record.name())
            top = journal->runList()->topLevelItem(i);
    }
    QVERIFY(top);
    QCOMPARE(top->text(2), QStringLiteral("succeeded"));
    QCOMPARE(top->text(5), record.operation);
    journal->runList()->setCurrentItem(top);
    QCOMPARE(journal->stepList()->topLevelItemCount(), int(record.steps.size()));
    auto* outcome = journal->findChildren<QComboBox*>().at(2);
    outcome->setCurrentIndex(outcome->findData(QStringLiteral("failed")));
    for (int i = 0; i < journal->runList()->topLevelItemCount(); ++i)
        QCOMPARE(journal->runList()->topLevelItem(i)->text(2), QStringLiteral("failed"));

    // "Undo…" in the Runs dock takes the wipe back: the restore puts kipling's packets and root back.
    QPushButton* undo = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((undo = runs->findChild<QPushButton*>(QStringLiteral("undoRun"))) != nullptr, 10000);
    QSignalSpy restored(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    undo->click();
    QVERIFY(restored.wait(180000));
    const RunRecord restore = restored.first().first().value<RunRecord>();
    QCOMPARE(restore.operation, QStringLiteral("packit-restore"));
    QVERIFY2(restore.outcome == RunRecord::Outcome::Succeeded, qPrintable(restore.summary));
    QCOMPARE(restore.parameters.value(QStringLiteral("restores")).toString(), record.id);
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"), 30000);
}

QTEST_MAIN(TestPackitPane)
#include "tst_packitpane.moc"
