// `opsdeck plan|run datamon-delete-repo`, `opsdeck recover` of one, and its undo window (`opsdeck restore`, `trash
// purge`) as an admin runs them: the real executable, datamon2 (the sandbox's stand-in) and gcloud storage on the
// bastion over SSH, its store in the GCS stand-in, whose SQLite file is read here directly to see exactly which
// objects went and came back, byte for byte. The stand-in's invocation log shows what datamon2 was asked.
#include "DroppedConnections.h"
#include "HeldRun.h"
#include "Sandbox.h"

#include <QCryptographicHash>
#include <QFile>
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

#include <csignal>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

namespace {

struct SeededRepo
{
    QString name;
    QStringList bundles;
    QStringList labels;
};

} // namespace

class TestDatamonDeleteRepo : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void planListsTheBundlesAndLabels();
    void deleteTakesExactlyTheRepoMetadata();
    void wrongConfirmationRunsNoDelete();
    void badInputRunsNothing_data();
    void badInputRunsNothing();
    void readOnlyContextIsRefused();
    void missingRepoIsNamed();
    void changedSincePlanDeletesNothing();
    void killedConsoleIsRecovered();
    void restoreRoundTripIsIdentical();
    void restoreKeepsWhatArrivedSince();
    void killedRestoreIsRecoveredToTheEnd();
    void droppedConnectionRestoreEndsRestored();
    void windowOffNeedsAReason();
    void trashPurgeEndsTheWindow();

private:
    // A dm-dev repo with bundles and labels that no other test uses.
    SeededRepo takeRepo();
    QStringList objects(const QString& bucket, const QString& prefix) const;
    qint64 objectCount(const QString& bucket) const;
    qsizetype invocations() const;
    QList<QJsonObject> invocationsSince(qsizetype from) const;
    CliRun cli(const QStringList& arguments, const QString& inventory = {}) const;
    QStringList runArguments(const QString& repo, const QString& confirm) const;
    QJsonObject readJson(const QString& path) const;
    QString holdFile() const { return m_temp.filePath(u"hold"_s); }
    // sha256 of every object of the metadata and vmetadata buckets outside the trash: names, bytes, content type and
    // custom metadata.
    QByteArray storeDigest() const;
    QStringList trashObjects() const { return objects(m_metadata, u"opsdeck-trash/"_s); }
    // The run's window as `opsdeck trash list --all --json` shows it.
    QJsonObject window(const QString& runId) const;
    // gcloud storage on the bastion, as root: what another admin does meanwhile.
    QProcess::ExitStatus gcloudOnBastion(const QStringList& words, const QByteArray& input, QByteArray* err) const;
    // The id of the run `opsdeck journal unfinished` lists with this field (target, operation); empty if none.
    QString unfinishedRun(const QString& field, const QString& value) const;
    // Deletes the repo with the window on (*runId), then starts its restore held before its copy.
    bool startRestoreHeldAtCopy(const QString& repo, QString* runId, QProcess* console);
    // Deletes the repo with the window on; the run's id.
    QString deleteWithWindow(const QString& repo);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QList<SeededRepo> m_repos;
    QString m_metadata;
    QString m_vmetadata;
    QString m_blob;
};

void TestDatamonDeleteRepo::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
    const QJsonObject summary = readJson(m_sandbox.dir() + u"/datamon/summary.json"_s);
    const QJsonObject dev = summary.value(u"contexts"_s).toObject().value(u"dm-dev"_s).toObject();
    m_metadata = dev.value(u"metadata"_s).toString();
    m_vmetadata = dev.value(u"vmetadata"_s).toString();
    m_blob = dev.value(u"blob"_s).toString();
    QVERIFY(!m_metadata.isEmpty() && !m_blob.isEmpty());
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"gcs"_s);
    db.setDatabaseName(m_sandbox.dir() + u"/gcs/gcs.sqlite"_s);
    db.setConnectOptions(u"QSQLITE_OPEN_READONLY"_s);
    QVERIFY2(db.open(), qPrintable(db.lastError().text()));
    QFile reposFile(dev.value(u"reposFile"_s).toString());
    QVERIFY(reposFile.open(QIODevice::ReadOnly));
    int seen = 0;
    for (const QJsonValue& value : QJsonDocument::fromJson(reposFile.readAll()).array()) {
        const QJsonObject repo = value.toObject();
        SeededRepo seeded { repo.value(u"name"_s).toString(), {}, {} };
        for (const QJsonValue& b : repo.value(u"bundles"_s).toArray())
            seeded.bundles << b.toObject().value(u"id"_s).toString();
        for (const QJsonValue& l : repo.value(u"labels"_s).toArray())
            seeded.labels << l.toObject().value(u"name"_s).toString();
        // From the ninth on, the first ones still there (a run on the same sandbox before took some): the GUI
        // test reads dev-census-00005 and deletes dev-hazard-00035.
        ++seen;
        if (seen > 8 && !seeded.bundles.isEmpty() && !seeded.labels.isEmpty() && m_repos.size() < 12
            && !objects(m_metadata, u"repos/"_s + seeded.name + u'/').isEmpty()
            && objects(m_vmetadata, u"labels/"_s + seeded.name + u'/').size() == seeded.labels.size())
            m_repos << seeded;
    }
    QVERIFY2(m_repos.size() == 12, "the sandbox's dm-dev has too few repos with bundles and labels left");
}

