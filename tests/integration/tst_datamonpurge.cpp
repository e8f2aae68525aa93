// `opsdeck plan|run datamon-purge --dry-run-only`: the index built and datamon's dry run counted, as an admin runs
// it, against the sandbox's datamon2 and GCS stand-ins. dm-prod has a blob bucket of its own (the counts are the
// seed's: summary.json); dm-dev and dm-shared share one. The GCS stand-in's SQLite file is read here directly.
#include "Sandbox.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

class TestDatamonPurge : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void dryRunCountsExactlyTheUnusedBlobs();
    void secondDryRunDropsTheStaleIndexFirst();
    void heldLockRefusesAndForceOverridesIt();
    void aSharingContextsLockRefuses();
    void killedDatamonLeavesNoLockBehind();
    void killedConsoleReattachesAndFinishes();
    void droppedConnectionIsFollowedThrough();
    void badInputRunsNothing_data();
    void badInputRunsNothing();
    void tooLittleSpaceRunsNothing();
    void cleanupTestCase();

private:
    CliRun cli(const QStringList& arguments, const QString& inventory = {}) const;
    QStringList run(const QString& context) const;
    qint64 count(const QString& bucket, const QString& prefix = {}) const;
    QJsonObject readJson(const QString& path) const;
    qsizetype invocations() const;
    // gcloud storage on the bastion, as root.
    int gcloud(const QStringList& arguments, QByteArray* out = nullptr) const;
    void putLock(const QString& bucket, const QString& lockedAt) const;
    QString switchFile(const QString& name) const { return m_sandbox.dir() + u"/datamon/switches/"_s + name; }

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QJsonObject m_summary;
};

void TestDatamonPurge::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    m_summary = readJson(m_sandbox.dir() + u"/datamon/summary.json"_s);
    QVERIFY(!m_summary.isEmpty());
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"gcs"_s);
    db.setDatabaseName(m_sandbox.dir() + u"/gcs/gcs.sqlite"_s);
    db.setConnectOptions(u"QSQLITE_OPEN_READONLY"_s);
    QVERIFY2(db.open(), qPrintable(db.lastError().text()));
}

void TestDatamonPurge::init()
{
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
}

void TestDatamonPurge::cleanupTestCase()
{
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
    // The indexes this test built go, so that the sandbox is as `up` made it for the tests after.
    for (const QString& bucket : { u"dm-prod-meta"_s, u"dm-dev-meta"_s }) {
        if (count(bucket, u"reverse-index/"_s) > 0)
            gcloud({ u"rm"_s, u"gs://%1/reverse-index/**"_s.arg(bucket) });
    }
}

