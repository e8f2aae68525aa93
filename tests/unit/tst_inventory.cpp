#include "config/CommandTemplates.h"
#include "config/InventoryLoader.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

const QString kDataDir = QStringLiteral(OPSDECK_TEST_DATA_DIR "/inventory");

// Every error, one per line, for failure messages.
QString describe(const InventoryLoadResult& result)
{
    QStringList lines;
    for (const InventoryError& e : result.errors)
        lines << e.toString();
    return lines.isEmpty() ? u"(no errors)"_s : lines.join(u'\n');
}

// A host that is valid on its own, for the cases about other parts of the file; it takes lines 1-4.
constexpr const char* kHostA = "hosts:\n"
                               "  - name: a\n"
                               "    address: a.example.org\n"
                               "    auth: {method: agent}\n";

void errorRow(const char* name, const QByteArray& yaml, const QString& position, const QStringList& fragments)
{
    QTest::newRow(name) << yaml << u"bad.yaml:"_s + position + u": "_s << fragments;
}

} // namespace

class TestInventory : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();

    void fullInventory();
    void defaults();
    void emptyInventory_data();
    void emptyInventory();
    void referencesMayPrecedeDefinitions();
    void tildeExpandsToHome();
    void teamJournalIsAPostgresDatabase();
    void templateResourceLoads();
    void undoDefaultsToSevenDays();
    void undoIsInheritedAndOverridden();
    void undoDeployInherits();
    void undoParseRetention_data();
    void undoParseRetention();
    void undoDescribe_data();
    void undoDescribe();

    void errors_data();
    void errors();
    void allErrorsInOnePass();
    void errorToString();

    void loadFileMissing();
    void loadFileDirectory();
    void loadFileUsesPathAsGiven();

    void defaultPath();
    void resolvePath();

private:
    QByteArray m_savedInventoryEnv;
    bool m_hadInventoryEnv = false;
    QByteArray m_savedXdgConfigHome;
    bool m_hadXdgConfigHome = false;
};

void TestInventory::initTestCase()
{
    m_hadInventoryEnv = qEnvironmentVariableIsSet("OPSDECK_INVENTORY");
    m_savedInventoryEnv = qgetenv("OPSDECK_INVENTORY");
    m_hadXdgConfigHome = qEnvironmentVariableIsSet("XDG_CONFIG_HOME");
    m_savedXdgConfigHome = qgetenv("XDG_CONFIG_HOME");
}

void TestInventory::cleanup()
{
    if (m_hadInventoryEnv)
        qputenv("OPSDECK_INVENTORY", m_savedInventoryEnv);
    else
        qunsetenv("OPSDECK_INVENTORY");
    if (m_hadXdgConfigHome)
        qputenv("XDG_CONFIG_HOME", m_savedXdgConfigHome);
    else
        qunsetenv("XDG_CONFIG_HOME");
}

