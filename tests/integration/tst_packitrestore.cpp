// The Packit wipe's undo window end to end, as an admin uses it: the opsdeck executable wipes reside-dev (on
// wpia-packit-dev) keeping the old root and a bundle of every row it deleted, `opsdeck trash list` shows the window,
// and `opsdeck restore RUN_ID` puts everything back, ids, sequences and file contents too. Each case starts from a
// freshly seeded reside-dev.
#include "CliRuns.h"
#include "PackitSandbox.h"
#include "Sandbox.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QTest>

#include <cctype>

#include <sys/stat.h>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
const QString kHost = QStringLiteral("wpia-packit-dev");
const QString kInstance = QStringLiteral("reside-dev");
const QString kTarget = QStringLiteral("wpia-packit-dev/reside-dev");
// A wipe or a restore of 300 packets, with both units stopped and started, on a slow machine.
constexpr int kRunMs = 300000;
} // namespace

class TestPackitRestore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void wipeThenRestoreIsIdentical();
    void restoreAfterNewPacketsSetsThemAside();
    void tamperedBundleIsRefused();
    void windowOffNeedsReason();
    void expiredWindowEndsAtTheNextRun();
    void trashPurgeEndsTheWindow();

private:
    CliRun cli(const QStringList& arguments, int timeoutMs = kRunMs) const;
    // `run packit-wipe` of reside-dev, with `extra` arguments and a JSON report written to `reportName`.
    CliRun wipe(const QString& reportName, const QStringList& extra = {}) const;
    // `restore RUN_ID --confirm NAME` with a JSON report written to `reportName`.
    CliRun restore(const QString& runId, const QString& confirmation, const QString& reportName) const;
    // `restore RUN_ID --plan --json`.
    CliRun restorePlan(const QString& runId) const;
    QJsonObject readReport(const QString& reportName) const;
    // What wipes and restores of reside-dev left beside its root, sorted: ".opsdeck-wipe-reside-dev-TAG", then its
    // ".restore"; `kind` "wipe", "restore", or empty for both.
    QStringList keptPaths(const QString& kind = {}) const { return m_packit.keptPaths(kHost, kInstance, kind); }
    // Rows, file list and file contents, without the sequences.
    QString rowsAndContents() const { return m_packit.rowsAndContents(kHost, kInstance); }
    bool unitsActive() const;

    Sandbox m_sandbox;
    PackitSandbox m_packit { m_sandbox };
    QTemporaryDir m_temp;
    QProcessEnvironment m_environment;
    QJsonObject m_expected; // the seed's counts of reside-dev
};

void TestPackitRestore::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    m_environment = m_sandbox.environment();
    m_expected = m_packit.seeded(kInstance);
    QVERIFY(m_expected.value(QStringLiteral("packets")).toInteger() > 0);
}

void TestPackitRestore::init()
{
    QString error;
    QVERIFY2(m_packit.reseed(kHost, kInstance, &error), qPrintable(error));
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")),
        m_expected.value(QStringLiteral("packets")).toInteger());
    QCOMPARE(keptPaths(), QStringList());
    QVERIFY(unitsActive());
}

void TestPackitRestore::cleanupTestCase()
{
    // Leave reside-dev as `sandbox up` made it, for the tests after this one.
    QString error;
    if (!m_packit.reseed(kHost, kInstance, &error))
        qWarning("cannot reseed %s: %s", qPrintable(kInstance), qPrintable(error));
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

CliRun TestPackitRestore::cli(const QStringList& arguments, int timeoutMs) const
{
    return runCli(arguments, m_environment, timeoutMs);
}

CliRun TestPackitRestore::wipe(const QString& reportName, const QStringList& extra) const
{
    return cli(QStringList { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), kHost,
                   QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"), kInstance,
                   QStringLiteral("--report"), m_temp.filePath(reportName) }
        + extra);
}

