// `opsdeck raft statefulsets` and `opsdeck raft pods`, run as an admin would: the real executable against the
// sandbox's Kubernetes API stand-in, through the clusters of the sandbox's inventory (fg-prod, fg-staging).
#include "Sandbox.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

namespace {

// The stand-in's seed (tests/sandbox/standins/kubernetes): the annotation exactly as the runbook shows it.
// Plain literals: moc misreads a raw string with quotes in it, and then finds no class in this file.
const QString kAnnotation = u"[{\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"permie:latest\"},"
                            "\"fieldPath\":\"spec.template.spec.containers[?(@.name==\\\"app\\\")].image\"}]"_s;
const QString kPermieDigest = u"sha256:71443bf116b7108ac4bf27653bcf0c0a9680bc848ee6456faa3c73f7c4c559fb"_s;

} // namespace

class TestRaftCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void statefulSetsAsJson();
    void statefulSetsAsTable();
    void stagingHasItsOwnStatefulSets();
    void podsAsJson();
    void podsAsTable();
    void unknownCluster();
    void badNamespaceIsAUsageError_data();
    void badNamespaceIsAUsageError();
    void badStatefulSetName();
    void namespaceNotInTheInventory();
    void expiredTokenSaysToLogInAgain();

private:
    CliRun raft(const QStringList& arguments, const QString& inventory = {}) const;
    QJsonArray json(const CliRun& run) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestRaftCli::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
}

CliRun TestRaftCli::raft(const QStringList& arguments, const QString& inventory) const
{
    QStringList all = QStringList { u"raft"_s } + arguments;
    if (!inventory.isEmpty())
        all << u"--inventory"_s << inventory;
    return runCli(all, m_sandbox.environment());
}

QJsonArray TestRaftCli::json(const CliRun& run) const
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(run.out, &error);
    if (error.error != QJsonParseError::NoError || !document.isArray())
        qWarning("not a JSON array (%s): %s\nstderr: %s", qPrintable(error.errorString()), run.out.constData(),
            run.err.constData());
    return document.array();
}

void TestRaftCli::statefulSetsAsJson()
{
    const CliRun run
        = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray rows = json(run);
    QCOMPARE(rows.size(), 2);
    const QJsonObject permie = rows[0].toObject();
    QCOMPARE(permie[u"name"_s].toString(), u"permie"_s);
    QCOMPARE(rows[1].toObject()[u"name"_s].toString(), u"permie-ledger"_s);
    QCOMPARE(permie[u"desiredReplicas"_s].toInt(), 3);
    QCOMPARE(rows[1].toObject()[u"desiredReplicas"_s].toInt(), 5);
    QCOMPARE(permie[u"container"_s].toString(), u"app"_s);
    QCOMPARE(permie[u"triggerAnnotation"_s].toString(), kAnnotation);
    QCOMPARE(permie[u"triggerError"_s].toString(), QString());
    QCOMPARE(permie[u"triggers"_s].toArray().at(0).toObject()[u"tag"_s].toString(), u"permie:latest"_s);
    QCOMPARE(permie[u"podManagementPolicy"_s].toString(), u"OrderedReady"_s);
    QVERIFY(permie[u"updateRevision"_s].toString().startsWith(u"permie-"_s));
    QVERIFY2(permie[u"image"_s].toString().startsWith(u"image-registry.openshift-image-registry.svc:5000/fg/"_s),
        qPrintable(permie[u"image"_s].toString()));
}