void TestInventory::fullInventory()
{
    const QString path = kDataDir + u"/full.yaml"_s;
    const InventoryLoadResult result = InventoryLoader::loadFile(path);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    const Inventory& inv = *result.inventory;
    const QString home = QDir::homePath();

    QCOMPARE(inv.file, path);
    QCOMPARE(inv.journal.path, home + u"/opsdeck/journal.sqlite"_s);

    QCOMPARE(inv.hosts.size(), 3);
    const Host& packit = inv.hosts[0];
    QCOMPARE(packit.name, u"wpia-packit"_s);
    QCOMPARE(packit.address, u"wpia-packit.example.org"_s);
    QCOMPARE(packit.port, quint16(2222));
    QCOMPARE(packit.user, u"admin"_s);
    QCOMPARE(packit.auth.method, AuthMethod::Key);
    QCOMPARE(packit.auth.identityFile, home + u"/.ssh/id_ed25519"_s);
    QCOMPARE(packit.auth.secretEnv, u"WPIA_KEY_PASSPHRASE"_s);
    QCOMPARE(packit.knownHostsFile, u"/etc/opsdeck/known_hosts"_s);
    QVERIFY(packit.tags.production);
    QVERIFY(packit.tags.readOnly);
    QCOMPARE(packit.outpackBase, u"/srv/outpack"_s); // trailing slash cleaned away
    QCOMPARE(packit.metricsDir, u"/var/lib/metrics"_s);
    QCOMPARE(packit.pos.line, 6);
    QCOMPARE(packit.pos.column, 5);
    QStringList templateNames = CommandTemplates::names();
    templateNames.sort();
    QCOMPARE(packit.commands.keys(), templateNames);
    QCOMPARE(
        packit.commands[u"stopUnits"_s], CommandTemplate({ u"sudo"_s, u"systemctl"_s, u"stop"_s, u"{units...}"_s }));
    QCOMPARE(packit.commands[u"journal"_s],
        CommandTemplate({ u"journalctl"_s, u"{unitFlags...}"_s, u"--reverse"_s, u"--lines={lines}"_s }));
    for (const QString& name : { u"startUnits"_s, u"unitState"_s, u"removeTree"_s, u"psql"_s, u"readMetrics"_s })
        QCOMPARE(packit.commands[name], CommandTemplates::defaultFor(name));

    QCOMPARE(packit.instances.size(), 2);
    const PackitInstance& pathogens = packit.instances[0];
    QCOMPARE(pathogens.name, u"priority-pathogens"_s);
    QCOMPARE(pathogens.index, 0);
    QCOMPARE(pathogens.outpackPort, quint16(8000));
    QCOMPARE(pathogens.apiPort, quint16(8080));
    QCOMPARE(pathogens.managementPort, quint16(8160));
    QCOMPARE(pathogens.outpackRoot, u"/srv/outpack/priority-pathogens"_s);
    QCOMPARE(pathogens.database, QString());
    QCOMPARE(pathogens.pos.line, 22);
    QCOMPARE(pathogens.pos.column, 9);
    const PackitInstance& reside = packit.instances[1];
    QCOMPARE(reside.name, u"reside"_s);
    QCOMPARE(reside.index, 1);
    QCOMPARE(reside.outpackPort, quint16(9001));
    QCOMPARE(reside.apiPort, quint16(9081));
    QCOMPARE(reside.managementPort, quint16(9161));
    QCOMPARE(reside.outpackRoot, u"/srv/outpack/data/reside"_s);
    QCOMPARE(reside.database, u"reside-db"_s);
    QCOMPARE(reside.pos.line, 23);

    const Host& bastion = inv.hosts[1];
    QCOMPARE(bastion.name, u"bastion"_s);
    QCOMPARE(bastion.address, u"192.0.2.10"_s);
    QCOMPARE(bastion.port, quint16(22));
    QCOMPARE(bastion.user, u"root"_s);
    QCOMPARE(bastion.auth.method, AuthMethod::Agent);
    QCOMPARE(bastion.auth.identityFile, QString());
    QCOMPARE(bastion.auth.secretEnv, QString());
    QCOMPARE(bastion.knownHostsFile, QString());
    QVERIFY(!bastion.tags.production);
    QVERIFY(!bastion.tags.readOnly);
    QCOMPARE(bastion.instances.size(), 0);
    QCOMPARE(bastion.pos.line, 29);

    const Host& pwd = inv.hosts[2];
    QCOMPARE(pwd.name, u"pwd-host"_s);
    QCOMPARE(pwd.auth.method, AuthMethod::Password);
    QCOMPARE(pwd.auth.secretEnv, u"PWD_HOST_PASSWORD"_s);

    QCOMPARE(inv.databases.size(), 2);
    const Database& pulumi = inv.databases[0];
    QCOMPARE(pulumi.name, u"pulumi"_s);
    QCOMPARE(pulumi.kind, DatabaseKind::Mysql);
    QCOMPARE(pulumi.via, u"bastion"_s);
    QCOMPARE(pulumi.address, u"db.internal.example.org"_s);
    QCOMPARE(pulumi.port, quint16(3307));
    QCOMPARE(pulumi.socket, u"/run/mysqld/mysqld.sock"_s);
    QCOMPARE(pulumi.database, u"pulumi"_s);
    QCOMPARE(pulumi.user, u"pulumi"_s);
    QCOMPARE(pulumi.passwordEnv, u"PULUMI_DB_PASSWORD"_s);
    QVERIFY(pulumi.tags.production);
    QVERIFY(!pulumi.tags.readOnly);
    QCOMPARE(pulumi.pos.line, 38);
    const Database& resideDb = inv.databases[1];
    QCOMPARE(resideDb.name, u"reside-db"_s);
    QCOMPARE(resideDb.kind, DatabaseKind::Postgres);
    QCOMPARE(resideDb.via, QString());
    QCOMPARE(resideDb.address, u"127.0.0.1"_s);
    QCOMPARE(resideDb.port, quint16(5432));
    QCOMPARE(resideDb.socket, QString());
    QCOMPARE(resideDb.database, u"packit_reside"_s);
    QCOMPARE(resideDb.user, u"packit"_s);
    QCOMPARE(resideDb.passwordEnv, QString());

    QCOMPARE(inv.clusters.size(), 1);
    const Cluster& cluster = inv.clusters[0];
    QCOMPARE(cluster.name, u"fg-prod"_s);
    // One string joined by ':', as $KUBECONFIG, each part with ~ expanded.
    QCOMPARE(
        cluster.kubeconfig, (QStringList { u"/etc/opsdeck/fg.kubeconfig"_s, QDir::homePath() + u"/.kube/config"_s }));
    QCOMPARE(cluster.context, u"fg/api-openshift-example-org:6443/opsdeck"_s);
    QCOMPARE(cluster.namespaces, (QStringList { u"fg"_s, u"fg-ledger"_s }));
    QCOMPARE(cluster.tokenEnv, u"FG_TOKEN"_s);
    QVERIFY(cluster.tags.production);
    QCOMPARE(cluster.pos.line, 53);

    QCOMPARE(inv.datamon.size(), 2);
    QCOMPARE(inv.datamon[0].name, u"dev"_s);
    QCOMPARE(inv.datamon[0].context, u"dev"_s);
    QCOMPARE(inv.datamon[0].host, u"bastion"_s);
    QVERIFY(!inv.datamon[0].tags.production);
    QCOMPARE(inv.datamon[0].pos.line, 61);
    QCOMPARE(inv.datamon[0].config, u"datamon-config"_s);
    // The defaults.
    QCOMPARE(inv.datamon[0].binary, u"datamon2"_s);
    QCOMPARE(inv.datamon[0].gcloud, u"gcloud"_s);
    QCOMPARE(inv.datamon[0].workDir, u"/var/tmp/opsdeck-datamon"_s);
    QCOMPARE(inv.datamon[0].minFreeGiB, 10);
    QVERIFY(inv.datamon[0].environment.isEmpty());
    QVERIFY(!inv.datamon[0].jobs);
    const DatamonContext& local = inv.datamon[1];
    QCOMPARE(local.name, u"local"_s);
    QCOMPARE(local.context, u"local-ctx"_s);
    QCOMPARE(local.host, QString());
    QCOMPARE(local.binary, u"/opt/datamon/bin/datamon2"_s);
    QCOMPARE(local.gcloud, u"/usr/lib/google-cloud-sdk/bin/gcloud"_s);
    QCOMPARE(local.workDir, u"/srv/datamon-index"_s);
    QCOMPARE(local.minFreeGiB, 40);
    QCOMPARE(local.environment, QStringList { u"GOOGLE_APPLICATION_CREDENTIALS"_s });
    QVERIFY(local.jobs);
    QCOMPARE(local.jobs->cluster, u"fg-prod"_s);
    QCOMPARE(local.jobs->jobNamespace, u"datamon"_s);
    QCOMPARE(local.jobs->image, u"gcr.io/onec-co/datamon:v2.6.9"_s);
    QCOMPARE(local.jobs->binary, u"/usr/bin/datamon"_s);
    QCOMPARE(local.jobs->serviceAccount, u"datamon-purge"_s);
    QCOMPARE(local.jobs->volumeClaim, u"purge-index"_s);
    QVERIFY(local.tags.production);

    QCOMPARE(inv.machines.size(), 3);
    const DeployMachine& byName = inv.machines[0];
    QCOMPARE(byName.name, u"wpia-packit"_s);
    QCOMPARE(byName.host, u"wpia-packit"_s);
    QCOMPARE(byName.metrics, MetricsSource::Ssh);
    QCOMPARE(byName.domain, u"wpia-packit.example.org"_s);
    QCOMPARE(byName.metricsProxy, u"http://wpia-packit.example.org:9000"_s);
    QCOMPARE(byName.landingUrl, u"https://wpia-packit.example.org/"_s);
    QCOMPARE(byName.instanceApiUrl, u"https://{instance}.wpia-packit.example.org/packit/api"_s);
    QVERIFY(byName.tags.production);
    QCOMPARE(byName.pos.line, 84);
    const DeployMachine& http = inv.machines[1];
    QCOMPARE(http.name, u"packit"_s);
    QCOMPARE(http.host, QString());
    QCOMPARE(http.metrics, MetricsSource::Http);
    QCOMPARE(http.metricsProxy, u"http://packit.example.org:9000"_s);
    QCOMPARE(http.instanceApiUrl, u"https://{instance}.packit.example.org/packit/api"_s);
    const DeployMachine& viaBastion = inv.machines[2];
    QCOMPARE(viaBastion.host, u"bastion"_s);
    QCOMPARE(viaBastion.metrics, MetricsSource::Ssh);
    QCOMPARE(viaBastion.metricsProxy, u"http://10.0.0.5:9000"_s);
    QCOMPARE(viaBastion.landingUrl, u"https://deploy.example.org/"_s);
    QCOMPARE(viaBastion.instanceApiUrl, u"https://deploy.example.org/{instance}/api"_s);

    QCOMPARE(inv.github.apiUrl, u"https://github.example.org/api/v3"_s);
    QCOMPARE(inv.github.caFile, u"/etc/opsdeck/github-ca.pem"_s);
    QCOMPARE(inv.github.tokenEnv, u"GH_TOKEN"_s);
    QCOMPARE(inv.github.apiVersion, u"2026-03-10"_s);
    QCOMPARE(inv.deploy.repository, u"reside-ic/packit-infra"_s);
    QCOMPARE(inv.deploy.owner(), u"reside-ic"_s);
    QCOMPARE(inv.deploy.repo(), u"packit-infra"_s);
    QCOMPARE(inv.deploy.branch, u"main"_s);
    QCOMPARE(inv.deploy.sourceMetricsUrl, u"https://reside-ic.github.io/packit-infra/metrics"_s);
    QCOMPARE(inv.deploy.updateWorkflow, u"update.yaml"_s);
    QCOMPARE(inv.deploy.updateHead, u"vimc-robot:actions/update-packages"_s);
    QCOMPARE(inv.deploy.staging, u"packit"_s);
    QCOMPARE(inv.deploy.command,
        QStringList({ u"/opt/nix/bin/nix"_s, u"run"_s, u"github:{repository}?rev={rev}#deploy"_s, u"{machine}"_s }));
    QCOMPARE(inv.deploy.environment, QStringList({ u"SSH_AUTH_SOCK"_s, u"NIX_CONFIG"_s }));

    QCOMPARE(inv.host(u"bastion"_s), &inv.hosts[1]);
    QCOMPARE(inv.host(u"nope"_s), nullptr);
    QCOMPARE(inv.database(u"reside-db"_s), &inv.databases[1]);
    QCOMPARE(inv.database(u"bastion"_s), nullptr);
}

void TestInventory::defaults()
{
    const InventoryLoadResult result = InventoryLoader::loadString(QByteArray(kHostA) + R"(    instances:
      - first
      - name: second
      - third
    commands:
databases:
  - name: pg
    database: x
    user: u
  - name: my
    kind: mysql
    database: x
    user: u
machines:
  - name: a
)",
        u"defaults.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    const Inventory& inv = *result.inventory;
    QCOMPARE(inv.file, u"defaults.yaml"_s);
    QCOMPARE(inv.journal.path, QString());

    const Host& h = inv.hosts.at(0);
    QCOMPARE(h.port, quint16(22));
    QCOMPARE(h.user, u"root"_s);
    QCOMPARE(h.knownHostsFile, QString());
    QVERIFY(!h.tags.production);
    QVERIFY(!h.tags.readOnly);
    QCOMPARE(h.outpackBase, u"/var/lib/outpack"_s);
    QCOMPARE(h.metricsDir, u"/etc/metrics"_s);
    QCOMPARE(h.commands.size(), CommandTemplates::names().size());
    for (const QString& name : CommandTemplates::names())
        QCOMPARE(h.commands.value(name), CommandTemplates::defaultFor(name));

    const QStringList names = { u"first"_s, u"second"_s, u"third"_s };
    QCOMPARE(h.instances.size(), names.size());
    for (int i = 0; i < names.size(); ++i) {
        const PackitInstance& instance = h.instances[i];
        QCOMPARE(instance.name, names[i]);
        QCOMPARE(instance.index, i);
        QCOMPARE(instance.outpackPort, quint16(8000 + i));
        QCOMPARE(instance.apiPort, quint16(8080 + i));
        QCOMPARE(instance.managementPort, quint16(8160 + i));
        QCOMPARE(instance.outpackRoot, u"/var/lib/outpack/"_s + names[i]);
        QCOMPARE(instance.database, QString());
        QCOMPARE(instance.pos.line, 6 + i);
    }

    QCOMPARE(inv.databases.at(0).kind, DatabaseKind::Postgres);
    QCOMPARE(inv.databases.at(0).port, quint16(5432));
    QCOMPARE(inv.databases.at(0).address, u"127.0.0.1"_s);
    QCOMPARE(inv.databases.at(1).kind, DatabaseKind::Mysql);
    QCOMPARE(inv.databases.at(1).port, quint16(3306));

    QCOMPARE(inv.machines.at(0).host, u"a"_s);
    QCOMPARE(inv.machines.at(0).metrics, MetricsSource::Ssh);
    QCOMPARE(inv.github.apiUrl, u"https://api.github.com"_s);
    QCOMPARE(inv.github.apiVersion, u"2022-11-28"_s);
    QCOMPARE(inv.deploy.repository, QString());
    QCOMPARE(inv.deploy.command, QStringList());
}

