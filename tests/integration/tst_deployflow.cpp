// The Deploy pane's services through `opsdeck deploy ...`, against the sandbox's machines, its GitHub stand-in
// and its nix stand-in: the matrix, bad input, one deploy, the whole update-and-deploy flow, and GitHub's errors.
// The functions run in order and build on each other (the flow moves main); tst_deploypane runs before this.
#include "DeployMatrixModel.h"
#include "Sandbox.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

class TestDeployFlow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void matrixShowsEachMachinesState();
    void matrixTextTable();
    void badInputIsRefusedAndNothingRuns_data();
    void badInputIsRefusedAndNothingRuns();
    void readOnlyMachineIsRefused();
    void planChangesNothing();
    // Before the matrix's deploy: it deploys main to wpia-packit, which is behind, and ends where it started.
    void aDeployIsTakenBackToThePreviousRevision();
    void aDirtyMachineCannotBeTakenBack();
    void aWindowIsEndedEarlyByTrashPurge();
    void deployRunChangesTheMatrix();
    void cancelledDeployLeavesTheMachineAsItWas();
    void deployCommandGetsNoSecretAndThePinnedCommit();
    void aResolvedSecretIsScrubbedFromEverythingKept();
    void githubErrorsSayWhatToDo();
    void wholeFlow();
    void dispatchUnderTheNewerApiVersionNamesItsRun();

private:
    CliRun cli(const QStringList& arguments, int timeoutMs = 120000);
    QJsonArray matrix();
    QJsonObject row(const QJsonArray& matrix, const QString& machine);
    QByteArray promFile(const QString& machine) const;
    QByteArray treeChecksum(const QString& machine) const;
    QString runId(const CliRun& run) const;
    QJsonObject window(const QString& runId);
    QJsonArray journalRuns();
    QString inventoryWithCommand(const QByteArray& command, const QString& name)
    {
        return m_sandbox.inventoryWithDeployCommand(m_temp.filePath(name), QString::fromUtf8(command));
    }

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestDeployFlow::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
}

CliRun TestDeployFlow::cli(const QStringList& arguments, int timeoutMs)
{
    return runCli(arguments, m_sandbox.environment(), timeoutMs);
}

QJsonArray TestDeployFlow::matrix()
{
    const CliRun run = cli({ u"deploy"_s, u"matrix"_s, u"--json"_s });
    if (run.exitCode != 0)
        qWarning("deploy matrix: exit %d: %s", run.exitCode, run.err.constData());
    return QJsonDocument::fromJson(run.out).array();
}

QJsonObject TestDeployFlow::row(const QJsonArray& matrix, const QString& machine)
{
    for (const QJsonValue& v : matrix) {
        if (v[u"machine"_s].toString() == machine)
            return v.toObject();
    }
    return {};
}

QByteArray TestDeployFlow::promFile(const QString& machine) const
{
    QFile file(m_sandbox.machine(machine).value(u"root"_s).toString() + u"/etc/metrics/configuration-info.prom"_s);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// The checksum of every file of the machine's root, by path: its configuration (what a deploy writes: metrics, build
// info) and its data. Not its units' runtime state (pids, logs): a switch restarts units, and no deploy gives a
// process its old pid back.
QByteArray TestDeployFlow::treeChecksum(const QString& machine) const
{
    const QString root = m_sandbox.machine(machine).value(u"root"_s).toString();
    QCryptographicHash all(QCryptographicHash::Sha256);
    QDirIterator files(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    QStringList paths;
    while (files.hasNext()) {
        const QString path = files.next();
        if (!path.startsWith(root + u"/run/"_s) && !path.startsWith(root + u"/var/log/"_s))
            paths << path;
    }
    paths.sort();
    for (const QString& path : std::as_const(paths)) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return "unreadable: " + path.toUtf8();
        all.addData(path.mid(root.size()).toUtf8() + '\0'
            + QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256) + '\n');
    }
    return all.result().toHex();
}

// The run's id, from the CLI's last line ("run ID: outcome").
QString TestDeployFlow::runId(const CliRun& run) const
{
    static const QRegularExpression line(u"^run ([0-9a-f-]{36}): "_s, QRegularExpression::MultilineOption);
    return line.match(QString::fromUtf8(run.out)).captured(1);
}

QJsonObject TestDeployFlow::window(const QString& runId)
{
    const CliRun list = cli({ u"trash"_s, u"list"_s, u"--all"_s, u"--json"_s });
    for (const QJsonValue& v : QJsonDocument::fromJson(list.out).array()) {
        if (v[u"runId"_s].toString() == runId)
            return v.toObject();
    }
    return {};
}

QJsonArray TestDeployFlow::journalRuns()
{
    return QJsonDocument::fromJson(cli({ u"journal"_s, u"list"_s, u"--json"_s }).out).array();
}

