// The console shell, offscreen, on the sandbox inventory.
#include "ConfirmDialog.h"
#include "DeployMatrixModel.h"
#include "DeployPane.h"
#include "MainWindow.h"
#include "PackitPane.h"
#include "PulumiPane.h"
#include "Sandbox.h"
#include "Systems.h"
#include "TargetPane.h"
#include "TargetStatusModel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
TargetPane* targetPane(const MainWindow& window, const QString& title)
{
    return qobject_cast<TargetPane*>(window.pane(title));
}
} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void showsEveryPaneWithLiveHostStatus();
    void everySystemHasItsPane();
    void invalidInventoryShowsItsErrors();
    void missingInventoryCanBeCreatedFromTheTemplate();
    void unknownHostKeyIsTrustedOnlyAfterConfirmation();
    void targetModelPassesTheModelTester();

private:
    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestMainWindow::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    // The bastion's password comes from the environment, as the sandbox's env file says.
    m_sandbox.exportToThisProcess();
}

void TestMainWindow::showsEveryPaneWithLiveHostStatus()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.inventoryLoaded());
    QStringList titles;
    for (int row = 0; row < window.sidebar()->count(); ++row)
        titles << window.sidebar()->item(row)->text();
    // The systems with a module (app/Systems.cpp), between Hosts and the Journal.
    QCOMPARE(titles,
        (QStringList { QStringLiteral("Hosts"), QStringLiteral("Packit"), QStringLiteral("Pulumi"),
            QStringLiteral("Deploy"), QStringLiteral("RAFT"), QStringLiteral("datamon"), QStringLiteral("Journal") }));

    for (const QString& host : m_sandbox.reachableHostNames())
        QTRY_VERIFY2_WITH_TIMEOUT(window.hostStatus(host).reachable(),
            qPrintable(host + QStringLiteral(": ") + window.hostStatus(host).error.message), 30000);

    TargetPane* hosts = targetPane(window, QStringLiteral("Hosts"));
    QVERIFY(hosts);
    QCOMPARE(hosts->model()->rowCount(), m_sandbox.hostNames().size());
    for (int row = 0; row < hosts->model()->rowCount(); ++row) {
        const bool up = m_sandbox.reachableHostNames().contains(hosts->model()->index(row, 0).data().toString());
        if (!up)
            continue;
        QCOMPARE(
            hosts->model()->index(row, hosts->model()->statusColumn()).data().toString(), QStringLiteral("Reachable"));
        QVERIFY(hosts->model()
                    ->index(row, hosts->model()->statusColumn() + 1)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("SHA256:")));
    }
    auto* packit = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    QVERIFY(packit);
    QCOMPARE(packit->instances()->rowCount(), 6); // the packit-infra instances of the three Packit hosts
    QVERIFY(qobject_cast<PulumiPane*>(window.pane(QStringLiteral("Pulumi"))));
    auto* deploy = qobject_cast<DeployPane*>(window.pane(QStringLiteral("Deploy")));
    QVERIFY(deploy);
    QCOMPARE(deploy->matrix()->rowCount(), m_sandbox.json().value(QStringLiteral("machines")).toArray().size());
    QTRY_VERIFY(window.statusBar()->findChild<QLabel*>() != nullptr);
    const QString activity = window.statusBar()->findChildren<QLabel*>().first()->text();
    const QString expected = QStringLiteral("%1 of %2 hosts reachable")
                                 .arg(m_sandbox.reachableHostNames().size())
                                 .arg(m_sandbox.hostNames().size());
    QTRY_VERIFY2(window.statusBar()->findChildren<QLabel*>().first()->text().contains(expected), qPrintable(activity));

    window.sidebar()->setCurrentRow(1);
    QCOMPARE(window.centralWidget()->findChild<QWidget*>() != nullptr, true);
}