SeededRepo TestDatamonDeleteRepo::takeRepo()
{
    return m_repos.takeFirst();
}

QJsonObject TestDatamonDeleteRepo::readJson(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QByteArray TestDatamonDeleteRepo::storeDigest() const
{
    QSqlQuery query(QSqlDatabase::database(u"gcs"_s));
    query.prepare(u"SELECT bucket, name, coalesce(content_type, ''), coalesce(metadata, ''), content FROM objects "
                  "WHERE bucket IN (?, ?) AND substr(name, 1, 14) <> 'opsdeck-trash/' ORDER BY bucket, name"_s);
    query.addBindValue(m_metadata);
    query.addBindValue(m_vmetadata);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!query.exec())
        qWarning() << query.lastError().text();
    while (query.next()) {
        for (int column = 0; column < 5; ++column) {
            const QByteArray value = query.value(column).toByteArray();
            hash.addData(QByteArray::number(value.size()) + ':' + value);
        }
    }
    return hash.result().toHex();
}

QJsonObject TestDatamonDeleteRepo::window(const QString& runId) const
{
    const CliRun list = cli({ u"trash"_s, u"list"_s, u"--all"_s, u"--json"_s });
    for (const QJsonValue& value : QJsonDocument::fromJson(list.out).array()) {
        if (value.toObject().value(u"runId"_s).toString() == runId)
            return value.toObject();
    }
    return {};
}

QProcess::ExitStatus TestDatamonDeleteRepo::gcloudOnBastion(
    const QStringList& words, const QByteArray& input, QByteArray* err) const
{
    QProcess gcloud;
    gcloud.start(u"ssh"_s,
        QStringList { u"-i"_s, m_sandbox.dir() + u"/keys/id_ed25519"_s, u"-o"_s,
            u"UserKnownHostsFile="_s + m_sandbox.dir() + u"/known_hosts"_s, u"-p"_s,
            QString::number(m_sandbox.host(u"bastion"_s).value(u"port"_s).toInt()),
            u"root@"_s + m_sandbox.host(u"bastion"_s).value(u"address"_s).toString(), u"gcloud"_s, u"storage"_s }
            + words);
    gcloud.write(input);
    gcloud.closeWriteChannel();
    if (!gcloud.waitForFinished(60000))
        return QProcess::CrashExit;
    *err = gcloud.readAllStandardError();
    return gcloud.exitStatus() == QProcess::NormalExit && gcloud.exitCode() == 0 ? QProcess::NormalExit
                                                                                 : QProcess::CrashExit;
}

QString TestDatamonDeleteRepo::unfinishedRun(const QString& field, const QString& value) const
{
    const CliRun unfinished = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    for (const QJsonValue& run : QJsonDocument::fromJson(unfinished.out).array()) {
        if (run.toObject().value(field).toString() == value)
            return run.toObject().value(u"id"_s).toString();
    }
    qWarning() << "no unfinished run with" << field << value << "in" << unfinished.out;
    return {};
}

bool TestDatamonDeleteRepo::startRestoreHeldAtCopy(const QString& repo, QString* runId, QProcess* console)
{
    *runId = deleteWithWindow(repo);
    return !runId->isEmpty()
        && startHeldAtStep(console, m_sandbox.environment(),
            { u"restore"_s, *runId, u"--confirm"_s, u"dm-dev/"_s + repo },
            { u"put-back"_s, holdFile(), m_sandbox.dir() + u"/journal.sqlite"_s, u"dm-dev/"_s + repo,
                u"datamon-restore-repo"_s });
}