void TestDeployFlow::matrixShowsEachMachinesState()
{
    const QJsonArray m = matrix();
    QCOMPARE(m.size(), m_sandbox.json().value(u"machines"_s).toArray().size());
    for (const QJsonValue& v : m) {
        for (const QString& field : { u"machine"_s, u"revision"_s, u"narHash"_s, u"dirty"_s, u"expectedRevision"_s,
                 u"behindBy"_s, u"state"_s, u"checkedAt"_s, u"error"_s })
            QVERIFY2(v.toObject().contains(field), qPrintable(field));
        const QString machine = v[u"machine"_s].toString();
        QCOMPARE(v[u"state"_s].toString(), m_sandbox.machine(machine).value(u"initialState"_s).toString());
    }
    const QJsonObject prod = row(m, u"wpia-packit"_s);
    QCOMPARE(prod[u"state"_s].toString(), u"behind"_s);
    QVERIFY(prod[u"behindBy"_s].toInt() > 0);
    QVERIFY(prod[u"revision"_s].toString() != prod[u"expectedRevision"_s].toString());
    QVERIFY(prod[u"narHash"_s].toString().startsWith(u"sha256-"_s));
    QVERIFY(!prod[u"instances"_s].toArray().isEmpty());
    QCOMPARE(prod[u"instances"_s].toArray().size(), 4);
    QVERIFY(prod[u"instances"_s][0][u"packit"_s].toString().size() == 40);
    QVERIFY(prod[u"instances"_s][0][u"outpackServer"_s].toString().size() == 40);

    const QJsonObject dev = row(m, u"wpia-packit-dev"_s);
    QCOMPARE(dev[u"state"_s].toString(), u"up-to-date"_s);
    QCOMPARE(dev[u"behindBy"_s].toInt(), 0);
    QCOMPARE(dev[u"revision"_s].toString(), dev[u"expectedRevision"_s].toString());
    QVERIFY(dev[u"error"_s].isNull());

    const QJsonObject priv = row(m, u"wpia-packit-private"_s);
    QCOMPARE(priv[u"state"_s].toString(), u"dirty"_s);
    QCOMPARE(priv[u"dirty"_s].toBool(), true);
    QVERIFY(priv[u"revision"_s].toString().endsWith(u"-dirty"_s));

    const QJsonObject spare = row(m, u"wpia-packit-spare"_s);
    QCOMPARE(spare[u"state"_s].toString(), u"unreachable"_s);
    QVERIFY2(
        spare[u"error"_s].toString().contains(u"configuration-info.prom"_s), qPrintable(spare[u"error"_s].toString()));
    QVERIFY(spare[u"revision"_s].isNull());
    // The branch is known even for a machine that cannot be read.
    QCOMPARE(spare[u"expectedRevision"_s].toString(), dev[u"expectedRevision"_s].toString());
}

void TestDeployFlow::matrixTextTable()
{
    const CliRun run = cli({ u"deploy"_s, u"matrix"_s });
    QCOMPARE(run.exitCode, 0);
    const QString text = QString::fromUtf8(run.out);
    // The Deploy pane's matrix column names, upper-cased.
    const QString header = text.section(u'\n', 0, 0).simplified();
    QCOMPARE(header, u"MACHINE STATE DEPLOYED BRANCH HEAD BEHIND NARHASH CHECKED ERROR"_s);
    using opsdeck::DeployMatrixModel;
    const DeployMatrixModel model;
    for (const int column : { DeployMatrixModel::Deployed, DeployMatrixModel::Expected, DeployMatrixModel::Behind })
        QVERIFY2(header.contains(model.headerData(column, Qt::Horizontal).toString().toUpper()), qPrintable(header));
    for (const QString& expected : { u"wpia-packit "_s, u"behind"_s, u"up-to-date"_s, u"dirty"_s, u"unreachable"_s })
        QVERIFY2(text.contains(expected), qPrintable(text));
}

void TestDeployFlow::badInputIsRefusedAndNothingRuns_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const QStringList run { u"deploy"_s, u"run"_s };
    QTest::newRow("unknown machine") << run
            + QStringList { u"--machine"_s, u"nope"_s, u"--ref"_s, u"main"_s, u"--confirm"_s, u"nope"_s }
                                     << 2 << u"is not a machine of the inventory"_s;
    QTest::newRow("machine with shell syntax")
        << run + QStringList { u"--machine"_s, u"wpia-packit;id"_s, u"--ref"_s, u"main"_s, u"--confirm"_s, u"x"_s } << 2
        << u"is not a machine of the inventory"_s;
    QTest::newRow("ref with a semicolon") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"main;touch /tmp/x"_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s } << 2
                                          << u"is not allowed"_s;
    QTest::newRow("ref with command substitution") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"$(reboot)"_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s } << 2 << u"is not allowed"_s;
    QTest::newRow("ref with a hash") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"main#x"_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s }
                                     << 2 << u"is not allowed"_s;
    QTest::newRow("ref climbing out") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"refs/../x"_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s }
                                      << 2 << u"is not allowed"_s;
    QTest::newRow("empty ref") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u""_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s }
                               << 2 << u"is required"_s;
    QTest::newRow("wrong confirmation") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"main"_s, u"--confirm"_s,
                  u"wpia-packit"_s } << 3
                                        << u"does not name the target"_s;
    QTest::newRow("no confirmation") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"main"_s }
                                     << 3 << u"--confirm is required"_s;
    QTest::newRow("unknown ref on GitHub") << run
            + QStringList { u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"no-such-branch"_s, u"--confirm"_s,
                  u"wpia-packit-dev"_s } << 1
                                           << u"cannot resolve no-such-branch"_s;
    QTest::newRow("update input with shell syntax")
        << QStringList { u"deploy"_s, u"update"_s, u"--input"_s, u"packit=x;id"_s, u"--confirm"_s, u"packit-infra"_s }
        << 2 << u"is not allowed"_s;
    QTest::newRow("undeclared update input")
        << QStringList { u"deploy"_s, u"update"_s, u"--input"_s, u"revision=x"_s, u"--confirm"_s, u"packit-infra"_s }
        << 2 << u"not one of the workflow's"_s;
    QTest::newRow("merge of a bad number")
        << QStringList { u"deploy"_s, u"merge"_s, u"--pr"_s, u"0x29"_s, u"--head"_s, u"x"_s, u"--confirm"_s, u"41"_s }
        << 2 << u"is not a pull request number"_s;
    QTest::newRow("deploy all, leaving out an unknown machine") << QStringList {
        u"deploy"_s, u"all"_s, u"--leave-out"_s, u"wpia-packit;id"_s, u"--confirm"_s, u"packit-infra"_s
    } << 1 << u"leave out: \"wpia-packit;id\" is not one of the machines"_s;
    QTest::newRow("deploy all, a machine both left out and included") << QStringList { u"deploy"_s, u"all"_s,
        u"--leave-out"_s, u"wpia-packit-spare"_s, u"--include"_s, u"wpia-packit-spare"_s, u"--confirm"_s,
        u"packit-infra"_s } << 1 << u"is also left out"_s;
    QTest::newRow("deploy all, an unknown failure policy")
        << QStringList { u"deploy"_s, u"all"_s, u"--on-failure"_s, u"retry"_s, u"--confirm"_s, u"packit-infra"_s } << 2
        << u"--on-failure: \"retry\" is not allowed: give stop or go-on"_s;
    QTest::newRow("deploy all, wrong confirmation")
        << QStringList { u"deploy"_s, u"all"_s, u"--confirm"_s, u"main"_s } << 3 << u"does not name the target"_s;
}

