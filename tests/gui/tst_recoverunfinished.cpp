// Recovering from the console a run whose console was killed: the run is listed in the Runs dock, "Recover…" plans
// its recovery in the pane of its system, the dialog shows that plan and wants the run's confirmation typed (both
// targets are production here), and the recovery runs in the dock and closes the killed run in the journal. A Packit
// wipe killed with the root moved aside and the units stopped is put back as it was; a datamon count killed while
// its detached build runs is re-attached to and finished (issue 13).
#include "ErrorBanner.h"
#include "KilledRun.h"
#include "MainWindow.h"
#include "PackitPane.h"
#include "PackitSandbox.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "runbook/Journal.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

#include <signal.h>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
const QString kHost = QStringLiteral("wpia-packit-dev");
const QString kInstance = QStringLiteral("reside-dev");
const QString kTarget = QStringLiteral("wpia-packit-dev/reside-dev");
const QString kContext = QStringLiteral("dm-prod"); // a production context: its name is typed
} // namespace

class TestRecoverUnfinished : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void killedWipeIsRecoveredFromTheRunsDock();
    void killedPurgeCountReattachesFromTheRunsDock();
    void aRunWhoseTargetLeftTheInventorySaysWhyInItsPane();

private:
    // Starts `opsdeck ARGUMENTS --inventory m_inventory`, SIGKILLs it once the journal has an entry of its run that
    // `reached` accepts, and returns the run's id (empty if it ended first).
    QString killConsoleWhen(const QStringList& arguments,
        const QProcessEnvironment& environment,
        const std::function<bool(const JournalEntry&)>& reached);
    // Opens the console, checks the run's row, clicks Recover…, answers the dialog (typing `confirmation`) and waits
    // for the recovery run (its record in *record) and the row and journal that follow; `pane` is the pane it shows.
    void recoverFromTheDock(const QString& runId, const QString& confirmation, const QString& pane, RunRecord* record);
    QString slowSwitch() const { return m_sandbox.dir() + QStringLiteral("/datamon/switches/delay-per-key-ms"); }
    QString journalPath() const { return m_sandbox.dir() + QStringLiteral("/journal.sqlite"); }
    bool isUnfinished(const QString& runId) const;

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QString m_inventory;
    QString m_seeded; // reside-dev's fingerprint before the case
    QJsonObject m_summary; // the datamon seed's counts
};

void TestRecoverUnfinished::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
    // wpia-packit-dev made production, so that the recovery's dialog asks for the run's confirmation to be typed.
    m_inventory = m_temp.filePath(QStringLiteral("inventory.yaml"));
    QVERIFY(m_sandbox.writeInventoryWith(m_inventory, kHost, QStringLiteral("tags: [production]")));
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    m_seeded = m_packit.fingerprint(kHost, kInstance);
    QFile summary(m_sandbox.dir() + QStringLiteral("/datamon/summary.json"));
    QVERIFY(summary.open(QIODevice::ReadOnly));
    m_summary = QJsonDocument::fromJson(summary.readAll()).object();
}

