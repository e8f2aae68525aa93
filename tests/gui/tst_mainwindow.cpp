// The console shell, offscreen, on the sandbox inventory; and the confirmation dialog every operation goes through.
#include "ConfirmDialog.h"
#include "DeployMatrixModel.h"
#include "DeployPane.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "OperationLauncher.h"
#include "PackitPane.h"
#include "PaneHeader.h"
#include "PulumiPane.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "TargetPane.h"
#include "TargetStatusModel.h"
#include "TestRuns.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

#include <algorithm>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {
TargetPane* targetPane(MainWindow& window, const QString& title)
{
    return qobject_cast<TargetPane*>(window.pane(title));
}

// A production wipe's plan with an undo window: until a week from now, 603 MB kept in a directory of the host.
Plan planWithUndoWindow()
{
    Plan plan;
    plan.operation = QStringLiteral("packit-wipe");
    plan.target = QStringLiteral("wpia-packit/training");
    plan.targetName = QStringLiteral("training");
    plan.verb = QStringLiteral("Wipe");
    plan.production = true;
    plan.steps = { { QStringLiteral("wipe"), QStringLiteral("Wipe"), QStringLiteral("true"), {} } };
    plan.undo.available = true;
    plan.undo.retentionSeconds = 7 * 24 * 3600;
    plan.undo.until = QDateTime::currentDateTimeUtc().addDays(7);
    plan.undo.bytesHeld = 603LL * 1000 * 1000;
    plan.undo.where = QStringLiteral("wpia-packit:/var/lib/outpack/.opsdeck-wipe-training-1a2b3c4d");
    plan.undo.restorable = { QStringLiteral("the outpack root as it was"), QStringLiteral("the packets' rows") };
    plan.undo.notRestorable = { QStringLiteral("one-time tokens: spent once the services restart") };
    plan.undo.endsWindows = { QStringLiteral("run-0: the root before the last wipe") };
    return plan;
}

// Runs `inspect` on the dialog ask() shows, from inside its event loop (a polling timer, as the dialog is modal).
void whileAsking(QObject* context, const std::function<void(QWidget* dialog)>& inspect)
{
    auto* poll = new QTimer(context);
    poll->setInterval(50);
    QObject::connect(poll, &QTimer::timeout, context, [poll, inspect] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        poll->deleteLater();
        poll->stop();
        inspect(dialog);
        if (dialog->isVisible())
            dialog->close(); // a failed check: cancelled
    });
    poll->start();
}
} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void showsEveryPaneWithLiveHostStatus();
    void everySystemHasItsPane();
    void everyListViewHasANameOfItsOwn();
    void invalidInventoryShowsItsErrors();
    void missingInventoryCanBeCreatedFromTheTemplate();
    void unknownHostKeyIsTrustedOnlyAfterConfirmation();
    void targetModelPassesTheModelTester();
    void productionIsMarkedInEveryPane();
    void undoWindowIsKeptUnlessTurnedOffWithAReason();
    void anEstimatedUndoSizeIsSaidToBeOne();
    void withoutUndoWindowTheDialogSaysItCannotBeUndone();
    void longCommandsStayInsideTheDialog();
    void launcherRunsThePlanWithTheUndoChoice();

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

// A list view's hand-set column widths are remembered under its objectName (ListTable): every list table and list
// tree of every pane and of the Runs dock has one, and no other has the same.
void TestMainWindow::everyListViewHasANameOfItsOwn()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    QCOMPARE(window.panes().size(), 7);
    QStringList names;
    for (const QHeaderView* header : window.findChildren<QHeaderView*>()) {
        if (header->findChild<QAction*>(QStringLiteral("fitColumns")))
            names << header->parentWidget()->objectName();
    }
    QVERIFY2(names.size() >= 19, qPrintable(names.join(u' ')));
    QVERIFY2(!names.contains(QString()), qPrintable(names.join(u' ')));
    names.sort();
    QVERIFY2(std::adjacent_find(names.cbegin(), names.cend()) == names.cend(), qPrintable(names.join(u' ')));
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
    QVERIFY(errors->topLevelItem(0)->text(1).startsWith(QStringLiteral("no such file")));
    QCOMPARE(errors->topLevelItem(0)->text(0), path);
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
    // Hosts are checked once the window is up, never before.
    QTest::qWait(200);
    QCOMPARE(window.hostStatus(QStringLiteral("wpia-packit-dev")).reachability, HostStatus::Reachability::Unchecked);
    window.show();
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