void TestDeployFlow::badInputIsRefusedAndNothingRuns()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    QMap<QString, QByteArray> before;
    for (const QString& machine : { u"wpia-packit"_s, u"wpia-packit-dev"_s, u"wpia-packit-private"_s })
        before.insert(machine, promFile(machine));
    const qsizetype runsBefore = journalRuns().size();
    const CliRun run = cli(arguments);
    QCOMPARE(run.exitCode, exitCode);
    QVERIFY2(run.err.contains(message.toUtf8()), run.err.constData());
    for (auto it = before.cbegin(); it != before.cend(); ++it)
        QCOMPARE(promFile(it.key()), *it);
    // A refused run is journaled as refused, never as run; a usage error journals nothing.
    const QJsonArray runs = journalRuns();
    if (exitCode == 2)
        QCOMPARE(runs.size(), runsBefore);
    for (qsizetype i = 0; i < runs.size() - runsBefore; ++i)
        QVERIFY(runs[i][u"outcome"_s].toString() != u"succeeded"_s);
}

void TestDeployFlow::readOnlyMachineIsRefused()
{
    QFile original(m_sandbox.inventoryPath());
    QVERIFY(original.open(QIODevice::ReadOnly));
    QByteArray yaml = original.readAll();
    // wpia-packit-dev's machine entry gets the readOnly tag (its host entry has no tags line).
    const QByteArray entry = "  - name: wpia-packit-dev\n    host: wpia-packit-dev\n";
    QVERIFY2(yaml.contains(entry), "the sandbox inventory's machine entry changed shape");
    yaml.replace(entry, entry + "    tags: [readOnly]\n");
    const QString path = m_temp.filePath(u"readonly.yaml"_s);
    QFile copy(path);
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(yaml);
    copy.close();
    const QByteArray before = promFile(u"wpia-packit-dev"_s);
    const CliRun run = cli({ u"deploy"_s, u"run"_s, u"--inventory"_s, path, u"--machine"_s, u"wpia-packit-dev"_s,
        u"--ref"_s, u"main"_s, u"--confirm"_s, u"wpia-packit-dev"_s });
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains("readOnly"), run.err.constData());
    QCOMPARE(promFile(u"wpia-packit-dev"_s), before);
}

void TestDeployFlow::planChangesNothing()
{
    const QByteArray before = promFile(u"wpia-packit"_s);
    const CliRun run = cli(
        { u"deploy"_s, u"run"_s, u"--machine"_s, u"wpia-packit"_s, u"--ref"_s, u"main"_s, u"--plan"_s, u"--json"_s });
    QCOMPARE(run.exitCode, 0);
    const QJsonObject plan = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(plan[u"operation"_s].toString(), u"deploy"_s);
    QCOMPARE(plan[u"environment"_s].toString(), u"production"_s);
    const QJsonArray steps = plan[u"steps"_s].toArray();
    QCOMPARE(steps.size(), 2);
    QVERIFY2(
        steps[0][u"command"_s].toString().contains(u"'github:reside-ic/packit-infra?rev=%1#deploy' wpia-packit"_s.arg(
            plan[u"parameters"_s][u"revision"_s].toString())),
        qPrintable(steps[0][u"command"_s].toString()));
    QCOMPARE(promFile(u"wpia-packit"_s), before);
}

void TestDeployFlow::deployRunChangesTheMatrix()
{
    const QString report = m_temp.filePath(u"deploy.json"_s);
    const CliRun run = cli({ u"deploy"_s, u"run"_s, u"--machine"_s, u"wpia-packit"_s, u"--ref"_s, u"main"_s,
        u"--confirm"_s, u"wpia-packit"_s, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonObject prod = row(matrix(), u"wpia-packit"_s);
    QCOMPARE(prod[u"state"_s].toString(), u"up-to-date"_s);
    QCOMPARE(prod[u"behindBy"_s].toInt(), 0);

    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"operation"_s].toString(), u"deploy"_s);
    QCOMPARE(record[u"outcome"_s].toString(), u"succeeded"_s);
    QCOMPARE(record[u"after"_s][u"wpia-packit"_s].toString(), prod[u"revision"_s].toString());
    QVERIFY(record[u"before"_s][u"wpia-packit"_s].toString() != prod[u"revision"_s].toString());
    const QJsonArray steps = record[u"steps"_s].toArray();
    QCOMPARE(steps.size(), 2);
    for (const QJsonValue& step : steps)
        QCOMPARE(step[u"state"_s].toString(), u"succeeded"_s);
    // The deploy command's own log is in the record.
    QVERIFY2(steps[0][u"output"_s].toString().contains(u"activating"_s), qPrintable(steps[0][u"output"_s].toString()));
}

