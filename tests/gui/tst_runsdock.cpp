// The Runs dock at start-up: runs of the journal left without an outcome by a console that is gone.
#include "RunsDock.h"
#include "runbook/Journal.h"

#include <QApplication>
#include <QClipboard>
#include <QGuiApplication>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace opsdeck;

class TestRunsDock : public QObject
{
    Q_OBJECT

private slots:
    void unfinishedRunsAreOfferedForRecovery();
};

void TestRunsDock::unfinishedRunsAreOfferedForRecovery()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("journal.sqlite"));
    Journal journal(path);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    QProcess gone; // a console that was killed: its pid is free again
    gone.start(QStringLiteral("true"));
    QVERIFY(gone.waitForFinished());
    const QString target = QStringLiteral("wpia-packit/training");
    QVERIFY(journal.append(QStringLiteral("run-1"), QStringLiteral("plan"), QStringLiteral("packit-wipe"), target,
        { { QStringLiteral("confirmWith"), QStringLiteral("training") } }));
    QVERIFY(journal.append(QStringLiteral("run-1"), QStringLiteral("confirm"), QStringLiteral("packit-wipe"), target,
        { { QStringLiteral("pid"), gone.processId() }, { QStringLiteral("host"), QSysInfo::machineHostName() } }));
    QVERIFY(journal.append(QStringLiteral("run-1"), QStringLiteral("step-start"), QStringLiteral("packit-wipe"), target,
        { { QStringLiteral("step"), QStringLiteral("move-root") } }));

    RunsDock dock;
    dock.showUnfinished(path);
    auto* list = dock.findChild<QTreeWidget*>(QStringLiteral("runs"));
    QVERIFY(list);
    QTRY_COMPARE(list->topLevelItemCount(), 1);
    const QTreeWidgetItem* item = list->topLevelItem(0);
    QCOMPARE(item->text(0), QStringLiteral("packit-wipe wpia-packit/training"));
    QCOMPARE(item->text(1), QStringLiteral("unfinished — recover"));
    QVERIFY2(item->text(2).contains(QStringLiteral("move-root")), qPrintable(item->text(2)));
    const QString command = QStringLiteral("opsdeck recover run-1 --confirm training");
    QVERIFY2(item->toolTip(2).contains(command), qPrintable(item->toolTip(2)));
    // The command to type in a terminal, one click away.
    auto* copy = qobject_cast<QPushButton*>(list->itemWidget(list->topLevelItem(0), 4));
    QVERIFY(copy);
    QGuiApplication::clipboard()->clear();
    copy->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), command);
}

QTEST_MAIN(TestRunsDock)
#include "tst_runsdock.moc"