void TestInventory::emptyInventory_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("empty file") << QByteArray();
    QTest::newRow("only comments") << QByteArray("# nothing yet\n");
    QTest::newRow("empty document") << QByteArray("---\n");
    QTest::newRow("empty sections") << QByteArray("hosts:\ndatabases: []\nclusters:\ndatamon: []\nmachines:\n");
    QTest::newRow("empty journal") << QByteArray("journal:\n");
    QTest::newRow("stray trailing document marker") << QByteArray("hosts: []\n---\n");
}

void TestInventory::emptyInventory()
{
    QFETCH(QByteArray, yaml);
    const InventoryLoadResult result = InventoryLoader::loadString(yaml, u"empty.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    QVERIFY(result.inventory->hosts.isEmpty());
    QVERIFY(result.inventory->databases.isEmpty());
    QVERIFY(result.inventory->clusters.isEmpty());
    QVERIFY(result.inventory->datamon.isEmpty());
    QVERIFY(result.inventory->machines.isEmpty());
}

void TestInventory::referencesMayPrecedeDefinitions()
{
    // Also: instance names are unique per host only, and an HTTP-metrics machine needs no host entry.
    const InventoryLoadResult result = InventoryLoader::loadString(R"(datamon:
  - name: d
    context: dev
    config: cfg
    host: b
machines:
  - name: metrics-only
    metrics: http
    domain: metrics.example.org
deploy:
  repository: o/r
  staging: metrics-only
hosts:
  - name: a
    address: a.example.org
    auth: {method: agent}
    instances: [training, reside]
  - name: b
    address: b.example.org
    auth: {method: agent}
    instances: [training]
)",
        u"ok.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    QCOMPARE(result.inventory->hosts.at(1).instances.at(0).name, u"training"_s);
    QCOMPARE(result.inventory->machines.at(0).host, QString());
    QCOMPARE(result.inventory->deploy.updateHead, u"o:actions/update-packages"_s);
    QCOMPARE(result.inventory->deploy.command, CommandTemplates::defaultFor(u"deploy"_s));
}

void TestInventory::teamJournalIsAPostgresDatabase()
{
    const InventoryLoadResult result = InventoryLoader::loadString(R"(journal:
  database: team
  keyEnv: OPSDECK_JOURNAL_KEY
databases:
  - name: team
    kind: postgres
    via: bastion
    database: opsdeck_journal
    user: ann
    tls: verify-full
    caFile: ~/team-ca.pem
hosts:
  - name: bastion
    address: bastion.example.org
    auth: {method: agent}
)",
        u"team.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    QCOMPARE(result.inventory->journal.database, u"team"_s);
    QCOMPARE(result.inventory->journal.path, QString());
    QCOMPARE(result.inventory->journal.keyEnv, u"OPSDECK_JOURNAL_KEY"_s);
    QCOMPARE(result.inventory->databases.at(0).tls, u"verify-full"_s);
    QCOMPARE(result.inventory->databases.at(0).caFile, QDir::homePath() + u"/team-ca.pem"_s);
}

void TestInventory::tildeExpandsToHome()
{
    const InventoryLoadResult result = InventoryLoader::loadString(R"(journal:
  path: "~"
hosts:
  - name: a
    address: a.example.org
    auth: {method: key, identityFile: ~/.ssh/id}
    knownHostsFile: /etc/~/known_hosts
clusters:
  - name: c
    kubeconfig: [~/kube/a, /etc/~/b]
)",
        u"tilde.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    QCOMPARE(result.inventory->journal.path, QDir::homePath());
    QCOMPARE(result.inventory->journal.database, QString());
    QCOMPARE(result.inventory->hosts.at(0).auth.identityFile, QDir::homePath() + u"/.ssh/id"_s);
    QCOMPARE(result.inventory->hosts.at(0).knownHostsFile, u"/etc/~/known_hosts"_s); // only a leading ~
    QCOMPARE(
        result.inventory->clusters.at(0).kubeconfig, (QStringList { QDir::homePath() + u"/kube/a"_s, u"/etc/~/b"_s }));
}

void TestInventory::templateResourceLoads()
{
    const QString path = QStringLiteral(OPSDECK_TEST_DATA_DIR "/../../resources/inventory-template.yaml");
    const InventoryLoadResult result = InventoryLoader::loadFile(path);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    QVERIFY(!result.inventory->hosts.isEmpty());
    QVERIFY(!result.inventory->hosts.at(0).instances.isEmpty());
    QVERIFY(!result.inventory->databases.isEmpty());
    QVERIFY(!result.inventory->clusters.isEmpty());
    QVERIFY(!result.inventory->datamon.isEmpty());
    QVERIFY(!result.inventory->machines.isEmpty());
    for (const Host& h : result.inventory->hosts)
        QVERIFY2(h.address.endsWith(u".example.org"_s), qPrintable(h.address));
}

void TestInventory::undoDefaultsToSevenDays()
{
    const InventoryLoadResult result = InventoryLoader::loadString(QByteArray(kHostA) + R"(databases:
  - name: db
    database: x
    user: u
clusters:
  - name: c
datamon:
  - name: d
    context: dev
    config: cfg
deploy:
  repository: o/r
)",
        u"undo.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    const Inventory& inv = *result.inventory;
    const qint64 week = 7 * 24 * 3600;
    QCOMPARE(UndoPolicy().retentionSeconds, week);
    QCOMPARE(inv.undo.retentionSeconds, week);
    QCOMPARE(inv.undo.describe(), u"7 days"_s);
    QVERIFY(!inv.undo.off());
    QCOMPARE(inv.hosts.at(0).undo.retentionSeconds, week);
    QCOMPARE(inv.databases.at(0).undo.retentionSeconds, week);
    QCOMPARE(inv.clusters.at(0).undo.retentionSeconds, week);
    QCOMPARE(inv.datamon.at(0).undo.retentionSeconds, week);
    QCOMPARE(inv.deploy.undo.retentionSeconds, week);

    const InventoryLoadResult empty = InventoryLoader::loadString(QByteArray(), u"empty.yaml"_s);
    QVERIFY2(empty.ok(), qPrintable(describe(empty)));
    QCOMPARE(empty.inventory->undo.retentionSeconds, week);
    QCOMPARE(empty.inventory->deploy.undo.retentionSeconds, week);
}

void TestInventory::undoIsInheritedAndOverridden()
{
    // The top-level undo comes last in the file: entries read before it inherit it all the same.
    const InventoryLoadResult result = InventoryLoader::loadString(R"(hosts:
  - name: inherits
    address: a.example.org
    auth: {method: agent}
  - name: own
    address: b.example.org
    auth: {method: agent}
    undo:
      retention: 30d
  - name: empty-map
    address: c.example.org
    auth: {method: agent}
    undo: {}
  - name: empty-value
    address: d.example.org
    auth: {method: agent}
    undo:
databases:
  - name: no-window
    database: x
    user: u
    undo: {retention: "off"}
  - name: inherits
    database: x
    user: u
clusters:
  - name: c
    undo: {retention: 45s}
  - name: inherits
datamon:
  - name: d
    context: dev
    config: cfg
    undo: {retention: 90m}
  - name: inherits
    context: dev
    config: cfg
deploy:
  repository: o/r
  undo:
    retention: 365d
undo:
  retention: 12h
)",
        u"undo.yaml"_s);
    QVERIFY2(result.ok(), qPrintable(describe(result)));
    const Inventory& inv = *result.inventory;
    const qint64 twelveHours = 12 * 3600;
    QCOMPARE(inv.undo.retentionSeconds, twelveHours);
    QCOMPARE(inv.undo.describe(), u"12 hours"_s);

    QCOMPARE(inv.host(u"inherits"_s)->undo.retentionSeconds, twelveHours);
    QCOMPARE(inv.host(u"own"_s)->undo.retentionSeconds, qint64(30 * 24 * 3600));
    QCOMPARE(inv.host(u"own"_s)->undo.describe(), u"30 days"_s);
    // An undo without retention, or without anything, changes nothing.
    QCOMPARE(inv.host(u"empty-map"_s)->undo.retentionSeconds, twelveHours);
    QCOMPARE(inv.host(u"empty-value"_s)->undo.retentionSeconds, twelveHours);

    QVERIFY(inv.database(u"no-window"_s)->undo.off());
    QCOMPARE(inv.database(u"no-window"_s)->undo.retentionSeconds, qint64(0));
    QCOMPARE(inv.database(u"no-window"_s)->undo.describe(), u"off"_s);
    QCOMPARE(inv.database(u"inherits"_s)->undo.retentionSeconds, twelveHours);

    QCOMPARE(inv.cluster(u"c"_s)->undo.retentionSeconds, qint64(45));
    QCOMPARE(inv.cluster(u"c"_s)->undo.describe(), u"45 seconds"_s);
    QCOMPARE(inv.cluster(u"inherits"_s)->undo.retentionSeconds, twelveHours);

    QCOMPARE(inv.datamonContext(u"d"_s)->undo.retentionSeconds, qint64(90 * 60));
    QCOMPARE(inv.datamonContext(u"d"_s)->undo.describe(), u"90 minutes"_s);
    QCOMPARE(inv.datamonContext(u"inherits"_s)->undo.retentionSeconds, twelveHours);

    QCOMPARE(inv.deploy.undo.retentionSeconds, UndoPolicy::kMaxRetentionSeconds);
    QCOMPARE(inv.deploy.undo.describe(), u"365 days"_s);
}

