// Faults during a Packit restore, one at every step: the console SIGKILLed (then `opsdeck recover`, the
// packit-restore-recover run), and the SSH connection killed (the restore run's own recovery). Each case wipes
// reside-dev (on wpia-packit-dev), pushes 3 packets so that the restore has something to set aside, and restores the
// wipe's window held at the step (OPSDECK_HOLD_AT_STEP) so that the fault lands exactly there. Every time the
// instance must end exactly BEFORE the restore (the pushed packets in place, the wipe's window still open and
// restorable again, nothing left aside) or exactly AFTER it (the seed's rows and files back, the wipe's window closed
// as restored, the pushed packets kept aside as a window of the restore or of its recovery), never in between.
#include "CliRuns.h"
#include "HeldRun.h"
#include "PackitSandbox.h"
#include "Sandbox.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
const QString kHost = QStringLiteral("wpia-packit-dev");
const QString kInstance = QStringLiteral("reside-dev");
const QString kTarget = QStringLiteral("wpia-packit-dev/reside-dev");
const QString kSetAside = QStringLiteral("reside-dev:set-aside-3-packets");
// A wipe, a restore or a recovery of reside-dev, with both units stopped and started, on a slow machine.
constexpr int kRunMs = 300000;

// A report's outcome, summary and steps (id, state, error, the end of the output), for a failure message.
QString reportText(const QJsonObject& report)
{
    if (report.isEmpty())
        return QStringLiteral("(no report)");
    QStringList lines = { QStringLiteral("run %1 (%2): %3")
                              .arg(report.value(QStringLiteral("id")).toString(),
                                  report.value(QStringLiteral("operation")).toString(),
                                  report.value(QStringLiteral("outcome")).toString()),
        QStringLiteral("summary: ") + report.value(QStringLiteral("summary")).toString() };
    for (const QJsonValue& value : report.value(QStringLiteral("steps")).toArray()) {
        const QJsonObject step = value.toObject();
        const QString output = step.value(QStringLiteral("output")).toString().trimmed();
        lines << QStringLiteral("  step %1%2: %3%4%5")
                     .arg(step.value(QStringLiteral("id")).toString(),
                         step.value(QStringLiteral("recovery")).toBool() ? QStringLiteral(" (recovery)") : QString(),
                         step.value(QStringLiteral("state")).toString(),
                         step.value(QStringLiteral("error")).toString().isEmpty()
                             ? QString()
                             : QStringLiteral(" error: ") + step.value(QStringLiteral("error")).toString(),
                         output.isEmpty() ? QString() : QStringLiteral(" output: ") + output.right(300));
    }
    return lines.join(u'\n');
}
} // namespace

class TestRestoreFaults : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void killedRestoreIsRecovered_data();
    void killedRestoreIsRecovered();
    void killedConnectionDuringRestoreIsRecovered_data();
    void killedConnectionDuringRestoreIsRecovered();

private:
    void addSteps(bool everyKind);
    CliRun cli(const QStringList& arguments, int timeoutMs = kRunMs) const;
    QJsonObject readReport(const QString& path) const;
    // Wipes reside-dev (its window kept), pushes 3 packets and records what BEFORE and AFTER a restore look like.
    void prepare();
    // Starts `opsdeck restore WIPE_RUN --confirm reside-dev:set-aside-3-packets` held at `step` and returns once the
    // journal shows that step started (false if the run ended first). Removing holdFile() lets the held run go on.
    bool startRestoreHeldAt(QProcess* cli, const QString& step, const QString& reportPath);
    QString holdFile() const { return m_temp.filePath(QStringLiteral("hold")); }
    // "before" or "after" if reside-dev is exactly one of them, else what was found. `runs`: the restore run and
    // its recovery run, one of which keeps the set-aside window when the restore went through.
    QString endState(const QStringList& runs);
    // After "before": the wipe's window restores as if nothing had happened.
    void restoreAgain();
    // Paths beside the root: ".opsdeck-KIND-reside-dev-TAG" and its ".restore", sorted; both kinds if `kind` is empty.
    QStringList keptPaths(const QString& kind = {}) const { return m_packit.keptPaths(kHost, kInstance, kind); }
    // Rows and file list (fingerprint()) and file contents: fullFingerprint() without the sequences.
    QString rowsAndContents() const { return m_packit.rowsAndContents(kHost, kInstance); }
    QStringList inactiveUnits() const;
    QJsonArray unfinished() const;
    QString unfinishedRunId() const;

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QProcessEnvironment m_environment;
    // Per case:
    QString m_seededRows; // rowsAndContents() of the seed
    QString m_wipeRun; // the wipe whose window is restored
    QStringList m_wipeKept; // its kept root and bundle
    QStringList m_pushedIds; // the 3 packets pushed after the wipe
    QString m_before; // fullFingerprint() with them pushed: BEFORE
};

