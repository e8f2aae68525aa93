// DatamonTarget's Job mode: a context with `jobs:` gets its cluster resolved on the Jobs' namespace (or is refused
// naming what is wrong), the step's argv with the image's binary, and resolveDatamonSecrets fills in both the host's
// SSH secret and the cluster's token, each where it belongs. On kubeconfigs and inventories written here.
#include "config/InventoryLoader.h"
#include "datamon/DatamonTarget.h"

#include <QFile>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

using namespace opsdeck;
using namespace Qt::StringLiterals;

namespace {

const char* const kKubeconfig = "apiVersion: v1\n"
                                "kind: Config\n"
                                "clusters:\n"
                                "- {name: ocp, cluster: {server: \"https://api.ocp.example:6443\"}}\n"
                                "users:\n"
                                "- {name: bare, user: {}}\n"
                                "contexts:\n"
                                "- {name: datamon/ocp/bare, context: {cluster: ocp, user: bare, namespace: datamon}}\n"
                                "current-context: datamon/ocp/bare\n";

} // namespace

class TestDatamonTarget : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void withoutJobsThereIsNoCluster();
    void jobsResolveTheirCluster();
    void aJobsNamespaceTheClusterDoesNotListIsRefused();
    void secretsOfHostAndClusterEachWhereTheyBelong();

private:
    Inventory inventory(const QString& jobs, const QString& host = u"bastion"_s) const;
    std::optional<DatamonTarget> resolve(const Inventory& inventory, DatamonTarget::Problem* problem, QString* error);

    QTemporaryDir m_dir;
    QString m_kubeconfig;
};

void TestDatamonTarget::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // No keyring: the store answers from the environment (as tst_rafttarget).
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_dir.path()));
    m_kubeconfig = m_dir.filePath(u"kubeconfig"_s);
    QFile file(m_kubeconfig);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(kKubeconfig);
}

Inventory TestDatamonTarget::inventory(const QString& jobs, const QString& host) const
{
    const QString text = u"hosts:\n"
                         "  - name: bastion\n"
                         "    address: 127.0.0.1\n"
                         "    auth:\n"
                         "      method: password\n"
                         "      secretEnv: OPSDECK_TST_DM_SSH\n"
                         "clusters:\n"
                         "  - name: k\n"
                         "    kubeconfig: %1\n"
                         "    namespaces: [datamon]\n"
                         "    tokenEnv: OPSDECK_TST_DM_TOKEN\n"
                         "datamon:\n"
                         "  - name: d\n"
                         "    context: dev\n"
                         "    config: cfg\n"
                         "    host: %2\n"
                         "%3"_s.arg(m_kubeconfig, host, jobs);
    const InventoryLoadResult loaded = InventoryLoader::loadString(text.toUtf8(), u"i.yaml"_s);
    if (!loaded.ok())
        qWarning("%s", qPrintable(loaded.errors.first().toString()));
    return loaded.inventory.value_or(Inventory {});
}

std::optional<DatamonTarget> TestDatamonTarget::resolve(
    const Inventory& inventory, DatamonTarget::Problem* problem, QString* error)
{
    return DatamonTarget::resolve(inventory, u"d"_s, problem, error, { m_kubeconfig });
}

void TestDatamonTarget::withoutJobsThereIsNoCluster()
{
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = resolve(inventory({}), &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(!target->cluster);
}

void TestDatamonTarget::jobsResolveTheirCluster()
{
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = resolve(
        inventory(u"    jobs: {cluster: k, namespace: datamon, image: \"gcr.io/onec-co/datamon:v2.6.9\"}\n"_s),
        &problem, &error);
    QVERIFY2(target, qPrintable(error));
    QVERIFY(target->cluster);
    QCOMPARE(target->cluster->cluster.name, u"k"_s);
    QCOMPARE(target->cluster->ns, u"datamon"_s);
    QCOMPARE(target->cluster->kube.server, u"https://api.ocp.example:6443"_s);
    QVERIFY(target->cluster->needsToken());
    // The image's CLI (upstream's /usr/bin/datamon by default), with the context's flags spelt out as on the host.
    const QStringList argv = target->purgeStep({ u"purge"_s, u"delete-reverse-lookup"_s });
    QCOMPARE(argv,
        (QStringList { u"datamon"_s, u"purge"_s, u"delete-reverse-lookup"_s, u"--context"_s, u"dev"_s, u"--config"_s,
            u"cfg"_s, u"--metrics=false"_s }));
    QCOMPARE(target->datamon({ u"version"_s }).first(), u"datamon2"_s);
}

void TestDatamonTarget::aJobsNamespaceTheClusterDoesNotListIsRefused()
{
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target
        = resolve(inventory(u"    jobs: {cluster: k, namespace: other, image: \"datamon:1\"}\n"_s), &problem, &error);
    QVERIFY(!target);
    QCOMPARE(problem, DatamonTarget::Problem::Cluster);
    QVERIFY2(error.startsWith(u"datamon context d runs its purge steps as Jobs: namespace \"other\" is not one of "
                              "cluster k's"_s),
        qPrintable(error));
}

void TestDatamonTarget::secretsOfHostAndClusterEachWhereTheyBelong()
{
    qputenv("OPSDECK_TST_DM_SSH", "ssh-password");
    qputenv("OPSDECK_TST_DM_TOKEN", "sha256~cluster-token");
    const auto unset = qScopeGuard([] {
        qunsetenv("OPSDECK_TST_DM_SSH");
        qunsetenv("OPSDECK_TST_DM_TOKEN");
    });
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = resolve(
        inventory(u"    jobs: {cluster: k, namespace: datamon, image: \"datamon:1\", binary: /usr/bin/datamon}\n"_s),
        &problem, &error);
    QVERIFY2(target, qPrintable(error));
    CredentialStore store;
    store.setTimeout(1000);
    std::optional<DatamonTarget> resolved;
    bool answered = false;
    QObject context;
    resolveDatamonSecrets(&store, *target, &context, [&](std::optional<DatamonTarget> t, const QString& why) {
        resolved = std::move(t);
        error = why;
        answered = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(answered, 5000);
    QVERIFY2(resolved, qPrintable(error));
    QCOMPARE(resolved->sshSecret, u"ssh-password"_s);
    QCOMPARE(resolved->cluster->kube.token, u"sha256~cluster-token"_s);
    QVERIFY(!resolved->cluster->needsToken());
    QCOMPARE(resolved->purgeStep({ u"version"_s }).first(), u"/usr/bin/datamon"_s);
}

QTEST_GUILESS_MAIN(TestDatamonTarget)
#include "tst_datamontarget.moc"