void TestRaftCli::statefulSetsAsTable()
{
    const CliRun run = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QStringList lines = QString::fromUtf8(run.out).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    // The RAFT pane's column names.
    QCOMPARE(lines[0].simplified(), u"STATEFULSET READY IMAGE IMAGE TRIGGER REVISION POD MANAGEMENT"_s);
    const QStringList permie = lines[1].simplified().split(u' ');
    QCOMPARE(permie.value(0), u"permie"_s);
    QVERIFY2(permie.value(1).endsWith(u"/3"_s), qPrintable(lines[1]));
    // The registry host left out, the digest shortened.
    QCOMPARE(permie.value(2), u"fg/permie@"_s + kPermieDigest.left(19));
    QCOMPARE(permie.value(3), u"permie:latest"_s);
    QCOMPARE(permie.last(), u"OrderedReady"_s);
    QVERIFY2(lines[2].startsWith(u"permie-ledger "_s), qPrintable(lines[2]));
}

void TestRaftCli::stagingHasItsOwnStatefulSets()
{
    const CliRun run
        = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-staging"_s, u"--namespace"_s, u"fg-staging"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray rows = json(run);
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0].toObject()[u"name"_s].toString(), u"permie"_s);
    QVERIFY(rows[0].toObject()[u"image"_s].toString().contains(u"/fg-staging/"_s));

    const CliRun table
        = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-staging"_s, u"--namespace"_s, u"fg-staging"_s });
    QVERIFY2(table.exitCode == 0, table.err.constData());
    QCOMPARE(QString::fromUtf8(table.out).split(u'\n', Qt::SkipEmptyParts).size(), 2);
}