void TestRestoreFaults::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    m_environment = m_sandbox.environment();
    QVERIFY(m_packit.seeded(kInstance).value(QStringLiteral("packets")).toInteger() > 0);
}

void TestRestoreFaults::init()
{
    QFile::remove(holdFile());
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")),
        m_packit.seeded(kInstance).value(QStringLiteral("packets")).toInteger());
    QCOMPARE(keptPaths(), QStringList());
    QCOMPARE(inactiveUnits(), QStringList());
}

void TestRestoreFaults::cleanupTestCase()
{
    QFile::remove(holdFile());
    // Leave reside-dev as `sandbox up` made it, for the tests after this one (and wpia-packit-dev reachable).
    m_sandbox.script(QStringLiteral("start-host"), { kHost });
    QString error;
    if (!m_packit.reseed(kHost, kInstance, &error))
        qWarning("cannot reseed %s: %s", qPrintable(kInstance), qPrintable(error));
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

// One step of each kind the restore has, in its order: nothing changed yet (units stopped), the root set aside, the
// one transaction, the kept root back, the units started, the bundle deleted, the set-aside's window. Steps that only
// repeat one of these (stop-units before check-stopped, start-units before check-started) are left out: the CI run
// has a time budget.
void TestRestoreFaults::addSteps(bool everyKind)
{
    QTest::addColumn<QString>("step");
    const QList<const char*> steps = everyKind
        ? QList<const char*> { "check-stopped", "set-aside-root", "restore-rows", "restore-root", "check-started",
              "remove-bundle", "keep-set-aside" }
        : QList<const char*> { "set-aside-root", "restore-rows", "restore-root", "keep-set-aside" };
    for (const char* step : steps)
        QTest::newRow(step) << QString::fromLatin1(step);
}

CliRun TestRestoreFaults::cli(const QStringList& arguments, int timeoutMs) const
{
    return runCli(arguments, m_environment, timeoutMs);
}

QJsonObject TestRestoreFaults::readReport(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

void TestRestoreFaults::prepare()
{
    m_seededRows = rowsAndContents();
    QVERIFY(!m_seededRows.contains(QStringLiteral("query failed")));
    const QString wipeReport = m_temp.filePath(QStringLiteral("wipe.json"));
    QFile::remove(wipeReport);
    const CliRun wiped = cli({ QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), kHost,
        QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"), kInstance, QStringLiteral("--report"),
        wipeReport });
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    const QJsonObject report = readReport(wipeReport);
    QCOMPARE(report.value(QStringLiteral("undo")).toObject().value(QStringLiteral("opened")).toBool(), true);
    m_wipeRun = report.value(QStringLiteral("id")).toString();
    QVERIFY(!m_wipeRun.isEmpty());
    m_wipeKept = keptPaths(QStringLiteral("wipe"));
    QCOMPARE(m_wipeKept.size(), 2);
    QCOMPARE(
        trashWindow(m_environment, m_wipeRun, false).value(QStringLiteral("state")).toString(), QStringLiteral("open"));

    QString error;
    m_pushedIds = m_packit.pushPackets(kHost, kInstance, 3, &error);
    QVERIFY2(m_pushedIds.size() == 3, qPrintable(error));
    m_before = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!m_before.isEmpty());
    QVERIFY(rowsAndContents() != m_seededRows);
}