CliRun TestPackitRestore::restore(const QString& runId, const QString& confirmation, const QString& reportName) const
{
    return cli({ QStringLiteral("restore"), runId, QStringLiteral("--confirm"), confirmation,
        QStringLiteral("--report"), m_temp.filePath(reportName) });
}

CliRun TestPackitRestore::restorePlan(const QString& runId) const
{
    return cli({ QStringLiteral("restore"), runId, QStringLiteral("--plan"), QStringLiteral("--json") });
}

QJsonObject TestPackitRestore::readReport(const QString& reportName) const
{
    QFile file(m_temp.filePath(reportName));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

bool TestPackitRestore::unitsActive() const
{
    return m_packit.unitState(kHost, QStringLiteral("outpack-reside-dev")) == QStringLiteral("active")
        && m_packit.unitState(kHost, QStringLiteral("packit-api-reside-dev")) == QStringLiteral("active");
}

// Wipe, then restore: the instance is as it was, to the ids, the sequences and every file's content; the window is
// then restored and cannot be restored again.
void TestPackitRestore::wipeThenRestoreIsIdentical()
{
    const QString before = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!before.isEmpty());
    const QString rootBefore = PackitSandbox::treeDigest(m_packit.instanceRoot(kHost, kInstance));

    const CliRun wiped = wipe(QStringLiteral("wipe.json"));
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    const QJsonObject report = readReport(QStringLiteral("wipe.json"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QJsonObject undo = report.value(QStringLiteral("undo")).toObject();
    QCOMPARE(undo.value(QStringLiteral("available")).toBool(), true);
    QCOMPARE(undo.value(QStringLiteral("enabled")).toBool(), true);
    QCOMPARE(undo.value(QStringLiteral("opened")).toBool(), true);
    const QString runId = report.value(QStringLiteral("id")).toString();
    QVERIFY(!runId.isEmpty());
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 0);
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet_group")), 0);
    QVERIFY(unitsActive());

    // The old root is kept as it was, and beside it a bundle of every deleted row, readable by its owner alone.
    const QStringList kept = keptPaths(QStringLiteral("wipe"));
    QCOMPARE(kept.size(), 2);
    static const QRegularExpression keptName(QStringLiteral("^\\.opsdeck-wipe-reside-dev-[0-9a-f]{8}$"));
    QVERIFY2(keptName.match(kept.at(0)).hasMatch(), qPrintable(kept.join(u' ')));
    QCOMPARE(kept.at(1), kept.at(0) + QStringLiteral(".restore"));
    const QString keptRoot = m_packit.outpackBase(kHost) + u'/' + kept.at(0);
    const QString bundle = m_packit.outpackBase(kHost) + u'/' + kept.at(1);
    QCOMPARE(PackitSandbox::treeDigest(keptRoot), rootBefore);
    struct stat bundleStat = {};
    QCOMPARE(::stat(QFile::encodeName(bundle).constData(), &bundleStat), 0);
    QCOMPARE(bundleStat.st_mode & 07777, 0700u);
    QFile sums(bundle + QStringLiteral("/SHA256SUMS"));
    QVERIFY(sums.open(QIODevice::ReadOnly));
    QStringList listed;
    for (const QByteArray& line : sums.readAll().split('\n')) {
        if (line.isEmpty())
            continue;
        const QList<QByteArray> parts = line.split(' ');
        QCOMPARE(parts.size(), 3); // "SHA256  NAME"
        QFile file(bundle + u'/' + QString::fromUtf8(parts.at(2)));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        QCOMPARE(QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex(), parts.at(0));
        listed << QString::fromUtf8(parts.at(2));
    }
    for (const QString& name : { QStringLiteral("packet_group.copy"), QStringLiteral("packet.0000.copy"),
             QStringLiteral("role_permission.copy"), QStringLiteral("packet_tag.copy"), QStringLiteral("pin.copy"),
             QStringLiteral("one_time_token.copy"), QStringLiteral("sequences.copy") })
        QVERIFY2(listed.contains(name), qPrintable(name + QStringLiteral(" not in ") + listed.join(u' ')));
    QFile packets(bundle + QStringLiteral("/packet.0000.copy"));
    QVERIFY(packets.open(QIODevice::ReadOnly));
    QCOMPARE(packets.readAll().count('\n'), m_expected.value(QStringLiteral("packets")).toInteger());

    // `trash list` shows the window open.
    const QJsonObject window = trashWindow(m_environment, runId, false);
    QVERIFY2(!window.isEmpty(), qPrintable(runId + QStringLiteral(" not in trash list")));
    QCOMPARE(window.value(QStringLiteral("state")).toString(), QStringLiteral("open"));
    QCOMPARE(window.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-wipe"));
    QCOMPARE(window.value(QStringLiteral("target")).toString(), kTarget);
    QVERIFY2(window.value(QStringLiteral("where")).toString().contains(kept.at(0)),
        qPrintable(window.value(QStringLiteral("where")).toString()));
    QVERIFY(window.value(QStringLiteral("bytes")).toInteger() > 0);
    QVERIFY(QDateTime::fromString(window.value(QStringLiteral("until")).toString(), Qt::ISODateWithMs)
        > QDateTime::currentDateTimeUtc());

    // The plan names the instance (it is empty now) and changes nothing.
    const QString afterWipe = m_packit.fullFingerprint(kHost, kInstance);
    const CliRun plan = restorePlan(runId);
    QVERIFY2(plan.exitCode == 0, qPrintable(cliRunText(plan)));
    const QJsonObject planJson = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planJson.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore"));
    QCOMPARE(planJson.value(QStringLiteral("target")).toString(), kTarget);
    QCOMPARE(planJson.value(QStringLiteral("confirmWith")).toString(), kInstance);
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), afterWipe);

    // A wrong name is refused and changes nothing.
    const CliRun wrong = restore(runId, QStringLiteral("reside"), QStringLiteral("wrong.json"));
    QVERIFY2(wrong.exitCode == 3, qPrintable(cliRunText(wrong)));
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), afterWipe);
    QCOMPARE(keptPaths(QStringLiteral("wipe")), kept);

    const CliRun restored = restore(runId, kInstance, QStringLiteral("restore.json"));
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), before);
    QVERIFY(!QFileInfo::exists(keptRoot)); // it is the root again
    QVERIFY(unitsActive());
    const QJsonObject restoreReport = readReport(QStringLiteral("restore.json"));
    QCOMPARE(restoreReport.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore"));
    QCOMPARE(restoreReport.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));

    // The window is restored: gone from the open ones, and shown as restored by that run.
    QVERIFY(trashWindow(m_environment, runId, false).isEmpty());
    const QJsonObject closed = trashWindow(m_environment, runId, true);
    QCOMPARE(closed.value(QStringLiteral("state")).toString(), QStringLiteral("restored"));
    QCOMPARE(closed.value(QStringLiteral("closedBy")).toString(), restoreReport.value(QStringLiteral("id")).toString());

    // A second restore of the same run is refused (the window is not open) and changes nothing.
    const CliRun again = restore(runId, kInstance, QStringLiteral("again.json"));
    QVERIFY2(again.exitCode == 2, qPrintable(cliRunText(again)));
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), before);
}