// Deploy, then take it back: the machine's files are as they were before, byte for byte. A restore keeps a window of
// its own (what it replaced), so it can be taken back in turn; a machine deployed since is never overwritten.
void TestDeployFlow::aDeployIsTakenBackToThePreviousRevision()
{
    const QString machine = u"wpia-packit"_s;
    const QByteArray start = treeChecksum(machine);
    const QJsonObject startRow = row(matrix(), machine);

    const QString previous = startRow[u"revision"_s].toString();
    const CliRun deployed
        = cli({ u"deploy"_s, u"run"_s, u"--machine"_s, machine, u"--ref"_s, u"main"_s, u"--confirm"_s, machine });
    QVERIFY2(deployed.exitCode == 0, deployed.err.constData());
    const QString first = runId(deployed);
    QVERIFY2(!first.isEmpty(), deployed.out.constData());
    QVERIFY2(
        deployed.out.contains("Can be undone until ") && deployed.out.contains("opsdeck restore " + first.toUtf8()),
        deployed.out.constData());
    const QByteArray afterDeploy = treeChecksum(machine);
    QVERIFY(afterDeploy != start);
    const QString deployedRevision = row(matrix(), machine)[u"revision"_s].toString();

    QJsonObject kept = window(first);
    QCOMPARE(kept[u"state"_s].toString(), u"open"_s);
    QCOMPARE(kept[u"operation"_s].toString(), u"deploy"_s);
    QCOMPARE(kept[u"confirmWith"_s].toString(), machine);
    QCOMPARE(kept[u"restore"_s][u"machines"_s][machine][u"previous"_s].toString(), previous);

    // The plan changes nothing; a restore needs the right name.
    const CliRun planned = cli({ u"restore"_s, first, u"--plan"_s });
    QVERIFY2(planned.exitCode == 0, planned.err.constData());
    QVERIFY2(planned.out.contains(previous.left(10).toUtf8()), planned.out.constData());
    QCOMPARE(cli({ u"restore"_s, first }).exitCode, 3);
    QCOMPARE(cli({ u"restore"_s, first, u"--confirm"_s, u"wpia-packit-dev"_s }).exitCode, 3);
    QCOMPARE(cli({ u"restore"_s, first, u"--confirm"_s, machine, u"--no-undo"_s }).exitCode, 2);
    QCOMPARE(cli({ u"restore"_s, u"0000"_s, u"--plan"_s }).exitCode, 2);
    QCOMPARE(treeChecksum(machine), afterDeploy);

    // Someone deployed by hand since: the restore leaves that machine alone and says why.
    const QString prom
        = m_sandbox.machine(machine).value(u"root"_s).toString() + u"/etc/metrics/configuration-info.prom"_s;
    const QByteArray original = promFile(machine);
    {
        QFile file(prom);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QByteArray(original).replace(deployedRevision.toUtf8(), QByteArray(40, 'e')));
    }
    const CliRun conflict = cli({ u"restore"_s, first, u"--confirm"_s, machine });
    QCOMPARE(conflict.exitCode, 1);
    QVERIFY2(conflict.err.contains("deployed since") && conflict.err.contains("eeeeeeeeee"), conflict.err.constData());
    QVERIFY(promFile(machine) != original);
    {
        QFile file(prom);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(original);
    }
    QCOMPARE(treeChecksum(machine), afterDeploy);

    const QString report = m_temp.filePath(u"restore.json"_s);
    const CliRun restored = cli({ u"restore"_s, first, u"--confirm"_s, machine, u"--report"_s, report });
    QVERIFY2(restored.exitCode == 0, restored.err.constData());
    QCOMPARE(treeChecksum(machine), start);
    QCOMPARE(row(matrix(), machine)[u"revision"_s].toString(), previous);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"operation"_s].toString(), u"deploy-previous"_s);
    QCOMPARE(record[u"parameters"_s][u"restores"_s].toString(), first);
    QCOMPARE(record[u"parameters"_s][u"revisions"_s][machine].toString(), previous);
    QVERIFY(record[u"undo"_s][u"opened"_s].toBool());

    // Restored once: never again.
    QCOMPARE(window(first)[u"state"_s].toString(), u"restored"_s);
    const CliRun again = cli({ u"restore"_s, first, u"--confirm"_s, machine });
    QCOMPARE(again.exitCode, 2);
    QVERIFY2(again.err.contains("restored by run " + runId(restored).toUtf8()), again.err.constData());

    // The restore's own window takes it forward again, and that one's back.
    const QString second = runId(restored);
    const CliRun redo = cli({ u"restore"_s, second, u"--confirm"_s, machine });
    QVERIFY2(redo.exitCode == 0, redo.err.constData());
    QCOMPARE(treeChecksum(machine), afterDeploy);
    const CliRun undoAgain = cli(
        { u"restore"_s, runId(redo), u"--confirm"_s, machine, u"--no-undo"_s, u"--reason"_s, u"the test ends here"_s });
    QVERIFY2(undoAgain.exitCode == 0, undoAgain.err.constData());
    QCOMPARE(treeChecksum(machine), start);
    QVERIFY(window(runId(undoAgain)).isEmpty()); // the window was turned off for that run
    QVERIFY2(undoAgain.out.contains("the test ends here"), undoAgain.out.constData());
}