void TestRecoverUnfinished::cleanupTestCase()
{
    // The count's index goes, so that the sandbox is as `up` made it for the tests after.
    QFile::remove(slowSwitch());
    if (m_sandbox.gcsObjectCount(QStringLiteral("dm-prod-meta"), QStringLiteral("reverse-index/")) > 0)
        QCOMPARE(m_packit.ssh(QStringLiteral("bastion"),
                     { QStringLiteral("gcloud"), QStringLiteral("storage"), QStringLiteral("rm"),
                         QStringLiteral("gs://dm-prod-meta/reverse-index/**") }),
            0);
    if (m_packit.fingerprint(kHost, kInstance) != m_seeded) {
        QString error;
        QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    }
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

bool TestRecoverUnfinished::isUnfinished(const QString& runId) const
{
    Journal journal(journalPath());
    QString error;
    if (!journal.open(&error))
        return false;
    const QList<Journal::UnfinishedRun> runs = journal.unfinishedRuns(&error);
    return std::any_of(
        runs.cbegin(), runs.cend(), [&](const Journal::UnfinishedRun& run) { return run.runId == runId; });
}

QString TestRecoverUnfinished::killConsoleWhen(const QStringList& arguments,
    const QProcessEnvironment& environment,
    const std::function<bool(const JournalEntry&)>& reached)
{
    Journal journal(journalPath());
    QString error;
    if (!journal.open(&error)) {
        qWarning("cannot open the journal: %s", qPrintable(error));
        return {};
    }
    qint64 from = 0;
    for (const JournalEntry& entry : journal.entries())
        from = std::max(from, entry.seq);
    QProcess cli;
    cli.setProcessEnvironment(environment);
    cli.start(QStringLiteral(OPSDECK_BINARY), arguments + QStringList { QStringLiteral("--inventory"), m_inventory });
    QString runId;
    const bool ended = QTest::qWaitFor(
        [&] {
            if (cli.state() == QProcess::NotRunning)
                return true;
            for (const JournalEntry& entry : journal.entries()) {
                if (entry.seq > from && reached(entry))
                    runId = entry.runId;
            }
            return !runId.isEmpty();
        },
        120000);
    if (!ended || runId.isEmpty() || cli.state() == QProcess::NotRunning || cli.processId() <= 0) {
        qWarning("%s ended before it was killed: %s", qPrintable(arguments.join(u' ')),
            cli.readAllStandardError().constData());
        return {};
    }
    ::kill(static_cast<pid_t>(cli.processId()), SIGKILL);
    cli.waitForFinished(10000);
    return runId;
}

void TestRecoverUnfinished::recoverFromTheDock(
    const QString& runId, const QString& confirmation, const QString& pane, RunRecord* record)
{
    QVERIFY(isUnfinished(runId));
    MainWindow window(m_inventory, systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* runs = window.runs()->findChild<QTreeWidget*>(QStringLiteral("runs"));
    QVERIFY(runs);
    QTreeWidgetItem* row = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (int i = 0; i < runs->topLevelItemCount(); ++i) {
                if (runs->topLevelItem(i)->data(0, Qt::UserRole).toString() == runId)
                    row = runs->topLevelItem(i);
            }
            return row != nullptr;
        }(),
        10000);
    QVERIFY(window.runs()->isVisible());
    QCOMPARE(row->text(1), QStringLiteral("unfinished — recover"));
    auto* recover = qobject_cast<QPushButton*>(runs->itemWidget(row, 4));
    QVERIFY2(recover && recover->objectName() == QStringLiteral("recoverRun"), "no Recover… for the killed run");
    QVERIFY(recover->toolTip().contains(QStringLiteral("opsdeck recover %1 --confirm %2").arg(runId, confirmation)));

    // The real dialog, answered from inside its own event loop: the recovery's plan, the run's confirmation typed.
    QString title;
    QString text;
    bool disabledBeforeTyping = false;
    bool enabledAfterTyping = false;
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        title = dialog->windowTitle();
        for (const QLabel* label : dialog->findChildren<QLabel*>())
            text += label->text() + u'\n';
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        if (!verb || !typed) {
            dialog->close();
            return;
        }
        disabledBeforeTyping = !verb->isEnabled();
        QTest::keyClicks(typed, confirmation);
        enabledAfterTyping = verb->isEnabled();
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    recover->click();
    // The pane that recovers it is shown: its banner says what went wrong, if anything does.
    QCOMPARE(window.sidebar()->currentItem()->text(), pane);
    QVERIFY(QTest::qWaitFor([&] { return !title.isEmpty(); }, 60000));
    // The dialog names the run by its one name, as its row does.
    QCOMPARE(title, QStringLiteral("Recover the run “%1”?").arg(row->text(0)));
    QVERIFY2(text.contains(runId), qPrintable(text));
    QVERIFY(disabledBeforeTyping);
    QVERIFY(enabledAfterTyping);

    // The recovery runs in the dock; the killed run's row says it is being recovered, then recovered.
    QTRY_COMPARE_WITH_TIMEOUT(row->text(1), QStringLiteral("being recovered"), 10000);
    QVERIFY(finished.wait(180000));
    *record = finished.first().first().value<RunRecord>();
    QVERIFY2(record->outcome == RunRecord::Outcome::Succeeded, qPrintable(record->summary));
    QCOMPARE(record->parameters.value(QStringLiteral("recovers")).toString(), runId);
    QCOMPARE(row->text(1), QStringLiteral("recovered"));
    QCOMPARE(row->text(2), QStringLiteral("Recovered by run %1").arg(record->id));
    QVERIFY(!isUnfinished(runId));
}

void TestRecoverUnfinished::killedWipeIsRecoveredFromTheRunsDock()
{
    // Killed with the root moved aside and the rows still there: the units are down and the instance is empty. The
    // console holds at the step (after its start is journaled, before its action) until the hold file goes.
    const QString hold = m_temp.filePath(QStringLiteral("hold"));
    QFile holdFile(hold);
    QVERIFY(holdFile.open(QIODevice::WriteOnly));
    holdFile.close();
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), QStringLiteral("delete-rows"));
    environment.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), hold);
    const QString runId
        = killConsoleWhen({ QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), kHost,
                              QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"), kInstance },
            environment, [](const JournalEntry& entry) {
                return entry.kind == QStringLiteral("step-start") && entry.target == kTarget
                    && entry.data.value(QStringLiteral("step")).toString() == QStringLiteral("delete-rows");
            });
    QFile::remove(hold);
    QVERIFY(!runId.isEmpty());
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("outpack-reside-dev")), QStringLiteral("inactive"));
    QVERIFY(m_packit.fingerprint(kHost, kInstance) != m_seeded);

    RunRecord record;
    recoverFromTheDock(runId, kInstance, QStringLiteral("Packit"), &record);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(record.operation, QStringLiteral("packit-wipe-recover"));
    QVERIFY2(record.summary.contains(QStringLiteral("End state: untouched")), qPrintable(record.summary));

    // The instance is as it was, both units active.
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.fingerprint(kHost, kInstance), m_seeded);
    const QString base = m_packit.hostRoot(kHost) + QStringLiteral("/var/lib/outpack");
    QVERIFY(QDir(base).entryList({ QStringLiteral(".opsdeck-wipe-*") }, QDir::AllEntries | QDir::Hidden).isEmpty());
}