// A system without a module has no pane at all, rather than a placeholder; the hosts it would use are checked in
// Hosts like every other. The panes shown say nothing is missing.
void TestMainWindow::everySystemHasItsPane()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    QVERIFY(window.pane(QStringLiteral("datamon")));
    QVERIFY(!window.pane(QStringLiteral("datamon"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
    QVERIFY(!window.pane(QStringLiteral("Hosts"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
    QVERIFY(!window.pane(QStringLiteral("Packit"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
    QVERIFY(!window.pane(QStringLiteral("Deploy"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
    QVERIFY(!window.pane(QStringLiteral("Pulumi"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
    QVERIFY(!window.pane(QStringLiteral("RAFT"))->findChild<QLabel*>(QStringLiteral("scopeNotice")));
}

void TestMainWindow::invalidInventoryShowsItsErrors()
{
    const QString path = m_temp.filePath(QStringLiteral("broken.yaml"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("hosts:\n  - name: UPPER\n    address: 127.0.0.1\n    port: 99999\n");
    file.close();
    MainWindow window(path, systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!window.inventoryLoaded());
    auto* errors = window.findChild<QTreeWidget*>(QStringLiteral("inventoryErrors"));
    QVERIFY(errors);
    QVERIFY(errors->topLevelItemCount() >= 2);
    QVERIFY(errors->topLevelItem(0)->text(0).startsWith(path + QStringLiteral(":2:")));
    QVERIFY(window.panes().isEmpty());
}

void TestMainWindow::missingInventoryCanBeCreatedFromTheTemplate()
{
    const QString path = m_temp.filePath(QStringLiteral("first-run/opsdeck/inventory.yaml"));
    MainWindow window(path, systemPanes());
    QVERIFY(!window.inventoryLoaded());
    auto* errors = window.findChild<QTreeWidget*>(QStringLiteral("inventoryErrors"));
    QVERIFY(errors && errors->topLevelItemCount() == 1);
    QVERIFY(errors->topLevelItem(0)->text(1).contains(QStringLiteral("cannot read")));
    QPushButton* create = nullptr;
    for (QPushButton* button : window.findChildren<QPushButton*>()) {
        if (button->text() == QStringLiteral("Create it from the template"))
            create = button;
    }
    QVERIFY(create);
    ConfirmDialog::setNextAnswer(true); // dismisses the "created" message
    create->click();
    QVERIFY(QFile::exists(path));
    QVERIFY(InventoryLoader::loadFile(path).ok());
}

void TestMainWindow::unknownHostKeyIsTrustedOnlyAfterConfirmation()
{
    const QString knownHosts = m_temp.filePath(QStringLiteral("gui/known_hosts"));
    MainWindow window(
        m_sandbox.inventoryWithKnownHosts(m_temp.filePath(QStringLiteral("fresh.yaml")), knownHosts), systemPanes());
    const QString dev = QStringLiteral("wpia-packit-dev");
    QTRY_COMPARE_WITH_TIMEOUT(window.hostStatus(dev).hostKey.status, HostKeyInfo::Status::Unknown, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(window.hostStatus(dev).reachability, HostStatus::Reachability::Unreachable, 30000);
    TargetPane* hosts = targetPane(window, QStringLiteral("Hosts"));
    int row = 0;
    while (hosts->model()->target(row).host != dev)
        ++row;
    QCOMPARE(hosts->model()->index(row, hosts->model()->statusColumn()).data().toString(),
        QStringLiteral("Host key not trusted"));

    // Cancelled: nothing is trusted.
    ConfirmDialog::setNextAnswer(false);
    window.reviewHostKey(dev);
    QTest::qWait(300);
    QVERIFY(!QFile::exists(knownHosts));
    QVERIFY(!window.hostStatus(dev).reachable());

    ConfirmDialog::setNextAnswer(true);
    window.reviewHostKey(dev);
    QTRY_VERIFY_WITH_TIMEOUT(window.hostStatus(dev).reachable(), 30000);
    QVERIFY(QFile::exists(knownHosts));
    // Only the host that was reviewed is trusted.
    QVERIFY(!window.hostStatus(QStringLiteral("wpia-packit")).reachable());
}

void TestMainWindow::targetModelPassesTheModelTester()
{
    TargetStatusModel model({ QStringLiteral("A"), QStringLiteral("B") });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setTargets({ { { QStringLiteral("a1"), QStringLiteral("b1") }, QStringLiteral("h1"), {} },
        { { QStringLiteral("a2"), QStringLiteral("b2") }, {}, QStringLiteral("local") } });
    HostStatus status;
    status.name = QStringLiteral("h1");
    status.reachability = HostStatus::Reachability::Unreachable;
    status.error = { SshError::Kind::ConnectFailed, QStringLiteral("refused") };
    model.updateHost(status);
    QCOMPARE(model.index(0, model.statusColumn()).data().toString(), QStringLiteral("Unreachable"));
    QCOMPARE(model.index(0, model.statusColumn() + 2).data().toString(), QStringLiteral("refused"));
    QVERIFY(!model.index(0, model.statusColumn()).data(Qt::DecorationRole).isNull());
    QCOMPARE(model.index(1, model.statusColumn()).data().toString(), QStringLiteral("local"));
    model.setTargets({});
    QCOMPARE(model.rowCount(), 0);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