// A machine running a dirty worktree build has no commit to go back to: the plan says so.
void TestDeployFlow::aDirtyMachineCannotBeTakenBack()
{
    const CliRun planned
        = cli({ u"deploy"_s, u"run"_s, u"--machine"_s, u"wpia-packit-private"_s, u"--ref"_s, u"main"_s, u"--plan"_s });
    QVERIFY2(planned.exitCode == 0, planned.err.constData());
    QVERIFY2(planned.out.contains("This cannot be undone")
            || planned.out.contains("cannot be undone: wpia-packit-private runs"),
        planned.out.constData());
    QVERIFY2(planned.out.contains("a build no commit describes"), planned.out.constData());
    // And what the deploy replaces is lost: the warning says so.
    QVERIFY2(planned.out.contains("a build of a worktree with uncommitted changes: the deploy replaces it"),
        planned.out.constData());
}

// `trash purge` ends a window early, with a reason, confirmed by name; nothing on the machine changes, and the run can
// no longer be taken back. The machine ends where it started (the deploy is taken back first).
void TestDeployFlow::aWindowIsEndedEarlyByTrashPurge()
{
    const QString machine = u"wpia-packit"_s;
    const QByteArray start = treeChecksum(machine);
    const CliRun deployed
        = cli({ u"deploy"_s, u"run"_s, u"--machine"_s, machine, u"--ref"_s, u"main"_s, u"--confirm"_s, machine });
    QVERIFY2(deployed.exitCode == 0, deployed.err.constData());
    const CliRun restored = cli({ u"restore"_s, runId(deployed), u"--confirm"_s, machine });
    QVERIFY2(restored.exitCode == 0, restored.err.constData());
    QCOMPARE(treeChecksum(machine), start);
    const QString forward = runId(restored);
    QCOMPARE(window(forward)[u"state"_s].toString(), u"open"_s);

    QCOMPARE(cli({ u"trash"_s, u"purge"_s, forward, u"--confirm"_s, machine }).exitCode, 2); // no reason
    QCOMPARE(
        cli({ u"trash"_s, u"purge"_s, forward, u"--confirm"_s, machine, u"--reason"_s, u"two\nlines"_s }).exitCode, 2);
    QCOMPARE(cli({ u"trash"_s, u"purge"_s, forward, u"--reason"_s, u"done"_s }).exitCode, 3); // no confirmation
    QCOMPARE(cli({ u"trash"_s, u"purge"_s, forward, u"--reason"_s, u"done"_s, u"--confirm"_s, u"wpia-packit-dev"_s })
                 .exitCode,
        3);
    QCOMPARE(window(forward)[u"state"_s].toString(), u"open"_s);

    const CliRun ended = cli(
        { u"trash"_s, u"purge"_s, forward, u"--reason"_s, u"the staging test is over"_s, u"--confirm"_s, machine });
    QVERIFY2(ended.exitCode == 0, ended.err.constData());
    const QJsonObject closed = window(forward);
    QCOMPARE(closed[u"state"_s].toString(), u"ended"_s);
    QCOMPARE(closed[u"closedBy"_s].toString(), runId(ended));
    QCOMPARE(closed[u"closedReason"_s].toString(), u"the staging test is over"_s);
    QCOMPARE(treeChecksum(machine), start);
    // The open windows list no longer has it.
    QVERIFY(!cli({ u"trash"_s, u"list"_s, u"--json"_s }).out.contains(forward.toUtf8()));
    const CliRun late = cli({ u"restore"_s, forward, u"--confirm"_s, machine });
    QCOMPARE(late.exitCode, 2);
    QVERIFY2(late.err.contains("ended by run") && late.err.contains("the staging test is over"), late.err.constData());
    QCOMPARE(treeChecksum(machine), start);
}

void TestDeployFlow::cancelledDeployLeavesTheMachineAsItWas()
{
    // A deploy command that takes its time (and starts a child, as nix does), so the cancel surely lands
    // while it runs.
    const QString path = inventoryWithCommand(
        "[sh, -c, 'echo building; sleep 31.25; echo never', \"github:{repository}?rev={rev}#deploy\", \"{machine}\"]",
        u"slow.yaml"_s);
    QVERIFY(!path.isEmpty());

    const QByteArray before = promFile(u"wpia-packit-private"_s);
    QProcess process;
    process.setProcessEnvironment(m_sandbox.environment());
    process.start(QStringLiteral(OPSDECK_BINARY),
        { u"deploy"_s, u"run"_s, u"--inventory"_s, path, u"--machine"_s, u"wpia-packit-private"_s, u"--ref"_s,
            u"main"_s, u"--confirm"_s, u"wpia-packit-private"_s });
    const auto sleeping = [] {
        QProcess pgrep;
        pgrep.start(u"pgrep"_s, { u"-f"_s, u"sleep 31.25"_s });
        pgrep.waitForFinished();
        return pgrep.exitCode() == 0;
    };
    QTRY_VERIFY_WITH_TIMEOUT(sleeping(), 30000);
    ::kill(static_cast<pid_t>(process.processId()), SIGINT);
    QVERIFY(process.waitForFinished(30000));
    const QByteArray out = process.readAllStandardOutput();
    const QByteArray err = process.readAllStandardError();
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(out.contains("stopped at wpia-packit-private"), out.constData());
    QVERIFY2(err.contains("cancelled"), err.constData());
    // The whole process group went, the machine is as it was.
    QTRY_VERIFY_WITH_TIMEOUT(!sleeping(), 5000);
    QCOMPARE(promFile(u"wpia-packit-private"_s), before);
    QCOMPARE(row(matrix(), u"wpia-packit-private"_s)[u"state"_s].toString(), u"dirty"_s);
}

