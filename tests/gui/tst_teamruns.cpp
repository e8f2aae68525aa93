// Issue 14, point 3: the runs of other consoles on the team journal, live. Two consoles (the opsdeck CLI, each with a
// HOME of its own) wipe two Packit instances through the sandbox's team journal (the console user, through the
// bastion's tunnel, TLS verified, the chain keyed), each held at its delete step; the console's Runs dock lists both
// with who runs them and at which step, the Packit pane says their targets are locked by someone else, and both
// rows end as their runs end. OPSDECK_SCREENSHOT_DIR: a screenshot of the window with both runs under way.
#include "MainWindow.h"
#include "PackitSandbox.h"
#include "RunsDock.h"
#include "RunsElsewhereBanner.h"
#include "Sandbox.h"
#include "SystemPane.h"
#include "Systems.h"
#include "runbook/Journal.h"

#include <QDir>
#include <QFile>
#include <QListWidget>
#include <QProgressBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {
struct Wipe
{
    QString host;
    QString instance;
    QString target() const { return host + u'/' + instance; }
};
const Wipe kReside { u"wpia-packit-dev"_s, u"reside-dev"_s };
const Wipe kKipling { u"wpia-packit-private"_s, u"kipling"_s };
const QString kDeleteTitle = u"Delete every packet and packet group, in one transaction"_s;
} // namespace

class TestTeamRuns : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void twoOtherConsolesRunsShowLiveAndEnd();

private:
    // A console wiping `wipe`, held at its delete step while `hold` exists.
    std::unique_ptr<BackgroundCli> startWipe(const Wipe& wipe, const QString& hold);
    QString teamInventory() const { return m_sandbox.dir() + u"/inventory-team.yaml"_s; }

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
};

void TestTeamRuns::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
    // The owner makes the team journal's schema once (the consoles may not).
    const CliRun made
        = runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, m_sandbox.dir() + u"/inventory-team-owner.yaml"_s },
            m_sandbox.environment());
    QVERIFY2(made.exitCode == 0, made.err.constData());
    QString error;
    for (const Wipe& wipe : { kReside, kKipling })
        QVERIFY2(m_packit.reseed(wipe.host, wipe.instance, &error), qPrintable(error));
}

void TestTeamRuns::cleanupTestCase()
{
    QString error;
    for (const Wipe& wipe : { kReside, kKipling })
        QVERIFY2(m_packit.reseed(wipe.host, wipe.instance, &error), qPrintable(error));
}

std::unique_ptr<BackgroundCli> TestTeamRuns::startWipe(const Wipe& wipe, const QString& hold)
{
    QFile file(hold);
    if (!file.open(QIODevice::WriteOnly))
        return nullptr;
    file.close();
    const QString home = m_temp.filePath(wipe.instance);
    QDir().mkpath(home);
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"HOME"_s, home);
    environment.insert(u"OPSDECK_HOLD_AT_STEP"_s, u"delete-rows"_s);
    environment.insert(u"OPSDECK_HOLD_WHILE"_s, hold);
    return std::make_unique<BackgroundCli>(
        QStringList { u"run"_s, u"packit-wipe"_s, u"--host"_s, wipe.host, u"--instance"_s, wipe.instance,
            u"--confirm"_s, wipe.instance, u"--inventory"_s, teamInventory() },
        environment);
}

void TestTeamRuns::twoOtherConsolesRunsShowLiveAndEnd()
{
    MainWindow window(teamInventory(), systemPanes());
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* list = window.runs()->findChild<QTreeWidget*>(u"runs"_s);
    QVERIFY(list);
    const auto rowOf = [list](const Wipe& wipe) -> QTreeWidgetItem* {
        for (int i = 0; i < list->topLevelItemCount(); ++i) {
            if (list->topLevelItem(i)->text(0) == RunRecord::runName(u"packit-wipe"_s, wipe.target()))
                return list->topLevelItem(i);
        }
        return nullptr;
    };
    const auto barOf = [list](QTreeWidgetItem* row) { return qobject_cast<QProgressBar*>(list->itemWidget(row, 1)); };
    const auto heldAtDelete = [&](const Wipe& wipe) {
        QTreeWidgetItem* row = rowOf(wipe);
        return row && row->text(2) == kDeleteTitle;
    };

    const QString holdReside = m_temp.filePath(u"hold-reside"_s);
    const QString holdKipling = m_temp.filePath(u"hold-kipling"_s);
    const auto reside = startWipe(kReside, holdReside);
    QVERIFY(reside && reside->runsUntil([&] { return heldAtDelete(kReside); }, 60000));
    const auto kipling = startWipe(kKipling, holdKipling);
    QVERIFY2(
        kipling && kipling->runsUntil([&] { return heldAtDelete(kKipling); }, 60000), kipling->output().constData());

    // Who runs it (this machine's user, another process), where it is, since when.
    QVERIFY(window.runs()->isVisible());
    for (const Wipe& wipe : { kReside, kKipling }) {
        QTreeWidgetItem* row = rowOf(wipe);
        QCOMPARE(row->text(5), Journal::localUser());
        QVERIFY2(row->toolTip(5).startsWith(u"Another console: process "_s), qPrintable(row->toolTip(5)));
        QVERIFY(row->text(3).startsWith(u"started "_s));
        QCOMPARE(barOf(row)->format(), u"step 6 of 11"_s);
        QVERIFY(!list->itemWidget(row, 4)); // nothing to do here about another console's run
    }
    window.sidebar()->setCurrentRow(
        int(window.sidebar()->row(window.sidebar()->findItems(u"Packit"_s, Qt::MatchExactly).first())));
    auto* banner = window.pane(u"Packit"_s)->findChild<RunsElsewhereBanner*>();
    QVERIFY(banner);
    QTRY_VERIFY(banner->text().contains(kKipling.target()));
    for (const Wipe& wipe : { kReside, kKipling })
        QVERIFY2(banner->text().contains(u"<b>%1</b> is locked by <b>%2</b>"_s.arg(wipe.target(), Journal::localUser()))
                && banner->text().contains(u"at step 6 of 11: "_s + kDeleteTitle)
                // The run by its one name, as the Runs dock lists it.
                && banner->text().contains(RunRecord::runName(u"packit-wipe"_s, wipe.target()) + u" since "_s),
            qPrintable(banner->text()));
    if (const QString dir = qEnvironmentVariable("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(window.grab().save(dir + u"/team-runs.png"_s));

    // Each row ends with its run; the pane no longer says its target is locked.
    QFile::remove(holdReside);
    QCOMPARE(reside->wait(60000), 0);
    QTRY_COMPARE_WITH_TIMEOUT(barOf(rowOf(kReside))->format(), u"succeeded"_s, 10000);
    QVERIFY2(
        rowOf(kReside)->text(2).startsWith(kReside.target() + u" was wiped"_s), qPrintable(rowOf(kReside)->text(2)));
    QVERIFY(rowOf(kReside)->text(3).startsWith(u"ended "_s));
    QTRY_VERIFY(!banner->text().contains(kReside.target()));
    QVERIFY(banner->text().contains(kKipling.target()));
    QFile::remove(holdKipling);
    QCOMPARE(kipling->wait(60000), 0);
    QTRY_COMPARE_WITH_TIMEOUT(barOf(rowOf(kKipling))->format(), u"succeeded"_s, 10000);
    QTRY_VERIFY(banner->isHidden());
}

QTEST_MAIN(TestTeamRuns)
#include "tst_teamruns.moc"
