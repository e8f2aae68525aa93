// Kubeconfig: what `oc login` writes read as kubectl reads it (../shared/reference/kubernetes.md section 1), several
// files merged by kubectl's rules, and every way a context cannot be used refused with what to do.
#include "core/SecretScrubber.h"
#include "kube/Kubeconfig.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace opsdeck;

namespace {

// The reference's example, as oc login writes it.
const QByteArray kOcLogin = R"(apiVersion: v1
kind: Config
clusters:
- name: api-ocp-example-org:6443
  cluster:
    server: https://api.ocp.example.org:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmNhCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
users:
- name: alice/api-ocp-example-org:6443
  user:
    token: sha256~Zx9-planted-token-7f3a
contexts:
- name: fg/api-ocp-example-org:6443/alice
  context: {cluster: api-ocp-example-org:6443, user: alice/api-ocp-example-org:6443, namespace: fg}
current-context: fg/api-ocp-example-org:6443/alice
preferences: {}
)";

} // namespace

class TestKubeconfig : public QObject
{
    Q_OBJECT

private slots:
    void readsWhatOcLoginWrites();
    void defaultFilesFollowKubeconfigThenHome();
    void mergesAsKubectlDoes();
    void pathsAreRelativeToTheirKubeconfig();
    void tokenBeatsTokenFile();
    void clientCertificateAuthenticates();
    void pluginsAreNamedAndNotRun();
    void aTokenMayBeSuppliedByTheCaller();
    void insecureIsAWarningAndRefusedWithACa();
    void unusableContextsSayWhatToDo_data();
    void unusableContextsSayWhatToDo();
    void malformedFilesNameFileAndLine_data();
    void malformedFilesNameFileAndLine();
    void missingFiles();

private:
    QString write(const QString& name, const QByteArray& text);

    QTemporaryDir m_dir;
};

