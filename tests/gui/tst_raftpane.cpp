// The RAFT pane offscreen on the sandbox's Kubernetes stand-in: the production cluster's StatefulSets with their
// counts and badge, a StatefulSet's pods and what its trigger's tag resolves to, a scale done behind the pane's back
// (with the real kubectl) showing up within the polling time, and an expired token shown in the banner.
#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "RaftPane.h"
#include "RaftPodTableModel.h"
#include "Sandbox.h"
#include "StatefulSetTableModel.h"
#include "Systems.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QListWidget>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestRaftPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void statefulSetsPodsAndLiveChanges();
    void insecureTlsShownAndRefusedForProduction();
    void resetFromThePane();
    void cleanupTestCase();

private:
    // kubectl against the stand-in as its admin, in namespace fg; its exit code.
    int kubectl(const QStringList& arguments);
    // POSTs the stand-in's fault switches.
    bool control(const QJsonObject& switches);
    QString readyText(RaftPane* pane, const QString& statefulSet) const;

    Sandbox m_sandbox;
};

void TestRaftPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    const QProcessEnvironment environment = m_sandbox.environment();
    for (const QString& key : environment.keys()) {
        if (key.startsWith(u"OPSDECK_"_s) || key == u"KUBECONFIG"_s)
            qputenv(key.toUtf8().constData(), environment.value(key).toUtf8());
    }
}

void TestRaftPane::cleanupTestCase()
{
    // What the other tests expect, whatever happened here.
    control({ { u"expiredUsers"_s, QJsonArray() } });
    kubectl({ u"scale"_s, u"statefulset/permie-ledger"_s, u"--replicas=5"_s });
}

int TestRaftPane::kubectl(const QStringList& arguments)
{
    const QJsonObject kube = m_sandbox.json().value(u"kubernetes"_s).toObject();
    QProcess process;
    process.start(u"kubectl"_s,
        QStringList { u"--kubeconfig"_s, kube.value(u"kubeconfig"_s).toString(), u"--namespace"_s, u"fg"_s }
            + arguments);
    if (!process.waitForFinished(30000))
        return -1;
    if (process.exitCode() != 0)
        qWarning("kubectl %s: %s", qPrintable(arguments.join(u' ')), process.readAllStandardError().constData());
    return process.exitCode();
}

bool TestRaftPane::control(const QJsonObject& switches)
{
    return !m_sandbox.kubernetesStandin(u"/_standin/control"_s, switches).isEmpty();
}

QString TestRaftPane::readyText(RaftPane* pane, const QString& statefulSet) const
{
    const int row = pane->statefulSets()->rowOf(statefulSet);
    if (row < 0)
        return {};
    return pane->statefulSets()->index(row, StatefulSetTableModel::Ready).data().toString();
}