void TestRaftCli::podsAsJson()
{
    const CliRun run = raft({ u"pods"_s, u"--cluster"_s, u"fg-staging"_s, u"--namespace"_s, u"fg-staging"_s,
        u"--statefulset"_s, u"permie"_s, u"--json"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray rows = json(run);
    QCOMPARE(rows.size(), 3);
    for (int i = 0; i < 3; ++i) {
        const QJsonObject pod = rows[i].toObject();
        QCOMPARE(pod[u"ordinal"_s].toInt(), i);
        QCOMPARE(pod[u"name"_s].toString(), u"permie-%1"_s.arg(i));
        QCOMPARE(pod[u"phase"_s].toString(), u"Running"_s);
        QVERIFY(pod[u"ready"_s].toBool());
        QVERIFY(!pod[u"terminating"_s].toBool());
        QVERIFY2(pod[u"image"_s].toString().endsWith(u"/fg-staging/permie@"_s + kPermieDigest),
            qPrintable(pod[u"image"_s].toString()));
        QVERIFY(pod[u"revision"_s].toString().startsWith(u"permie-"_s));
        QCOMPARE(pod[u"restarts"_s].toInt(), 0);
        QVERIFY(QDateTime::fromString(pod[u"created"_s].toString(), Qt::ISODate).isValid());
    }

    // The 5 of permie-ledger, and none of permie's although its name starts the same.
    const CliRun ledger = raft({ u"pods"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s, u"--statefulset"_s,
        u"permie-ledger"_s, u"--json"_s });
    QVERIFY2(ledger.exitCode == 0, ledger.err.constData());
    const QJsonArray ledgerRows = json(ledger);
    QCOMPARE(ledgerRows.size(), 5);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(ledgerRows[i].toObject()[u"name"_s].toString(), u"permie-ledger-%1"_s.arg(i));
}

void TestRaftCli::podsAsTable()
{
    const CliRun run
        = raft({ u"pods"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s, u"--statefulset"_s, u"permie"_s });
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QStringList lines = QString::fromUtf8(run.out).split(u'\n', Qt::SkipEmptyParts);
    QVERIFY2(lines.size() >= 2, run.out.constData());
    QCOMPARE(lines[0].simplified(), u"# POD PHASE READY IMAGE REVISION RESTARTS AGE"_s);
    const QStringList first = lines[1].simplified().split(u' ');
    QCOMPARE(first.size(), 8);
    QCOMPARE(first[0], u"0"_s);
    QCOMPARE(first[1], u"permie-0"_s);
    QVERIFY2(first[4].startsWith(u"fg/"_s), qPrintable(lines[1]));
    QVERIFY2(QRegularExpression(u"^[0-9]+[smhd]$"_s).match(first[7]).hasMatch(), qPrintable(lines[1]));

    // A StatefulSet that is not there: the API's 404, as one sentence.
    const CliRun missing = raft(
        { u"pods"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s, u"--statefulset"_s, u"nothere"_s });
    QCOMPARE(missing.exitCode, 1);
    QVERIFY2(missing.err.contains("nothere"), missing.err.constData());
}

void TestRaftCli::unknownCluster()
{
    const CliRun run = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-nope"_s, u"--namespace"_s, u"fg"_s });
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("no cluster \"fg-nope\" in the inventory; it has: fg-prod, fg-staging, fg-viewer"),
        run.err.constData());
    QCOMPARE(run.out, QByteArray());
}

void TestRaftCli::badNamespaceIsAUsageError_data()
{
    QTest::addColumn<QString>("ns");
    QTest::newRow("shell syntax") << u"fg;rm"_s;
    QTest::newRow("dot dot") << u".."_s;
    QTest::newRow("empty") << QString();
    QTest::newRow("64 characters") << QString(64, u'a');
    QTest::newRow("path") << u"fg/../kube-system"_s;
}

void TestRaftCli::badNamespaceIsAUsageError()
{
    QFETCH(QString, ns);
    for (const QString& command : { u"statefulsets"_s, u"pods"_s }) {
        QStringList arguments = { command, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, ns, u"--json"_s };
        if (command == u"pods"_s)
            arguments << u"--statefulset"_s << u"permie"_s;
        const CliRun run = raft(arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains((u"namespace \""_s + ns + u"\" is not allowed"_s).toUtf8()), run.err.constData());
        QCOMPARE(run.out, QByteArray());
    }
}

void TestRaftCli::badStatefulSetName()
{
    const CliRun run = raft(
        { u"pods"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg"_s, u"--statefulset"_s, u"permie/../x"_s });
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("statefulset \"permie/../x\" is not allowed"), run.err.constData());
}

void TestRaftCli::namespaceNotInTheInventory()
{
    // fg-staging exists on the cluster, but fg-prod's inventory entry lists only fg.
    const CliRun run = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-prod"_s, u"--namespace"_s, u"fg-staging"_s });
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("namespace \"fg-staging\" is not one of cluster fg-prod's in the inventory (fg)"),
        run.err.constData());
    QCOMPARE(run.out, QByteArray());
}

void TestRaftCli::expiredTokenSaysToLogInAgain()
{
    // The stand-in's opsdeck-expired user: its token is in the kubeconfig, and every request gets 401.
    const QString kubeconfig = m_sandbox.json()[u"kubernetes"_s].toObject()[u"kubeconfig"_s].toString();
    QFile file(kubeconfig);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QString context;
    for (const QJsonValue& entry : QJsonDocument::fromJson(file.readAll()).object()[u"contexts"_s].toArray()) {
        const QString name = entry.toObject()[u"name"_s].toString();
        if (name.startsWith(u"fg/"_s) && name.endsWith(u"/opsdeck-expired"_s))
            context = name;
    }
    QVERIFY(!context.isEmpty());
    const QString inventory = m_temp.filePath(u"expired.yaml"_s);
    QFile out(inventory);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(u"clusters:\n  - name: fg-expired\n    kubeconfig: %1\n    context: \"%2\"\n    namespaces: [fg]\n"_s
                  .arg(kubeconfig, context)
                  .toUtf8());
    out.close();

    const CliRun run
        = raft({ u"statefulsets"_s, u"--cluster"_s, u"fg-expired"_s, u"--namespace"_s, u"fg"_s }, inventory);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("401") || run.err.contains("Unauthorized"), run.err.constData());
    QVERIFY2(run.err.contains("log in again"), run.err.constData());
    QVERIFY2(run.err.contains("fg-expired"), run.err.constData());
    QCOMPARE(run.out, QByteArray());
}

QTEST_GUILESS_MAIN(TestRaftCli)
#include "tst_raftcli.moc"