QString TestKubeconfig::write(const QString& name, const QByteArray& text)
{
    const QString path = m_dir.filePath(name);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

void TestKubeconfig::readsWhatOcLoginWrites()
{
    QString error;
    const auto config = Kubeconfig::parse(kOcLogin, QStringLiteral("config"), &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->currentContext(), QStringLiteral("fg/api-ocp-example-org:6443/alice"));
    const auto resolved = config->resolve({}, &error);
    QVERIFY2(resolved, qPrintable(error));
    QCOMPARE(resolved->server, QStringLiteral("https://api.ocp.example.org:6443"));
    QCOMPARE(resolved->context.ns, QStringLiteral("fg"));
    QCOMPARE(resolved->caPem, QByteArray("-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"));
    QCOMPARE(resolved->token, QStringLiteral("sha256~Zx9-planted-token-7f3a"));
    QVERIFY(!resolved->insecureSkipTlsVerify);
    QVERIFY(resolved->warnings.isEmpty());
    // A resolved token is a secret of this process: scrubbed from whatever is kept.
    QCOMPARE(SecretScrubber::scrub(QStringLiteral("Bearer sha256~Zx9-planted-token-7f3a")),
        QStringLiteral("Bearer [secret]"));
}

void TestKubeconfig::defaultFilesFollowKubeconfigThenHome()
{
    QCOMPARE(Kubeconfig::defaultFiles(QStringLiteral("/a/one::/b/two:"), QStringLiteral("/home/x")),
        QStringList({ QStringLiteral("/a/one"), QStringLiteral("/b/two") }));
    QCOMPARE(Kubeconfig::defaultFiles({}, QStringLiteral("/home/x")),
        QStringList { QStringLiteral("/home/x/.kube/config") });
    QCOMPARE(Kubeconfig::defaultFiles(QStringLiteral(":"), QStringLiteral("/home/x")),
        QStringList { QStringLiteral("/home/x/.kube/config") });
}

// For each named entry the first file that defines it wins; current-context comes from the first file that sets it.
void TestKubeconfig::mergesAsKubectlDoes()
{
    const QString first = write(QStringLiteral("merge/first"), R"(clusters:
- name: shared
  cluster: {server: "https://first.example:6443", insecure-skip-tls-verify: true}
users:
- name: alice
  user: {token: first-token}
contexts:
- name: fg
  context: {cluster: shared, user: alice, namespace: fg}
)");
    const QString second = write(QStringLiteral("merge/second"), R"(clusters:
- name: shared
  cluster: {server: "https://second.example:6443"}
- name: other
  cluster: {server: "https://other.example:6443", insecure-skip-tls-verify: true}
users:
- name: alice
  user: {token: second-token}
contexts:
- name: fg
  context: {cluster: other, user: alice, namespace: wrong}
- name: staging
  context: {cluster: other, user: alice, namespace: fg-staging}
current-context: staging
)");
    QString error;
    const auto config = Kubeconfig::load({ first, m_dir.filePath(QStringLiteral("merge/absent")), second }, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->currentContext(), QStringLiteral("staging"));
    QCOMPARE(config->contextNames(), QStringList({ QStringLiteral("fg"), QStringLiteral("staging") }));
    const auto fg = config->resolve(QStringLiteral("fg"), &error);
    QVERIFY2(fg, qPrintable(error));
    QCOMPARE(fg->server, QStringLiteral("https://first.example:6443"));
    QCOMPARE(fg->context.ns, QStringLiteral("fg"));
    QCOMPARE(fg->token, QStringLiteral("first-token"));
    const auto staging = config->resolve({}, &error);
    QVERIFY2(staging, qPrintable(error));
    QCOMPARE(staging->server, QStringLiteral("https://other.example:6443"));
    QCOMPARE(staging->token, QStringLiteral("first-token"));
}

void TestKubeconfig::pathsAreRelativeToTheirKubeconfig()
{
    write(QStringLiteral("rel/certs/ca.crt"), "CA PEM\n");
    write(QStringLiteral("rel/token"), "  file-token\n");
    const QString path = write(QStringLiteral("rel/config"), R"(clusters:
- name: c
  cluster: {server: "https://c.example", certificate-authority: certs/ca.crt}
users:
- name: u
  user: {tokenFile: token}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
    QString error;
    const auto config = Kubeconfig::load({ path }, &error);
    QVERIFY2(config, qPrintable(error));
    const auto resolved = config->resolve({}, &error);
    QVERIFY2(resolved, qPrintable(error));
    QCOMPARE(resolved->caPem, QByteArray("CA PEM\n"));
    QCOMPARE(resolved->token, QStringLiteral("file-token"));
    QVERIFY(resolved->context.ns.isEmpty());
}

void TestKubeconfig::tokenBeatsTokenFile()
{
    const auto config = Kubeconfig::parse(R"(clusters: [{name: c, cluster: {server: "https://c.example"}}]
users: [{name: u, user: {token: inline-token, tokenFile: /nonexistent/token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)",
        QStringLiteral("config"), nullptr);
    QVERIFY(config);
    QString error;
    const auto resolved = config->resolve(QStringLiteral("x"), &error);
    QVERIFY2(resolved, qPrintable(error));
    QCOMPARE(resolved->token, QStringLiteral("inline-token"));
}

void TestKubeconfig::clientCertificateAuthenticates()
{
    const auto config = Kubeconfig::parse(R"(clusters: [{name: c, cluster: {server: "https://c.example"}}]
users:
- {name: u, user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZLXBsYW50ZWQtOWUy}}
- {name: half, user: {client-certificate-data: Q0VSVA==}}
contexts:
- {name: x, context: {cluster: c, user: u}}
- {name: y, context: {cluster: c, user: half}}
)",
        QStringLiteral("config"), nullptr);
    QVERIFY(config);
    QString error;
    const auto resolved = config->resolve(QStringLiteral("x"), &error);
    QVERIFY2(resolved, qPrintable(error));
    QVERIFY(resolved->token.isEmpty());
    QCOMPARE(resolved->clientCertificatePem, QByteArray("CERT"));
    QCOMPARE(resolved->clientKeyPem, QByteArray("KEY-planted-9e2"));
    QCOMPARE(SecretScrubber::scrub(QStringLiteral("KEY-planted-9e2")), QStringLiteral("[secret]"));
    QVERIFY(!config->resolve(QStringLiteral("y"), &error));
    QVERIFY2(error.contains(QStringLiteral("without its key")), qPrintable(error));
}

void TestKubeconfig::pluginsAreNamedAndNotRun()
{
    const auto config = Kubeconfig::parse(R"(clusters: [{name: c, cluster: {server: "https://c.example"}}]
users:
- name: exec
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: kubelogin, args: [get-token]}}
- name: provider
  user: {auth-provider: {name: oidc, config: {idp-issuer-url: "https://idp"}}}
- name: both
  user: {token: also-a-token, exec: {command: kubelogin}}
contexts:
- {name: exec, context: {cluster: c, user: exec}}
- {name: provider, context: {cluster: c, user: provider}}
- {name: both, context: {cluster: c, user: both}}
)",
        QStringLiteral("config"), nullptr);
    QVERIFY(config);
    QString error;
    QVERIFY(!config->resolve(QStringLiteral("exec"), &error));
    QVERIFY2(error.contains(QStringLiteral("exec plugin \"kubelogin\"")) && error.contains(QStringLiteral("token")),
        qPrintable(error));
    QVERIFY(!config->resolve(QStringLiteral("provider"), &error));
    QVERIFY2(error.contains(QStringLiteral("auth-provider \"oidc\"")), qPrintable(error));
    const auto both = config->resolve(QStringLiteral("both"), &error);
    QVERIFY2(both, qPrintable(error));
    QCOMPARE(both->token, QStringLiteral("also-a-token"));
    QCOMPARE(both->warnings.size(), 1);
    QVERIFY2(both->warnings.first().contains(QStringLiteral("kubelogin")), qPrintable(both->warnings.first()));
}