QJsonObject TestDatamonPurge::readJson(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

CliRun TestDatamonPurge::cli(const QStringList& arguments, const QString& inventory) const
{
    QStringList all = arguments;
    if (!inventory.isEmpty())
        all << u"--inventory"_s << inventory;
    return runCli(all, m_sandbox.environment(), 180000);
}

QStringList TestDatamonPurge::run(const QString& context) const
{
    return { u"run"_s, u"datamon-purge"_s, u"--context"_s, context, u"--dry-run-only"_s, u"--confirm"_s, context };
}

qint64 TestDatamonPurge::count(const QString& bucket, const QString& prefix) const
{
    QSqlQuery query(QSqlDatabase::database(u"gcs"_s));
    query.prepare(u"SELECT count(*) FROM objects WHERE bucket = ? AND substr(name, 1, ?) = ?"_s);
    query.addBindValue(bucket);
    query.addBindValue(prefix.size());
    query.addBindValue(prefix);
    if (!query.exec() || !query.next())
        return -1;
    return query.value(0).toLongLong();
}

qsizetype TestDatamonPurge::invocations() const
{
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    if (!log.open(QIODevice::ReadOnly))
        return -1;
    return log.readAll().count('\n');
}

int TestDatamonPurge::gcloud(const QStringList& arguments, QByteArray* out) const
{
    const QJsonObject bastion = m_sandbox.host(u"bastion"_s);
    QProcess ssh;
    ssh.start(u"ssh"_s,
        QStringList { u"-i"_s, m_sandbox.dir() + u"/keys/id_ed25519"_s, u"-o"_s,
            u"UserKnownHostsFile="_s + m_sandbox.dir() + u"/known_hosts"_s, u"-o"_s, u"BatchMode=yes"_s, u"-p"_s,
            QString::number(bastion.value(u"port"_s).toInt()), u"root@"_s + bastion.value(u"address"_s).toString(),
            u"gcloud"_s, u"storage"_s }
            + arguments);
    if (!ssh.waitForFinished(120000))
        return -1;
    if (out)
        *out = ssh.readAllStandardOutput();
    return ssh.exitCode();
}

void TestDatamonPurge::putLock(const QString& bucket, const QString& lockedAt) const
{
    const QJsonObject bastion = m_sandbox.host(u"bastion"_s);
    QProcess ssh;
    ssh.start(u"ssh"_s,
        { u"-i"_s, m_sandbox.dir() + u"/keys/id_ed25519"_s, u"-o"_s,
            u"UserKnownHostsFile="_s + m_sandbox.dir() + u"/known_hosts"_s, u"-o"_s, u"BatchMode=yes"_s, u"-p"_s,
            QString::number(bastion.value(u"port"_s).toInt()), u"root@"_s + bastion.value(u"address"_s).toString(),
            u"gcloud storage cp - gs://%1/purge.lock"_s.arg(bucket) });
    ssh.waitForStarted();
    ssh.write(u"locked_at: \"%1\"\n"_s.arg(lockedAt).toUtf8());
    ssh.closeWriteChannel();
    QVERIFY(ssh.waitForFinished(120000));
    QCOMPARE(ssh.exitCode(), 0);
}

void TestDatamonPurge::dryRunCountsExactlyTheUnusedBlobs()
{
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    const qint64 blobsBefore = count(u"dm-prod-blob"_s);
    const QString reportFile = m_temp.filePath(u"dry.json"_s);
    const CliRun dry = cli(run(u"dm-prod"_s) << u"--report"_s << reportFile);
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(after.value(u"bytesToDelete"_s).toInteger(), bucket.value(u"unreferencedOldBytes"_s).toInteger());
    QCOMPARE(after.value(u"keysInUse"_s).toInteger(), bucket.value(u"referencedKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysNewerThanIndex"_s).toInteger(), bucket.value(u"newerKeys"_s).toInteger());
    QCOMPARE(after.value(u"keysScanned"_s).toInteger(), bucket.value(u"keys"_s).toInteger());
    // Nothing deleted; the index is there for the purge; the lock is free.
    QCOMPARE(count(u"dm-prod-blob"_s), blobsBefore);
    QVERIFY(count(u"dm-prod-meta"_s, u"reverse-index/chunk-1.yaml"_s) == 1);
    QCOMPARE(count(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    QVERIFY2(dry.out.contains("Nothing was deleted") || dry.err.contains("Nothing was deleted"), dry.out.constData());
}

void TestDatamonPurge::secondDryRunDropsTheStaleIndexFirst()
{
    QVERIFY(count(u"dm-prod-meta"_s, u"reverse-index/"_s) > 0);
    const CliRun plan
        = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QStringList steps;
    for (const QJsonValue& step : QJsonDocument::fromJson(plan.out).object().value(u"steps"_s).toArray())
        steps << step.toObject().value(u"id"_s).toString();
    QCOMPARE(steps, (QStringList { u"check"_s, u"drop-stale-index"_s, u"build-index"_s, u"dry-run"_s }));
    const CliRun dry = cli(run(u"dm-prod"_s));
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    QCOMPARE(count(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

void TestDatamonPurge::heldLockRefusesAndForceOverridesIt()
{
    putLock(u"dm-prod-meta"_s, u"2026-12-01 08:00:00.5 +0000 UTC"_s);
    const qsizetype logStart = invocations();
    const CliRun refused = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(
        refused.err.contains("the purge lock is held: gs://dm-prod-meta/purge.lock, taken 2026-12-01 08:00:00 UTC"),
        refused.err.constData());
    QVERIFY2(refused.err.contains("--force-stale-lock"), refused.err.constData());
    const CliRun plan = cli(
        { u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s, u"--force-stale-lock"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QVERIFY2(plan.out.contains("overrides gs://dm-prod-meta/purge.lock, taken 2026-12-01 08:00:00 UTC ("),
        plan.out.constData());
    const CliRun forced = cli(run(u"dm-prod"_s) << u"--force-stale-lock"_s);
    QVERIFY2(forced.exitCode == 0, forced.err.constData());
    QCOMPARE(count(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    // datamon2 got --force on its first purge step only.
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = log.readAll().split('\n').mid(logStart);
    QStringList purgeSteps;
    for (const QByteArray& line : lines) {
        const QJsonArray argv = QJsonDocument::fromJson(line).object().value(u"argv"_s).toArray();
        if (argv.size() > 2 && argv.at(1).toString() == u"purge"_s)
            purgeSteps << argv.at(2).toString() + (argv.contains(u"--force"_s) ? u" --force"_s : QString());
    }
    QCOMPARE(purgeSteps,
        (QStringList { u"delete-reverse-lookup --force"_s, u"build-reverse-lookup"_s, u"delete-unused"_s }));
}

void TestDatamonPurge::aSharingContextsLockRefuses()
{
    putLock(u"dm-shared-meta"_s, u"2026-12-05 07:00:00 +0000 UTC"_s);
    const CliRun refused = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-dev"_s, u"--dry-run-only"_s });
    gcloud({ u"rm"_s, u"gs://dm-shared-meta/purge.lock"_s });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(
        refused.err.contains("context dm-shared shares blob bucket gs://dm-shared-blob/ and its purge lock is held"),
        refused.err.constData());
}

// datamon2 killed by a signal mid-build (it has no handler: its lock stays): the step fails and recovery removes the
// lock this run's job took, and only that one.
void TestDatamonPurge::killedDatamonLeavesNoLockBehind()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("200\n");
    slow.close();
    QProcess console;
    console.setProcessEnvironment(m_sandbox.environment());
    console.start(QStringLiteral(OPSDECK_BINARY), run(u"dm-prod"_s));
    QByteArray err;
    // The job's datamon2, found by its command line on the bastion (the sandbox's hosts share this machine), once
    // it holds its lock (a stale index's drop may come first).
    const QString build = u"datamon2 .*purge build-reverse-lookup.*--context dm-prod"_s;
    const auto running = [&] {
        QProcess pgrep;
        pgrep.start(u"pgrep"_s, { u"-f"_s, build });
        pgrep.waitForFinished(10000);
        return pgrep.exitCode() == 0;
    };
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     err += console.readAllStandardError();
                     return (running() && count(u"dm-prod-meta"_s, u"purge.lock"_s) == 1)
                         || console.state() == QProcess::NotRunning;
                 },
                 60000),
        err.constData());
    QProcess pkill;
    pkill.start(u"pkill"_s, { u"-TERM"_s, u"-f"_s, build });
    QVERIFY(pkill.waitForFinished(10000));
    QCOMPARE(pkill.exitCode(), 0);
    QVERIFY(console.waitForFinished(120000));
    err += console.readAllStandardError();
    const QByteArray out = console.readAllStandardOutput();
    QCOMPARE(console.exitCode(), 1);
    QVERIFY2(out.contains("datamon left its lock behind; this run's job had ended, so the lock was removed"),
        (out + err).constData());
    QCOMPARE(count(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
}

// The console is SIGKILLed while build-reverse-lookup runs (slowed): the job goes on, detached. `opsdeck recover`
// re-attaches to it, follows it to its end, starts the dry run the dead console never started, and reports its
// counts: the same as a run that was never interrupted.
void TestDatamonPurge::killedConsoleReattachesAndFinishes()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("50\n");
    slow.close();
    QProcess console;
    console.setProcessEnvironment(m_sandbox.environment());
    console.start(QStringLiteral(OPSDECK_BINARY), run(u"dm-prod"_s));
    QByteArray err;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     err += console.readAllStandardError();
                     return err.contains("Build the index") || console.state() == QProcess::NotRunning;
                 },
                 60000),
        err.constData());
    QVERIFY(QTest::qWaitFor([&] { return count(u"dm-prod-meta"_s, u"purge.lock"_s) == 1; }, 30000));
    console.kill();
    QVERIFY(console.waitForFinished(10000));
    QFile::remove(switchFile(u"delay-per-key-ms"_s));

    const CliRun unfinished = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QString runId;
    for (const QJsonValue& r : QJsonDocument::fromJson(unfinished.out).array()) {
        if (r.toObject().value(u"operation"_s).toString() == u"datamon-purge"_s)
            runId = r.toObject().value(u"id"_s).toString();
    }
    QVERIFY2(!runId.isEmpty(), unfinished.out.constData());
    const QString reportFile = m_temp.filePath(u"recovered.json"_s);
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-prod"_s, u"--report"_s, reportFile });
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
    QCOMPARE(count(u"dm-prod-meta"_s, u"purge.lock"_s), 0);
    const CliRun left = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QVERIFY2(!left.out.contains(runId.toUtf8()), left.out.constData());
}

// The SSH connection to the bastion drops (its sshd killed with its sessions) while build-reverse-lookup runs: the
// job goes on, the run's polls wait for the host, and the run finishes when it is back.
void TestDatamonPurge::droppedConnectionIsFollowedThrough()
{
    QFile slow(switchFile(u"delay-per-key-ms"_s));
    QVERIFY(slow.open(QIODevice::WriteOnly));
    slow.write("30\n");
    slow.close();
    const QString reportFile = m_temp.filePath(u"dropped.json"_s);
    QProcess console;
    console.setProcessEnvironment(m_sandbox.environment());
    console.start(QStringLiteral(OPSDECK_BINARY), run(u"dm-prod"_s) << u"--report"_s << reportFile);
    QByteArray err;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     err += console.readAllStandardError();
                     return err.contains("Build the index") || console.state() == QProcess::NotRunning;
                 },
                 60000),
        err.constData());
    QCOMPARE(m_sandbox.script(u"kill-host"_s, { u"bastion"_s }), 0);
    QTest::qWait(2000);
    QFile::remove(switchFile(u"delay-per-key-ms"_s));
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"bastion"_s }), 0);
    QVERIFY(console.waitForFinished(300000));
    err += console.readAllStandardError();
    QVERIFY2(console.exitCode() == 0, err.constData());
    const QJsonObject after = readJson(reportFile).value(u"after"_s).toObject();
    const QJsonObject bucket = m_summary.value(u"blobBuckets"_s).toObject().value(u"dm-prod-blob"_s).toObject();
    QCOMPARE(after.value(u"keysToDelete"_s).toInteger(), bucket.value(u"unreferencedOldKeys"_s).toInteger());
}