bool TestRestoreFaults::startRestoreHeldAt(QProcess* cli, const QString& step, const QString& reportPath)
{
    return startHeldAtStep(cli, m_environment,
        { QStringLiteral("restore"), m_wipeRun, QStringLiteral("--confirm"), kSetAside, QStringLiteral("--report"),
            reportPath },
        { .step = step,
            .holdFile = holdFile(),
            .journalPath = m_sandbox.dir() + QStringLiteral("/journal.sqlite"),
            .target = kTarget,
            .operation = QStringLiteral("packit-restore"),
            .timeoutMs = kRunMs });
}

QStringList TestRestoreFaults::inactiveUnits() const
{
    QStringList inactive;
    for (const QString& unit : { QStringLiteral("outpack-reside-dev"), QStringLiteral("packit-api-reside-dev") }) {
        if (const QString state = m_packit.unitState(kHost, unit); state != QStringLiteral("active"))
            inactive << QStringLiteral("%1 is %2").arg(unit, state.isEmpty() ? QStringLiteral("unknown") : state);
    }
    return inactive;
}

QJsonArray TestRestoreFaults::unfinished() const
{
    const CliRun list
        = cli({ QStringLiteral("journal"), QStringLiteral("unfinished"), QStringLiteral("--json") }, 60000);
    return QJsonDocument::fromJson(list.out).array();
}

QString TestRestoreFaults::unfinishedRunId() const
{
    for (const QJsonValue& value : unfinished()) {
        if (value.toObject().value(QStringLiteral("target")).toString() == kTarget)
            return value.toObject().value(QStringLiteral("id")).toString();
    }
    return {};
}