// RaftTarget takes the token from the inventory's tokenEnv or the keychain when the kubeconfig's user has none.
void TestKubeconfig::aTokenMayBeSuppliedByTheCaller()
{
    const auto config = Kubeconfig::parse(R"(clusters: [{name: c, cluster: {server: "https://c.example"}}]
users:
- {name: bare, user: {}}
- name: exec
  user: {exec: {command: kubelogin}}
contexts:
- {name: bare, context: {cluster: c, user: bare, namespace: fg}}
- {name: exec, context: {cluster: c, user: exec}}
)",
        QStringLiteral("config"), nullptr);
    QVERIFY(config);
    QString error;
    QVERIFY(!config->resolve(QStringLiteral("bare"), &error));
    const auto bare = config->resolve(QStringLiteral("bare"), &error, Kubeconfig::Credentials::TokenSuppliedByCaller);
    QVERIFY2(bare, qPrintable(error));
    QVERIFY(!bare->authenticates());
    QCOMPARE(bare->server, QStringLiteral("https://c.example"));
    QCOMPARE(bare->context.ns, QStringLiteral("fg"));
    QCOMPARE(bare->plugin, QString());
    const auto exec = config->resolve(QStringLiteral("exec"), &error, Kubeconfig::Credentials::TokenSuppliedByCaller);
    QVERIFY2(exec, qPrintable(error));
    QCOMPARE(exec->plugin, QStringLiteral("exec plugin \"kubelogin\""));
}

void TestKubeconfig::insecureIsAWarningAndRefusedWithACa()
{
    const auto config = Kubeconfig::parse(R"(clusters:
- {name: insecure, cluster: {server: "https://c.example", insecure-skip-tls-verify: true}}
- {name: both, cluster: {server: "https://c.example", insecure-skip-tls-verify: true, certificate-authority-data: Q0E=}}
users: [{name: u, user: {token: t0ken-for-insecure}}]
contexts:
- {name: insecure, context: {cluster: insecure, user: u}}
- {name: both, context: {cluster: both, user: u}}
)",
        QStringLiteral("config"), nullptr);
    QVERIFY(config);
    QString error;
    const auto insecure = config->resolve(QStringLiteral("insecure"), &error);
    QVERIFY2(insecure, qPrintable(error));
    QVERIFY(insecure->insecureSkipTlsVerify);
    QCOMPARE(insecure->warnings.size(), 1);
    QVERIFY(insecure->warnings.first().contains(QStringLiteral("insecure-skip-tls-verify")));
    QVERIFY(!config->resolve(QStringLiteral("both"), &error));
    QVERIFY2(
        error.contains(QStringLiteral("both a certificate authority and insecure-skip-tls-verify")), qPrintable(error));
}