void TestInventory::undoDeployInherits()
{
    // With a deploy section and without one: either way deploy.undo holds the effective policy.
    for (const QByteArray& deploy : { QByteArray("deploy:\n  repository: o/r\n"), QByteArray() }) {
        const InventoryLoadResult result
            = InventoryLoader::loadString("undo:\n  retention: \"off\"\n" + deploy, u"undo.yaml"_s);
        QVERIFY2(result.ok(), qPrintable(describe(result)));
        QVERIFY(result.inventory->undo.off());
        QVERIFY(result.inventory->deploy.undo.off());
    }
    // YAML 1.1's boolean spelling, unquoted, is the word all the same.
    const InventoryLoadResult unquoted = InventoryLoader::loadString("undo: {retention: off}\n", u"undo.yaml"_s);
    QVERIFY2(unquoted.ok(), qPrintable(describe(unquoted)));
    QVERIFY(unquoted.inventory->undo.off());
}

void TestInventory::undoParseRetention_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("seconds"); // -1: refused

    const qint64 day = 24 * 3600;
    QTest::newRow("off") << u"off"_s << qint64(0);
    QTest::newRow("1s") << u"1s"_s << qint64(1);
    QTest::newRow("30s") << u"30s"_s << qint64(30);
    QTest::newRow("15m") << u"15m"_s << qint64(15 * 60);
    QTest::newRow("12h") << u"12h"_s << qint64(12 * 3600);
    QTest::newRow("7d") << u"7d"_s << 7 * day;
    QTest::newRow("365d") << u"365d"_s << 365 * day;
    QTest::newRow("8760h") << u"8760h"_s << 365 * day;
    QTest::newRow("525600m") << u"525600m"_s << 365 * day;
    QTest::newRow("31536000s") << u"31536000s"_s << 365 * day;
    QTest::newRow("100s") << u"100s"_s << qint64(100);

    const QStringList refused = { u""_s, u"7 d"_s, u" 7d"_s, u"7d "_s, u"07d"_s, u"0s"_s, u"0d"_s, u"00s"_s, u"-1d"_s,
        u"+1d"_s, u"1w"_s, u"1y"_s, u"1.5h"_s, u"1e3s"_s, u"366d"_s, u"8761h"_s, u"525601m"_s, u"31536001s"_s,
        u"999999999d"_s, u"9999999999d"_s, u"99999999999999999999s"_s, u"7"_s, u"d"_s, u"7D"_s, u"7dd"_s, u"7d7d"_s,
        u"Off"_s, u"OFF"_s, u"false"_s, u"no"_s, u"0"_s, u"\u0667d"_s /* ARABIC-INDIC DIGIT SEVEN */, u"\uff17d"_s };
    for (const QString& text : refused)
        QTest::newRow(qPrintable(u"refused \""_s + text + u'"')) << text << qint64(-1);
}

void TestInventory::undoParseRetention()
{
    QFETCH(QString, text);
    QFETCH(qint64, seconds);
    const std::optional<qint64> parsed = UndoPolicy::parseRetention(text);
    if (seconds < 0) {
        QVERIFY2(!parsed, qPrintable(QString::number(parsed.value_or(-1))));
    } else {
        QVERIFY(parsed);
        QCOMPARE(*parsed, seconds);
    }
}

void TestInventory::undoDescribe_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("off") << qint64(0) << u"off"_s;
    QTest::newRow("7 days") << qint64(7 * 24 * 3600) << u"7 days"_s;
    QTest::newRow("1 day") << qint64(24 * 3600) << u"1 day"_s;
    QTest::newRow("12 hours") << qint64(12 * 3600) << u"12 hours"_s;
    QTest::newRow("25 hours") << qint64(25 * 3600) << u"25 hours"_s;
    QTest::newRow("1 hour") << qint64(3600) << u"1 hour"_s;
    QTest::newRow("90 minutes") << qint64(90 * 60) << u"90 minutes"_s;
    QTest::newRow("1 minute") << qint64(60) << u"1 minute"_s;
    QTest::newRow("30 seconds") << qint64(30) << u"30 seconds"_s;
    QTest::newRow("61 seconds") << qint64(61) << u"61 seconds"_s;
    QTest::newRow("1 second") << qint64(1) << u"1 second"_s;
}

void TestInventory::undoDescribe()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, text);
    UndoPolicy policy;
    policy.retentionSeconds = seconds;
    QCOMPARE(policy.describe(), text);
    QCOMPARE(policy.off(), seconds == 0);
}