// Packets pushed since the wipe are set aside, not lost: the plan and the confirmation name them, and the restore's
// own window gives them back.
void TestPackitRestore::restoreAfterNewPacketsSetsThemAside()
{
    const QString seeded = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!seeded.isEmpty());
    const QString seededRows = rowsAndContents();
    const qint64 seededPackets = m_expected.value(QStringLiteral("packets")).toInteger();

    const CliRun wiped = wipe(QStringLiteral("wipe.json"));
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    const QString runId = readReport(QStringLiteral("wipe.json")).value(QStringLiteral("id")).toString();
    QVERIFY(!runId.isEmpty());
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 0);

    QString error;
    const QStringList pushedIds = m_packit.pushPackets(kHost, kInstance, 3, &error);
    QVERIFY2(pushedIds.size() == 3, qPrintable(error));
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 3);
    const QString pushed = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!pushed.isEmpty());
    const QString pushedSequences = m_packit.sequences(kInstance);

    // The plan sets the 3 packets aside, says so, and must be confirmed with that.
    const QString setAside = kInstance + QStringLiteral(":set-aside-3-packets");
    const CliRun plan = restorePlan(runId);
    QVERIFY2(plan.exitCode == 0, qPrintable(cliRunText(plan)));
    const QJsonObject planJson = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planJson.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore"));
    QCOMPARE(planJson.value(QStringLiteral("confirmWith")).toString(), setAside);
    // The warnings say how many are set aside and where; the details name each one.
    const QString warnings
        = QString::fromUtf8(QJsonDocument(planJson.value(QStringLiteral("warnings")).toArray()).toJson());
    QVERIFY2(warnings.contains(QStringLiteral("3 packets")) && warnings.contains(QStringLiteral(".opsdeck-restore-")),
        qPrintable(warnings));
    QStringList named;
    for (const QJsonValue& packet :
        planJson.value(QStringLiteral("details")).toObject().value(QStringLiteral("packetsSetAside")).toArray())
        named << (packet.isObject() ? packet.toObject().value(QStringLiteral("id")).toString() : packet.toString());
    named.sort();
    QCOMPARE(named, pushedIds);
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), pushed);

    // The instance's bare name does not confirm setting packets aside.
    const CliRun bare = restore(runId, kInstance, QStringLiteral("bare.json"));
    QVERIFY2(bare.exitCode == 3, qPrintable(cliRunText(bare)));
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), pushed);
    QCOMPARE(keptPaths(QStringLiteral("restore")), QStringList());

    const CliRun restored = restore(runId, setAside, QStringLiteral("restore.json"));
    QVERIFY2(restored.exitCode == 0, qPrintable(cliRunText(restored)));
    // The seed's rows (same ids) and root are back. The sequences are never lowered: the ids the pushed rows took
    // stay taken, so that bringing them back (below) cannot collide with a row made meanwhile.
    QCOMPARE(rowsAndContents(), seededRows);
    QCOMPARE(m_packit.sequences(kInstance), pushedSequences);
    QVERIFY(unitsActive());
    // The pushed packets are aside: their root and their rows.
    const QStringList aside = keptPaths(QStringLiteral("restore"));
    QCOMPARE(aside.size(), 2);
    QCOMPARE(aside.at(1), aside.at(0) + QStringLiteral(".restore"));
    for (const QString& id : pushedIds)
        QVERIFY2(QFileInfo::exists(
                     m_packit.outpackBase(kHost) + u'/' + aside.at(0) + QStringLiteral("/.outpack/metadata/") + id),
            qPrintable(id));
    QVERIFY(QFileInfo::exists(m_packit.outpackBase(kHost) + u'/' + aside.at(1) + QStringLiteral("/SHA256SUMS")));

    // The restore keeps a window of its own; the wipe's is restored.
    const QJsonObject restoreReport = readReport(QStringLiteral("restore.json"));
    QCOMPARE(restoreReport.value(QStringLiteral("undo")).toObject().value(QStringLiteral("opened")).toBool(), true);
    const QString restoreId = restoreReport.value(QStringLiteral("id")).toString();
    QVERIFY(!restoreId.isEmpty());
    const QJsonObject own = trashWindow(m_environment, restoreId, false);
    QCOMPARE(own.value(QStringLiteral("state")).toString(), QStringLiteral("open"));
    QCOMPARE(own.value(QStringLiteral("operation")).toString(), QStringLiteral("packit-restore"));
    QCOMPARE(own.value(QStringLiteral("target")).toString(), kTarget);
    QCOMPARE(
        trashWindow(m_environment, runId, true).value(QStringLiteral("state")).toString(), QStringLiteral("restored"));

    // Its restore sets the seed's packets aside in turn and brings the pushed ones back, exactly.
    const QString setAsideSeed = kInstance + QStringLiteral(":set-aside-%1-packets").arg(seededPackets);
    const CliRun backPlan = restorePlan(restoreId);
    QVERIFY2(backPlan.exitCode == 0, qPrintable(cliRunText(backPlan)));
    QCOMPARE(
        QJsonDocument::fromJson(backPlan.out).object().value(QStringLiteral("confirmWith")).toString(), setAsideSeed);
    const CliRun wrongBack = restore(restoreId, setAside, QStringLiteral("wrong-back.json"));
    QVERIFY2(wrongBack.exitCode == 3, qPrintable(cliRunText(wrongBack)));
    QCOMPARE(rowsAndContents(), seededRows);
    const CliRun back = restore(restoreId, setAsideSeed, QStringLiteral("back.json"));
    QVERIFY2(back.exitCode == 0, qPrintable(cliRunText(back)));
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), pushed);
    QVERIFY(unitsActive());
    QCOMPARE(trashWindow(m_environment, restoreId, true).value(QStringLiteral("state")).toString(),
        QStringLiteral("restored"));
}

