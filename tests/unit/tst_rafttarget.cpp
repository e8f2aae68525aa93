// RaftTarget::resolve (an inventory cluster and namespace with its kubeconfig context) and resolveKubeSecrets (the
// token from tokenEnv or the credential store when the kubeconfig has none), on kubeconfigs written here.
#include "SecretTestSupport.h"
#include "config/InventoryLoader.h"
#include "kube/KubeSecrets.h"
#include "raft/RaftTarget.h"

#include <QFile>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {

// Plain literals: moc misreads a raw string with quotes in it, and then finds no class in this file.
const char* const kKubeconfig
    = "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- {name: ocp, cluster: {server: \"https://api.ocp.example:6443\", certificate-authority-data: Q0E=}}\n"
      "- {name: lax, cluster: {server: \"https://api.lax.example:6443\", insecure-skip-tls-verify: true}}\n"
      "users:\n"
      "- {name: alice, user: {token: sha256~alice-token}}\n"
      "- {name: bare, user: {}}\n"
      "- {name: sso, user: {exec: {command: kubelogin}}}\n"
      "contexts:\n"
      "- {name: fg/ocp/alice, context: {cluster: ocp, user: alice, namespace: fg}}\n"
      "- {name: nons/ocp/alice, context: {cluster: ocp, user: alice}}\n"
      "- {name: fg/lax/alice, context: {cluster: lax, user: alice, namespace: fg}}\n"
      "- {name: fg/ocp/bare, context: {cluster: ocp, user: bare, namespace: fg}}\n"
      "- {name: fg/ocp/sso, context: {cluster: ocp, user: sso, namespace: fg}}\n"
      "current-context: fg/ocp/alice\n";

struct Resolved
{
    std::optional<RaftTarget> target;
    QString error;
};

} // namespace

class TestRaftTarget : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void resolvesTheContextAndNamespace();
    void namesAreCheckedFirst_data();
    void namesAreCheckedFirst();
    void unknownCluster();
    void namespaceNotListedIsRefused();
    void namespacesDefaultToTheContexts();
    void kubeconfigProblems();
    void insecureRefusedForProductionOnly();
    void tokenFromTheKubeconfig();
    void tokenFromTokenEnv();
    void missingTokenNamesThePlugin();

private:
    Inventory inventory(const QString& clusters) const;
    std::optional<RaftTarget> resolve(const QString& clusters,
        const QString& cluster,
        const QString& ns,
        RaftTarget::Problem* problem,
        QString* error);
    Resolved resolveSecrets(const RaftTarget& target);

    QTemporaryDir m_dir;
    QString m_kubeconfig;
};

void TestRaftTarget::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // No keyring, as in tst_secretresolver: the store answers from the environment, memory or a prompter.
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_dir.path()));
    m_kubeconfig = m_dir.filePath(u"kubeconfig"_s);
    QFile file(m_kubeconfig);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(kKubeconfig);
}

Inventory TestRaftTarget::inventory(const QString& clusters) const
{
    const InventoryLoadResult loaded = InventoryLoader::loadString((u"clusters:\n"_s + clusters).toUtf8(), u"i.yaml"_s);
    if (!loaded.ok())
        qWarning("%s", qPrintable(loaded.errors.first().toString()));
    return loaded.inventory.value_or(Inventory {});
}

std::optional<RaftTarget> TestRaftTarget::resolve(
    const QString& clusters, const QString& cluster, const QString& ns, RaftTarget::Problem* problem, QString* error)
{
    // The default files stand for $KUBECONFIG, so that no test reads the user's own ~/.kube/config.
    return RaftTarget::resolve(inventory(clusters), cluster, ns, problem, error, { m_kubeconfig });
}

Resolved TestRaftTarget::resolveSecrets(const RaftTarget& target)
{
    CredentialStore store;
    store.setTimeout(1000);
    Resolved answer;
    bool answered = false;
    QObject context;
    resolveKubeSecrets(&store, target, &context, [&](std::optional<RaftTarget> resolved, const QString& error) {
        answer = { std::move(resolved), error };
        answered = true;
    });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(answered, 5000); }();
    return answer;
}