void TestInventory::errors_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QStringList>("fragments"); // the message names the field and what is allowed

    const QByteArray a = kHostA;
    const QString portRule = u"use an integer from 1 to 65535"_s;
    const QString nameRule = u"use 1-63 characters a-z, 0-9 and '-', starting with a letter or digit"_s;

    // The document as a whole.
    errorRow("syntax error", "hosts:\n  - name: a\n    address: a: b\n", u"3:15"_s,
        { u"YAML syntax error: illegal map value"_s });
    errorRow("syntax error, tab indentation", "hosts:\n\t- name: a\n", u"2:2"_s,
        { u"YAML syntax error: illegal block entry"_s });
    // Found by tests/fuzz: yaml-cpp 0.7's LoadAll never returned on these.
    errorRow("stray comma at the start", ",a: b\n", u"1:1"_s,
        { u"YAML syntax error: unexpected \",\" where a document should start"_s });
    errorRow("stray comma after a document", "- a\n,\n", u"2:1"_s, { u"YAML syntax error: unexpected"_s });
    errorRow("top level is a list", "- a\n- b\n", u"1:1"_s, { u"the inventory must be a map, not a list"_s });
    errorRow("unknown section", "host:\n  - name: a\n", u"1:1"_s,
        { u"unknown key \"host\" in the inventory: use one of journal, hosts, databases, clusters, datamon, "
          "machines, github, deploy, undo"_s });
    errorRow("non-string key", "? [a, b]\n: c\n", u"1:3"_s, { u"keys in the inventory must be strings, not a list"_s });
    errorRow("second document", "hosts: []\n---\nhosts: []\n", u"3:1"_s, { u"single YAML document"_s });
    errorRow("second document after an empty one", "---\n---\nhosts: []\n---\nclusters: []\n", u"5:1"_s,
        { u"single YAML document"_s });
    errorRow("duplicate section", "hosts: []\nclusters: []\nhosts: []\n", u"3:1"_s,
        { u"duplicate key \"hosts\" in the inventory: already given at line 1"_s });
    errorRow("hosts is a map", "hosts:\n  name: a\n", u"2:3"_s, { u"hosts must be a list, not a map"_s });
    errorRow(
        "hosts entry is a string", "hosts:\n  - a\n", u"2:5"_s, { u"each hosts entry must be a map, not a string"_s });
    errorRow("journal is a string", "journal: /tmp/journal.sqlite\n", u"1:10"_s,
        { u"journal must be a map, not a string"_s });

    // Unknown keys, in every kind of mapping.
    errorRow("unknown host key", a + "    adress: a.example.org\n", u"5:5"_s,
        { u"unknown key \"adress\" in host: use one of name, address, port, user, auth, knownHostsFile, tags, "
          "outpackBase, metricsDir, commands, instances, undo"_s });
    errorRow("unknown auth key",
        "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      method: agent\n      password: x\n",
        u"6:7"_s, { u"unknown key \"password\" in auth: use one of method, identityFile, secretEnv"_s });
    errorRow("unknown instance key", a + "    instances:\n      - name: reside\n        port: 8001\n", u"7:9"_s,
        { u"unknown key \"port\" in instance: use one of name, outpackPort, apiPort, managementPort, "
          "outpackRoot, database"_s });
    errorRow("unknown database key", "databases:\n  - name: db\n    database: db\n    user: u\n    password: x\n",
        u"5:5"_s,
        { u"unknown key \"password\" in database: use one of name, kind, via, address, port, socket, database, "
          "user, passwordEnv, tls, caFile, tags, undo"_s });
    errorRow("unknown cluster key", "clusters:\n  - name: c\n    server: https://k8s.example.org\n", u"3:5"_s,
        { u"unknown key \"server\" in cluster: use one of name, kubeconfig, context, namespaces, tokenEnv, tags, "
          "undo"_s });
    errorRow("unknown datamon key", "datamon:\n  - name: d\n    context: dev\n    config: cfg\n    bastion: b\n",
        u"5:5"_s,
        { u"unknown key \"bastion\" in datamon: use one of name, context, config, host, binary, gcloud, workDir, "
          "minFreeGiB, environment, jobs, tags, undo"_s });
    errorRow("unknown datamon jobs key",
        "clusters:\n  - name: k\ndatamon:\n  - name: d\n    context: dev\n    config: cfg\n    jobs:\n      cluster: "
        "k\n      namespace: n\n      image: i:1\n      pvc: x\n",
        u"11:7"_s,
        { u"unknown key \"pvc\" in datamon jobs: use one of cluster, namespace, image, binary, serviceAccount, "
          "volumeClaim"_s });
    errorRow("unknown machine key",
        "machines:\n  - name: m\n    metrics: http\n    domain: m.example.org\n    url: x\n", u"5:5"_s,
        { u"unknown key \"url\" in machine: use one of name, host, metrics, domain, metricsProxy, landingUrl, "
          "instanceApiUrl, tags"_s });
    errorRow("unknown journal key", "journal:\n  file: /tmp/j\n", u"2:3"_s,
        { u"unknown key \"file\" in journal: use one of path, database, keyEnv"_s });
    errorRow("journal keyEnv is not a variable", "journal:\n  keyEnv: 1KEY\n", u"2:11"_s,
        { u"journal keyEnv \"1KEY\" is not allowed: use an environment variable name"_s });
    errorRow("journal database names no database", "journal:\n  database: team\n", u"2:13"_s,
        { u"journal database \"team\" is not defined in databases: add it there"_s });
    errorRow("journal database is mysql",
        "journal:\n  database: pulumi\n"
        "databases:\n  - name: pulumi\n    kind: mysql\n    database: pulumi\n    user: pulumi\n",
        u"2:13"_s, { u"journal database \"pulumi\" is a mysql database: the team journal needs kind postgres"_s });
    errorRow("journal database and path", "journal:\n  path: /tmp/j\n  database: team\n", u"3:13"_s,
        { u"journal database and journal path exclude each other"_s });
    errorRow("percent signs in a key are text", a + "    x%3y: 1\n", u"5:5"_s, { u"unknown key \"x%3y\" in host"_s });
    errorRow("duplicate key in a host",
        "hosts:\n  - name: a\n    address: a.example.org\n    port: 22\n    port: 23\n    auth: {method: agent}\n",
        u"5:5"_s, { u"duplicate key \"port\" in host: already given at line 4"_s });

    // Types.
    errorRow("address is a list",
        "hosts:\n  - name: a\n    address: [a.example.org, b.example.org]\n    auth: {method: agent}\n", u"3:14"_s,
        { u"host address must be a string, not a list"_s });
    errorRow("address has no value", "hosts:\n  - name: a\n    address:\n    auth: {method: agent}\n", u"3:5"_s,
        { u"host address must be a string, not empty"_s });
    errorRow("user is an empty string", a + "    user: \"\"\n", u"5:11"_s, { u"host user must not be empty"_s });
    errorRow("auth is a string", "hosts:\n  - name: a\n    address: a.example.org\n    auth: key\n", u"4:11"_s,
        { u"auth must be a map, not a string"_s });
    errorRow("instances is a string", a + "    instances: training\n", u"5:16"_s,
        { u"host instances must be a list, not a string"_s });
    errorRow("instance is a list", a + "    instances:\n      - [a, b]\n", u"6:9"_s,
        { u"each instances entry must be a name or a map, not a list"_s });
    errorRow(
        "tags is a string", a + "    tags: production\n", u"5:11"_s, { u"host tags must be a list, not a string"_s });
    errorRow("tag is a map", a + "    tags: [{production: true}]\n", u"5:12"_s,
        { u"host tags must be strings, not a map: use one of production, readOnly"_s });
    errorRow("commands is a list", a + "    commands: [a]\n", u"5:15"_s, { u"commands must be a map, not a list"_s });

    // Ports.
    for (const char* port : { "ssh", "0", "65536", "-1", "22.5", "0x16", "1e3", "99999999999" }) {
        errorRow(qPrintable(u"host port "_s + QLatin1StringView(port)), a + "    port: " + port + "\n", u"5:11"_s,
            { u"host port \"%1\" is not allowed: %2"_s.arg(QLatin1StringView(port), portRule) });
    }
    errorRow("quoted port", a + "    port: \"22\"\n", u"5:11"_s,
        { u"host port must be an integer from 1 to 65535, not the quoted string \"22\""_s });
    errorRow("port is a list", a + "    port: [22]\n", u"5:11"_s,
        { u"host port must be an integer from 1 to 65535, not a list"_s });
    errorRow("instance port", a + "    instances:\n      - name: reside\n        apiPort: 70000\n", u"7:18"_s,
        { u"instance apiPort \"70000\" is not allowed: "_s + portRule });
    errorRow("database port", "databases:\n  - name: db\n    port: 0\n    database: db\n    user: u\n", u"3:11"_s,
        { u"database port \"0\" is not allowed: "_s + portRule });

    // Enumerations and tags.
    errorRow("auth method", "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      method: kerberos\n",
        u"5:15"_s, { u"auth method \"kerberos\" is not allowed: use one of key, agent, password"_s });
    errorRow("database kind", "databases:\n  - name: db\n    kind: oracle\n    database: db\n    user: u\n", u"3:11"_s,
        { u"database kind \"oracle\" is not allowed: use one of postgres, mysql"_s });
    errorRow("machine metrics", "machines:\n  - name: m\n    metrics: snmp\n", u"3:14"_s,
        { u"machine metrics \"snmp\" is not allowed: use one of ssh, http"_s });
    errorRow("unknown tag", a + "    tags: [production, prod]\n", u"5:24"_s,
        { u"host tag \"prod\" is not allowed: use one of production, readOnly"_s });
    errorRow("unknown cluster tag", "clusters:\n  - name: c\n    namespaces: [ns]\n    tags: [read-only]\n", u"4:12"_s,
        { u"cluster tag \"read-only\" is not allowed: use one of production, readOnly"_s });

    // Names.
    errorRow("host name", "hosts:\n  - name: Bad_Host\n    address: a.example.org\n    auth: {method: agent}\n",
        u"2:11"_s, { u"host name \"Bad_Host\" is not allowed: "_s + nameRule });
    errorRow("instance name", a + "    instances:\n      - Training\n", u"6:9"_s,
        { u"instance name \"Training\" is not allowed: "_s + nameRule });
    errorRow("instance name with a slash", a + "    instances:\n      - name: ../etc\n", u"6:15"_s,
        { u"instance name \"../etc\" is not allowed: "_s + nameRule });
    errorRow("database name", "databases:\n  - name: pulumi_db\n    database: db\n    user: u\n", u"2:11"_s,
        { u"database name \"pulumi_db\" is not allowed: "_s + nameRule });
    errorRow("cluster name", "clusters:\n  - name: -c\n    namespaces: [ns]\n", u"2:11"_s,
        { u"cluster name \"-c\" is not allowed: "_s + nameRule });
    errorRow("datamon name", "datamon:\n  - name: dev ctx\n    context: dev\n    config: cfg\n", u"2:11"_s,
        { u"datamon name \"dev ctx\" is not allowed: "_s + nameRule });
    errorRow("machine name", "machines:\n  - name: m;reboot\n", u"2:11"_s,
        { u"machine name \"m;reboot\" is not allowed: "_s + nameRule });
    const QString namespaceRule = u"use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or digit"_s;
    errorRow("cluster namespace", "clusters:\n  - name: c\n    namespaces: [fg, Prod_NS]\n", u"3:22"_s,
        { u"cluster namespace \"Prod_NS\" is not allowed: "_s + namespaceRule });
    errorRow("cluster namespace ending in a dash", "clusters:\n  - name: c\n    namespaces:\n      - fg-\n", u"4:9"_s,
        { u"cluster namespace \"fg-\" is not allowed: "_s + namespaceRule });
    errorRow("cluster namespace with shell syntax", "clusters:\n  - name: c\n    namespaces: [\"fg;rm\"]\n", u"3:18"_s,
        { u"cluster namespace \"fg;rm\" is not allowed: "_s + namespaceRule });
    errorRow("cluster namespace of 64 characters",
        "clusters:\n  - name: c\n    namespaces: [" + QByteArray(64, 'a') + "]\n", u"3:18"_s,
        { u"cluster namespace \""_s + QString(64, u'a') + u"\" is not allowed: "_s + namespaceRule });
    errorRow("cluster namespace listed twice", "clusters:\n  - name: c\n    namespaces: [fg, fg]\n", u"3:22"_s,
        { u"duplicate cluster namespace \"fg\": already listed at line 3"_s });
    errorRow("cluster namespaces empty", "clusters:\n  - name: c\n    namespaces: []\n", u"3:17"_s,
        { u"cluster namespaces must list at least one namespace; leave it out for the context's"_s });
    errorRow("cluster namespaces not a list", "clusters:\n  - name: c\n    namespaces: fg\n", u"3:17"_s,
        { u"cluster namespaces must be a list, not a string"_s });
    errorRow("cluster namespaces entry is a map", "clusters:\n  - name: c\n    namespaces: [{name: fg}]\n", u"3:18"_s,
        { u"cluster namespaces entries must be names, not a map"_s });
    errorRow("cluster kubeconfig empty", "clusters:\n  - name: c\n    kubeconfig: \":\"\n", u"3:17"_s,
        { u"cluster kubeconfig must name a file; leave it out for $KUBECONFIG, then ~/.kube/config"_s });
    errorRow("cluster kubeconfig entry is a list", "clusters:\n  - name: c\n    kubeconfig: [[a]]\n", u"3:18"_s,
        { u"cluster kubeconfig entries must be file names, not a list"_s });
    errorRow("cluster context empty", "clusters:\n  - name: c\n    context: \"\"\n", u"3:14"_s,
        { u"cluster context must not be empty"_s });

    // Duplicate names.
    errorRow("duplicate host", a + "  - name: a\n    address: b.example.org\n    auth: {method: agent}\n", u"5:11"_s,
        { u"duplicate host name \"a\": already defined at line 2; host names must be unique"_s });
    errorRow("duplicate instance on a host", a + "    instances:\n      - reside\n      - name: reside\n", u"7:15"_s,
        { u"duplicate instance name \"reside\": already defined at line 6; instance names must be unique"_s });
    errorRow("duplicate database",
        "databases:\n  - name: db\n    database: db\n    user: u\n  - name: db\n    database: db2\n    user: u\n",
        u"5:11"_s, { u"duplicate database name \"db\": already defined at line 2"_s });
    errorRow("duplicate cluster", "clusters:\n  - name: c\n    context: a\n  - name: c\n    context: b\n", u"4:11"_s,
        { u"duplicate cluster name \"c\": already defined at line 2"_s });
    errorRow("duplicate datamon",
        "datamon:\n  - name: d\n    context: a\n    config: cfg\n  - name: d\n    context: b\n    config: cfg\n",
        u"5:11"_s, { u"duplicate datamon name \"d\": already defined at line 2"_s });
    errorRow("duplicate machine",
        "machines:\n  - name: m\n    metrics: http\n    domain: m.example.org\n"
        "  - name: m\n    metrics: http\n    domain: m.example.org\n",
        u"5:11"_s, { u"duplicate machine name \"m\": already defined at line 2"_s });

    // References.
    errorRow("via names no host", "databases:\n  - name: db\n    via: nope\n    database: db\n    user: u\n", u"3:10"_s,
        { u"database via \"nope\" is not defined in hosts: add it there"_s });
    errorRow("via names no host, hosts listed",
        a + "databases:\n  - name: db\n    via: b\n    database: db\n    user: u\n", u"7:10"_s,
        { u"database via \"b\" is not defined in hosts: use one of a"_s });
    errorRow("datamon host names no host",
        "datamon:\n  - name: d\n    context: dev\n    config: cfg\n    host: bastion\n", u"5:11"_s,
        { u"datamon host \"bastion\" is not defined in hosts"_s });
    errorRow("machine host names no host",
        "machines:\n  - name: m\n    host: nope\n    metrics: http\n    domain: m.example.org\n", u"3:11"_s,
        { u"machine host \"nope\" is not defined in hosts"_s });
    errorRow("machine name is no host, metrics ssh", a + "machines:\n  - name: m\n", u"6:11"_s,
        { u"machine host \"m\" (host defaults to the machine's name when metrics is ssh) is not defined in "
          "hosts: use one of a"_s });
    errorRow("instance database names no database",
        a + "    instances:\n      - name: reside\n        database: nope\n", u"7:19"_s,
        { u"instance database \"nope\" is not defined in databases: add it there"_s });
    errorRow("instance database is mysql",
        a
            + "    instances:\n      - name: reside\n        database: pulumi\n"
              "databases:\n  - name: pulumi\n    kind: mysql\n    database: pulumi\n    user: pulumi\n",
        u"7:19"_s, { u"instance database \"pulumi\" is a mysql database: a Packit instance needs kind postgres"_s });

    // Fields that depend on each other, and required fields.
    errorRow("identityFile missing for key",
        "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      method: key\n", u"5:7"_s,
        { u"auth identityFile is required when method is key"_s });
    errorRow("identityFile given for agent",
        "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      method: agent\n"
        "      identityFile: ~/.ssh/id\n",
        u"6:7"_s, { u"auth identityFile is only allowed when method is key, not agent"_s });
    errorRow("auth method missing",
        "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      identityFile: ~/.ssh/id\n", u"5:7"_s,
        { u"auth method is required: use one of key, agent, password"_s });
    errorRow("auth missing", "hosts:\n  - name: a\n    address: a.example.org\n", u"2:5"_s,
        { u"host auth is required: give its method, one of key, agent, password"_s });
    errorRow("host name missing", "hosts:\n  - address: a.example.org\n    auth: {method: agent}\n", u"2:5"_s,
        { u"host name is required"_s });
    errorRow("host address missing", "hosts:\n  - name: a\n    auth: {method: agent}\n", u"2:5"_s,
        { u"host address is required"_s });
    errorRow("instance name missing", a + "    instances:\n      - outpackPort: 8001\n", u"6:9"_s,
        { u"instance name is required"_s });
    errorRow("database database missing", "databases:\n  - name: db\n    user: u\n", u"2:5"_s,
        { u"database database is required"_s });
    errorRow("database user missing", "databases:\n  - name: db\n    database: db\n", u"2:5"_s,
        { u"database user is required"_s });
    errorRow("datamon context missing", "datamon:\n  - name: d\n    config: cfg\n", u"2:5"_s,
        { u"datamon context is required"_s });
    const QByteArray dm = "datamon:\n  - name: d\n    context: dev\n";
    errorRow("datamon config missing", dm, u"2:5"_s,
        { u"datamon config is required: the config bucket datamon --config names, without gs://"_s });
    errorRow("datamon config with gs://", dm + "    config: gs://cfg\n", u"4:13"_s,
        { u"datamon config \"gs://cfg\" is not allowed: use a bucket name of 3-63 lowercase letters"_s });
    errorRow("datamon context with a slash", "datamon:\n  - name: d\n    context: a/../b\n    config: cfg\n", u"3:14"_s,
        { u"datamon context \"a/../b\" is not allowed: use 1-63 letters, digits"_s });
    const QByteArray dmc = dm + "    config: cfg\n";
    errorRow("datamon binary with a shell character", dmc + "    binary: \"datamon2;id\"\n", u"5:13"_s,
        { u"datamon binary \"datamon2;id\" is not allowed: use a command name or an absolute path"_s });
    errorRow("datamon binary with ..", dmc + "    binary: /opt/../tmp/datamon2\n", u"5:13"_s,
        { u"datamon binary must not contain \"..\""_s });
    errorRow("datamon gcloud relative path", dmc + "    gcloud: bin/gcloud\n", u"5:13"_s,
        { u"datamon gcloud \"bin/gcloud\" is not allowed"_s });
    errorRow("datamon workDir relative", dmc + "    workDir: index\n", u"5:14"_s,
        { u"datamon workDir \"index\" is not allowed: use an absolute path on the host"_s });
    errorRow("datamon minFreeGiB negative", dmc + "    minFreeGiB: -1\n", u"5:17"_s,
        { u"datamon minFreeGiB \"-1\" is not allowed: use an integer from 0 to 100000"_s });
    errorRow("datamon minFreeGiB quoted", dmc + "    minFreeGiB: \"5\"\n", u"5:17"_s,
        { u"datamon minFreeGiB \"5\" is not allowed"_s });
    errorRow("datamon environment names a secret",
        "clusters:\n  - name: k\n    tokenEnv: K_TOKEN\n" + dmc + "    environment: [K_TOKEN]\n", u"8:19"_s,
        { u"datamon environment entry \"K_TOKEN\" is the tokenEnv of cluster k, a secret: datamon2 on the host must "
          "not get it"_s });
    errorRow("datamon jobs cluster undefined",
        dmc + "    jobs:\n      cluster: k\n      namespace: n\n      image: i:1\n", u"6:16"_s,
        { u"datamon jobs cluster \"k\" is not defined in clusters: add it there"_s });
    errorRow("datamon jobs image with a space",
        "clusters:\n  - name: k\n" + dmc + "    jobs:\n      cluster: k\n      namespace: n\n      image: \"i 1\"\n",
        u"10:14"_s, { u"datamon jobs image \"i 1\" is not allowed"_s });
    errorRow("datamon jobs binary with ..",
        "clusters:\n  - name: k\n" + dmc
            + "    jobs:\n      cluster: k\n      namespace: n\n      image: i:1\n      binary: /usr/../datamon\n",
        u"11:15"_s, { u"datamon jobs binary must not contain \"..\""_s });
    errorRow("datamon jobs namespace not a label",
        "clusters:\n  - name: k\n" + dmc + "    jobs:\n      cluster: k\n      namespace: N_s\n      image: i:1\n",
        u"9:18"_s, { u"datamon jobs namespace"_s, u"N_s"_s });
    errorRow("http machine without host or domain", "machines:\n  - name: m\n    metrics: http\n", u"2:5"_s,
        { u"machine \"m\" needs a domain (there is no host entry named \"m\" to take its address from)"_s });
    errorRow("domain with a slash", "machines:\n  - name: m\n    metrics: http\n    domain: a.org/x\n", u"4:13"_s,
        { u"machine domain \"a.org/x\" is not allowed: use a DNS name"_s });
    errorRow("metricsProxy is no URL",
        "machines:\n  - name: m\n    metrics: http\n    domain: a.org\n    metricsProxy: a.org:9000\n", u"5:19"_s,
        { u"machine metricsProxy \"a.org:9000\" is not allowed: use an http:// or https:// URL with a host"_s });
    errorRow("instanceApiUrl without {instance}",
        "machines:\n  - name: m\n    metrics: http\n    domain: a.org\n    instanceApiUrl: https://a.org/api\n",
        u"5:21"_s, { u"machine instanceApiUrl \"https://a.org/api\" must contain {instance}"_s });
    errorRow("deploy repository missing", "deploy:\n  branch: main\n", u"2:3"_s,
        { u"deploy repository is required: the GitHub repository deployed, as owner/repo"_s });
    errorRow("deploy repository with a path", "deploy:\n  repository: o/r/../x\n", u"2:15"_s,
        { u"deploy repository \"o/r/../x\" is not allowed: use owner/repo"_s });
    errorRow("deploy branch with shell syntax", "deploy:\n  repository: o/r\n  branch: main;ls\n", u"3:11"_s,
        { u"deploy branch \"main;ls\" is not allowed"_s });
    errorRow("deploy updateHead without owner", "deploy:\n  repository: o/r\n  updateHead: update\n", u"3:15"_s,
        { u"deploy updateHead \"update\" is not allowed: use owner:branch"_s });
    errorRow("deploy staging is no machine", "deploy:\n  repository: o/r\n  staging: dev\n", u"3:12"_s,
        { u"deploy staging \"dev\" is not defined in machines: add it there"_s });
    errorRow("deploy command ignores the machine",
        "deploy:\n  repository: o/r\n  command: [nix, run, \"github:{repository}?rev={rev}#deploy\"]\n", u"3:12"_s,
        { u"command template deploy never uses {machine}"_s });
    errorRow("deploy command follows the ref instead of the planned commit",
        "deploy:\n  repository: o/r\n  command: [nix, run, \"github:{repository}?ref={ref}#deploy\", \"{machine}\"]\n",
        u"3:12"_s, { u"command template deploy cannot use {ref}: use {repository}, {rev}, {machine}"_s });
    errorRow("deploy environment passes a secret variable",
        "github:\n  tokenEnv: GH_TOKEN\ndeploy:\n  repository: o/r\n  environment: [SSH_AUTH_SOCK, GH_TOKEN]\n",
        u"5:32"_s, { u"deploy environment entry \"GH_TOKEN\" is github tokenEnv, a secret"_s });
    errorRow("deploy environment entry is no variable name", "deploy:\n  repository: o/r\n  environment: [\"A=B\"]\n",
        u"3:17"_s, { u"deploy environment entry \"A=B\" is not allowed: use an environment variable name"_s });
    errorRow("github apiUrl in clear text", "github:\n  apiUrl: http://github.example.org/api/v3\n", u"2:11"_s,
        { u"github apiUrl \"http://github.example.org/api/v3\" is not allowed: use https://"_s });
    errorRow("github apiVersion unknown", "github:\n  apiVersion: \"2023-01-01\"\n", u"2:15"_s,
        { u"github apiVersion \"2023-01-01\" is not allowed: use 2022-11-28 or 2026-03-10"_s });
    errorRow("secretEnv is no variable name",
        "hosts:\n  - name: a\n    address: a.example.org\n    auth:\n      method: agent\n"
        "      secretEnv: MY-VAR\n",
        u"6:18"_s, { u"auth secretEnv \"MY-VAR\" is not allowed: use an environment variable name"_s });
    errorRow("passwordEnv starts with a digit",
        "databases:\n  - name: db\n    database: db\n    user: u\n    passwordEnv: 1PASS\n", u"5:18"_s,
        { u"database passwordEnv \"1PASS\" is not allowed: use an environment variable name"_s });
    errorRow("database tls unknown", "databases:\n  - name: db\n    database: db\n    user: u\n    tls: prefer\n",
        u"5:10"_s, { u"database tls \"prefer\" is not allowed: use one of require, verify-ca, verify-full"_s });
    errorRow("database caFile without a verifying tls",
        "databases:\n  - name: db\n    database: db\n    user: u\n    tls: require\n    caFile: /etc/ca.pem\n",
        u"6:13"_s, { u"database caFile needs tls verify-ca or verify-full"_s });
    errorRow("database tls on mysql",
        "databases:\n  - name: db\n    kind: mysql\n    database: db\n    user: u\n    tls: require\n", u"6:10"_s,
        { u"database tls is for postgres databases"_s });

    // Paths.
    errorRow("outpackRoot outside outpackBase",
        a
            + "    outpackBase: /var/lib/outpack\n    instances:\n      - name: reside\n"
              "        outpackRoot: /var/lib/outpack-old/reside\n",
        u"8:22"_s,
        { u"instance outpackRoot \"/var/lib/outpack-old/reside\" is not allowed: it must lie strictly under the "
          "host's outpackBase \"/var/lib/outpack\""_s });
    errorRow("outpackRoot equal to outpackBase",
        a + "    instances:\n      - name: reside\n        outpackRoot: /var/lib/outpack/\n", u"7:22"_s,
        { u"instance outpackRoot \"/var/lib/outpack\" is not allowed: it must lie strictly under"_s });
    errorRow("outpackRoot climbing out",
        a + "    instances:\n      - name: reside\n        outpackRoot: /var/lib/outpack/../../etc\n", u"7:22"_s,
        { u"instance outpackRoot \"/var/lib/outpack/../../etc\" is not allowed: use an absolute path on the "
          "host, without \"..\" or \"~\""_s });
    errorRow("outpackRoot relative", a + "    instances:\n      - name: reside\n        outpackRoot: reside\n",
        u"7:22"_s, { u"instance outpackRoot \"reside\" is not allowed: use an absolute path"_s });
    errorRow("outpackBase is the root",
        a + "    outpackBase: /\n    instances:\n      - name: reside\n        outpackRoot: /reside\n", u"5:18"_s,
        { u"host outpackBase \"/\" is not allowed"_s });
    errorRow("outpackBase under home", a + "    outpackBase: ~/outpack\n", u"5:18"_s,
        { u"host outpackBase \"~/outpack\" is not allowed: use an absolute path on the host"_s });
    errorRow("socket relative", "databases:\n  - name: db\n    socket: mysqld.sock\n    database: db\n    user: u\n",
        u"3:13"_s, { u"database socket \"mysqld.sock\" is not allowed: use an absolute path"_s });

    // The undo window.
    const QString durationRule = u"use a duration such as 30s, 15m, 12h or 7d, from 1s to 365d, or off"_s;
    errorRow("undo retention with a space", "undo:\n  retention: 7 d\n", u"2:14"_s,
        { u"undo retention \"7 d\" is not allowed: "_s + durationRule });
    errorRow("undo retention empty string", "undo:\n  retention: \"\"\n", u"2:14"_s,
        { u"undo retention \"\" is not allowed: "_s + durationRule });
    errorRow("undo retention without a value", "undo:\n  retention:\n", u"2:3"_s,
        { u"undo retention must be a duration such as 30s, 15m, 12h or 7d, from 1s to 365d, or off, not empty"_s });
    errorRow("undo retention is a list", "undo:\n  retention: [7d]\n", u"2:14"_s,
        { u"undo retention must be a duration such as 30s, 15m, 12h or 7d, from 1s to 365d, or off, not a list"_s });
    errorRow("undo retention without a unit", "undo: {retention: 7}\n", u"1:19"_s,
        { u"undo retention \"7\" is not allowed: "_s + durationRule });
    errorRow("undo is a string", "undo: 7d\n", u"1:7"_s, { u"undo must be a map, not a string"_s });
    errorRow("unknown undo key", "undo:\n  retain: 7d\n", u"2:3"_s,
        { u"unknown key \"retain\" in undo: use one of retention"_s });
    errorRow("duplicate undo key", "undo:\n  retention: 7d\n  retention: 8d\n", u"3:3"_s,
        { u"duplicate key \"retention\" in undo: already given at line 2"_s });
    errorRow("host undo retention over a year", a + "    undo:\n      retention: 366d\n", u"6:18"_s,
        { u"host undo retention \"366d\" is not allowed: "_s + durationRule });
    errorRow("host undo retention in weeks", a + "    undo: {retention: 1w}\n", u"5:23"_s,
        { u"host undo retention \"1w\" is not allowed: "_s + durationRule });
    errorRow("host undo is a string", a + "    undo: 7d\n", u"5:11"_s, { u"host undo must be a map, not a string"_s });
    errorRow("unknown host undo key", a + "    undo: {retention: 7d, keep: yes}\n", u"5:27"_s,
        { u"unknown key \"keep\" in host undo: use one of retention"_s });
    errorRow("database undo retention zero",
        "databases:\n  - name: db\n    database: db\n    user: u\n    undo: {retention: 0s}\n", u"5:23"_s,
        { u"database undo retention \"0s\" is not allowed: "_s + durationRule });
    errorRow("cluster undo retention fractional", "clusters:\n  - name: c\n    undo: {retention: 1.5h}\n", u"3:23"_s,
        { u"cluster undo retention \"1.5h\" is not allowed: "_s + durationRule });
    errorRow("datamon undo retention negative",
        "datamon:\n  - name: d\n    context: dev\n    config: cfg\n    undo: {retention: -1d}\n", u"5:23"_s,
        { u"datamon undo retention \"-1d\" is not allowed: "_s + durationRule });
    errorRow("deploy undo retention leading zero", "deploy:\n  repository: o/r\n  undo: {retention: 07d}\n", u"3:21"_s,
        { u"deploy undo retention \"07d\" is not allowed: "_s + durationRule });
    errorRow("unknown deploy undo key", "deploy:\n  repository: o/r\n  undo:\n    days: 7\n", u"4:5"_s,
        { u"unknown key \"days\" in deploy undo: use one of retention"_s });
    errorRow("machines take no undo",
        "machines:\n  - name: m\n    metrics: http\n    domain: m.example.org\n    undo: {retention: 7d}\n", u"5:5"_s,
        { u"unknown key \"undo\" in machine"_s });

    // Command templates.
    errorRow("unknown command template", a + "    commands:\n      stopUnit: [systemctl, stop, \"{units...}\"]\n",
        u"6:7"_s,
        { u"unknown key \"stopUnit\" in commands: use one of stopUnits, startUnits, unitState, removeTree, psql, "
          "journal, readMetrics"_s });
    errorRow("list placeholder inside an argument",
        a + "    commands:\n      stopUnits: [systemctl, stop, \"--unit={units...}\"]\n", u"6:18"_s,
        { u"command template stopUnits uses {units...} in \"--unit={units...}\": write {units...} as a whole "
          "argument of its own"_s });
    errorRow("foreign placeholder", a + "    commands:\n      removeTree: [rm, -rf, \"{units...}\"]\n", u"6:19"_s,
        { u"command template removeTree cannot use {units...}: use {path}"_s });
    errorRow("unquoted placeholder", a + "    commands:\n      stopUnits: [systemctl, stop, {units...}]\n", u"6:36"_s,
        { u"command template stopUnits arguments must be strings, not a map: quote placeholders, as in "
          "\"{units...}\""_s });
    errorRow("template is a string", a + "    commands:\n      psql: psql {database}\n", u"6:13"_s,
        { u"command template psql must be a list, not a string"_s });
    errorRow(
        "template is empty", a + "    commands:\n      psql: []\n", u"6:13"_s, { u"command template psql is empty"_s });
}