// One byte of the bundle changed on the host: the restore's plan reads the sums, names the file and stops; neither a
// plan nor a confirmed restore changes anything.
void TestPackitRestore::tamperedBundleIsRefused()
{
    const CliRun wiped = wipe(QStringLiteral("wipe.json"));
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    const QString runId = readReport(QStringLiteral("wipe.json")).value(QStringLiteral("id")).toString();
    QVERIFY(!runId.isEmpty());
    const QStringList kept = keptPaths(QStringLiteral("wipe"));
    QCOMPARE(kept.size(), 2);
    const QString bundle = m_packit.outpackBase(kHost) + u'/' + kept.at(1);

    // A digit of the first packet id, changed to another digit: still valid COPY text, only the sums tell.
    QFile part(bundle + QStringLiteral("/packet.0000.copy"));
    QVERIFY(part.open(QIODevice::ReadWrite));
    QByteArray data = part.readAll();
    const qsizetype at = data.indexOf('-') - 1; // the last digit of the date
    QVERIFY(at >= 0 && std::isdigit(static_cast<unsigned char>(data.at(at))));
    data[at] = static_cast<char>('0' + (data.at(at) - '0' + 1) % 10);
    QVERIFY(part.seek(0));
    QCOMPARE(part.write(data), data.size());
    part.close();

    const QString wipedState = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!wipedState.isEmpty());
    const QString bundleState = PackitSandbox::treeDigest(bundle);
    const QString keptState = PackitSandbox::treeDigest(m_packit.outpackBase(kHost) + u'/' + kept.at(0));

    const CliRun plan = restorePlan(runId);
    QVERIFY2(plan.exitCode != 0, qPrintable(cliRunText(plan)));
    QVERIFY2(plan.err.contains("packet.0000.copy"), qPrintable(cliRunText(plan)));
    const CliRun confirmed = restore(runId, kInstance, QStringLiteral("tampered.json"));
    QVERIFY2(confirmed.exitCode != 0, qPrintable(cliRunText(confirmed)));
    QVERIFY2(confirmed.err.contains("packet.0000.copy") || confirmed.out.contains("packet.0000.copy"),
        qPrintable(cliRunText(confirmed)));

    // Nothing changed: the instance is still empty, the bundle and the kept root are as they were, the window open.
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), wipedState);
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 0);
    QCOMPARE(PackitSandbox::treeDigest(bundle), bundleState);
    QCOMPARE(PackitSandbox::treeDigest(m_packit.outpackBase(kHost) + u'/' + kept.at(0)), keptState);
    QCOMPARE(keptPaths(), kept);
    QCOMPARE(
        trashWindow(m_environment, runId, false).value(QStringLiteral("state")).toString(), QStringLiteral("open"));
    QVERIFY(unitsActive());
}