// The deploy command runs a pull request's code: it must see none of the console's secrets (the inventory's
// tokenEnv, secretEnv and passwordEnv variables, and anything else the admin's shell holds), and it must name the
// commit the plan resolved, so that nix does not resolve the ref again by itself.
void TestDeployFlow::deployCommandGetsNoSecretAndThePinnedCommit()
{
    const QString seen = m_temp.filePath(u"deploy-command-saw"_s);
    const QString path = inventoryWithCommand(
        "[sh, -c, 'env > \"$2\"; echo \"argv $0 $1\" >> \"$2\"; exit 1', \"github:{repository}?rev={rev}#deploy\", "
        "\"{machine}\", "
            + seen.toUtf8() + "]",
        u"env.yaml"_s);
    QVERIFY(!path.isEmpty());
    QProcessEnvironment environment = m_sandbox.environment();
    const QString planted = u"planted-4b1c9e07d2"_s;
    environment.insert(u"OPSDECK_TEST_PLANTED_SECRET"_s, planted);
    const QStringList secretVariables = { u"OPSDECK_SANDBOX_GITHUB_TOKEN"_s, u"OPSDECK_SANDBOX_PASSWORD"_s,
        u"OPSDECK_SANDBOX_PG_PASSWORD"_s, u"OPSDECK_SANDBOX_MARIADB_PASSWORD"_s, u"OPSDECK_TEST_PLANTED_SECRET"_s };
    for (const QString& variable : secretVariables)
        QVERIFY2(!environment.value(variable).isEmpty(), qPrintable(variable));

    const CliRun plan = runCli({ u"deploy"_s, u"run"_s, u"--inventory"_s, path, u"--machine"_s,
                                   u"wpia-packit-private"_s, u"--ref"_s, u"main"_s, u"--plan"_s, u"--json"_s },
        environment);
    QCOMPARE(plan.exitCode, 0);
    const QString revision = QJsonDocument::fromJson(plan.out)[u"parameters"_s][u"revision"_s].toString();
    QCOMPARE(revision.size(), 40);

    const CliRun run = runCli({ u"deploy"_s, u"run"_s, u"--inventory"_s, path, u"--machine"_s, u"wpia-packit-private"_s,
                                  u"--ref"_s, u"main"_s, u"--confirm"_s, u"wpia-packit-private"_s },
        environment);
    QCOMPARE(run.exitCode, 1);
    QFile file(seen);
    QVERIFY2(file.open(QIODevice::ReadOnly), "the deploy command did not run");
    const QByteArray saw = file.readAll();
    for (const QString& variable : secretVariables) {
        QVERIFY2(!saw.contains(variable.toUtf8()), qPrintable(variable));
        QVERIFY2(!saw.contains(environment.value(variable).toUtf8()), qPrintable(variable));
    }
    const QByteArrayList lines = saw.split('\n');
    for (const QByteArray variable : { "PATH=", "HOME=" }) {
        QVERIFY2(std::any_of(lines.cbegin(), lines.cend(), [&](const QByteArray& l) { return l.startsWith(variable); }),
            saw.constData());
    }
    QVERIFY2(
        saw.contains("argv github:reside-ic/packit-infra?rev=" + revision.toUtf8() + "#deploy wpia-packit-private"),
        saw.constData());
}

// The GitHub token this run resolved (from its tokenEnv) reaches the deploy command's argv, so the plan's command,
// the step's output and its error carry it: the journal, the report in every format, and the console's own output
// and logs hold none of it.
void TestDeployFlow::aResolvedSecretIsScrubbedFromEverythingKept()
{
    const QProcessEnvironment environment = m_sandbox.environment();
    const QString token = environment.value(u"OPSDECK_SANDBOX_GITHUB_TOKEN"_s);
    QVERIFY(token.size() >= 20);
    const QString path
        = inventoryWithCommand("[sh, -c, 'echo \"logging in with $2\"; echo \"bad token $2\" >&2; exit 1', "
                               "\"github:{repository}?rev={rev}#deploy\", \"{machine}\", "
                + token.toUtf8() + "]",
            u"leaky.yaml"_s);
    QVERIFY(!path.isEmpty());
    const QDir reports(m_temp.filePath(u"scrubbed"_s));
    QVERIFY(reports.mkpath(u"."_s));
    QStringList written;
    CliRun run;
    for (const QString& suffix : { u"json"_s, u"html"_s, u"csv"_s, u"pdf"_s }) {
        written << reports.filePath(u"deploy."_s + suffix);
        run = runCli(
            { u"deploy"_s, u"run"_s, u"--inventory"_s, path, u"--machine"_s, u"wpia-packit-private"_s, u"--ref"_s,
                u"main"_s, u"--confirm"_s, u"wpia-packit-private"_s, u"--report"_s, written.last() },
            environment);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(!run.out.contains(token.toUtf8()) && !run.err.contains(token.toUtf8()), run.out + run.err);
    }
    QFile json(written.first());
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QByteArray report = json.readAll();
    QVERIFY2(report.contains("logging in with [secret]"), report.constData());
    // And what the journal gives back.
    const CliRun shown = runCli({ u"journal"_s, u"list"_s, u"--json"_s }, environment);
    QVERIFY(!shown.out.isEmpty());
    QCOMPARE(m_sandbox.secretLeaks(written, { run.out, run.err, shown.out }), QStringList());
}