QString TestDatamonDeleteRepo::deleteWithWindow(const QString& repo)
{
    const QString reportFile = m_temp.filePath(u"delete-%1.json"_s.arg(repo));
    const CliRun run = cli(runArguments(repo, u"dm-dev/"_s + repo) << u"--report"_s << reportFile);
    if (run.exitCode != 0) {
        qWarning() << run.err;
        return {};
    }
    return readJson(reportFile).value(u"id"_s).toString();
}

QStringList TestDatamonDeleteRepo::objects(const QString& bucket, const QString& prefix) const
{
    QSqlQuery query(QSqlDatabase::database(u"gcs"_s));
    query.prepare(u"SELECT name FROM objects WHERE bucket = ? AND substr(name, 1, ?) = ? ORDER BY name"_s);
    query.addBindValue(bucket);
    query.addBindValue(prefix.size());
    query.addBindValue(prefix);
    QStringList names;
    if (!query.exec())
        qWarning() << query.lastError().text();
    while (query.next())
        names << query.value(0).toString();
    return names;
}

qint64 TestDatamonDeleteRepo::objectCount(const QString& bucket) const
{
    QSqlQuery query(QSqlDatabase::database(u"gcs"_s));
    query.prepare(u"SELECT count(*) FROM objects WHERE bucket = ?"_s);
    query.addBindValue(bucket);
    if (!query.exec() || !query.next())
        return -1;
    return query.value(0).toLongLong();
}

qsizetype TestDatamonDeleteRepo::invocations() const
{
    return invocationsSince(0).size();
}

QList<QJsonObject> TestDatamonDeleteRepo::invocationsSince(qsizetype from) const
{
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    QList<QJsonObject> entries;
    if (!log.open(QIODevice::ReadOnly))
        return entries;
    const QList<QByteArray> lines = log.readAll().split('\n');
    for (qsizetype i = from; i < lines.size(); ++i) {
        if (!lines[i].trimmed().isEmpty())
            entries << QJsonDocument::fromJson(lines[i]).object();
    }
    return entries;
}

CliRun TestDatamonDeleteRepo::cli(const QStringList& arguments, const QString& inventory) const
{
    QStringList all = arguments;
    if (!inventory.isEmpty())
        all << u"--inventory"_s << inventory;
    return runCli(all, m_sandbox.environment(), 120000);
}

QStringList TestDatamonDeleteRepo::runArguments(const QString& repo, const QString& confirm) const
{
    return { u"run"_s, u"datamon-delete-repo"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo, u"--confirm"_s,
        confirm };
}