// Turning the window off takes a reason; with one, the wipe keeps nothing.
void TestPackitRestore::windowOffNeedsReason()
{
    const QString before = m_packit.fullFingerprint(kHost, kInstance);
    QVERIFY(!before.isEmpty());
    const CliRun refused = wipe(QStringLiteral("refused.json"), { QStringLiteral("--no-undo") });
    QVERIFY2(refused.exitCode == 2, qPrintable(cliRunText(refused)));
    QVERIFY(!refused.err.isEmpty());
    QCOMPARE(m_packit.fullFingerprint(kHost, kInstance), before);
    QCOMPARE(keptPaths(), QStringList());
    QVERIFY(unitsActive());

    const QString reason = QStringLiteral("test instance, reseeded after every case");
    const CliRun wiped
        = wipe(QStringLiteral("off.json"), { QStringLiteral("--no-undo"), QStringLiteral("--reason"), reason });
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 0);
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet_group")), 0);
    QCOMPARE(keptPaths(), QStringList());
    QCOMPARE(QDir(m_packit.outpackBase(kHost)).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
        QStringList { kInstance });
    QVERIFY(unitsActive());

    const QJsonObject report = readReport(QStringLiteral("off.json"));
    QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
    const QJsonObject undo = report.value(QStringLiteral("undo")).toObject();
    QCOMPARE(undo.value(QStringLiteral("enabled")).toBool(true), false);
    QCOMPARE(undo.value(QStringLiteral("opened")).toBool(true), false);
    QCOMPARE(undo.value(QStringLiteral("offReason")).toString(), reason);
    const QString runId = report.value(QStringLiteral("id")).toString();
    QVERIFY(!runId.isEmpty());
    QVERIFY(trashWindow(m_environment, runId, true).isEmpty());
    // And there is nothing to restore.
    const CliRun restored = restore(runId, kInstance, QStringLiteral("nothing.json"));
    QVERIFY2(restored.exitCode == 2, qPrintable(cliRunText(restored)));
    QCOMPARE(m_packit.count(kInstance, QStringLiteral("SELECT count(*) FROM packet")), 0);
}