void TestInventory::errors()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, prefix);
    QFETCH(QStringList, fragments);

    const InventoryLoadResult result = InventoryLoader::loadString(yaml, u"bad.yaml"_s);
    QVERIFY(!result.ok());
    QVERIFY(!result.inventory);
    // Exactly one: a mistake must not drag follow-on errors along.
    QVERIFY2(result.errors.size() == 1, qPrintable(describe(result)));
    const QString error = result.errors.front().toString();
    QVERIFY2(error.startsWith(prefix), qPrintable(error));
    for (const QString& fragment : fragments)
        QVERIFY2(error.contains(fragment), qPrintable(error + u"\nlacks: "_s + fragment));
}

void TestInventory::allErrorsInOnePass()
{
    const InventoryLoadResult result = InventoryLoader::loadString(R"(databases:
  - name: db
    via: nope
    user: u
hosts:
  - name: Bad_Host
    address: a.example.org
    port: 0
    auth: {method: kerberos}
    tags: [prod]
)",
        u"many.yaml"_s);
    QVERIFY(!result.ok());
    QStringList prefixes;
    for (const InventoryError& e : result.errors)
        prefixes << e.toString().section(u": "_s, 0, 0);
    // In file order, whatever order the checks ran in.
    QCOMPARE(prefixes,
        QStringList({ u"many.yaml:2:5"_s, u"many.yaml:3:10"_s, u"many.yaml:6:11"_s, u"many.yaml:8:11"_s,
            u"many.yaml:9:20"_s, u"many.yaml:10:12"_s }));
    QVERIFY(result.errors[0].message.contains(u"database database is required"_s));
    QVERIFY(result.errors[1].message.contains(u"database via \"nope\""_s));
    QVERIFY(result.errors[2].message.contains(u"host name \"Bad_Host\""_s));
    QVERIFY(result.errors[3].message.contains(u"host port \"0\""_s));
    QVERIFY(result.errors[4].message.contains(u"auth method \"kerberos\""_s));
    QVERIFY(result.errors[5].message.contains(u"host tag \"prod\""_s));
}