void TestDatamonDeleteRepo::planListsTheBundlesAndLabels()
{
    const SeededRepo repo = m_repos.first(); // only read
    const CliRun plan = cli(
        { u"plan"_s, u"datamon-delete-repo"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo.name, u"--json"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    const QJsonObject planned = QJsonDocument::fromJson(plan.out).object();
    QCOMPARE(planned.value(u"confirmWith"_s).toString(), u"dm-dev/"_s + repo.name);
    const QJsonObject counts = planned.value(u"counts"_s).toObject();
    QCOMPARE(counts.value(u"bundles"_s).toInt(), repo.bundles.size());
    QCOMPARE(counts.value(u"labels"_s).toInt(), repo.labels.size());
    QStringList planIds;
    for (const QJsonValue& id : planned.value(u"parameters"_s).toObject().value(u"bundles"_s).toArray())
        planIds << id.toString();
    QStringList seeded = repo.bundles;
    planIds.sort();
    seeded.sort();
    QCOMPARE(planIds, seeded);
    const QString text = QString::fromUtf8(
        cli({ u"plan"_s, u"datamon-delete-repo"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo.name }).out);
    QVERIFY2(text.contains(u"blobs stay"_s), qPrintable(text));
}

void TestDatamonDeleteRepo::deleteTakesExactlyTheRepoMetadata()
{
    const SeededRepo repo = takeRepo();
    const QString other = m_repos.first().name;
    const QStringList otherBefore = objects(m_metadata, u"bundles/"_s + other + u'/');
    const qint64 blobsBefore = objectCount(m_blob);
    QVERIFY(!objects(m_metadata, u"repos/"_s + repo.name + u"/"_s).isEmpty());
    QCOMPARE(objects(m_metadata, u"bundles/"_s + repo.name + u'/').isEmpty(), false);
    const qsizetype logStart = invocations();
    const QString reportFile = m_temp.filePath(u"delete.json"_s);
    const CliRun run = cli(runArguments(repo.name, u"dm-dev/"_s + repo.name) << u"--report"_s << reportFile);
    QVERIFY2(run.exitCode == 0, run.err.constData());

    // Its metadata went, every bundle's and label's; nothing of another repo; no blob.
    QVERIFY(objects(m_metadata, u"repos/"_s + repo.name + u"/"_s).isEmpty());
    QVERIFY(objects(m_metadata, u"bundles/"_s + repo.name + u'/').isEmpty());
    QVERIFY(objects(m_vmetadata, u"labels/"_s + repo.name + u'/').isEmpty());
    QCOMPARE(objects(m_metadata, u"bundles/"_s + other + u'/'), otherBefore);
    QCOMPARE(objectCount(m_blob), blobsBefore);

    const QJsonObject record = readJson(reportFile);
    QCOMPARE(record.value(u"outcome"_s).toString(), u"succeeded"_s);
    const QJsonObject deleted = record.value(u"deleted"_s).toObject();
    QCOMPARE(deleted.value(u"bundles"_s).toArray().size(), repo.bundles.size());
    QCOMPARE(deleted.value(u"labels"_s).toArray().size(), repo.labels.size());

    // datamon2 was run with its flags spelt out, --force-yes, never --upgrade, and a clean environment.
    bool sawDelete = false;
    for (const QJsonObject& call : invocationsSince(logStart)) {
        QStringList argv;
        for (const QJsonValue& a : call.value(u"argv"_s).toArray())
            argv << a.toString();
        QVERIFY2(argv.contains(u"--metrics=false"_s) && !argv.contains(u"--upgrade"_s), qPrintable(argv.join(u' ')));
        QCOMPARE(argv.at(argv.indexOf(u"--context"_s) + 1), u"dm-dev"_s);
        QCOMPARE(argv.at(argv.indexOf(u"--config"_s) + 1), u"dm-config"_s);
        for (const QJsonValue& name : call.value(u"env"_s).toArray())
            QVERIFY2(!QStringList({ u"CONTEXT"_s, u"CONFIG"_s, u"CREDENTIAL"_s, u"DATAMON_CONTEXT"_s })
                          .contains(name.toString()),
                qPrintable(name.toString()));
        if (argv.mid(1, 2) == QStringList { u"repo"_s, u"delete"_s }) {
            sawDelete = true;
            QVERIFY(argv.contains(u"--force-yes"_s));
            QCOMPARE(call.value(u"exitCode"_s).toInt(-1), 0);
        }
    }
    QVERIFY(sawDelete);
    // And the repo is gone as datamon2 sees it.
    const CliRun bundles = cli({ u"datamon"_s, u"bundles"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo.name });
    QCOMPARE(bundles.exitCode, 1);
}

void TestDatamonDeleteRepo::wrongConfirmationRunsNoDelete()
{
    const SeededRepo repo = m_repos.first();
    const qsizetype logStart = invocations();
    const CliRun run = cli(runArguments(repo.name, u"dm-prod"_s));
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains("type \"dm-dev/" + repo.name.toUtf8() + "\""), run.err.constData());
    for (const QJsonObject& call : invocationsSince(logStart))
        QVERIFY(call.value(u"argv"_s).toArray().at(2).toString() != u"delete"_s);
    QVERIFY(!objects(m_metadata, u"repos/"_s + repo.name + u"/"_s).isEmpty());
}

void TestDatamonDeleteRepo::badInputRunsNothing_data()
{
    QTest::addColumn<QString>("context");
    QTest::addColumn<QString>("repo");
    QTest::addColumn<QString>("message");
    QTest::newRow("shell metacharacters") << u"dm-dev"_s << u"a;id"_s << u"repo \"a;id\" is not allowed"_s;
    QTest::newRow("dot dot") << u"dm-dev"_s << u"../dm-prod"_s << u"is not allowed: use letters, digits and '-'"_s;
    QTest::newRow("space") << u"dm-dev"_s << u"a b"_s << u"is not allowed"_s;
    QTest::newRow("dollar") << u"dm-dev"_s << u"$(id)"_s << u"is not allowed"_s;
    QTest::newRow("empty repo") << u"dm-dev"_s << QString() << u"--repo is required"_s;
    QTest::newRow("context with a slash")
        << u"dm-dev/x"_s << u"r"_s << u"--context: datamon context \"dm-dev/x\" is not allowed"_s;
    QTest::newRow("unknown context") << u"dm-test"_s << u"r"_s << u"is not in the inventory: use one of"_s;
}

void TestDatamonDeleteRepo::badInputRunsNothing()
{
    QFETCH(QString, context);
    QFETCH(QString, repo);
    QFETCH(QString, message);
    const qsizetype logStart = invocations();
    for (const QString& verb : { u"plan"_s, u"run"_s }) {
        QStringList arguments { verb, u"datamon-delete-repo"_s, u"--context"_s, context, u"--repo"_s, repo };
        if (verb == u"run"_s)
            arguments << u"--confirm"_s << context;
        const CliRun run = cli(arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(QString::fromUtf8(run.err).contains(message), run.err.constData());
    }
    QCOMPARE(invocations(), logStart);
}

void TestDatamonDeleteRepo::readOnlyContextIsRefused()
{
    QFile original(m_sandbox.inventoryPath());
    QVERIFY(original.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(original.readAll());
    const qsizetype at = text.indexOf(u"  - name: dm-dev\n"_s);
    QVERIFY(at >= 0);
    const qsizetype tags = text.indexOf(u"    tags: []"_s, at);
    QVERIFY(tags >= 0);
    text.replace(tags, 12, u"    tags: [readOnly]"_s);
    const QString inventory = m_temp.filePath(u"readonly.yaml"_s);
    QFile copy(inventory);
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(text.toUtf8());
    copy.close();
    const qsizetype logStart = invocations();
    const CliRun run = cli(runArguments(m_repos.first().name, u"dm-dev/"_s + m_repos.first().name), inventory);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains("readOnly"), run.err.constData());
    QCOMPARE(invocations(), logStart);
}

void TestDatamonDeleteRepo::missingRepoIsNamed()
{
    const CliRun run = cli(runArguments(u"no-such-repo"_s, u"dm-dev"_s));
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("context dm-dev has no repo no-such-repo"), run.err.constData());
}

// A label goes (another admin) between the plan and the delete: the run refuses, and the repo keeps its bundles.
void TestDatamonDeleteRepo::changedSincePlanDeletesNothing()
{
    const SeededRepo repo = takeRepo();
    QFile hold(holdFile());
    QVERIFY(hold.open(QIODevice::WriteOnly));
    QProcess console;
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_HOLD_AT_STEP"_s, u"recheck"_s);
    environment.insert(u"OPSDECK_HOLD_WHILE"_s, holdFile());
    console.setProcessEnvironment(environment);
    console.start(QStringLiteral(OPSDECK_BINARY), runArguments(repo.name, u"dm-dev/"_s + repo.name));
    QByteArray output;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += console.readAllStandardError();
                     return output.contains("holding before the action of step")
                         || console.state() == QProcess::NotRunning;
                 },
                 60000),
        output.constData());
    const QStringList labels = objects(m_vmetadata, u"labels/"_s + repo.name + u'/');
    QVERIFY(!labels.isEmpty());
    QByteArray err;
    QCOMPARE(
        gcloudOnBastion({ u"rm"_s, u"gs://%1/%2"_s.arg(m_vmetadata, labels.first()) }, {}, &err), QProcess::NormalExit);
    QFile::remove(holdFile());
    QVERIFY(console.waitForFinished(60000));
    output += console.readAllStandardError() + console.readAllStandardOutput();
    QCOMPARE(console.exitCode(), 1);
    QVERIFY2(output.contains("Nothing was deleted: its labels changed since the plan"), output.constData());
    QCOMPARE(objects(m_metadata, u"bundles/"_s + repo.name + u'/').isEmpty(), false);
    QVERIFY(!objects(m_metadata, u"repos/"_s + repo.name + u"/"_s).isEmpty());
}