void TestRaftTarget::resolvesTheContextAndNamespace()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    const auto target = resolve(u"  - name: fg-prod\n    context: fg/ocp/alice\n    namespaces: [fg, fg-ledger]\n"
                                u"    tags: [production]\n"_s,
        u"fg-prod"_s, u"fg-ledger"_s, &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QCOMPARE(problem, RaftTarget::Problem::None);
    QCOMPARE(target->cluster.name, u"fg-prod"_s);
    QCOMPARE(target->ns, u"fg-ledger"_s);
    QCOMPARE(target->namespaces, (QStringList { u"fg"_s, u"fg-ledger"_s }));
    QCOMPARE(target->kube.server, u"https://api.ocp.example:6443"_s);
    QCOMPARE(target->kube.caPem, QByteArray("CA"));
    QCOMPARE(target->id(), u"fg-prod/fg-ledger"_s);
    QVERIFY(target->kube.warnings.isEmpty());
}

void TestRaftTarget::namesAreCheckedFirst_data()
{
    QTest::addColumn<QString>("cluster");
    QTest::addColumn<QString>("ns");
    QTest::addColumn<QString>("error");

    QTest::newRow("cluster with a slash") << u"fg/prod"_s << u"fg"_s << u"cluster \"fg/prod\" is not allowed"_s;
    QTest::newRow("empty cluster") << QString() << u"fg"_s << u"cluster \"\" is not allowed"_s;
    QTest::newRow("shell in the namespace") << u"fg-prod"_s << u"fg;rm"_s << u"namespace \"fg;rm\" is not allowed"_s;
    QTest::newRow("dot dot") << u"fg-prod"_s << u".."_s << u"namespace \"..\" is not allowed"_s;
    QTest::newRow("empty namespace") << u"fg-prod"_s << QString() << u"namespace \"\" is not allowed"_s;
    QTest::newRow("64 characters") << u"fg-prod"_s << QString(64, u'a') << u"is not allowed: use 1-63 characters"_s;
    QTest::newRow("trailing dash") << u"fg-prod"_s << u"fg-"_s << u"ending with a letter or digit"_s;
    // A bad name is named even when the cluster does not exist.
    QTest::newRow("unknown cluster, bad namespace") << u"nope"_s << u"FG"_s << u"namespace \"FG\" is not allowed"_s;
}

void TestRaftTarget::namesAreCheckedFirst()
{
    QFETCH(QString, cluster);
    QFETCH(QString, ns);
    QFETCH(QString, error);
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString why;
    QVERIFY(!resolve(u"  - name: fg-prod\n    context: fg/ocp/alice\n"_s, cluster, ns, &problem, &why));
    QCOMPARE(problem, RaftTarget::Problem::InvalidName);
    QVERIFY2(why.contains(error), qPrintable(why));
}

void TestRaftTarget::unknownCluster()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    QVERIFY(!resolve(u"  - name: a\n  - name: b\n"_s, u"c"_s, u"fg"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::UnknownCluster);
    QCOMPARE(error, u"no cluster \"c\" in the inventory; it has: a, b"_s);
}

void TestRaftTarget::namespaceNotListedIsRefused()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    QVERIFY(!resolve(u"  - name: c\n    namespaces: [fg]\n"_s, u"c"_s, u"kube-system"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::UnknownNamespace);
    QVERIFY2(error.contains(u"namespace \"kube-system\" is not one of cluster c's in the inventory (fg)"_s),
        qPrintable(error));
}

void TestRaftTarget::namespacesDefaultToTheContexts()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    // The current context's namespace.
    auto target = RaftTarget::resolveCluster(inventory(u"  - name: c\n"_s), u"c"_s, &problem, &error, { m_kubeconfig });
    QVERIFY2(target, qPrintable(error));
    QCOMPARE(target->kube.context.name, u"fg/ocp/alice"_s);
    QCOMPARE(target->namespaces, QStringList { u"fg"_s });
    QCOMPARE(target->ns, u"fg"_s);
    // A context without one means "default", as for kubectl.
    target = RaftTarget::resolveCluster(
        inventory(u"  - name: c\n    context: nons/ocp/alice\n"_s), u"c"_s, &problem, &error, { m_kubeconfig });
    QVERIFY2(target, qPrintable(error));
    QCOMPARE(target->namespaces, QStringList { u"default"_s });
    QVERIFY(!resolve(u"  - name: c\n    context: nons/ocp/alice\n"_s, u"c"_s, u"fg"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::UnknownNamespace);
}