// Nothing expires on a timer: an expired window's data stays (and `trash list` says so) until the next run on the
// instance, whose plan names it and whose first step deletes it and journals the window ended.
void TestPackitRestore::expiredWindowEndsAtTheNextRun()
{
    QFile source(m_sandbox.dir() + QStringLiteral("/inventory.yaml"));
    QVERIFY(source.open(QIODevice::ReadOnly));
    const QString shortRetention = m_temp.filePath(QStringLiteral("retention-3s.yaml"));
    QFile copy(shortRetention);
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write("undo: {retention: 3s}\n" + source.readAll());
    copy.close();
    QProcessEnvironment environment = m_environment;
    environment.insert(QStringLiteral("OPSDECK_INVENTORY"), shortRetention);
    const QStringList wipeArguments = { QStringLiteral("run"), QStringLiteral("packit-wipe"), QStringLiteral("--host"),
        kHost, QStringLiteral("--instance"), kInstance, QStringLiteral("--confirm"), kInstance,
        QStringLiteral("--report") };

    const CliRun first
        = runCli(wipeArguments + QStringList { m_temp.filePath(QStringLiteral("first.json")) }, environment, kRunMs);
    QVERIFY2(first.exitCode == 0, qPrintable(cliRunText(first)));
    const QString firstRun = readReport(QStringLiteral("first.json")).value(QStringLiteral("id")).toString();
    const QStringList kept = keptPaths();
    QCOMPARE(kept.size(), 2);
    QTest::qWait(4000);
    // Expired, and still there: ended by nobody yet.
    const QJsonObject expired = trashWindow(m_environment, firstRun, true);
    QCOMPARE(expired.value(QStringLiteral("state")).toString(), QStringLiteral("expired"));
    QCOMPARE(keptPaths(), kept);
    // Restoring it is refused.
    const CliRun late = restore(firstRun, kInstance, QStringLiteral("late.json"));
    QVERIFY2(late.exitCode == 2, qPrintable(cliRunText(late)));

    const CliRun plan = runCli({ QStringLiteral("plan"), QStringLiteral("packit-wipe"), QStringLiteral("--host"), kHost,
                                   QStringLiteral("--instance"), kInstance, QStringLiteral("--json") },
        environment, kRunMs);
    QVERIFY2(plan.exitCode == 0, qPrintable(cliRunText(plan)));
    const QJsonObject planJson = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(
        planJson.value(QStringLiteral("steps")).toArray().first().toObject().value(QStringLiteral("id")).toString(),
        QStringLiteral("end-expired-windows"));
    QVERIFY(QJsonDocument(planJson.value(QStringLiteral("undo")).toObject()).toJson().contains(firstRun.toUtf8()));

    const QString reason = QStringLiteral("the expiry test");
    const CliRun second = runCli(wipeArguments
            + QStringList { m_temp.filePath(QStringLiteral("second.json")), QStringLiteral("--no-undo"),
                QStringLiteral("--reason"), reason },
        environment, kRunMs);
    QVERIFY2(second.exitCode == 0, qPrintable(cliRunText(second)));
    QCOMPARE(keptPaths(), QStringList());
    const QJsonObject ended = trashWindow(m_environment, firstRun, true);
    QCOMPARE(ended.value(QStringLiteral("state")).toString(), QStringLiteral("ended"));
    QCOMPARE(ended.value(QStringLiteral("closedBy")).toString(),
        readReport(QStringLiteral("second.json")).value(QStringLiteral("id")).toString());
}