// The sandbox tags one target of each kind production: the host and machine wpia-packit (with its Packit instances),
// the pulumi database, the fg-prod cluster and the dm-prod context. Each pane marks its row or entry with the
// production icon, and names it in the pane's header while it is the one selected; other targets are not marked.
void TestMainWindow::productionIsMarkedInEveryPane()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    struct Case
    {
        QString pane;
        QString chooser; // the target chooser's object name; empty: the pane's target table
        QString production; // the production target, as listed
        QString plain; // another target, as listed
        QString badge; // the header's badge while the production target is selected
    };
    const QList<Case> cases = {
        { u"Hosts"_s, {}, u"wpia-packit"_s, u"wpia-packit-dev"_s, u"Production: wpia-packit"_s },
        { u"Packit"_s, {}, u"priority-pathogens"_s, u"reside-dev"_s,
            u"Production: priority-pathogens on wpia-packit"_s },
        { u"Deploy"_s, {}, u"wpia-packit"_s, u"wpia-packit-dev"_s, u"Production: wpia-packit"_s },
        { u"Pulumi"_s, u"pulumiDatabase"_s, u"pulumi (via bastion) (production)"_s, {}, u"Production: pulumi"_s },
        { u"RAFT"_s, u"raftTargets"_s, u"fg-prod / fg (production)"_s, u"fg-staging / fg-staging"_s,
            u"Production: fg-prod / fg"_s },
        { u"datamon"_s, u"datamonContexts"_s, u"dm-prod (production)"_s, u"dm-dev"_s, u"Production: dm-prod"_s },
    };
    for (const Case& c : cases) {
        SystemPane* pane = window.pane(c.pane);
        QVERIFY2(pane, qPrintable(c.pane));
        auto* header = pane->findChild<PaneHeader*>();
        QVERIFY2(header, qPrintable(c.pane));
        const auto marked = [](const QIcon& icon) { return !icon.isNull(); };
        if (c.chooser.isEmpty()) {
            QAbstractItemView* view = pane->targetView();
            QVERIFY2(view, qPrintable(c.pane));
            const auto rowOf = [view](const QString& name) {
                for (int row = 0; row < view->model()->rowCount(); ++row) {
                    if (view->model()->index(row, 0).data().toString() == name)
                        return row;
                }
                return -1;
            };
            const int production = rowOf(c.production);
            const int plain = rowOf(c.plain);
            QVERIFY2(production >= 0 && plain >= 0, qPrintable(c.pane));
            const QModelIndex name = view->model()->index(production, 0);
            QVERIFY2(marked(name.data(Qt::DecorationRole).value<QIcon>()), qPrintable(c.pane));
            QVERIFY2(name.data(Qt::ToolTipRole).toString().startsWith(u"Production: "_s), qPrintable(c.pane));
            QVERIFY2(
                !marked(view->model()->index(plain, 0).data(Qt::DecorationRole).value<QIcon>()), qPrintable(c.pane));
            view->setCurrentIndex(view->model()->index(plain, 0));
            QCOMPARE(header->productionText(), QString());
            view->setCurrentIndex(name);
        } else {
            auto* chooser = pane->findChild<QComboBox*>(c.chooser);
            QVERIFY2(chooser, qPrintable(c.chooser));
            const int production = chooser->findText(c.production);
            QVERIFY2(production >= 0, qPrintable(c.pane));
            QVERIFY2(marked(chooser->itemIcon(production)), qPrintable(c.pane));
            if (!c.plain.isEmpty()) {
                const int plain = chooser->findText(c.plain);
                QVERIFY2(plain >= 0 && !marked(chooser->itemIcon(plain)), qPrintable(c.pane));
                chooser->setCurrentIndex(plain);
                QTRY_COMPARE(header->productionText(), QString());
            }
            chooser->setCurrentIndex(production);
        }
        QTRY_COMPARE(header->productionText(), c.badge);
    }
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
    // The cell says what failed and why; what to do next is in the tooltip with the rest.
    const QString message = u"cannot connect to root@h1 (127.0.0.15:22): Connection refused. Check that the host is up "
                            "and the address and port in the inventory are right."_s;
    status.error = { SshError::Kind::ConnectFailed, message };
    model.updateHost(status);
    const QModelIndex error = model.index(0, model.statusColumn() + 2);
    QCOMPARE(error.data().toString(), u"cannot connect to root@h1 (127.0.0.15:22): Connection refused"_s);
    QCOMPARE(error.data(Qt::ToolTipRole).toString(), message);
    QCOMPARE(model.index(1, model.statusColumn()).data().toString(), QStringLiteral("local"));
    model.setTargets({});
    QCOMPARE(model.rowCount(), 0);
}