void TestInventory::errorToString()
{
    const InventoryError e { u"dir/inv.yaml"_s, 12, 7, u"host port \"0\" is not allowed"_s };
    QCOMPARE(e.toString(), u"dir/inv.yaml:12:7: host port \"0\" is not allowed"_s);
    const InventoryError percent { u"%2%3.yaml"_s, 1, 2, u"%1"_s };
    QCOMPARE(percent.toString(), u"%2%3.yaml:1:2: %1"_s);
}

void TestInventory::loadFileMissing()
{
    const QString path = u"/nonexistent-opsdeck-dir/inventory.yaml"_s;
    const InventoryLoadResult result = InventoryLoader::loadFile(path);
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 1);
    QCOMPARE(result.errors[0].line, 0);
    QCOMPARE(result.errors[0].column, 0);
    // The file as a whole: no line or column, and what to do.
    QCOMPARE(result.errors[0].toString(),
        path + u": no such file: name the inventory with --inventory FILE or OPSDECK_INVENTORY, or create it at "_s
            + InventoryLoader::defaultPath());
}

void TestInventory::loadFileDirectory()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const InventoryLoadResult result = InventoryLoader::loadFile(dir.path());
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 1);
    QVERIFY2(result.errors[0].toString().startsWith(dir.path() + u": cannot read: "_s),
        qPrintable(result.errors[0].toString()));
}