// The console dies (SIGKILL) at the delete step: the run has no outcome, `opsdeck recover` reads the repo (and the
// delete's job, which never started) and ends it as untouched; the journal then lists nothing unfinished.
void TestDatamonDeleteRepo::killedConsoleIsRecovered()
{
    const SeededRepo repo = takeRepo();
    QFile hold(holdFile());
    QVERIFY(hold.open(QIODevice::WriteOnly));
    QProcess console;
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_HOLD_AT_STEP"_s, u"delete"_s);
    environment.insert(u"OPSDECK_HOLD_WHILE"_s, holdFile());
    console.setProcessEnvironment(environment);
    console.start(QStringLiteral(OPSDECK_BINARY), runArguments(repo.name, u"dm-dev/"_s + repo.name));
    QByteArray output;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += console.readAllStandardError();
                     return output.contains("holding before the action of step")
                         || console.state() == QProcess::NotRunning;
                 },
                 60000),
        output.constData());
    ::kill(static_cast<pid_t>(console.processId()), SIGKILL);
    QVERIFY(console.waitForFinished(10000));
    QFile::remove(holdFile());

    const QString runId = unfinishedRun(u"target"_s, u"dm-dev/"_s + repo.name);
    QVERIFY(!runId.isEmpty());
    const CliRun recovered = cli({ u"recover"_s, runId, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    QVERIFY2(recovered.err.contains("End state: untouched") || recovered.out.contains("End state: untouched"),
        recovered.err.constData());
    QCOMPARE(objects(m_metadata, u"bundles/"_s + repo.name + u'/').isEmpty(), false);
    const CliRun after = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QVERIFY2(!after.out.contains(runId.toUtf8()), after.out.constData());
    // The run had copied the repo into the trash and opened its window before it died: as nothing was deleted, the
    // copy is gone and the window ended.
    QVERIFY2(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty(), qPrintable(trashObjects().join(u' ')));
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"ended"_s);
}