// `trash purge` deletes what a window keeps and ends it, with a journaled reason and the instance's name.
void TestPackitRestore::trashPurgeEndsTheWindow()
{
    const CliRun wiped = wipe(QStringLiteral("wipe.json"));
    QVERIFY2(wiped.exitCode == 0, qPrintable(cliRunText(wiped)));
    const QString runId = readReport(QStringLiteral("wipe.json")).value(QStringLiteral("id")).toString();
    QCOMPARE(keptPaths().size(), 2);
    const QStringList purge = { QStringLiteral("trash"), QStringLiteral("purge"), runId };
    // No reason, or a wrong name: refused, nothing deleted.
    QCOMPARE(cli(purge + QStringList { QStringLiteral("--confirm"), kInstance }).exitCode, 2);
    QCOMPARE(cli(purge
                 + QStringList { QStringLiteral("--reason"), QStringLiteral("space"), QStringLiteral("--confirm"),
                     QStringLiteral("reside") })
                 .exitCode,
        3);
    QCOMPARE(keptPaths().size(), 2);
    const CliRun purged = cli(purge
        + QStringList { QStringLiteral("--reason"), QStringLiteral("space"), QStringLiteral("--confirm"), kInstance });
    QVERIFY2(purged.exitCode == 0, qPrintable(cliRunText(purged)));
    QCOMPARE(keptPaths(), QStringList());
    QCOMPARE(
        trashWindow(m_environment, runId, true).value(QStringLiteral("state")).toString(), QStringLiteral("ended"));
    QCOMPARE(restore(runId, kInstance, QStringLiteral("after-purge.json")).exitCode, 2);
}

QTEST_GUILESS_MAIN(TestPackitRestore)
#include "tst_packitrestore.moc"