void TestDatamonPurge::badInputRunsNothing_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    QTest::newRow("context with shell characters")
        << QStringList { u"--context"_s, u"dm-prod;id"_s, u"--dry-run-only"_s } << u"is not allowed"_s;
    QTest::newRow("unknown context") << QStringList { u"--context"_s, u"dm-test"_s, u"--dry-run-only"_s }
                                     << u"is not in the inventory"_s;
    QTest::newRow("no context") << QStringList { u"--dry-run-only"_s } << u"--context is required"_s;
    QTest::newRow("the delete half") << QStringList { u"--context"_s, u"dm-prod"_s } << u"--dry-run-only is required"_s;
}

void TestDatamonPurge::badInputRunsNothing()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const qsizetype logStart = invocations();
    const CliRun plan = cli(QStringList { u"plan"_s, u"datamon-purge"_s } + arguments);
    QCOMPARE(plan.exitCode, 2);
    QVERIFY2(QString::fromUtf8(plan.err).contains(message), plan.err.constData());
    QCOMPARE(invocations(), logStart);
}

void TestDatamonPurge::tooLittleSpaceRunsNothing()
{
    QFile original(m_sandbox.inventoryPath());
    QVERIFY(original.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(original.readAll());
    const qsizetype at = text.indexOf(u"  - name: dm-prod\n"_s);
    QVERIFY(at >= 0);
    text.insert(text.indexOf(u"    tags:"_s, at), u"    minFreeGiB: 100000\n"_s);
    const QString inventory = m_temp.filePath(u"space.yaml"_s);
    QFile copy(inventory);
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(text.toUtf8());
    copy.close();
    const CliRun plan
        = cli({ u"plan"_s, u"datamon-purge"_s, u"--context"_s, u"dm-prod"_s, u"--dry-run-only"_s }, inventory);
    QCOMPARE(plan.exitCode, 1);
    QVERIFY2(plan.err.contains("the context's minFreeGiB is 100000"), plan.err.constData());
}

QTEST_GUILESS_MAIN(TestDatamonPurge)
#include "tst_datamonpurge.moc"
