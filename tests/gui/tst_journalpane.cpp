// The Journal pane's Locks tab, offscreen on a local journal: every lock with its holder and lease, and a lock broken
// through the confirmation dialog with a reason, which the pane shows gone and the journal records. Its Undo windows
// tab: the open windows first, the closed ones behind a checkbox and greyed, and "Restore…" for an open window only
// when a pane restores its operation.
#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "JournalPane.h"
#include "RunsDock.h"
#include "runbook/Journal.h"
#include "runbook/UndoWindow.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestJournalPane : public QObject
{
    Q_OBJECT

private slots:
    void runsGoByTheirOneName();
    void locksAreListedAndOneIsBroken();
    void undoWindowsOpenFirstThenClosed();
    void undoWindowsEmptyState();
    void undoWindowsReadErrorGoesToTheBanner();
};

namespace {

// Journals the undo window run `runId` kept, as RunContext::openUndoWindow does.
bool openWindow(Journal& journal,
    const QString& runId,
    const QString& operation,
    const QString& target,
    const QDateTime& until,
    qint64 bytes,
    const QString& confirmWith)
{
    UndoWindow window;
    window.until = until;
    window.where = operation == u"deploy"_s ? u"the journal (the revision each machine ran)"_s : u"the trash"_s;
    window.bytes = bytes;
    window.restorable = { u"what %1 took"_s.arg(runId.left(8)) };
    window.notRestorable = { u"the database's migrations"_s };
    window.confirmWith = confirmWith;
    // Apart in time, so that "newest first" has one answer.
    QTest::qWait(5);
    return journal.append(runId, UndoWindow::kOpenedKind, operation, target, window.entryData());
}

bool closeWindow(Journal& journal, const QString& byRun, const QString& runId, UndoWindow::State state)
{
    return journal.append(byRun, UndoWindow::kClosedKind, u"deploy-previous"_s, u"wpia-packit"_s,
        UndoWindows::closedData(runId, state, u"taken back"_s));
}

QStringList runColumn(const QTreeWidget* list)
{
    QStringList runs;
    for (int i = 0; i < list->topLevelItemCount(); ++i)
        runs << list->topLevelItem(i)->text(0);
    return runs;
}

} // namespace

// A run is listed by its one name (as the Runs dock, its report and the CLI say it), its operation's id beside it; the
// operation filter offers operations in words, and filters by id.
void TestJournalPane::runsGoByTheirOneName()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"journal.sqlite"_s);
    {
        Journal journal(path);
        QString error;
        QVERIFY2(journal.open(&error), qPrintable(error));
        const QDateTime now = QDateTime::currentDateTimeUtc();
        RunRecord update;
        update.id = u"11111111-0000-4000-8000-000000000001"_s;
        update.operation = u"deploy-update"_s;
        update.target = u"reside-ic/packit-infra"_s;
        update.outcome = RunRecord::Outcome::Succeeded;
        update.startedAt = now.addSecs(-60);
        update.finishedAt = now.addSecs(-50);
        update.summary = u"The update pull request is open."_s;
        QVERIFY2(journal.saveRun(update, &error), qPrintable(error));
        RunRecord wipe = update;
        wipe.id = u"22222222-0000-4000-8000-000000000002"_s;
        wipe.operation = u"packit-wipe"_s;
        wipe.target = u"wpia-packit/reside"_s;
        wipe.startedAt = now.addSecs(-30);
        QVERIFY2(journal.saveRun(wipe, &error), qPrintable(error));
    }
    RunsDock runs;
    JournalPane pane(JournalLocation(path), &runs);
    QSignalSpy loaded(&pane, &JournalPane::loaded);
    pane.show();
    QVERIFY(loaded.wait(10000));
    QTreeWidget* list = pane.runList();
    QCOMPARE(list->headerItem()->text(1), u"Name"_s);
    QCOMPARE(list->topLevelItemCount(), 2);
    const QTreeWidgetItem* newest = list->topLevelItem(0);
    QCOMPARE(newest->text(1), u"Wipe Packit instance on wpia-packit/reside"_s);
    QCOMPARE(newest->text(5), u"packit-wipe"_s);
    const QTreeWidgetItem* update = list->topLevelItem(1);
    QCOMPARE(update->text(1), u"Trigger update workflow on reside-ic/packit-infra"_s);
    QCOMPARE(update->text(1), RunRecord::runName(u"deploy-update"_s, u"reside-ic/packit-infra"_s));
    QCOMPARE(update->text(2), u"succeeded"_s);
    QCOMPARE(update->text(5), u"deploy-update"_s);
    QVERIFY(update->toolTip(1).contains(u"11111111-0000-4000-8000-000000000001"_s));

    QComboBox* operation = nullptr;
    for (QComboBox* box : pane.findChildren<QComboBox*>()) {
        if (box->itemText(0) == u"All operations"_s)
            operation = box;
    }
    QVERIFY(operation);
    const int index = operation->findData(u"deploy-update"_s);
    QVERIFY(index > 0);
    QCOMPARE(operation->itemText(index), u"Trigger update workflow"_s);
    operation->setCurrentIndex(index);
    QCOMPARE(list->topLevelItemCount(), 1);
    QCOMPARE(list->topLevelItem(0)->text(5), u"deploy-update"_s);
}

