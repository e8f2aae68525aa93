// SshConnectionPool: the secret each auth method needs comes from the environment, the keychain or a prompt.
#include "Sandbox.h"
#include "SecretTestSupport.h"
#include "secrets/CredentialStore.h"
#include "secrets/SecretPrompter.h"
#include "ssh/HostProber.h"
#include "ssh/SshConnectionPool.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace opsdeck;
using namespace opsdeck::test;

class TestSshConnectionPool : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void encryptedKeyPassphraseFromEnvironment();
    void encryptedKeyPassphraseFromPromptThenWrongOneIsAskedAgain();
    void agentAuth();
    void passwordFromEnvironment();
    void cancelledPromptIsAnErrorAndNothingConnects();
    void unknownHostIsAnError();
    void proberReportsEveryHost();

private:
    Host sandboxHost(const QString& name) const;
    Host passwordHost() const;
    ExecResult runOn(SshConnectionPool& pool, const QString& host);
    QString makeAuthorizedKey(const QString& name, const QString& passphrase);

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    FakePrompter m_prompter;
    std::unique_ptr<CredentialStore> m_credentials;
};

void TestSshConnectionPool::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    // No keyring here: the store must fall back to memory and the prompter.
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DISPLAY");
    qputenv("XDG_RUNTIME_DIR", m_temp.path().toUtf8());
}

void TestSshConnectionPool::init()
{
    m_prompter.answer.reset();
    m_prompter.requests.clear();
    m_credentials = std::make_unique<CredentialStore>();
    m_credentials->setTimeout(2000);
    m_credentials->setPrompter(&m_prompter);
}

Host TestSshConnectionPool::sandboxHost(const QString& name) const
{
    const SshTarget target = m_sandbox.target(name);
    Host host;
    host.name = name;
    host.address = target.address;
    host.port = target.port;
    host.user = target.user;
    host.auth.method = AuthMethod::Key;
    host.auth.identityFile = target.identityFile;
    host.knownHostsFile = target.knownHostsFile;
    return host;
}

// The bastion's password user, with no secret source configured.
Host TestSshConnectionPool::passwordHost() const
{
    const SshTarget target = m_sandbox.passwordTarget();
    Host host = sandboxHost(target.name);
    host.user = target.user;
    host.auth.method = AuthMethod::Password;
    host.auth.identityFile.clear();
    return host;
}

ExecResult TestSshConnectionPool::runOn(SshConnectionPool& pool, const QString& host)
{
    ExecResult result;
    bool done = false;
    pool.prepare(host, this, [&](SshSession* session, const SshError& error) {
        if (!session) {
            result.error = error;
            done = true;
            return;
        }
        SshCommand* command = session->exec({ QStringLiteral("id"), QStringLiteral("-un") });
        connect(command, &SshCommand::finished, this, [&, command](const ExecResult& finished) {
            result = finished;
            done = true;
            command->deleteLater();
        });
    });
    if (!QTest::qWaitFor([&] { return done; }, 30000))
        result.error = { SshError::Kind::Timeout, QStringLiteral("test: no answer") };
    return result;
}

// A key that the sandbox's root accepts.
QString TestSshConnectionPool::makeAuthorizedKey(const QString& name, const QString& passphrase)
{
    const QString key = m_temp.filePath(name);
    if (QFile::exists(key))
        return key;
    QProcess keygen;
    keygen.start(QStringLiteral("ssh-keygen"),
        { QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"), QStringLiteral("-N"), passphrase,
            QStringLiteral("-f"), key });
    keygen.waitForFinished();
    QFile publicKey(key + QStringLiteral(".pub"));
    QFile authorized(m_sandbox.dir() + QStringLiteral("/keys/authorized_keys"));
    if (!publicKey.open(QIODevice::ReadOnly) || !authorized.open(QIODevice::Append))
        return {};
    authorized.write(publicKey.readAll());
    return key;
}

void TestSshConnectionPool::encryptedKeyPassphraseFromEnvironment()
{
    Inventory inventory;
    Host host = sandboxHost(QStringLiteral("wpia-packit"));
    host.auth.identityFile = makeAuthorizedKey(QStringLiteral("env_locked"), QStringLiteral("env phrase"));
    host.auth.secretEnv = QStringLiteral("OPSDECK_TEST_KEY_PASSPHRASE");
    inventory.hosts << host;
    qputenv("OPSDECK_TEST_KEY_PASSPHRASE", "env phrase");
    SshConnectionPool pool(inventory, m_credentials.get());
    const ExecResult result = runOn(pool, host.name);
    qunsetenv("OPSDECK_TEST_KEY_PASSPHRASE");
    QVERIFY2(result.succeeded(), qPrintable(result.error.message));
    QCOMPARE(result.stdoutData, QByteArray("root\n"));
    QVERIFY(m_prompter.requests.isEmpty());
}