void TestRaftTarget::kubeconfigProblems()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    QVERIFY(!resolve(u"  - name: c\n    context: fg/ocp/nobody\n"_s, u"c"_s, u"fg"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::Kubeconfig);
    QVERIFY2(error.startsWith(u"cluster c: the kubeconfig has no context \"fg/ocp/nobody\""_s), qPrintable(error));

    // The inventory's kubeconfig wins over the default files.
    const QString missing = m_dir.filePath(u"missing"_s);
    QVERIFY(!resolve(u"  - name: c\n    kubeconfig: %1\n"_s.arg(missing), u"c"_s, u"fg"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::Kubeconfig);
    QVERIFY2(error.contains(u"none of "_s + missing + u" exists"_s), qPrintable(error));
}

void TestRaftTarget::insecureRefusedForProductionOnly()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    QVERIFY(!resolve(
        u"  - name: c\n    context: fg/lax/alice\n    tags: [production]\n"_s, u"c"_s, u"fg"_s, &problem, &error));
    QCOMPARE(problem, RaftTarget::Problem::Refused);
    QVERIFY2(error.contains(u"insecure-skip-tls-verify"_s) && error.contains(u"production"_s), qPrintable(error));

    const auto target = resolve(u"  - name: c\n    context: fg/lax/alice\n"_s, u"c"_s, u"fg"_s, &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(target->kube.insecureSkipTlsVerify);
    QCOMPARE(target->kube.warnings.size(), 1);
    QVERIFY(target->kube.warnings.first().contains(u"insecure-skip-tls-verify"_s));
}

void TestRaftTarget::tokenFromTheKubeconfig()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    // The kubeconfig's token wins over tokenEnv: nothing is looked up.
    qputenv("OPSDECK_TST_RAFT_TOKEN", "from-env");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_RAFT_TOKEN"); });
    const auto target = resolve(u"  - name: c\n    context: fg/ocp/alice\n    tokenEnv: OPSDECK_TST_RAFT_TOKEN\n"_s,
        u"c"_s, u"fg"_s, &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(!target->needsToken());
    const Resolved resolved = resolveSecrets(*target);
    QVERIFY2(resolved.target, qPrintable(resolved.error));
    QCOMPARE(resolved.target->kube.token, u"sha256~alice-token"_s);
}

void TestRaftTarget::tokenFromTokenEnv()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    qputenv("OPSDECK_TST_RAFT_TOKEN", "sha256~from-env");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_RAFT_TOKEN"); });
    const auto target = resolve(u"  - name: c\n    context: fg/ocp/bare\n    tokenEnv: OPSDECK_TST_RAFT_TOKEN\n"_s,
        u"c"_s, u"fg"_s, &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(target->needsToken());
    const SecretSpec spec = kubeTokenSpec(target->cluster);
    QCOMPARE(CredentialStore::keyFor(spec), u"opsdeck/k8s/c/token"_s);
    QCOMPARE(spec.envVar, u"OPSDECK_TST_RAFT_TOKEN"_s);
    const Resolved resolved = resolveSecrets(*target);
    QVERIFY2(resolved.target, qPrintable(resolved.error));
    QCOMPARE(resolved.target->kube.token, u"sha256~from-env"_s);
    QVERIFY(!resolved.target->needsToken());
}

void TestRaftTarget::missingTokenNamesThePlugin()
{
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    const auto target = resolve(u"  - name: c\n    context: fg/ocp/sso\n"_s, u"c"_s, u"fg"_s, &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(target->needsToken());
    // No environment variable, no keyring, no prompter: the lookup fails, and says why the kubeconfig did not do.
    const Resolved resolved = resolveSecrets(*target);
    QVERIFY(!resolved.target);
    QVERIFY2(resolved.error.contains(u"exec plugin \"kubelogin\", which opsdeck does not run"_s),
        qPrintable(resolved.error));
}

QTEST_GUILESS_MAIN(TestRaftTarget)
#include "tst_rafttarget.moc"