void TestJournalPane::locksAreListedAndOneIsBroken()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"journal.sqlite"_s);
    {
        Journal journal(path);
        QString error;
        QVERIFY2(journal.open(&error), qPrintable(error));
        QVERIFY(journal.append(u"remote-run"_s, u"plan"_s, u"pulumi-purge"_s, u"pulumi/acme"_s, {}));
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"raw"_s);
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY2(query.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES "
                            "('pulumi/acme', 'remote-run', 'carol@laptop pid 4242', 4242, 'laptop.invalid', "
                            "'2024-05-01T12:00:00.000Z', '2999-01-01T00:00:00.000Z'), "
                            "('wpia-packit/reside', 'old-run', 'dave@desk pid 7', 7, 'desk.invalid', "
                            "'2024-05-01T12:00:00.000Z', '')"_s),
            qPrintable(query.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(u"raw"_s);

    RunsDock runs;
    JournalPane pane(JournalLocation(path), &runs);
    pane.resize(1200, 700);
    QSignalSpy loaded(&pane, &JournalPane::locksLoaded);
    pane.show();
    QVERIFY(loaded.wait(10000));
    auto* tabs = pane.findChild<QTabWidget*>();
    QCOMPARE(tabs->tabText(1), u"&Locks (2)"_s);
    QTreeWidget* locks = pane.lockList();
    QCOMPARE(locks->topLevelItemCount(), 2);
    QCOMPARE(locks->topLevelItem(0)->text(0), u"pulumi/acme"_s);
    QCOMPARE(locks->topLevelItem(0)->text(1), u"carol@laptop pid 4242"_s);
    QVERIFY2(locks->topLevelItem(0)->text(3).startsWith(u"Renewed: holds until 2999-01-01"_s),
        qPrintable(locks->topLevelItem(0)->text(3)));
    QCOMPARE(locks->topLevelItem(1)->text(3), u"No lease (taken before leases): never runs out"_s);

    // A lock and a reason, both, before the button does anything.
    QVERIFY(!pane.breakButton()->isEnabled());
    locks->setCurrentItem(locks->topLevelItem(0));
    QVERIFY(!pane.breakButton()->isEnabled());
    QTest::keyClicks(pane.breakReason(), u"carol's laptop died during the purge"_s);
    QVERIFY(pane.breakButton()->isEnabled());

    QSignalSpy finished(&runs, &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    QTest::mouseClick(pane.breakButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    loaded.clear();
    const auto record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.operation, u"lock-break"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.confirmation, u"pulumi/acme"_s);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(locks->topLevelItemCount(), 1);
    QCOMPARE(locks->topLevelItem(0)->text(0), u"wpia-packit/reside"_s);
    QCOMPARE(tabs->tabText(1), u"&Locks (1)"_s);
    QVERIFY(pane.breakReason()->text().isEmpty());

    Journal journal(path);
    QString error;
    QVERIFY(journal.open(&error));
    QCOMPARE(journal.entries(u"remote-run"_s).last().data.value(u"reason"_s).toString(),
        u"carol's laptop died during the purge"_s);
    QVERIFY(journal.verify().intact);

    // Another console takes a lock: the list shows it within seconds, without a reload.
    Journal::LockHolder holder;
    QCOMPARE(journal.acquireLock(u"dm-dev/blobs"_s, u"other-run"_s, &holder), Journal::LockResult::Acquired);
    QTRY_COMPARE_WITH_TIMEOUT(locks->topLevelItemCount(), 2, 10000);
    QCOMPARE(locks->topLevelItem(0)->text(0), u"dm-dev/blobs"_s);
}

void TestJournalPane::undoWindowsOpenFirstThenClosed()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"journal.sqlite"_s);
    const QString deployRun = u"aaaaaaaa-0000-4000-8000-000000000001"_s;
    const QString wipeRun = u"bbbbbbbb-0000-4000-8000-000000000002"_s;
    const QString restoredRun = u"cccccccc-0000-4000-8000-000000000003"_s;
    const QString expiredRun = u"dddddddd-0000-4000-8000-000000000004"_s;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    {
        Journal journal(path);
        QString error;
        QVERIFY2(journal.open(&error), qPrintable(error));
        QVERIFY(openWindow(journal, deployRun, u"deploy"_s, u"wpia-packit"_s, now.addSecs(7200), 0, u"wpia-packit"_s));
        QVERIFY(openWindow(
            journal, wipeRun, u"packit-wipe"_s, u"wpia-packit/reside"_s, now.addSecs(3600), 5000000, u"reside wipe"_s));
        QVERIFY(
            openWindow(journal, restoredRun, u"deploy"_s, u"wpia-packit"_s, now.addSecs(10800), 0, u"wpia-packit"_s));
        QVERIFY(
            closeWindow(journal, u"eeeeeeee-0000-4000-8000-000000000005"_s, restoredRun, UndoWindow::State::Restored));
        QVERIFY(openWindow(
            journal, expiredRun, u"packit-wipe"_s, u"wpia-packit/reside"_s, now.addSecs(-60), 1024, u"reside"_s));
    }

    RunsDock runs;
    JournalPane pane(JournalLocation(path), &runs);
    pane.setRestorable([](const QString& operation) { return operation == u"deploy"_s; });
    pane.resize(1200, 700);
    QSignalSpy loaded(&pane, &JournalPane::undoWindowsLoaded);
    pane.show();
    QVERIFY(loaded.wait(10000));
    auto* tabs = pane.findChild<QTabWidget*>();
    QCOMPARE(tabs->tabText(2), u"Undo &windows (2)"_s);
    tabs->setCurrentIndex(2);

    // The open ones only, the soonest to end first.
    QTreeWidget* windows = pane.undoWindowList();
    QCOMPARE(windows->objectName(), u"undoWindows"_s);
    QCOMPARE(runColumn(windows), (QStringList { u"bbbbbbbb"_s, u"aaaaaaaa"_s }));
    QVERIFY(!windows->isHidden());
    QVERIFY(pane.undoWindowsEmpty()->isHidden());
    const QTreeWidgetItem* wipe = windows->topLevelItem(0);
    // The run's one name, as the Runs dock and the runs list say it.
    QCOMPARE(wipe->text(1), u"Wipe Packit instance on wpia-packit/reside"_s);
    QCOMPARE(wipe->text(2), Journal::localUser());
    QCOMPARE(wipe->text(3), u"the trash · %1"_s.arg(QLocale().formattedDataSize(5000000)));
    QCOMPARE(wipe->text(4), now.addSecs(3600).toLocalTime().toString(u"yyyy-MM-dd HH:mm"_s));
    QCOMPARE(wipe->text(5), u"open"_s); // its end is the Until column's, in local time
    QVERIFY(wipe->toolTip(0).contains(wipeRun));
    QVERIFY(wipe->toolTip(0).contains(u"(operation packit-wipe)"_s));
    QVERIFY(wipe->toolTip(3).contains(u"what bbbbbbbb took"_s));
    QVERIFY(wipe->toolTip(3).contains(u"the database's migrations"_s));
    QCOMPARE(windows->topLevelItem(1)->text(3), u"the journal (the revision each machine ran) · no space"_s);
    QCOMPARE(windows->topLevelItem(0)->foreground(0).style(), Qt::NoBrush);

    // Closed ones behind the checkbox, after the open ones, the newest first, greyed.
    QCheckBox* showEnded = pane.showEndedWindows();
    QCOMPARE(showEnded->objectName(), u"showEndedWindows"_s);
    QVERIFY(!showEnded->isChecked());
    showEnded->setChecked(true);
    QCOMPARE(runColumn(windows), (QStringList { u"bbbbbbbb"_s, u"aaaaaaaa"_s, u"dddddddd"_s, u"cccccccc"_s }));
    const QColor grey = windows->palette().color(QPalette::Disabled, QPalette::Text);
    for (int row : { 2, 3 }) {
        for (int column = 0; column < windows->columnCount(); ++column)
            QCOMPARE(windows->topLevelItem(row)->foreground(column).color(), grey);
    }
    QCOMPARE(windows->topLevelItem(2)->text(5), u"expired"_s);
    QVERIFY2(windows->topLevelItem(3)->text(5).startsWith(u"restored by run eeeeeeee at "_s),
        qPrintable(windows->topLevelItem(3)->text(5)));
    QVERIFY(windows->topLevelItem(3)->toolTip(5).contains(
        u"\nState: restored by run eeeeeeee-0000-4000-8000-000000000005 at "_s));

    // Restore: an open window whose operation a pane restores, and only that.
    QPushButton* restore = pane.restoreButton();
    QCOMPARE(restore->objectName(), u"restoreWindow"_s);
    QVERIFY(!restore->isEnabled());
    windows->setCurrentItem(windows->topLevelItem(0)); // open, but no pane restores a wipe
    QVERIFY(!restore->isEnabled());
    QVERIFY2(restore->toolTip().contains(u"opsdeck restore %1 --confirm 'reside wipe'"_s.arg(wipeRun)),
        qPrintable(restore->toolTip()));
    windows->setCurrentItem(windows->topLevelItem(3)); // a deploy, restored already
    QVERIFY(!restore->isEnabled());
    windows->setCurrentItem(windows->topLevelItem(2)); // expired
    QVERIFY(!restore->isEnabled());
    windows->setCurrentItem(windows->topLevelItem(1)); // an open deploy
    QVERIFY(restore->isEnabled());

    QSignalSpy requested(&pane, &JournalPane::restoreRequested);
    QTest::mouseClick(restore, Qt::LeftButton);
    QCOMPARE(requested.size(), 1);
    QCOMPARE(requested.first().at(0).toString(), deployRun);
    QCOMPARE(requested.first().at(1).toString(), u"deploy"_s);
    QCOMPARE(requested.first().at(2).toString(), u"wpia-packit"_s);

    // Without a pane that restores deploys, nothing is offered.
    pane.setRestorable({});
    QVERIFY(!restore->isEnabled());
    pane.setRestorable([](const QString& operation) { return operation == u"deploy"_s; });
    QVERIFY(restore->isEnabled());

    // Another console restores the deploy: within seconds, without a reload, it moves down among the closed ones and
    // the selection stays on it.
    {
        Journal journal(path);
        QString error;
        QVERIFY2(journal.open(&error), qPrintable(error));
        QVERIFY(
            closeWindow(journal, u"ffffffff-0000-4000-8000-000000000006"_s, deployRun, UndoWindow::State::Restored));
    }
    QTRY_COMPARE_WITH_TIMEOUT(tabs->tabText(2), u"Undo &windows (1)"_s, 10000);
    QCOMPARE(runColumn(windows), (QStringList { u"bbbbbbbb"_s, u"dddddddd"_s, u"cccccccc"_s, u"aaaaaaaa"_s }));
    QCOMPARE(windows->currentItem(), windows->topLevelItem(3));
    QVERIFY(!restore->isEnabled());
}