void TestMainWindow::undoWindowIsKeptUnlessTurnedOffWithAReason()
{
    const Plan plan = planWithUndoWindow();
    ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
    QVERIFY(request.undo);
    QCOMPARE(request.undo->where, plan.undo.where);
    request.title = QStringLiteral("Wipe instance training on wpia-packit?");
    request.text = QStringLiteral("Every packet of wpia-packit/training will be deleted.");

    // Drives the real dialog. Each check is a step; `reached` says how far it got before the dialog was answered.
    const QString reason = QStringLiteral("disk full, INC-4211");
    int reached = 0;
    QString headline;
    whileAsking(this, [&](QWidget* dialog) {
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        auto* keep = dialog->findChild<QCheckBox*>(QStringLiteral("keepUndo"));
        auto* offReason = dialog->findChild<QLineEdit*>(QStringLiteral("undoOffReason"));
        auto* irreversible = dialog->findChild<QLabel*>(QStringLiteral("irreversible"));
        auto* restorable = dialog->findChild<QLabel*>(QStringLiteral("undoRestorable"));
        auto* notRestorable = dialog->findChild<QLabel*>(QStringLiteral("notRestorable"));
        auto* endsWindows = dialog->findChild<QLabel*>(QStringLiteral("endsWindows"));
        auto* head = dialog->findChild<QLabel*>(QStringLiteral("undoHeadline"));
        if (!verb || !typed || !keep || !offReason || !irreversible || !restorable || !notRestorable || !endsWindows
            || !head)
            return;
        headline = head->text();
        // Kept by default; nothing to explain, and the window is what the dialog says.
        if (!keep->isChecked() || offReason->isVisible() || irreversible->isVisible() || verb->isEnabled()
            || !restorable->text().contains(QStringLiteral("the packets' rows"))
            || !notRestorable->text().contains(QStringLiteral("one-time tokens"))
            || !endsWindows->text().contains(QStringLiteral("run-0")))
            return;
        reached = 1;
        QTest::keyClicks(typed, QStringLiteral("training"));
        if (!verb->isEnabled())
            return;
        reached = 2;
        // Turned off: the reason is asked for, the dialog says it cannot be undone, the verb waits for a reason.
        keep->click();
        if (keep->isChecked() || !offReason->isVisible() || !irreversible->isVisible() || verb->isEnabled())
            return;
        reached = 3;
        QTest::keyClicks(offReason, QStringLiteral("   "));
        if (verb->isEnabled())
            return;
        reached = 4;
        offReason->clear();
        QTest::keyClicks(offReason, reason);
        if (!verb->isEnabled())
            return;
        reached = 5;
        // Both at once: a reason does not stand in for the typed name.
        QTest::keyClick(typed, Qt::Key_Backspace);
        if (verb->isEnabled())
            return;
        QTest::keyClicks(typed, QStringLiteral("g"));
        if (!verb->isEnabled())
            return;
        reached = 6;
        verb->click();
    });
    Plan::Undo choice = plan.undo;
    const bool accepted = ConfirmDialog::ask(nullptr, request, &choice);
    QCOMPARE(reached, 6);
    QVERIFY(accepted);
    QVERIFY(!choice.enabled);
    QCOMPARE(choice.offReason, reason);
    QCOMPARE(choice.where, plan.undo.where); // the rest as it was
    QVERIFY(headline.contains(plan.undo.until.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))));
    QVERIFY(headline.contains(QStringLiteral("keeps %1 at").arg(QLocale().formattedDataSize(plan.undo.bytesHeld))));
    QVERIFY(headline.contains(plan.undo.where));

    // Kept as it is, and checked again after being turned off: no reason goes with it.
    whileAsking(this, [&](QWidget* dialog) {
        auto* keep = dialog->findChild<QCheckBox*>(QStringLiteral("keepUndo"));
        auto* offReason = dialog->findChild<QLineEdit*>(QStringLiteral("undoOffReason"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        if (!keep || !offReason || !typed)
            return;
        keep->click();
        QTest::keyClicks(offReason, QStringLiteral("changed my mind"));
        keep->click();
        QTest::keyClicks(typed, QStringLiteral("training"));
        dialog->findChild<QPushButton*>(QStringLiteral("verb"))->click();
    });
    choice = plan.undo;
    QVERIFY(ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(choice.enabled);
    QVERIFY(choice.offReason.isEmpty());

    // A window of no extra space off production: the verb is there at once, and turning the window off takes it away
    // until the reason comes.
    request.typedName.clear();
    request.undo->bytesHeld = 0;
    request.undo->where = QStringLiteral("machines' previous revisions");
    bool disabledWithoutReason = false;
    whileAsking(this, [&](QWidget* dialog) {
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* keep = dialog->findChild<QCheckBox*>(QStringLiteral("keepUndo"));
        auto* head = dialog->findChild<QLabel*>(QStringLiteral("undoHeadline"));
        if (!verb || !keep || !head || !verb->isEnabled())
            return;
        headline = head->text();
        keep->click();
        disabledWithoutReason = !verb->isEnabled();
    });
    QVERIFY(!ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(disabledWithoutReason);
    QVERIFY(headline.contains(QStringLiteral("no extra space")));

    // Scripted: a reason given is a window turned off with that reason; none, the window kept.
    choice = plan.undo;
    ConfirmDialog::setNextAnswer(true, reason);
    QVERIFY(ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(!choice.enabled);
    QCOMPARE(choice.offReason, reason);
    ConfirmDialog::setNextAnswer(true);
    QVERIFY(ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(choice.enabled);
    QVERIFY(choice.offReason.isEmpty());
    ConfirmDialog::setNextAnswer(false, reason);
    QVERIFY(!ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(choice.enabled); // untouched when cancelled
}

void TestMainWindow::anEstimatedUndoSizeIsSaidToBeOne()
{
    // A Pulumi purge's plan: the size of its restore files is estimated from average row lengths.
    Plan plan = planWithUndoWindow();
    plan.undo.bytesEstimated = true;
    ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
    request.title = QStringLiteral("Purge?");
    QString headline;
    whileAsking(this, [&](QWidget* dialog) {
        if (auto* head = dialog->findChild<QLabel*>(QStringLiteral("undoHeadline")))
            headline = head->text();
    });
    QVERIFY(!ConfirmDialog::ask(nullptr, request));
    // As the reports mark an estimate.
    QVERIFY2(
        headline.contains(
            QStringLiteral("keeps \u2248\u00a0%1 (estimate) at").arg(QLocale().formattedDataSize(plan.undo.bytesHeld))),
        qPrintable(headline));
}

void TestMainWindow::withoutUndoWindowTheDialogSaysItCannotBeUndone()
{
    Plan plan = planWithUndoWindow();
    plan.undo.available = false;
    plan.undo.notRestorable = { QStringLiteral("the database: no room for a copy") };
    plan.undo.endsWindows.clear();
    ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
    QVERIFY(request.irreversible);
    request.title = QStringLiteral("Wipe instance training on wpia-packit?");
    bool checked = false;
    whileAsking(this, [&](QWidget* dialog) {
        auto* irreversible = dialog->findChild<QLabel*>(QStringLiteral("irreversible"));
        auto* notRestorable = dialog->findChild<QLabel*>(QStringLiteral("notRestorable"));
        checked = !dialog->findChild<QCheckBox*>(QStringLiteral("keepUndo"))
            && !dialog->findChild<QWidget*>(QStringLiteral("undoWindow"))
            && !dialog->findChild<QLabel*>(QStringLiteral("endsWindows")) && irreversible && irreversible->isVisible()
            && irreversible->text() == QStringLiteral("This cannot be undone.") && notRestorable
            && notRestorable->text().contains(QStringLiteral("no room for a copy"));
    });
    Plan::Undo choice = plan.undo;
    QVERIFY(!ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(checked);
}

// A plan whose commands are longer than two thirds of the screen (where adjustSize stops): the box that shows them is
// inside the dialog, its lines wrapped, none cut at the dialog's edge.
void TestMainWindow::longCommandsStayInsideTheDialog()
{
    Plan plan = planWithUndoWindow();
    plan.steps.append({ QStringLiteral("delete"), QStringLiteral("Delete the rows"),
        QStringLiteral("DELETE FROM Programs WHERE id IN (") + QString(300, u'7') + u')', {} });
    ConfirmDialog::Request request = ConfirmDialog::fromPlan(plan);
    request.title = QStringLiteral("Wipe instance training on wpia-packit?");
    QRect box;
    QRect inside;
    int screenWidth = 0;
    whileAsking(this, [&](QWidget* dialog) {
        auto* details = dialog->findChild<QPlainTextEdit*>(QStringLiteral("details"));
        if (!details)
            return;
        box = QRect(details->mapTo(dialog, QPoint(0, 0)), details->size());
        inside = dialog->contentsRect();
        screenWidth = dialog->screen()->availableGeometry().width();
    });
    Plan::Undo choice = plan.undo;
    QVERIFY(!ConfirmDialog::ask(nullptr, request, &choice));
    QVERIFY(box.isValid());
    QVERIFY2(inside.contains(box),
        qPrintable(
            QStringLiteral("box %1..%2 in a dialog %3 wide").arg(box.left()).arg(box.right()).arg(inside.width())));
    QVERIFY(box.width() > screenWidth * 2 / 3 - 40);
}

void TestMainWindow::launcherRunsThePlanWithTheUndoChoice()
{
    QWidget pane;
    RunsDock runs;
    auto* errors = new ErrorBanner(&pane);
    OperationLauncher launcher(&runs, m_temp.filePath(QStringLiteral("launcher-journal.sqlite")), errors, &pane);
    auto operation = std::make_unique<StepsOperation>(QStringLiteral("packit-wipe"),
        QStringLiteral("wpia-packit/training"), QStringLiteral("training"),
        QList<StepsOperation::Step> { { QStringLiteral("wipe"), QStringLiteral("Wipe"), QStringLiteral("true") } });
    operation->shapePlan([](Plan* plan) { plan->undo = planWithUndoWindow().undo; });
    OperationLauncher::Launch launch;
    launch.target = QStringLiteral("wpia-packit/training");
    launch.action = QStringLiteral("the wipe");
    launch.wording = [](const Plan&, QString* title, QString* text) {
        *title = QStringLiteral("Wipe?");
        *text = QStringLiteral("Wipe.");
    };
    std::optional<Plan> confirmed;
    launch.confirmed = [&](OperationRunner*, const Plan& plan) { confirmed = plan; };
    QSignalSpy finished(&runs, &RunsDock::runFinished);
    const QString reason = QStringLiteral("the disk is full");
    ConfirmDialog::setNextAnswer(true, reason);
    launcher.launch(std::move(operation), launch);
    QTRY_VERIFY_WITH_TIMEOUT(confirmed.has_value(), 10000);
    QVERIFY(confirmed->undo.available);
    QVERIFY(!confirmed->undo.enabled);
    QCOMPARE(confirmed->undo.offReason, reason);
    QCOMPARE(confirmed->undo.where, planWithUndoWindow().undo.where);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
    // The run got the choice too.
    const RunRecord record = finished.first().first().value<RunRecord>();
    QVERIFY(!record.undo.enabled);
    QCOMPARE(record.undo.offReason, reason);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
