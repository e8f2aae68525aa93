// The Journal pane's Locks tab, offscreen on a local journal: every lock with its holder and lease, and a lock broken
// through the confirmation dialog with a reason, which the pane shows gone and the journal records.
#include "ConfirmDialog.h"
#include "JournalPane.h"
#include "RunsDock.h"
#include "runbook/Journal.h"

#include <QApplication>
#include <QLineEdit>
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
    void locksAreListedAndOneIsBroken();
};

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
    QCOMPARE(tabs->tabText(1), u"Locks (2)"_s);
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
    QCOMPARE(tabs->tabText(1), u"Locks (1)"_s);
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

QTEST_MAIN(TestJournalPane)
#include "tst_journalpane.moc"
