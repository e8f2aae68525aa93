// Recovering from the console a run whose console was killed: a Packit wipe SIGKILLed with the root moved aside and
// the units stopped is listed in the Runs dock, "Recover…" plans its recovery in the Packit pane, the dialog shows
// that plan and wants the run's confirmation typed (the host is production here), and the recovery runs in the dock,
// puts the instance back as it was and closes the killed run in the journal.
#include "ConfirmDialog.h"
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
} // namespace

class TestRecoverUnfinished : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void killedWipeIsRecoveredFromTheRunsDock();

private:
    // Starts the wipe held at `step`, SIGKILLs the console there, and returns the run's id (empty if it failed).
    QString killWipeAt(const QString& step);
    QString journalPath() const { return m_sandbox.dir() + QStringLiteral("/journal.sqlite"); }
    bool isUnfinished(const QString& runId) const;

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QString m_inventory;
    QString m_seeded; // reside-dev's fingerprint before the case
};

void TestRecoverUnfinished::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    const QProcessEnvironment environment = m_sandbox.environment();
    for (const QString& key : environment.keys()) {
        if (key.startsWith(QStringLiteral("OPSDECK_")))
            qputenv(key.toUtf8().constData(), environment.value(key).toUtf8());
    }
    // wpia-packit-dev made production, so that the recovery's dialog asks for the run's confirmation to be typed.
    QFile source(m_sandbox.inventoryPath());
    QVERIFY(source.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(source.readAll());
    const qsizetype at = text.indexOf(QStringLiteral("name: ") + kHost);
    QVERIFY(at > 0);
    text.insert(text.indexOf(u'\n', at) + 1, QStringLiteral("    tags: [production]\n"));
    m_inventory = m_temp.filePath(QStringLiteral("inventory.yaml"));
    QFile target(m_inventory);
    QVERIFY(target.open(QIODevice::WriteOnly));
    target.write(text.toUtf8());
    target.close();
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    m_seeded = m_packit.fingerprint(kHost, kInstance);
}

void TestRecoverUnfinished::cleanupTestCase()
{
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

QString TestRecoverUnfinished::killWipeAt(const QString& step)
{
    const QString hold = m_temp.filePath(QStringLiteral("hold"));
    QFile holdFile(hold);
    if (!holdFile.open(QIODevice::WriteOnly))
        return {};
    holdFile.close();
    Journal journal(journalPath());
    QString error;
    if (!journal.open(&error)) {
        qWarning("cannot open the journal: %s", qPrintable(error));
        return {};
    }
    qint64 from = 0;
    for (const JournalEntry& entry : journal.entries())
        from = std::max(from, entry.seq);
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), step);
    environment.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), hold);
    QProcess cli;
    cli.setProcessEnvironment(environment);
    cli.start(QStringLiteral(OPSDECK_BINARY),
        { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--inventory"), m_inventory,
            QStringLiteral("--host"), kHost, QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"),
            kInstance });
    QString runId;
    const bool ended = QTest::qWaitFor(
        [&] {
            if (cli.state() == QProcess::NotRunning)
                return true;
            for (const JournalEntry& entry : journal.entries()) {
                if (entry.seq > from && entry.kind == QStringLiteral("step-start") && entry.target == kTarget
                    && entry.data.value(QStringLiteral("step")).toString() == step)
                    runId = entry.runId;
            }
            return !runId.isEmpty();
        },
        120000);
    if (!ended || runId.isEmpty() || cli.state() == QProcess::NotRunning || cli.processId() <= 0) {
        qWarning("the wipe did not hold at %s: %s", qPrintable(step), cli.readAllStandardError().constData());
        return {};
    }
    ::kill(static_cast<pid_t>(cli.processId()), SIGKILL);
    cli.waitForFinished(10000);
    QFile::remove(hold);
    return runId;
}

void TestRecoverUnfinished::killedWipeIsRecoveredFromTheRunsDock()
{
    // Killed with the root moved aside and the rows still there: the units are down and the instance is empty.
    const QString runId = killWipeAt(QStringLiteral("delete-rows"));
    QVERIFY(!runId.isEmpty());
    QVERIFY(isUnfinished(runId));
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("outpack-reside-dev")), QStringLiteral("inactive"));
    QVERIFY(m_packit.fingerprint(kHost, kInstance) != m_seeded);

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
    QVERIFY2(recover && recover->objectName() == QStringLiteral("recoverRun"), "no Recover… for the killed wipe");
    QVERIFY(recover->toolTip().contains(QStringLiteral("opsdeck recover %1 --confirm %2").arg(runId, kInstance)));

    // The real dialog, answered from inside its own event loop: the recovery's plan, the run's confirmation typed.
    QString title;
    QString details;
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
            details += label->text() + u'\n';
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        if (!verb || !typed) {
            dialog->close();
            return;
        }
        disabledBeforeTyping = !verb->isEnabled();
        QTest::keyClicks(typed, kInstance);
        enabledAfterTyping = verb->isEnabled();
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    recover->click();
    // The pane that recovers it is shown: its banner says what went wrong, if anything does.
    QCOMPARE(window.sidebar()->currentItem()->text(), QStringLiteral("Packit"));
    QVERIFY(QTest::qWaitFor([&] { return !title.isEmpty(); }, 60000));
    QCOMPARE(title, QStringLiteral("Recover packit-wipe on %1?").arg(kTarget));
    QVERIFY2(details.contains(runId), qPrintable(details));
    QVERIFY(disabledBeforeTyping);
    QVERIFY(enabledAfterTyping);

    // The recovery runs in the dock; the killed run's row says it is being recovered, then recovered.
    QTRY_COMPARE_WITH_TIMEOUT(row->text(1), QStringLiteral("being recovered"), 10000);
    QVERIFY(finished.wait(180000));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.operation, QStringLiteral("packit-wipe-recover"));
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    QCOMPARE(record.parameters.value(QStringLiteral("recovers")).toString(), runId);
    QVERIFY2(record.summary.contains(QStringLiteral("End state: untouched")), qPrintable(record.summary));
    QCOMPARE(row->text(1), QStringLiteral("recovered"));
    QCOMPARE(row->text(2), QStringLiteral("Recovered by run %1").arg(record.id));

    // The instance is as it was, both units active, and the journal closed the killed run.
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("outpack-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.unitState(kHost, QStringLiteral("packit-api-reside-dev")), QStringLiteral("active"));
    QCOMPARE(m_packit.fingerprint(kHost, kInstance), m_seeded);
    const QString base = m_packit.hostRoot(kHost) + QStringLiteral("/var/lib/outpack");
    QVERIFY(QDir(base).entryList({ QStringLiteral(".opsdeck-wipe-*") }, QDir::AllEntries | QDir::Hidden).isEmpty());
    QVERIFY(!isUnfinished(runId));
}

QTEST_MAIN(TestRecoverUnfinished)
#include "tst_recoverunfinished.moc"
