// The Deploy pane offscreen on the sandbox: the matrix with its mixed states (colour, icon, tooltip), export,
// auto-refresh, and a deploy driven through the real confirmation dialog. Runs before tst_deployflow, which moves
// the sandbox's main branch.
#include "ConfirmDialog.h"
#include "DeployMatrixModel.h"
#include "DeployPane.h"
#include "MainWindow.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestDeployPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void matrixShowsMixedStates();
    void deployFromThePane();

private:
    DeployPane* open(MainWindow& window);
    int rowOf(DeployPane* pane, const QString& machine) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestDeployPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
}

DeployPane* TestDeployPane::open(MainWindow& window)
{
    auto* pane = qobject_cast<DeployPane*>(window.pane(u"Deploy"_s));
    if (!pane)
        return nullptr;
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"Deploy"_s)
            window.sidebar()->setCurrentRow(i);
    }
    return pane;
}

int TestDeployPane::rowOf(DeployPane* pane, const QString& machine) const
{
    return static_cast<int>(pane->matrix()->machines().indexOf(machine));
}

void TestDeployPane::matrixShowsMixedStates()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = open(window);
    QVERIFY(pane);
    QAbstractItemModelTester tester(pane->matrix(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(pane, &DeployPane::refreshed);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // Showing the pane reads every machine.
    QVERIFY(refreshed.wait(60000));
    DeployMatrixModel* model = pane->matrix();
    QSet<qint64> icons;
    for (const QJsonValue& m : m_sandbox.json().value(u"machines"_s).toArray()) {
        const QString name = m[u"name"_s].toString();
        const int row = rowOf(pane, name);
        QVERIFY2(row >= 0, qPrintable(name));
        const QString expected = m[u"initialState"_s].toString();
        QCOMPARE(MachineStatus::stateName(model->status(name)->state), expected);
        const QModelIndex state = model->index(row, DeployMatrixModel::State);
        QCOMPARE(state.data().toString(), MachineStatus::stateTitle(MachineStatus::stateFromName(expected)));
        QVERIFY(
            state.data(Qt::ToolTipRole)
                .toString()
                .contains(
                    MachineStatus::stateExplanation(MachineStatus::stateFromName(expected)).left(30).toHtmlEscaped()));
        QVERIFY(state.data(Qt::ForegroundRole).isValid());
        icons.insert(state.data(Qt::DecorationRole).value<QIcon>().cacheKey());
    }
    // Each state has its own icon, not just its own colour.
    QVERIFY(icons.size() >= 4);
    const QString summary = pane->findChild<QLabel*>(u"matrixSummary"_s)->text();
    QVERIFY2(summary.contains(u"1 up to date"_s) && summary.contains(u"1 unreachable"_s), qPrintable(summary));
    QVERIFY(pane->findChild<QLabel*>(u"pullTitle"_s)->text().contains(u"No open update pull request"_s));

    // Export: the same fields as the CLI.
    QString error;
    QVERIFY2(pane->exportMatrix(m_temp.filePath(u"m.json"_s), &error), qPrintable(error));
    QFile json(m_temp.filePath(u"m.json"_s));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonArray rows = QJsonDocument::fromJson(json.readAll()).array();
    QCOMPARE(rows.size(), model->rowCount());
    QCOMPARE(rows[0][u"machine"_s].toString(), model->machines().front());
    QVERIFY(pane->exportMatrix(m_temp.filePath(u"m.csv"_s), &error));
    QFile csv(m_temp.filePath(u"m.csv"_s));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), model->rowCount() + 1);
    QVERIFY(!pane->exportMatrix(m_temp.filePath(u"missing/dir/m.csv"_s), &error));
    QVERIFY(error.contains(u"cannot write"_s));

    // The filter narrows the rows; selection still names the right machine.
    auto* filter = pane->findChild<QLineEdit*>(u"matrixFilter"_s);
    filter->setText(u"private"_s);
    auto* view = pane->findChild<QTableView*>();
    QCOMPARE(view->model()->rowCount(), 1);
    view->selectRow(0);
    QVERIFY(pane->findChild<QPushButton*>(u"deploySelected"_s)->text().contains(u"wpia-packit-private"_s));
    filter->clear();
    QCOMPARE(view->model()->rowCount(), model->rowCount());

    // Auto-refresh: the chosen period refreshes on its own.
    auto* combo = pane->findChildren<QComboBox*>().first();
    pane->setAutoRefresh(300);
    QCOMPARE(combo->currentData().toInt(), 300);
    combo->setCurrentIndex(0);
    QVERIFY(!pane->refreshing());

    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + u"/deploy-matrix.png"_s);
}

void TestDeployPane::deployFromThePane()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = open(window);
    QSignalSpy refreshed(pane, &DeployPane::refreshed);
    QVERIFY(refreshed.wait(60000));
    const QString machine = u"wpia-packit-dev"_s;
    const QDateTime checked = pane->matrix()->status(machine)->checkedAt;
    auto* view = pane->findChild<QTableView*>();
    view->selectRow(rowOf(pane, machine)); // unsorted, unfiltered: view rows are model rows
    auto* deploy = pane->findChild<QPushButton*>(u"deploySelected"_s);
    QVERIFY(deploy->isEnabled());
    QVERIFY(deploy->text().contains(machine));

    // The real dialog: not production, so the verb button alone confirms.
    QString title;
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        title = dialog->windowTitle();
        auto* verb = dialog->findChild<QPushButton*>(u"verb"_s);
        if (!verb) {
            dialog->close();
            return;
        }
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    deploy->click();
    QVERIFY(finished.wait(120000));
    QVERIFY2(title.contains(machine), qPrintable(title));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.operation, u"deploy"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    // The row was read again after the deploy.
    QTRY_VERIFY_WITH_TIMEOUT(pane->matrix()->status(machine)->checkedAt > checked, 30000);
    QCOMPARE(pane->matrix()->status(machine)->state, DeployState::UpToDate);
}

QTEST_MAIN(TestDeployPane)
#include "tst_deploypane.moc"