void TestSshConnectionPool::encryptedKeyPassphraseFromPromptThenWrongOneIsAskedAgain()
{
    Inventory inventory;
    Host host = sandboxHost(QStringLiteral("wpia-packit"));
    host.auth.identityFile = makeAuthorizedKey(QStringLiteral("prompt_locked"), QStringLiteral("typed phrase"));
    inventory.hosts << host;
    SshConnectionPool pool(inventory, m_credentials.get());

    m_prompter.answer = QStringLiteral("wrong phrase");
    const ExecResult wrong = runOn(pool, host.name);
    QCOMPARE(wrong.error.kind, SshError::Kind::AuthFailed);
    QCOMPARE(m_prompter.requests.size(), 1);
    QVERIFY(m_prompter.requests.first().label.contains(host.auth.identityFile));
    QVERIFY(!m_prompter.requests.first().willBeRemembered);

    pool.rejectSecret(host.name);
    m_prompter.answer = QStringLiteral("typed phrase");
    const ExecResult right = runOn(pool, host.name);
    QVERIFY2(right.succeeded(), qPrintable(right.error.message));
    QCOMPARE(m_prompter.requests.size(), 2);
}

void TestSshConnectionPool::agentAuth()
{
    const QString key = makeAuthorizedKey(QStringLiteral("agent_key"), QString());
    const QString socket = m_temp.filePath(QStringLiteral("agent.sock"));
    QProcess agent;
    agent.start(QStringLiteral("ssh-agent"), { QStringLiteral("-D"), QStringLiteral("-a"), socket });
    QVERIFY(agent.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(socket), 5000);
    QProcess add;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("SSH_AUTH_SOCK"), socket);
    add.setProcessEnvironment(environment);
    add.start(QStringLiteral("ssh-add"), { key });
    QVERIFY(add.waitForFinished() && add.exitCode() == 0);

    const QByteArray previous = qgetenv("SSH_AUTH_SOCK");
    qputenv("SSH_AUTH_SOCK", socket.toUtf8());
    Inventory inventory;
    Host host = sandboxHost(QStringLiteral("wpia-packit-dev"));
    host.auth.method = AuthMethod::Agent;
    host.auth.identityFile.clear();
    inventory.hosts << host;
    SshConnectionPool pool(inventory, m_credentials.get());
    const ExecResult result = runOn(pool, host.name);
    qputenv("SSH_AUTH_SOCK", previous);
    agent.kill();
    agent.waitForFinished();
    QVERIFY2(result.succeeded(), qPrintable(result.error.message));
    QVERIFY(m_prompter.requests.isEmpty());
}

void TestSshConnectionPool::passwordFromEnvironment()
{
    Inventory inventory;
    Host host = passwordHost();
    host.auth.secretEnv = QStringLiteral("OPSDECK_TEST_PASSWORD");
    inventory.hosts << host;
    qputenv("OPSDECK_TEST_PASSWORD", m_sandbox.password().toUtf8());
    SshConnectionPool pool(inventory, m_credentials.get());
    const ExecResult result = runOn(pool, host.name);
    qunsetenv("OPSDECK_TEST_PASSWORD");
    QVERIFY2(result.succeeded(), qPrintable(result.error.message));
    QCOMPARE(QString::fromUtf8(result.stdoutData).trimmed(), host.user);
}

void TestSshConnectionPool::cancelledPromptIsAnErrorAndNothingConnects()
{
    Inventory inventory;
    const Host host = passwordHost();
    inventory.hosts << host;
    SshConnectionPool pool(inventory, m_credentials.get());
    const ExecResult result = runOn(pool, host.name);
    QCOMPARE(result.error.kind, SshError::Kind::SecretRequired);
    QVERIFY2(result.error.message.contains(QStringLiteral("opsdeck/ssh/%1/%2").arg(host.name, host.user)),
        qPrintable(result.error.message));
    QCOMPARE(pool.session(host.name)->state(), SshSession::State::Disconnected);
}

void TestSshConnectionPool::unknownHostIsAnError()
{
    SshConnectionPool pool(Inventory {}, m_credentials.get());
    QVERIFY(!pool.session(QStringLiteral("nowhere")));
    QCOMPARE(runOn(pool, QStringLiteral("nowhere")).error.kind, SshError::Kind::InvalidRequest);
}

void TestSshConnectionPool::proberReportsEveryHost()
{
    Inventory inventory;
    inventory.hosts << sandboxHost(QStringLiteral("wpia-packit")) << sandboxHost(QStringLiteral("wpia-packit-dev"));
    Host closed = sandboxHost(QStringLiteral("wpia-packit-private"));
    closed.name = QStringLiteral("closed-port");
    closed.port = 1; // nothing listens there
    inventory.hosts << closed;
    SshConnectionPool pool(inventory, m_credentials.get());
    HostProber prober(inventory, &pool);
    QSignalSpy finished(&prober, &HostProber::finished);
    QHash<QString, HostStatus> statuses;
    connect(&prober, &HostProber::statusChanged, this,
        [&](const HostStatus& status) { statuses.insert(status.name, status); });
    prober.probeAll();
    QVERIFY(finished.wait(30000));
    QCOMPARE(prober.pending(), 0);
    QVERIFY(statuses.value(QStringLiteral("wpia-packit")).reachable());
    QVERIFY(statuses.value(QStringLiteral("wpia-packit-dev")).reachable());
    const HostStatus failed = statuses.value(QStringLiteral("closed-port"));
    QCOMPARE(failed.reachability, HostStatus::Reachability::Unreachable);
    QCOMPARE(failed.error.kind, SshError::Kind::ConnectFailed);
    QVERIFY(failed.error.message.contains(QStringLiteral("closed-port")));
}

QTEST_GUILESS_MAIN(TestSshConnectionPool)
#include "tst_sshconnectionpool.moc"