void TestDeployFlow::githubErrorsSayWhatToDo()
{
    QProcessEnvironment badToken = m_sandbox.environment();
    badToken.insert(u"OPSDECK_SANDBOX_GITHUB_TOKEN"_s, u"ghp_wrongwrongwrongwrongwrongwrongwrong"_s);
    CliRun run = runCli({ u"deploy"_s, u"matrix"_s, u"--json"_s }, badToken);
    QCOMPARE(run.exitCode, 0);
    QJsonObject dev = row(QJsonDocument::fromJson(run.out).array(), u"wpia-packit-dev"_s);
    QCOMPARE(dev[u"state"_s].toString(), u"unknown"_s);
    QVERIFY2(dev[u"error"_s].toString().contains(u"401"_s), qPrintable(dev[u"error"_s].toString()));
    QVERIFY2(dev[u"error"_s].toString().contains(u"wrong or expired"_s), qPrintable(dev[u"error"_s].toString()));
    QVERIFY(dev[u"error"_s].toString().contains(u"OPSDECK_SANDBOX_GITHUB_TOKEN"_s));

    m_sandbox.postToGithubStandin(u"/_standin/control"_s, { { u"rateLimit"_s, u"primary"_s } });
    run = cli({ u"deploy"_s, u"update"_s, u"--plan"_s });
    m_sandbox.postToGithubStandin(u"/_standin/control"_s, { { u"rateLimit"_s, u"none"_s } });
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rate limited: try again after"), run.err.constData());

    m_sandbox.postToGithubStandin(u"/_standin/control"_s, { { u"rateLimit"_s, u"secondary"_s } });
    run = cli({ u"deploy"_s, u"matrix"_s, u"--json"_s });
    m_sandbox.postToGithubStandin(u"/_standin/control"_s, { { u"rateLimit"_s, u"none"_s } });
    dev = row(QJsonDocument::fromJson(run.out).array(), u"wpia-packit-dev"_s);
    QVERIFY2(dev[u"error"_s].toString().contains(u"(60 s)"_s) || dev[u"error"_s].toString().contains(u"(59 s)"_s),
        qPrintable(dev[u"error"_s].toString()));
    QCOMPARE(row(matrix(), u"wpia-packit-dev"_s)[u"state"_s].toString(), u"up-to-date"_s);
}