void TestRaftPane::statefulSetsPodsAndLiveChanges()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = qobject_cast<RaftPane*>(window.pane(u"RAFT"_s));
    QVERIFY(pane);
    QAbstractItemModelTester setsTester(pane->statefulSets(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester podsTester(pane->pods(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(pane->selectTarget(u"fg-prod/fg"_s));
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"RAFT"_s)
            window.sidebar()->setCurrentRow(i);
    }

    // The namespace's StatefulSets with their counts, and the cluster's production badge.
    QTRY_COMPARE_WITH_TIMEOUT(pane->statefulSets()->rowCount(), 2, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(readyText(pane, u"permie"_s), u"3/3"_s, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(readyText(pane, u"permie-ledger"_s), u"5/5"_s, 30000);
    QVERIFY2(!pane->badges().isEmpty() && pane->badges().first().startsWith(u"Production: "_s),
        qPrintable(pane->badges().join(u", "_s)));
    const int permie = pane->statefulSets()->rowOf(u"permie"_s);
    QCOMPARE(pane->statefulSets()->index(permie, StatefulSetTableModel::Trigger).data().toString(), u"permie:latest"_s);
    QVERIFY(pane->errors()->text().isEmpty());

    // Selecting one shows its pods, in ordinal order, and what its trigger's tag resolves to.
    QVERIFY(!pane->statefulSetActions()->isEnabled());
    QVERIFY(pane->selectStatefulSet(u"permie-ledger"_s));
    QVERIFY(pane->statefulSetActions()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(pane->pods()->rowCount(), 5, 10000);
    for (int row = 0; row < 5; ++row) {
        QCOMPARE(pane->pods()->index(row, RaftPodTableModel::Name).data().toString(), u"permie-ledger-%1"_s.arg(row));
        QCOMPARE(pane->pods()->index(row, RaftPodTableModel::Ready).data().toString(), u"Ready"_s);
    }
    QTRY_VERIFY_WITH_TIMEOUT(pane->latestText().startsWith(u"permie:latest resolves to "_s), 10000);
    QVERIFY2(pane->latestText().contains(u"@sha256:"_s), qPrintable(pane->latestText()));

    // A scale behind the pane's back (the real kubectl): it shows within the polling time, the selection stays.
    QCOMPARE(kubectl({ u"scale"_s, u"statefulset/permie-ledger"_s, u"--replicas=4"_s }), 0);
    // At worst a poll was on its way when kubectl wrote: the next one, a poll's time later, sees it.
    QTRY_VERIFY_WITH_TIMEOUT(readyText(pane, u"permie-ledger"_s).endsWith(u"/4"_s), 2 * RaftPane::kPollMs + 1000);
    QTRY_COMPARE_WITH_TIMEOUT(pane->pods()->rowCount(), 4, 10000); // the stand-in's terminating period, then a poll
    QCOMPARE(pane->selectedStatefulSet(), u"permie-ledger"_s);
    QCOMPARE(kubectl({ u"scale"_s, u"statefulset/permie-ledger"_s, u"--replicas=5"_s }), 0);
    QTRY_COMPARE_WITH_TIMEOUT(readyText(pane, u"permie-ledger"_s), u"5/5"_s, 30000);

    // An expired token: the banner says so (and what to do), and clears once reading works again.
    QVERIFY(control({ { u"expiredUsers"_s, QJsonArray { u"opsdeck-admin"_s } } }));
    QTRY_VERIFY_WITH_TIMEOUT(!pane->errors()->text().isEmpty(), RaftPane::kPollMs + 3000);
    const QString banner = pane->errors()->text();
    QVERIFY2(banner.contains(u"fg-prod/fg"_s), qPrintable(banner));
    QVERIFY2(banner.contains(u"Reading the StatefulSets"_s), qPrintable(banner));
    QVERIFY2(banner.contains(u"log in"_s, Qt::CaseInsensitive), qPrintable(banner));
    QCOMPARE(pane->statefulSets()->rowCount(), 2); // the last rows read stay, said to be old
    QVERIFY(pane->findChild<QLabel*>(u"raftStatus"_s)->text().contains(u"the tables show what was read at"_s));
    QVERIFY(control({ { u"expiredUsers"_s, QJsonArray() } }));
    QTRY_VERIFY_WITH_TIMEOUT(pane->errors()->text().isEmpty(), RaftPane::kPollMs + 3000);
}

// The sandbox's clusters with a kubeconfig that skips TLS verification instead of naming the stand-in's CA: shown as a
// warning on a staging cluster, refused on the production one.
void TestRaftPane::insecureTlsShownAndRefusedForProduction()
{
    QTemporaryDir temp;
    QVERIFY(temp.isValid());
    const QString kubeconfigPath = m_sandbox.json().value(u"kubernetes"_s)[u"kubeconfig"_s].toString();
    QFile kubeconfig(kubeconfigPath);
    QVERIFY(kubeconfig.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(kubeconfig.readAll());
    // The stand-in writes it as JSON (which YAML reads too).
    QVERIFY(text.contains(u"\"certificate-authority-data\""_s));
    text.replace(
        QRegularExpression(u"\"certificate-authority-data\": *\"[^\"]*\""_s), u"\"insecure-skip-tls-verify\": true"_s);
    QFile insecure(temp.filePath(u"kubeconfig"_s));
    QVERIFY(insecure.open(QIODevice::WriteOnly));
    insecure.write(text.toUtf8());
    insecure.close();
    QFile inventory(m_sandbox.inventoryPath());
    QVERIFY(inventory.open(QIODevice::ReadOnly));
    QString inventoryText = QString::fromUtf8(inventory.readAll());
    QVERIFY(inventoryText.contains(kubeconfigPath));
    inventoryText.replace(u"kubeconfig: "_s + kubeconfigPath, u"kubeconfig: "_s + insecure.fileName());
    QFile copy(temp.filePath(u"inventory.yaml"_s));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(inventoryText.toUtf8());
    copy.close();

    MainWindow window(copy.fileName(), systemPanes());
    auto* pane = qobject_cast<RaftPane*>(window.pane(u"RAFT"_s));
    QVERIFY(pane);
    QVERIFY(pane->selectTarget(u"fg-staging/fg-staging"_s));
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"RAFT"_s)
            window.sidebar()->setCurrentRow(i);
    }
    QTRY_VERIFY_WITH_TIMEOUT(pane->statefulSets()->rowCount() > 0, 30000);
    QCOMPARE(pane->badges(), QStringList { u"TLS not verified"_s });

    QVERIFY(pane->selectTarget(u"fg-prod/fg"_s));
    QTRY_VERIFY_WITH_TIMEOUT(!pane->errors()->text().isEmpty(), 10000);
    QVERIFY2(pane->errors()->text().contains(u"insecure-skip-tls-verify"_s), qPrintable(pane->errors()->text()));
    QCOMPARE(pane->statefulSets()->rowCount(), 0);
    // The inventory's production tag is still said; the TLS badge goes with the refused connection.
    QCOMPARE(pane->badges(), QStringList { u"Production: fg-prod / fg"_s });
}

// The RAFT reset started from the pane: planned, confirmed, run in the Runs dock; the pane follows the pods onto the
// DR image and back, and the reset is refused for the read-only cluster before it is planned.
void TestRaftPane::resetFromThePane()
{
    const QString drImage = u"image-registry.openshift-image-registry.svc:5000/fg/jerriedr@sha256:"
                            "b2aa3a1c40889a69abc3964dc1f3fea20d061ff2f1af40c0fa512b302bb314b1"_s;
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = qobject_cast<RaftPane*>(window.pane(u"RAFT"_s));
    QVERIFY(pane);
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"RAFT"_s)
            window.sidebar()->setCurrentRow(i);
    }
    auto* reset = pane->findChild<QAction*>(u"resetRaft"_s);
    QVERIFY(reset);

    QVERIFY(pane->selectTarget(u"fg-viewer/fg"_s));
    QTRY_VERIFY_WITH_TIMEOUT(pane->statefulSets()->rowCount() > 0, 30000);
    QVERIFY(pane->selectStatefulSet(u"permie"_s));
    QVERIFY2(!reset->isEnabled(), "the reset is offered on a read-only cluster");

    QVERIFY(pane->selectTarget(u"fg-staging/fg-staging"_s));
    QTRY_COMPARE_WITH_TIMEOUT(readyText(pane, u"permie"_s), u"3/3"_s, 30000);
    QVERIFY(pane->selectStatefulSet(u"permie"_s));
    QTRY_COMPARE_WITH_TIMEOUT(pane->pods()->rowCount(), 3, 10000);
    QVERIFY(reset->isEnabled());

    QSignalSpy finished(pane, &RaftPane::resetFinished);
    ConfirmDialog::setNextAnswer(true);
    pane->resetStatefulSet(u"permie"_s, drImage);
    // The pods go onto the DR image while the pane polls.
    const auto podOnDr = [&] {
        for (int row = 0; row < pane->pods()->rowCount(); ++row) {
            if (pane->pods()
                    ->index(row, RaftPodTableModel::Image)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(u"jerriedr"_s))
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(podOnDr() || !finished.isEmpty(), 60000);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 120000);
    QCOMPARE(finished.first().first().toString(), u"succeeded"_s);
    QTRY_COMPARE_WITH_TIMEOUT(readyText(pane, u"permie"_s), u"3/3"_s, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!podOnDr() && pane->pods()->rowCount() == 3, 10000);
    QVERIFY(pane->errors()->text().isEmpty());
}

QTEST_MAIN(TestRaftPane)
#include "tst_raftpane.moc"