// Issue 13: the console is killed while the count's build-reverse-lookup runs detached on the bastion (slowed); the
// job goes on. The restarted console's Recover… re-attaches to it, follows it to its end, runs the dry run the dead
// console never started, and counts what a run that was never interrupted counts.
void TestRecoverUnfinished::killedPurgeCountReattachesFromTheRunsDock()
{
    QFile slow(slowSwitch());
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("50\n");
    slow.close();
    const QString runId
        = killConsoleWhen({ QStringLiteral("run"), QStringLiteral("datamon-purge"), QStringLiteral("--context"),
                              kContext, QStringLiteral("--dry-run-only"), QStringLiteral("--confirm"), kContext },
            m_sandbox.environment(), [](const JournalEntry& entry) {
                return entry.kind == QStringLiteral("job") && entry.operation == QStringLiteral("datamon-purge")
                    && entry.data.value(QStringLiteral("dir")).toString().endsWith(QStringLiteral("/build-index"));
            });
    QVERIFY(!runId.isEmpty());
    // The build goes on without its console: its datamon2 holds the lock.
    QTRY_COMPARE_WITH_TIMEOUT(
        m_sandbox.gcsObjectCount(QStringLiteral("dm-prod-meta"), QStringLiteral("purge.lock")), 1, 10000);
    QFile::remove(slowSwitch());

    RunRecord record;
    recoverFromTheDock(runId, kContext, QStringLiteral("datamon"), &record);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(record.operation, QStringLiteral("datamon-purge"));
    const QJsonObject bucket
        = m_summary.value(QStringLiteral("blobBuckets")).toObject().value(QStringLiteral("dm-prod-blob")).toObject();
    QCOMPARE(record.after.value(QStringLiteral("keysToDelete")).toInteger(),
        bucket.value(QStringLiteral("unreferencedOldKeys")).toInteger());
    QCOMPARE(m_sandbox.gcsObjectCount(QStringLiteral("dm-prod-meta"), QStringLiteral("purge.lock")), 0);
}

// The run names a host the inventory no longer has: Recover… shows why in the Packit pane's banner, no dialog opens,
// and the row still offers the run.
void TestRecoverUnfinished::aRunWhoseTargetLeftTheInventorySaysWhyInItsPane()
{
    // A journal of its own, so that this run is nobody else's unfinished run.
    QFile source(m_inventory);
    QVERIFY(source.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(source.readAll());
    const QString journalLine = QStringLiteral("path: ") + journalPath();
    QVERIFY(text.contains(journalLine));
    const QString path = m_temp.filePath(QStringLiteral("gone-journal.sqlite"));
    text.replace(journalLine, QStringLiteral("path: ") + path);
    const QString inventory = m_temp.filePath(QStringLiteral("gone-inventory.yaml"));
    QFile target(inventory);
    QVERIFY(target.open(QIODevice::WriteOnly));
    target.write(text.toUtf8());
    target.close();
    Journal journal(path);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    const QString runId = QStringLiteral("run-gone");
    QVERIFY(
        journalKilledRun(journal, runId, QStringLiteral("packit-wipe"), QStringLiteral("wpia-packit-gone/reside-dev"),
            { { QStringLiteral("confirmWith"), kInstance },
                { QStringLiteral("parameters"),
                    QJsonObject { { QStringLiteral("host"), QStringLiteral("wpia-packit-gone") },
                        { QStringLiteral("instance"), kInstance },
                        { QStringLiteral("runTag"), QStringLiteral("0a1b2c3d") } } } }));

    MainWindow window(inventory, systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* runs = window.runs()->findChild<QTreeWidget*>(QStringLiteral("runs"));
    QTRY_COMPARE_WITH_TIMEOUT(runs->topLevelItemCount(), 1, 10000);
    QTreeWidgetItem* row = runs->topLevelItem(0);
    auto* recover = qobject_cast<QPushButton*>(runs->itemWidget(row, 4));
    QVERIFY(recover);
    QCOMPARE(recover->objectName(), QStringLiteral("recoverRun"));
    bool dialog = false;
    QTimer watch;
    connect(&watch, &QTimer::timeout, this, [&] {
        if (QWidget* modal = QApplication::activeModalWidget()) {
            dialog = true;
            modal->close();
        }
    });
    watch.start(50);
    recover->click();
    auto* banner = window.pane(QStringLiteral("Packit"))->findChild<ErrorBanner*>();
    QVERIFY(banner);
    QTRY_VERIFY_WITH_TIMEOUT(!banner->text().isEmpty(), 10000);
    QVERIFY2(banner->text().contains(QStringLiteral("Preparing the recovery of run run-gone (packit-wipe)"))
            && banner->text().contains(QStringLiteral("wpia-packit-gone")),
        qPrintable(banner->text()));
    QVERIFY(!dialog);
    QCOMPARE(row->text(1), QStringLiteral("unfinished — recover"));
}

QTEST_MAIN(TestRecoverUnfinished)
#include "tst_recoverunfinished.moc"