void TestJournalPane::undoWindowsEmptyState()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"journal.sqlite"_s);
    const QString run = u"aaaaaaaa-0000-4000-8000-000000000001"_s;
    {
        Journal journal(path);
        QString error;
        QVERIFY2(journal.open(&error), qPrintable(error));
        QVERIFY(openWindow(journal, run, u"deploy"_s, u"wpia-packit"_s, QDateTime::currentDateTimeUtc().addSecs(7200),
            0, u"wpia-packit"_s));
        QVERIFY(closeWindow(journal, u"bbbbbbbb-0000-4000-8000-000000000002"_s, run, UndoWindow::State::Restored));
    }

    RunsDock runs;
    JournalPane pane(JournalLocation(path), &runs);
    pane.setRestorable([](const QString&) { return true; });
    pane.resize(1200, 700);
    QSignalSpy loaded(&pane, &JournalPane::undoWindowsLoaded);
    pane.show();
    QVERIFY(loaded.wait(10000));
    auto* tabs = pane.findChild<QTabWidget*>();
    QCOMPARE(tabs->tabText(2), u"Undo &windows"_s);
    QLabel* empty = pane.undoWindowsEmpty();
    QVERIFY(!empty->isHidden());
    QVERIFY2(empty->text().startsWith(u"No run can be taken back now. Hidden: 1 window"_s), qPrintable(empty->text()));
    QVERIFY(empty->text().contains(u"Show ended windows"_s));
    QVERIFY(pane.undoWindowList()->isHidden());

    pane.showEndedWindows()->setChecked(true);
    QCOMPARE(empty->text(), u"No run can be taken back now."_s);
    QVERIFY(!empty->isHidden());
    QVERIFY(!pane.undoWindowList()->isHidden());
    QCOMPARE(runColumn(pane.undoWindowList()), QStringList { u"aaaaaaaa"_s });
    pane.undoWindowList()->setCurrentItem(pane.undoWindowList()->topLevelItem(0));
    QVERIFY(!pane.restoreButton()->isEnabled());
    QVERIFY(pane.restoreButton()->toolTip().contains(u"restored by run bbbbbbbb"_s));
}

void TestJournalPane::undoWindowsReadErrorGoesToTheBanner()
{
    QTemporaryDir dir;
    QFile blocker(dir.filePath(u"not-a-directory"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    RunsDock runs;
    JournalPane pane(JournalLocation(dir.filePath(u"not-a-directory/journal.sqlite"_s)), &runs);
    QSignalSpy loaded(&pane, &JournalPane::undoWindowsLoaded);
    pane.show();
    QVERIFY(loaded.wait(10000));
    auto* banner = pane.findChild<ErrorBanner*>();
    QVERIFY2(banner->text().contains(u"Reading the undo windows"_s), qPrintable(banner->text()));
    QVERIFY(!pane.restoreButton()->isEnabled());
    QVERIFY(pane.undoWindowsEmpty()->isHidden());
}

QTEST_MAIN(TestJournalPane)
#include "tst_journalpane.moc"