void TestDeployFlow::wholeFlow()
{
    // 1. Trigger the update workflow; it opens the update pull request.
    CliRun run = cli({ u"deploy"_s, u"update"_s, u"--input"_s, u"packit=mrc-6559"_s, u"--confirm"_s, u"packit-infra"_s,
        u"--report"_s, m_temp.filePath(u"update.json"_s) });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY2(run.out.contains("pull request #41"), run.out.constData());

    // The pull request, its commits and, once they finish, its checks.
    QJsonObject pull;
    QTRY_VERIFY_WITH_TIMEOUT((pull = QJsonDocument::fromJson(cli({ u"deploy"_s, u"pull"_s, u"--json"_s }).out).object(),
                                 pull[u"checksPassed"_s].toBool()),
        30000);
    QCOMPARE(pull[u"number"_s].toInt(), 41);
    QVERIFY(!pull[u"commits"_s].toArray().isEmpty());
    const QString head = pull[u"headSha"_s].toString();
    QCOMPARE(head.size(), 40);

    // 2. Deploy the pull request's test merge to staging.
    run = cli({ u"deploy"_s, u"run"_s, u"--machine"_s, u"wpia-packit-dev"_s, u"--ref"_s, u"refs/pull/41/merge"_s,
        u"--confirm"_s, u"wpia-packit-dev"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QJsonArray m = matrix();
    const QString testMerge = row(m, u"wpia-packit-dev"_s)[u"revision"_s].toString();
    QCOMPARE(testMerge.size(), 40);
    // The test merge is not on main: staging is no longer up to date.
    QVERIFY(row(m, u"wpia-packit-dev"_s)[u"state"_s].toString() != u"up-to-date"_s);

    // A deploy of main to every machine now: its plan says that the pull request waits, and leaves out the spare
    // machine, which is down, unless included; the admin's failure policy is recorded.
    run = cli({ u"deploy"_s, u"all"_s, u"--plan"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QJsonObject plan = QJsonDocument::fromJson(run.out).object();
    QVERIFY2(plan[u"warnings"_s].toVariant().toStringList().join(u'\n').contains(
                 u"update pull request #41 \"%1\" is open, not merged"_s.arg(pull[u"title"_s].toString())),
        run.out.constData());
    QCOMPARE(plan[u"parameters"_s][u"machines"_s].toVariant().toStringList(),
        QStringList({ u"wpia-packit-dev"_s, u"wpia-packit-private"_s, u"wpia-packit"_s }));
    QVERIFY2(plan[u"parameters"_s][u"leftOut"_s][u"wpia-packit-spare"_s].toString().startsWith(u"unreachable now"_s),
        run.out.constData());
    QCOMPARE(plan[u"parameters"_s][u"onFailure"_s].toString(), u"stop"_s);
    QCOMPARE(plan[u"confirmWith"_s].toString(), u"packit-infra"_s);
    run = cli({ u"deploy"_s, u"all"_s, u"--include"_s, u"wpia-packit-spare"_s, u"--leave-out"_s,
        u"wpia-packit-private"_s, u"--on-failure"_s, u"go-on"_s, u"--plan"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    plan = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(plan[u"parameters"_s][u"machines"_s].toVariant().toStringList(),
        QStringList({ u"wpia-packit-dev"_s, u"wpia-packit-spare"_s, u"wpia-packit"_s }));
    QCOMPARE(plan[u"parameters"_s][u"leftOut"_s][u"wpia-packit-private"_s].toString(), u"the admin's choice"_s);
    QCOMPARE(plan[u"parameters"_s][u"onFailure"_s].toString(), u"go-on"_s);
    QVERIFY2(plan[u"warnings"_s].toVariant().toStringList().join(u'\n').contains(
                 u"and included: its deploy will fail, and the run goes on with the rest"_s),
        run.out.constData());

    // 3. The automatic checks on staging.
    run = cli(
        { u"deploy"_s, u"checks"_s, u"--revision"_s, testMerge, u"--report"_s, m_temp.filePath(u"checks.json"_s) });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    // A wrong expected revision fails them.
    run = cli({ u"deploy"_s, u"checks"_s, u"--revision"_s, QString(40, u'0') });
    QCOMPARE(run.exitCode, 1);

    // 4. Merge exactly the checked head; a stale head is refused.
    run = cli({ u"deploy"_s, u"merge"_s, u"--pr"_s, u"41"_s, u"--head"_s, QString(40, u'a'), u"--confirm"_s, u"41"_s });
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("moved"), run.err.constData());
    run = cli({ u"deploy"_s, u"merge"_s, u"--pr"_s, u"41"_s, u"--head"_s, head, u"--staging-revision"_s, testMerge,
        u"--checked"_s, u"Logging in to the instance with GitHub works"_s, u"--confirm"_s, u"41"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    m = matrix();
    for (const QJsonValue& v : m) {
        if (v[u"state"_s].toString() != u"unreachable"_s)
            QVERIFY2(v[u"state"_s].toString() != u"up-to-date"_s, qPrintable(v[u"machine"_s].toString()));
    }

    // 5. Deploy main to every machine. The spare one, still down, included with "go on after a failure": it fails,
    // and the run goes on to production, then says which failed and what each runs.
    run = cli({ u"deploy"_s, u"all"_s, u"--include"_s, u"wpia-packit-spare"_s, u"--on-failure"_s, u"go-on"_s,
                  u"--confirm"_s, u"packit-infra"_s },
        300000);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2((run.out + run.err)
                 .contains("is deployed to wpia-packit-dev, wpia-packit-private, wpia-packit; failed: "
                           "wpia-packit-spare (the run went on, as chosen)"),
        run.out.constData() + run.err);
    QCOMPARE(row(matrix(), u"wpia-packit"_s)[u"state"_s].toString(), u"up-to-date"_s);
    // Then with the spare brought back, every machine.
    QCOMPARE(m_sandbox.script(u"start-host"_s, { u"wpia-packit-spare"_s }), 0);
    const QString report = m_temp.filePath(u"all.json"_s);
    run = cli({ u"deploy"_s, u"all"_s, u"--confirm"_s, u"packit-infra"_s, u"--report"_s, report }, 300000);
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    m = matrix();
    for (const QJsonValue& v : m)
        QCOMPARE(v[u"machine"_s].toString() + u' ' + v[u"state"_s].toString(),
            v[u"machine"_s].toString() + u" up-to-date"_s);

    // The report names every machine's revision before and after; the journal has every step of the flow.
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record[u"operation"_s].toString(), u"deploy-all"_s);
    QCOMPARE(record[u"after"_s].toObject().size(), m.size());
    const QStringList order = [&] {
        QStringList ids;
        for (const QJsonValue& s : record[u"steps"_s].toArray())
            ids << s[u"id"_s].toString();
        return ids;
    }();
    QCOMPARE(order.first(), u"deploy:wpia-packit-dev"_s);
    QCOMPARE(order.last(), u"verify:wpia-packit"_s);
    QStringList operations;
    for (const QJsonValue& r : journalRuns()) {
        if (r[u"outcome"_s].toString() == u"succeeded"_s)
            operations << r[u"operation"_s].toString();
    }
    for (const QString& op :
        { u"deploy-update"_s, u"deploy"_s, u"deploy-checks"_s, u"deploy-merge"_s, u"deploy-all"_s })
        QVERIFY2(operations.contains(op), qPrintable(op));
    QCOMPARE(cli({ u"journal"_s, u"verify"_s }).exitCode, 0);
    QCOMPARE(m_sandbox.script(u"kill-host"_s, { u"wpia-packit-spare"_s }), 0);
}

// Under 2026-03-10 GitHub answers the dispatch with the run's id (2022-11-28: 204, and the run is looked up).
void TestDeployFlow::dispatchUnderTheNewerApiVersionNamesItsRun()
{
    QFile original(m_sandbox.inventoryPath());
    QVERIFY(original.open(QIODevice::ReadOnly));
    QByteArray yaml = original.readAll();
    QVERIFY(yaml.contains("tokenEnv: OPSDECK_SANDBOX_GITHUB_TOKEN\n"));
    yaml.replace("tokenEnv: OPSDECK_SANDBOX_GITHUB_TOKEN\n",
        "tokenEnv: OPSDECK_SANDBOX_GITHUB_TOKEN\n  apiVersion: \"2026-03-10\"\n");
    const QString path = m_temp.filePath(u"newer-api.yaml"_s);
    QFile copy(path);
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(yaml);
    copy.close();
    const QString report = m_temp.filePath(u"update-2026.json"_s);
    const CliRun run = cli(
        { u"deploy"_s, u"update"_s, u"--inventory"_s, path, u"--confirm"_s, u"packit-infra"_s, u"--report"_s, report });
    QVERIFY2(run.exitCode == 0, run.err.constData() + run.out);
    QFile file(report);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(record[u"after"_s][u"workflowRun"_s].toInteger() > 0);
    QVERIFY(record[u"after"_s][u"pullRequest"_s][u"number"_s].toInt() > 41);
}

QTEST_GUILESS_MAIN(TestDeployFlow)
#include "tst_deployflow.moc"