void TestInventory::loadFileUsesPathAsGiven()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath(u"inventory.yaml"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("hosts:\n  - name: a\n    address: a.example.org\n    port: 0\n    auth: {method: agent}\n");
    file.close();

    const QString relative = QDir::current().relativeFilePath(file.fileName());
    const InventoryLoadResult result = InventoryLoader::loadFile(relative);
    QCOMPARE(result.errors.size(), 1);
    QVERIFY2(result.errors[0].toString().startsWith(relative + u":4:11: host port \"0\""_s),
        qPrintable(result.errors[0].toString()));
}

void TestInventory::defaultPath()
{
    QTemporaryDir config;
    QVERIFY(config.isValid());
    qputenv("XDG_CONFIG_HOME", config.path().toLocal8Bit());
    QCOMPARE(InventoryLoader::defaultPath(), config.path() + u"/opsdeck/inventory.yaml"_s);
    QCOMPARE(InventoryLoader::defaultPath(),
        QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) + u"/opsdeck/inventory.yaml"_s);
}

void TestInventory::resolvePath()
{
    qputenv("OPSDECK_INVENTORY", "/from/env.yaml");
    QCOMPARE(InventoryLoader::resolvePath(u"/from/cli.yaml"_s), u"/from/cli.yaml"_s);
    QCOMPARE(InventoryLoader::resolvePath(QString()), u"/from/env.yaml"_s);

    qputenv("OPSDECK_INVENTORY", "");
    QCOMPARE(InventoryLoader::resolvePath(QString()), InventoryLoader::defaultPath());

    qunsetenv("OPSDECK_INVENTORY");
    QCOMPARE(InventoryLoader::resolvePath(QString()), InventoryLoader::defaultPath());
    QCOMPARE(InventoryLoader::resolvePath(u"relative.yaml"_s), u"relative.yaml"_s);
}

QTEST_GUILESS_MAIN(TestInventory)
#include "tst_inventory.moc"