void TestKubeconfig::unusableContextsSayWhatToDo_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("context");
    QTest::addColumn<QString>("said");
    const QByteArray base
        = "users: [{name: u, user: {token: t}}, {name: none, user: {}}]\n"
          "clusters: [{name: c, cluster: {server: \"https://c.example\"}},"
          " {name: plain, cluster: {server: \"http://c.example\"}},"
          " {name: cafile, cluster: {server: \"https://c.example\", certificate-authority: /nonexistent/ca}},"
          " {name: device, cluster: {server: \"https://c.example\", certificate-authority: /dev/zero}}]\n";
    QTest::newRow("no current context") << base + "contexts: [{name: a, context: {cluster: c, user: u}}]\n"
                                        << QString() << QStringLiteral("no current-context: name a context (a)");
    QTest::newRow("unknown context") << base + "contexts: [{name: a, context: {cluster: c, user: u}}]\n"
                                     << QStringLiteral("b") << QStringLiteral("no context \"b\" (it has: a)");
    QTest::newRow("unknown cluster") << base + "contexts: [{name: a, context: {cluster: gone, user: u}}]\n"
                                     << QStringLiteral("a") << QStringLiteral("names cluster \"gone\"");
    QTest::newRow("unknown user") << base + "contexts: [{name: a, context: {cluster: c, user: gone}}]\n"
                                  << QStringLiteral("a") << QStringLiteral("names user \"gone\"");
    QTest::newRow("plain http") << base + "contexts: [{name: a, context: {cluster: plain, user: u}}]\n"
                                << QStringLiteral("a") << QStringLiteral("only to an https:// API server");
    QTest::newRow("no credentials") << base + "contexts: [{name: a, context: {cluster: c, user: none}}]\n"
                                    << QStringLiteral("a") << QStringLiteral("no token and no client certificate");
    QTest::newRow("CA file a device") << base + "contexts: [{name: a, context: {cluster: device, user: u}}]\n"
                                      << QStringLiteral("a") << QStringLiteral("/dev/zero is larger than 1 MiB");
    QTest::newRow("CA file missing") << base + "contexts: [{name: a, context: {cluster: cafile, user: u}}]\n"
                                     << QStringLiteral("a")
                                     << QStringLiteral(
                                            "cannot read cluster \"cafile\"'s certificate authority /nonexistent/ca");
}

void TestKubeconfig::unusableContextsSayWhatToDo()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, context);
    QFETCH(QString, said);
    QString error;
    const auto config = Kubeconfig::parse(yaml, QStringLiteral("config"), &error);
    QVERIFY2(config, qPrintable(error));
    QVERIFY(!config->resolve(context, &error));
    QVERIFY2(error.contains(said), qPrintable(error));
}

void TestKubeconfig::malformedFilesNameFileAndLine_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("said");
    QTest::newRow("not yaml") << QByteArray("clusters: [\n  - {name: c\n") << QStringLiteral("kc:");
    QTest::newRow("a list at the top") << QByteArray("- a\n- b\n") << QStringLiteral("kc:1: a kubeconfig is a map");
    QTest::newRow("another kind") << QByteArray("kind: Pod\n") << QStringLiteral("kind is Pod, not Config");
    QTest::newRow("clusters not a list") << QByteArray("apiVersion: v1\nclusters: {name: c}\n")
                                         << QStringLiteral("kc:2: clusters must be a list");
    QTest::newRow("entry without a name")
        << QByteArray("users:\n- user: {token: t}\n") << QStringLiteral("kc:2: an entry of users has no name");
    QTest::newRow("token not a string") << QByteArray("users:\n- name: u\n  user:\n    token: [a, b]\n")
                                        << QStringLiteral("kc:4: token must be a string");
    QTest::newRow("bad base64") << QByteArray(
        "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: '%%%'\n")
                                << QStringLiteral("kc:4: certificate-authority-data is not base64");
    QTest::newRow("bad flag") << QByteArray("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n")
                              << QStringLiteral("kc:4: insecure-skip-tls-verify must be true or false");
}

void TestKubeconfig::malformedFilesNameFileAndLine()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, said);
    QString error;
    QVERIFY(!Kubeconfig::parse(yaml, QStringLiteral("kc"), &error));
    QVERIFY2(error.contains(said), qPrintable(error));
}

void TestKubeconfig::missingFiles()
{
    QString error;
    QVERIFY(!Kubeconfig::load(
        { m_dir.filePath(QStringLiteral("none-1")), m_dir.filePath(QStringLiteral("none-2")) }, &error));
    QVERIFY2(
        error.contains(QStringLiteral("none of")) && error.contains(QStringLiteral("oc login")), qPrintable(error));
    const auto empty = Kubeconfig::load({ write(QStringLiteral("empty"), {}) }, &error);
    QVERIFY2(empty, qPrintable(error));
    QVERIFY(empty->contextNames().isEmpty());
}

QTEST_GUILESS_MAIN(TestKubeconfig)
#include "tst_kubeconfig.moc"