QString TestRestoreFaults::endState(const QStringList& runs)
{
    QStringList problems = inactiveUnits();
    const QString full = m_packit.fullFingerprint(kHost, kInstance);
    const QString rows = rowsAndContents();
    const QStringList wipeLeft = keptPaths(QStringLiteral("wipe"));
    const QStringList restoreLeft = keptPaths(QStringLiteral("restore"));
    const QJsonObject wipeWindow = trashWindow(m_environment, m_wipeRun, true);
    const QString wipeWindowState = wipeWindow.value(QStringLiteral("state")).toString();
    const qint64 packets = m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet"));

    if (full == m_before) {
        if (wipeWindowState != QStringLiteral("open") || trashWindow(m_environment, m_wipeRun, false).isEmpty())
            problems << QStringLiteral("the wipe's window is %1 (closed by %2), not open")
                            .arg(wipeWindowState.isEmpty() ? QStringLiteral("not listed") : wipeWindowState,
                                wipeWindow.value(QStringLiteral("closedBy")).toString());
        if (wipeLeft != m_wipeKept)
            problems << QStringLiteral("the wipe's kept root and bundle are [%1], not [%2]")
                            .arg(wipeLeft.join(u' '), m_wipeKept.join(u' '));
        if (!restoreLeft.isEmpty())
            problems << QStringLiteral("left behind: ") + restoreLeft.join(u' ');
        return problems.isEmpty()
            ? QStringLiteral("before")
            : QStringLiteral("BEFORE's rows, sequences and files, but: ") + problems.join(QStringLiteral("; "));
    }
    if (rows == m_seededRows) {
        if (wipeWindowState != QStringLiteral("restored")
            || !runs.contains(wipeWindow.value(QStringLiteral("closedBy")).toString()))
            problems << QStringLiteral("the wipe's window is %1 (closed by %2), not restored by %3")
                            .arg(wipeWindowState.isEmpty() ? QStringLiteral("not listed") : wipeWindowState,
                                wipeWindow.value(QStringLiteral("closedBy")).toString(),
                                runs.join(QStringLiteral(" or ")));
        if (!wipeLeft.isEmpty())
            problems << QStringLiteral("the wipe's kept root or bundle is still there: ") + wipeLeft.join(u' ');
        // The pushed packets, root and rows, set aside and kept as a window.
        if (restoreLeft.size() != 2 || restoreLeft.at(1) != restoreLeft.at(0) + QStringLiteral(".restore")) {
            problems << QStringLiteral("the set-aside root and bundle are not there (found: [%1])")
                            .arg(restoreLeft.join(u' '));
        } else {
            const QString asideRoot = m_packit.outpackBase(kHost) + u'/' + restoreLeft.at(0);
            for (const QString& id : std::as_const(m_pushedIds)) {
                if (!QFileInfo::exists(asideRoot + QStringLiteral("/.outpack/metadata/") + id))
                    problems << QStringLiteral("pushed packet %1 is not in the set-aside root").arg(id);
            }
            if (!QFileInfo::exists(
                    m_packit.outpackBase(kHost) + u'/' + restoreLeft.at(1) + QStringLiteral("/SHA256SUMS")))
                problems << QStringLiteral("the set-aside bundle has no SHA256SUMS");
        }
        QStringList windows;
        bool kept = false;
        for (const QString& run : runs) {
            const QJsonObject window = trashWindow(m_environment, run, true);
            if (window.isEmpty())
                continue;
            windows << QStringLiteral("%1: %2 at %3")
                           .arg(run, window.value(QStringLiteral("state")).toString(),
                               window.value(QStringLiteral("where")).toString());
            kept = kept
                || (window.value(QStringLiteral("state")).toString() == QStringLiteral("open") && !restoreLeft.isEmpty()
                    && window.value(QStringLiteral("where")).toString().contains(restoreLeft.at(0)));
        }
        if (!kept)
            problems << QStringLiteral("no open window of %1 keeps the set-aside (windows: %2)")
                            .arg(runs.join(QStringLiteral(" or ")),
                                windows.isEmpty() ? QStringLiteral("none") : windows.join(QStringLiteral(", ")));
        return problems.isEmpty()
            ? QStringLiteral("after")
            : QStringLiteral("AFTER's rows and files, but: ") + problems.join(QStringLiteral("; "));
    }
    problems << QStringLiteral("%1 packets, %2 groups")
                    .arg(packets)
                    .arg(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet_group")));
    problems << QStringLiteral("fingerprint %1 (before: %2; seed's rows and contents: %3)")
                    .arg(full, m_before, m_seededRows);
    problems << QStringLiteral("wipe paths [%1], restore paths [%2], the wipe's window %3")
                    .arg(wipeLeft.join(u' '), restoreLeft.join(u' '),
                        wipeWindowState.isEmpty() ? QStringLiteral("not listed") : wipeWindowState);
    return QStringLiteral("NEITHER before nor after: ") + problems.join(QStringLiteral("; "));
}

void TestRestoreFaults::restoreAgain()
{
    const QString reportPath = m_temp.filePath(QStringLiteral("again.json"));
    QFile::remove(reportPath);
    const CliRun again = cli({ QStringLiteral("restore"), m_wipeRun, QStringLiteral("--confirm"), kSetAside,
        QStringLiteral("--report"), reportPath });
    QVERIFY2(again.exitCode == 0, qPrintable(cliRunText(again) + u'\n' + reportText(readReport(reportPath))));
    QCOMPARE(rowsAndContents(), m_seededRows);
    QCOMPARE(keptPaths(QStringLiteral("wipe")), QStringList());
    QCOMPARE(trashWindow(m_environment, m_wipeRun, true).value(QStringLiteral("state")).toString(),
        QStringLiteral("restored"));
    QCOMPARE(inactiveUnits(), QStringList());
}

void TestRestoreFaults::killedRestoreIsRecovered_data()
{
    addSteps(true);
}

// SIGKILL: nothing in the console runs any more. The restore stays without an outcome until `opsdeck recover`,
// which reads the packets' digest and ends BEFORE or AFTER.
void TestRestoreFaults::killedRestoreIsRecovered()
{
    QFETCH(QString, step);
    prepare();
    if (QTest::currentTestFailed())
        return;
    QProcess restore;
    const QString killedReport = m_temp.filePath(QStringLiteral("killed.json"));
    QVERIFY2(startRestoreHeldAt(&restore, step, killedReport),
        qPrintable(QString::fromUtf8(restore.readAllStandardOutput() + restore.readAllStandardError())));
    // processId() is 0 once the process ended, and kill(0, ...) would signal this test's own process group.
    QVERIFY(restore.processId() > 0);
    QCOMPARE(::kill(static_cast<pid_t>(restore.processId()), SIGKILL), 0);
    QVERIFY(restore.waitForFinished(10000));
    QFile::remove(holdFile());

    const QString runId = unfinishedRunId();
    QVERIFY2(!runId.isEmpty(), "the killed restore is not listed as unfinished");
    QVERIFY(runId != m_wipeRun);

    const QString reportPath = m_temp.filePath(QStringLiteral("recovered.json"));
    QFile::remove(reportPath);
    const CliRun recover = cli({ QStringLiteral("recover"), runId, QStringLiteral("--confirm"), kInstance,
        QStringLiteral("--report"), reportPath });
    const QJsonObject report = readReport(reportPath);
    QVERIFY2(recover.exitCode == 0, qPrintable(cliRunText(recover) + u'\n' + reportText(report)));
    QCOMPARE(report.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore-recover"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QString recoveryId = report.value(QStringLiteral("id")).toString();

    const QString state = endState({ runId, recoveryId });
    qInfo("killed at %s, recovered: %s", qPrintable(step), qPrintable(state));
    QVERIFY2(state == QStringLiteral("before") || state == QStringLiteral("after"),
        qPrintable(QStringLiteral("killed at %1, recovered to %2\n%3").arg(step, state, reportText(report))));
    // The killed run is closed in the journal, by the recovery that made it safe.
    for (const QJsonValue& value : unfinished())
        QVERIFY2(value.toObject().value(QStringLiteral("id")).toString() != runId, "still listed as unfinished");
    if (state == QStringLiteral("before"))
        restoreAgain();
}

// A dropped connection: the steps where the console is between two changes on the host.
void TestRestoreFaults::killedConnectionDuringRestoreIsRecovered_data()
{
    addSteps(false);
}

// The SSH connection (and the database tunnel on it) dies mid-step: the restore run's own recovery reconnects,
// reads the packets' digest and ends BEFORE or AFTER by itself.
void TestRestoreFaults::killedConnectionDuringRestoreIsRecovered()
{
    QFETCH(QString, step);
    prepare();
    if (QTest::currentTestFailed())
        return;
    const QString reportPath = m_temp.filePath(QStringLiteral("dropped.json"));
    QFile::remove(reportPath);
    QProcess restore;
    QVERIFY2(startRestoreHeldAt(&restore, step, reportPath),
        qPrintable(QString::fromUtf8(restore.readAllStandardOutput() + restore.readAllStandardError())));
    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { kHost }), 0);
    // The step's action meets the dead connection; the host comes back while the recovery retries.
    QVERIFY(QFile::remove(holdFile()));
    QTest::qWait(1500);
    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { kHost }), 0);
    QVERIFY2(restore.waitForFinished(kRunMs), "the restore run did not finish by itself");
    const QJsonObject report = readReport(reportPath);
    QVERIFY2(!report.isEmpty(),
        qPrintable(QStringLiteral("no report; exit %1, stderr: %2")
                       .arg(restore.exitCode())
                       .arg(QString::fromUtf8(restore.readAllStandardError()))));
    const QString runId = report.value(QStringLiteral("id")).toString();
    QCOMPARE(report.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore"));

    const QString state = endState({ runId });
    qInfo("connection dropped at %s, %s: %s", qPrintable(step),
        qPrintable(report.value(QStringLiteral("outcome")).toString()), qPrintable(state));
    QVERIFY2(state == QStringLiteral("before") || state == QStringLiteral("after"),
        qPrintable(QStringLiteral("connection dropped at %1, ended %2\n%3").arg(step, state, reportText(report))));
    // It finished by itself: it has an outcome, and nothing is left to recover.
    for (const QJsonValue& value : unfinished())
        QVERIFY2(value.toObject().value(QStringLiteral("id")).toString() != runId, "listed as unfinished");
    if (state == QStringLiteral("before"))
        restoreAgain();
}

QTEST_GUILESS_MAIN(TestRestoreFaults)
#include "tst_restorefaults.moc"