// Delete with the window (on by default), then restore: the metadata and vmetadata buckets are byte for byte what they
// were (names, bytes, content types, metadata), datamon2 lists the bundles again, the trash is empty and the window
// says restored. The plan said what it keeps and until when.
void TestDatamonDeleteRepo::restoreRoundTripIsIdentical()
{
    const SeededRepo repo = takeRepo();
    const QString plan = QString::fromUtf8(
        cli({ u"plan"_s, u"datamon-delete-repo"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo.name }).out);
    QVERIFY2(plan.contains(u"Can be undone until"_s) && plan.contains(u"opsdeck-trash/<run id>/"_s), qPrintable(plan));
    const QByteArray before = storeDigest();
    const QString runId = deleteWithWindow(repo.name);
    QVERIFY(!runId.isEmpty());
    QVERIFY(objects(m_metadata, u"repos/"_s + repo.name + u'/').isEmpty());
    QVERIFY(before != storeDigest());
    const QJsonObject kept = window(runId);
    QCOMPARE(kept.value(u"state"_s).toString(), u"open"_s);
    QVERIFY(kept.value(u"bytes"_s).toInteger() > 0);
    QCOMPARE(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').size(),
        kept.value(u"restore"_s).toObject().value(u"objects"_s).toInt());

    const CliRun restore = cli({ u"restore"_s, runId, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY2(restore.exitCode == 0, restore.err.constData());
    QCOMPARE(storeDigest(), before);
    QVERIFY2(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty(), qPrintable(trashObjects().join(u' ')));
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"restored"_s);
    const CliRun bundles = cli({ u"datamon"_s, u"bundles"_s, u"--context"_s, u"dm-dev"_s, u"--repo"_s, repo.name });
    QVERIFY2(bundles.exitCode == 0, bundles.err.constData());
    for (const QString& id : repo.bundles)
        QVERIFY2(bundles.out.contains(id.toUtf8()), bundles.out.constData());
    // A second restore of the same window is refused: it is closed.
    const CliRun again = cli({ u"restore"_s, runId, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY(again.exitCode != 0);
    QVERIFY2(again.err.contains("restored"), again.err.constData());
}

// A label is set again under the deleted repo's name before the restore: the restore puts the rest back, leaves the
// new label as it is and names it, and keeps the old copy in the trash under a window of its own, which a trash purge
// ends.
void TestDatamonDeleteRepo::restoreKeepsWhatArrivedSince()
{
    const SeededRepo repo = takeRepo();
    const QStringList labels = objects(m_vmetadata, u"labels/"_s + repo.name + u'/');
    QVERIFY(!labels.isEmpty());
    const QString runId = deleteWithWindow(repo.name);
    QVERIFY(!runId.isEmpty());
    // The label set again, as datamon writes one (another bundle of the repo, another contributor).
    const QString labelName = labels.first().section(u'/', 2, 2);
    const QByteArray newLabel = "name: " + labelName.toUtf8() + "\nid: \"" + repo.bundles.last().toUtf8()
        + "\"\ntimestamp: 2026-12-07T00:00:00Z\ncontributors:\n- name: \"Another Admin\"\n  email: "
          "another@example.org\n";
    const QString labelUrl = u"gs://%1/%2"_s.arg(m_vmetadata, labels.first());
    QByteArray err;
    QCOMPARE(gcloudOnBastion({ u"cp"_s, u"-"_s, labelUrl }, newLabel, &err), QProcess::NormalExit);

    const CliRun plan = cli({ u"restore"_s, runId, u"--plan"_s });
    QVERIFY2(plan.exitCode == 0, plan.err.constData());
    QVERIFY2(plan.out.contains(labelUrl.toUtf8()), plan.out.constData());
    const QString reportFile = m_temp.filePath(u"restore-taken.json"_s);
    const CliRun restore
        = cli({ u"restore"_s, runId, u"--confirm"_s, u"dm-dev/"_s + repo.name, u"--report"_s, reportFile });
    QVERIFY2(restore.exitCode == 0, restore.err.constData());
    QVERIFY2(
        restore.out.contains(labelUrl.toUtf8()) || restore.err.contains(labelUrl.toUtf8()), restore.out.constData());
    // The new label is as it was set; everything else is back.
    QSqlQuery content(QSqlDatabase::database(u"gcs"_s));
    content.prepare(u"SELECT content FROM objects WHERE bucket = ? AND name = ?"_s);
    content.addBindValue(m_vmetadata);
    content.addBindValue(labels.first());
    QVERIFY(content.exec() && content.next());
    QCOMPARE(content.value(0).toByteArray(), newLabel);
    content.finish(); // an open statement would hold this connection's view of the store
    QCOMPARE(objects(m_vmetadata, u"labels/"_s + repo.name + u'/'), labels);
    QVERIFY(!objects(m_metadata, u"repos/"_s + repo.name + u'/').isEmpty());
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"restored"_s);
    // Only the old label's copy is left, in a window of the restore run.
    const QString restoreRun = readJson(reportFile).value(u"id"_s).toString();
    const QJsonObject left = window(restoreRun);
    QCOMPARE(left.value(u"state"_s).toString(), u"open"_s);
    QCOMPARE(left.value(u"restore"_s).toObject().value(u"objects"_s).toInt(), 1);
    QCOMPARE(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/'),
        QStringList { u"opsdeck-trash/%1/%2/%3"_s.arg(runId, m_vmetadata, labels.first()) });
    // Restoring that window now would change nothing (the place is still taken): it is refused, and says why.
    const CliRun still = cli({ u"restore"_s, restoreRun, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY(still.exitCode != 0);
    QVERIFY2(
        still.err.contains("nothing would go back") && still.err.contains(labelUrl.toUtf8()), still.err.constData());
    QCOMPARE(window(restoreRun).value(u"state"_s).toString(), u"open"_s);
    const CliRun purge = cli({ u"trash"_s, u"purge"_s, restoreRun, u"--reason"_s, u"the new label is right"_s,
        u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY2(purge.exitCode == 0, purge.err.constData());
    QVERIFY(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
    QCOMPARE(window(restoreRun).value(u"state"_s).toString(), u"ended"_s);
}

// The console dies (SIGKILL) while the restore copies: held at its copy, a part of the repo is put back behind its
// back (as a copy that was under way), then the console is killed. `opsdeck recover` finishes the restore: the
// buckets are byte for byte as before the delete, never between.
void TestDatamonDeleteRepo::killedRestoreIsRecoveredToTheEnd()
{
    const SeededRepo repo = takeRepo();
    const QByteArray before = storeDigest();
    QString runId;
    QProcess console;
    QVERIFY(startRestoreHeldAtCopy(repo.name, &runId, &console));
    QByteArray err;
    QCOMPARE(
        gcloudOnBastion({ u"cp"_s, u"--recursive"_s, u"--no-clobber"_s,
                            u"gs://%1/opsdeck-trash/%2/%3/bundles/%4"_s.arg(m_metadata, runId, m_metadata, repo.name),
                            u"gs://%1/bundles/"_s.arg(m_metadata) },
            {}, &err),
        QProcess::NormalExit);
    QVERIFY(!objects(m_metadata, u"bundles/"_s + repo.name + u'/').isEmpty());
    QVERIFY(objects(m_metadata, u"repos/"_s + repo.name + u'/').isEmpty()); // between: no repo.yaml yet
    ::kill(static_cast<pid_t>(console.processId()), SIGKILL);
    QVERIFY(console.waitForFinished(10000));
    QFile::remove(holdFile());

    const QString restoreRun = unfinishedRun(u"operation"_s, u"datamon-restore-repo"_s);
    QVERIFY(!restoreRun.isEmpty());
    const CliRun recovered = cli({ u"recover"_s, restoreRun, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    QCOMPARE(storeDigest(), before);
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"restored"_s);
    QVERIFY(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
    const CliRun after = cli({ u"journal"_s, u"unfinished"_s, u"--json"_s });
    QVERIFY2(!after.out.contains(restoreRun.toUtf8()), after.out.constData());
}

// Every SSH connection to the bastion drops (a network cut) while the restore waits at its copy: the copy runs on a new
// connection, or the run stops for recovery, and `opsdeck recover` finishes it. Either way the buckets end byte for
// byte as before the delete.
void TestDatamonDeleteRepo::droppedConnectionRestoreEndsRestored()
{
    const SeededRepo repo = takeRepo();
    const QByteArray before = storeDigest();
    QString runId;
    QProcess console;
    QVERIFY(startRestoreHeldAtCopy(repo.name, &runId, &console));
    QVERIFY(!dropConnections(m_sandbox, u"bastion"_s).isEmpty());
    QFile::remove(holdFile());
    QVERIFY(console.waitForFinished(180000));
    const QByteArray output = console.readAllStandardOutput() + console.readAllStandardError();
    if (console.exitCode() != 0) {
        const QString restoreRun = unfinishedRun(u"operation"_s, u"datamon-restore-repo"_s);
        QVERIFY2(!restoreRun.isEmpty(), output.constData());
        const CliRun recovered = cli({ u"recover"_s, restoreRun, u"--confirm"_s, u"dm-dev/"_s + repo.name });
        QVERIFY2(recovered.exitCode == 0, recovered.err.constData());
    }
    QCOMPARE(storeDigest(), before);
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"restored"_s);
    QVERIFY(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
}

// Without the window: --no-undo needs a reason (exit 2, nothing run); with one, nothing goes to the trash and no
// window opens.
void TestDatamonDeleteRepo::windowOffNeedsAReason()
{
    const SeededRepo repo = takeRepo();
    const qsizetype logStart = invocations();
    const CliRun bare = cli(runArguments(repo.name, u"dm-dev/"_s + repo.name) << u"--no-undo"_s);
    QCOMPARE(bare.exitCode, 2);
    QVERIFY2(bare.err.contains("reason"), bare.err.constData());
    QCOMPARE(invocationsSince(logStart).size(), 0);
    const QStringList trashBefore = trashObjects();
    const QString reportFile = m_temp.filePath(u"no-undo.json"_s);
    const CliRun run = cli(runArguments(repo.name, u"dm-dev/"_s + repo.name)
        << u"--no-undo"_s << u"--reason"_s << u"a scratch repo"_s << u"--report"_s << reportFile);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(objects(m_metadata, u"repos/"_s + repo.name + u'/').isEmpty());
    QCOMPARE(trashObjects(), trashBefore);
    QVERIFY(window(readJson(reportFile).value(u"id"_s).toString()).isEmpty());
}

// `opsdeck trash purge` ends a delete's window early: the copy goes, and a restore is refused afterwards.
void TestDatamonDeleteRepo::trashPurgeEndsTheWindow()
{
    const SeededRepo repo = takeRepo();
    const QString runId = deleteWithWindow(repo.name);
    QVERIFY(!runId.isEmpty());
    QVERIFY(!objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
    const CliRun wrong = cli({ u"trash"_s, u"purge"_s, runId, u"--reason"_s, u"done"_s, u"--confirm"_s, u"dm-dev"_s });
    QCOMPARE(wrong.exitCode, 3);
    QVERIFY(!objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
    const CliRun purge
        = cli({ u"trash"_s, u"purge"_s, runId, u"--reason"_s, u"done"_s, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY2(purge.exitCode == 0, purge.err.constData());
    QVERIFY(objects(m_metadata, u"opsdeck-trash/"_s + runId + u'/').isEmpty());
    QCOMPARE(window(runId).value(u"state"_s).toString(), u"ended"_s);
    const CliRun restore = cli({ u"restore"_s, runId, u"--confirm"_s, u"dm-dev/"_s + repo.name });
    QVERIFY(restore.exitCode != 0);
    QVERIFY(objects(m_metadata, u"repos/"_s + repo.name + u'/').isEmpty());
}

QTEST_GUILESS_MAIN(TestDatamonDeleteRepo)
#include "tst_datamondeleterepo.moc"
