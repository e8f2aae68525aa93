// SshSession against the sandbox's real sshd, PostgreSQL and MariaDB.
#include "Sandbox.h"
#include "ssh/SshSession.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

using namespace opsdeck;
using namespace opsdeck::test;

class TestSshSession : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void execStreamsOutputAndExitStatus();
    void execQuotesEveryArgument_data();
    void execQuotesEveryArgument();
    void execFeedsStdin();
    void largeStdinAndOutputFlowTogether();
    void commandThatClosesItsOutputBlocksNoOther();
    void outputStreamsBeforeTheEnd();
    void unknownHostKeyIsRefusedAndRunsNothing();
    void acceptedFingerprintIsWrittenToKnownHosts();
    void wrongAcceptedFingerprintIsStillRefused();
    void changedHostKeyIsAlwaysRefused();
    void passwordAuth();
    void wrongPasswordAndMissingSecret();
    void wrongKeyIsRefused();
    void timeoutStopsTheCommand();
    void cancelClosesTheChannelAndStopsTheProcess();
    void loginOutputCannotFakeThePidAnnouncement();
    void emptyCommandIsRejected();
    void tunnelToPostgresOverTcp();
    void tunnelToPostgresUnixSocket();
    void tunnelServesOnlyItsOwnUser();
    void tunnelToMariaDbViaPasswordHost();
    void tunnelConnectsAtOnceAndARefusedLoginIsNotRepeated();
    void killedSshdFailsTheCommandThenReconnects();

private:
    ExecResult run(SshSession& session, const QStringList& argv, int timeoutMs = 30000, const QByteArray& input = {});
    QString markerPath(const QString& host, const QString& name) const;
    QString fingerprintOf(const QString& publicKeyFile) const;
    QString knownHostsWith(const QString& host, const QString& keyOfHost);
    std::unique_ptr<SshCommand> cancelSleeperAndSeeItGone(
        SshSession& session, const QString& pidFileName, const QStringList& extraArguments = {});

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestSshSession::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY(m_temp.isValid());
}

ExecResult TestSshSession::run(SshSession& session, const QStringList& argv, int timeoutMs, const QByteArray& input)
{
    std::unique_ptr<SshCommand> command(session.exec(argv, timeoutMs, input));
    if (!command->waitForFinished(timeoutMs + 15000))
        qWarning("command did not finish: %s", qPrintable(command->commandLine()));
    return command->result();
}

QString TestSshSession::markerPath(const QString& host, const QString& name) const
{
    return m_sandbox.host(host).value(QStringLiteral("root")).toString() + QStringLiteral("/") + name;
}

QString TestSshSession::fingerprintOf(const QString& publicKeyFile) const
{
    QProcess keygen;
    keygen.start(QStringLiteral("ssh-keygen"), { QStringLiteral("-lf"), publicKeyFile });
    keygen.waitForFinished();
    return QString::fromUtf8(keygen.readAllStandardOutput()).section(u' ', 1, 1);
}

// A known_hosts file that lists `host`'s address with the public key of `keyOfHost`.
QString TestSshSession::knownHostsWith(const QString& host, const QString& keyOfHost)
{
    QFile key(m_sandbox.host(keyOfHost).value(QStringLiteral("hostKeyFile")).toString());
    if (!key.open(QIODevice::ReadOnly))
        return {};
    const QStringList parts = QString::fromUtf8(key.readAll()).split(u' ');
    const SshTarget target = m_sandbox.target(host);
    const QString path = m_temp.filePath(QStringLiteral("known_hosts_%1_as_%2").arg(host, keyOfHost));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(QStringLiteral("[%1]:%2 %3 %4\n").arg(target.address).arg(target.port).arg(parts[0], parts[1]).toUtf8());
    return path;
}

void TestSshSession::execStreamsOutputAndExitStatus()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const ExecResult result = run(
        session, { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo hello; echo oops >&2; exit 3") });
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.exitStatus, 3);
    QCOMPARE(result.stdoutData, QByteArray("hello\n"));
    QCOMPARE(result.stderrData, QByteArray("oops\n"));
    QVERIFY(!result.succeeded());
    QCOMPARE(session.hostKey().status, HostKeyInfo::Status::Known);
    QCOMPARE(session.hostKey().sha256,
        fingerprintOf(m_sandbox.host(QStringLiteral("wpia-packit")).value(QStringLiteral("hostKeyFile")).toString()));
    // The stand-ins' PATH and host root reach commands.
    const ExecResult env
        = run(session, { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo $OPSDECK_HOST_ROOT") });
    QCOMPARE(QString::fromUtf8(env.stdoutData).trimmed(),
        m_sandbox.host(QStringLiteral("wpia-packit")).value(QStringLiteral("root")).toString());
}

void TestSshSession::execQuotesEveryArgument_data()
{
    QTest::addColumn<QString>("argument");
    QTest::newRow("semicolon") << QStringLiteral("a; touch INJECTED");
    QTest::newRow("command substitution") << QStringLiteral("$(touch INJECTED)");
    QTest::newRow("backticks") << QStringLiteral("`touch INJECTED`");
    QTest::newRow("single quotes") << QStringLiteral("it's 'quoted'; touch INJECTED '");
    QTest::newRow("double quotes") << QStringLiteral("\"$HOME\" \"; touch INJECTED\"");
    QTest::newRow("newline") << QStringLiteral("line1\ntouch INJECTED\nline3");
    QTest::newRow("pipes and redirects") << QStringLiteral("| touch INJECTED > x < y && z || w &");
    QTest::newRow("glob and tilde") << QStringLiteral("~/* ? [a-z] {a,b}");
    QTest::newRow("non-ASCII") << QStringLiteral("naïve – 日本語 🚀");
    QTest::newRow("empty") << QString();
    QTest::newRow("leading dash") << QStringLiteral("-rf");
}

void TestSshSession::execQuotesEveryArgument()
{
    QFETCH(QString, argument);
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const QString root = m_sandbox.host(QStringLiteral("wpia-packit")).value(QStringLiteral("root")).toString();
    QFile::remove(root + QStringLiteral("/INJECTED"));
    // printf receives the argument as one word, exactly; nothing in it runs.
    const ExecResult result = run(session,
        { QStringLiteral("sh"), QStringLiteral("-c"),
            QStringLiteral("cd \"$OPSDECK_HOST_ROOT\" && printf '%s|' \"$@\""), QStringLiteral("sh"), argument,
            QStringLiteral("end") });
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.exitStatus, 0);
    QCOMPARE(QString::fromUtf8(result.stdoutData), argument + QStringLiteral("|end|"));
    QVERIFY(!QFile::exists(root + QStringLiteral("/INJECTED")));
}

void TestSshSession::execFeedsStdin()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const QByteArray input("line one\nline two\n");
    const ExecResult result = run(session, { QStringLiteral("cat") }, 30000, input);
    QCOMPARE(result.exitStatus, 0);
    QCOMPARE(result.stdoutData, input);
}

void TestSshSession::largeStdinAndOutputFlowTogether()
{
    // cat writes back while we still send: the session must read its output while it feeds its stdin.
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    QByteArray input;
    for (int i = 0; input.size() < 3 * 1024 * 1024; ++i)
        input += QByteArray::number(i) + ' ';
    const ExecResult result = run(session, { QStringLiteral("cat") }, 60000, input);
    QVERIFY2(result.succeeded(), qPrintable(result.error.message));
    QCOMPARE(result.stdoutData.size(), input.size());
    QVERIFY(result.stdoutData == input);
}

void TestSshSession::commandThatClosesItsOutputBlocksNoOther()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    QVERIFY(run(session, { QStringLiteral("true") }).succeeded());
    // EOF on its output comes long before its exit status.
    std::unique_ptr<SshCommand> quiet(session.exec(
        { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("exec >/dev/null 2>&1; sleep 3; exit 4") }));
    QTest::qWait(500);
    QElapsedTimer clock;
    clock.start();
    const ExecResult other = run(session, { QStringLiteral("echo"), QStringLiteral("meanwhile") });
    QVERIFY2(other.succeeded(), qPrintable(other.error.message));
    QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(!quiet->isFinished());
    QVERIFY(quiet->waitForFinished(15000));
    QVERIFY2(!quiet->result().error.isError(), qPrintable(quiet->result().error.message));
    QCOMPARE(quiet->result().exitStatus, 4);
}

void TestSshSession::outputStreamsBeforeTheEnd()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    std::unique_ptr<SshCommand> command(
        session.exec({ QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo one; sleep 2; echo two") }));
    QSignalSpy output(command.get(), &SshCommand::stdoutReceived);
    QVERIFY(output.wait(10000));
    QCOMPARE(output.first().first().toByteArray(), QByteArray("one\n"));
    QVERIFY(!command->isFinished());
    QVERIFY(command->waitForFinished(15000));
    QCOMPARE(command->result().stdoutData, QByteArray("one\ntwo\n"));
}

void TestSshSession::unknownHostKeyIsRefusedAndRunsNothing()
{
    SshTarget target = m_sandbox.target(QStringLiteral("wpia-packit-dev"));
    target.knownHostsFile = m_temp.filePath(QStringLiteral("missing_known_hosts"));
    SshSession session(target);
    const QString marker = markerPath(QStringLiteral("wpia-packit-dev"), QStringLiteral("unknown-key-ran"));
    QFile::remove(marker);
    const ExecResult result = run(session, { QStringLiteral("touch"), marker });
    QCOMPARE(result.error.kind, SshError::Kind::HostKeyUnknown);
    const QString expected = fingerprintOf(
        m_sandbox.host(QStringLiteral("wpia-packit-dev")).value(QStringLiteral("hostKeyFile")).toString());
    QVERIFY2(result.error.message.contains(expected), qPrintable(result.error.message));
    QCOMPARE(session.hostKey().status, HostKeyInfo::Status::Unknown);
    QCOMPARE(session.hostKey().sha256, expected);
    QVERIFY(!QFile::exists(marker));
    QVERIFY(!QFile::exists(target.knownHostsFile));
}

void TestSshSession::acceptedFingerprintIsWrittenToKnownHosts()
{
    SshTarget target = m_sandbox.target(QStringLiteral("wpia-packit-dev"));
    target.knownHostsFile = m_temp.filePath(QStringLiteral("tofu/known_hosts"));
    const QString fingerprint = fingerprintOf(
        m_sandbox.host(QStringLiteral("wpia-packit-dev")).value(QStringLiteral("hostKeyFile")).toString());
    {
        SshSession session(target);
        session.acceptHostKey(fingerprint);
        const ExecResult result = run(session, { QStringLiteral("true") });
        QVERIFY2(result.succeeded(), qPrintable(result.error.message));
    }
    QFile file(target.knownHostsFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains(QStringLiteral("[%1]:%2 ").arg(target.address).arg(target.port).toUtf8()));
    // A new session now trusts it without being told.
    SshSession again(target);
    QVERIFY(run(again, { QStringLiteral("true") }).succeeded());
}

void TestSshSession::wrongAcceptedFingerprintIsStillRefused()
{
    SshTarget target = m_sandbox.target(QStringLiteral("wpia-packit-dev"));
    target.knownHostsFile = m_temp.filePath(QStringLiteral("wrong_accept_known_hosts"));
    SshSession session(target);
    session.acceptHostKey(
        fingerprintOf(m_sandbox.host(QStringLiteral("bastion")).value(QStringLiteral("hostKeyFile")).toString()));
    const ExecResult result = run(session, { QStringLiteral("true") });
    QCOMPARE(result.error.kind, SshError::Kind::HostKeyUnknown);
    QVERIFY(!QFile::exists(target.knownHostsFile));
}

void TestSshSession::changedHostKeyIsAlwaysRefused()
{
    SshTarget target = m_sandbox.target(QStringLiteral("wpia-packit"));
    target.knownHostsFile = knownHostsWith(QStringLiteral("wpia-packit"), QStringLiteral("bastion"));
    QVERIFY(!target.knownHostsFile.isEmpty());
    const QString oldPrint
        = fingerprintOf(m_sandbox.host(QStringLiteral("bastion")).value(QStringLiteral("hostKeyFile")).toString());
    const QString newPrint
        = fingerprintOf(m_sandbox.host(QStringLiteral("wpia-packit")).value(QStringLiteral("hostKeyFile")).toString());
    SshSession session(target);
    // Even an explicit accept of the presented key does not override a changed key.
    session.acceptHostKey(newPrint);
    const QString marker = markerPath(QStringLiteral("wpia-packit"), QStringLiteral("changed-key-ran"));
    QFile::remove(marker);
    const ExecResult result = run(session, { QStringLiteral("touch"), marker });
    QCOMPARE(result.error.kind, SshError::Kind::HostKeyChanged);
    QVERIFY2(result.error.message.contains(oldPrint) && result.error.message.contains(newPrint),
        qPrintable(result.error.message));
    QCOMPARE(session.hostKey().status, HostKeyInfo::Status::Changed);
    QCOMPARE(session.hostKey().knownSha256, oldPrint);
    QVERIFY(!QFile::exists(marker));
}

void TestSshSession::passwordAuth()
{
    SshSession session(m_sandbox.passwordTarget());
    session.setSecret(m_sandbox.password());
    const ExecResult result = run(session, { QStringLiteral("id"), QStringLiteral("-un") });
    QVERIFY2(result.succeeded(), qPrintable(result.error.message + QString::fromUtf8(result.stderrData)));
    QCOMPARE(QString::fromUtf8(result.stdoutData).trimmed(), m_sandbox.passwordTarget().user);
    // sshd's login message comes before the pid announcement: it passes through, the announcement does not.
    QVERIFY2(result.stderrData.contains("Could not chdir"), result.stderrData.constData());
    QVERIFY2(!result.stderrData.contains("opsdeck-pid"), result.stderrData.constData());
}

void TestSshSession::wrongPasswordAndMissingSecret()
{
    SshSession wrong(m_sandbox.passwordTarget());
    wrong.setSecret(QStringLiteral("not-the-password"));
    QCOMPARE(run(wrong, { QStringLiteral("true") }).error.kind, SshError::Kind::AuthFailed);

    SshSession missing(m_sandbox.passwordTarget());
    const ExecResult result = run(missing, { QStringLiteral("true") });
    QCOMPARE(result.error.kind, SshError::Kind::SecretRequired);
    QVERIFY(result.error.message.contains(QStringLiteral("password")));
}

void TestSshSession::wrongKeyIsRefused()
{
    const QString key = m_temp.filePath(QStringLiteral("stranger_ed25519"));
    QProcess keygen;
    keygen.start(QStringLiteral("ssh-keygen"),
        { QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"), QStringLiteral("-N"), QString(),
            QStringLiteral("-f"), key });
    QVERIFY(keygen.waitForFinished() && keygen.exitCode() == 0);
    SshTarget target = m_sandbox.target(QStringLiteral("wpia-packit"));
    target.identityFile = key;
    SshSession session(target);
    const ExecResult result = run(session, { QStringLiteral("true") });
    QCOMPARE(result.error.kind, SshError::Kind::AuthFailed);
    QVERIFY(result.error.message.contains(QStringLiteral("refused")));

    // An encrypted key without its passphrase asks for it instead of failing obscurely.
    const QString locked = m_temp.filePath(QStringLiteral("locked_ed25519"));
    keygen.start(QStringLiteral("ssh-keygen"),
        { QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"), QStringLiteral("-N"),
            QStringLiteral("secret phrase"), QStringLiteral("-f"), locked });
    QVERIFY(keygen.waitForFinished() && keygen.exitCode() == 0);
    QVERIFY(SshSession::keyNeedsPassphrase(locked));
    QVERIFY(!SshSession::keyNeedsPassphrase(key));
    target.identityFile = locked;
    SshSession lockedSession(target);
    QCOMPARE(run(lockedSession, { QStringLiteral("true") }).error.kind, SshError::Kind::SecretRequired);
}

void TestSshSession::timeoutStopsTheCommand()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    QElapsedTimer clock;
    clock.start();
    const ExecResult result = run(session, { QStringLiteral("sleep"), QStringLiteral("30") }, 1000);
    QCOMPARE(result.error.kind, SshError::Kind::Timeout);
    QVERIFY(!result.succeeded());
    QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
}

void TestSshSession::cancelClosesTheChannelAndStopsTheProcess()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    cancelSleeperAndSeeItGone(session, QStringLiteral("cancel.pid"));
}

// Runs a command that writes its pid to the host root's `pidFileName` and sleeps, cancels it once it runs, and
// checks that the process is gone. Returns the finished command.
std::unique_ptr<SshCommand> TestSshSession::cancelSleeperAndSeeItGone(
    SshSession& session, const QString& pidFileName, const QStringList& extraArguments)
{
    const QString pidFile = markerPath(QStringLiteral("wpia-packit"), pidFileName);
    QFile::remove(pidFile);
    std::unique_ptr<SshCommand> command(session.exec(QStringList { QStringLiteral("sh"), QStringLiteral("-c"),
                                                         QStringLiteral("echo $$ > \"$0\"; exec sleep 60"), pidFile }
        + extraArguments));
    [&] {
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(pidFile) && QFileInfo(pidFile).size() > 0, 10000);
        command->cancel();
        QVERIFY(command->waitForFinished(10000));
        QCOMPARE(command->result().error.kind, SshError::Kind::Cancelled);
        QFile file(pidFile);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString pid = QString::fromUtf8(file.readAll()).trimmed();
        QTRY_VERIFY_WITH_TIMEOUT(!QFile::exists(QStringLiteral("/proc/") + pid), 10000);
    }();
    return command;
}

// The host's login shell rc prints pid announcements of its own: the old fixed marker naming a decoy process
// group, and one naming pid 1 (`kill -- -1` would signal every process of the user). Only the command's own nonce
// counts: a cancel stops the command and leaves the decoy alone.
void TestSshSession::loginOutputCannotFakeThePidAnnouncement()
{
    QProcess decoy;
    decoy.setChildProcessModifier([] { ::setsid(); }); // its pid names its own process group
    decoy.start(QStringLiteral("sleep"), { QStringLiteral("120") });
    QVERIFY(decoy.waitForStarted());
    const QByteArray decoyPid = QByteArray::number(decoy.processId());
    const QString rc = markerPath(QStringLiteral("wpia-packit"), QStringLiteral("root/.bashrc"));
    QVERIFY(!QFile::exists(rc));
    QFile file(rc);
    QVERIFY(file.open(QIODevice::WriteOnly));
    // Only for this test's command, so that nothing else run meanwhile on the host sees it.
    file.write("case \"$BASH_EXECUTION_STRING\" in *fake-announcement-test*)\n"
               "  echo 'opsdeck-pid:"
        + decoyPid + "' >&2; echo 'opsdeck-pid:1' >&2; echo 'opsdeck-pid-0000000000000000:1' >&2;;\nesac\n");
    file.close();
    const auto removeRc = qScopeGuard([&] {
        QFile::remove(rc);
        ::kill(static_cast<pid_t>(decoy.processId()), SIGKILL);
        decoy.waitForFinished();
    });

    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const std::unique_ptr<SshCommand> command = cancelSleeperAndSeeItGone(
        session, QStringLiteral("fake-announcement.pid"), { QStringLiteral("fake-announcement-test") });
    if (QTest::currentTestFailed())
        return;
    QTest::qWait(500);
    QCOMPARE(decoy.state(), QProcess::Running);
    // The fake lines are login output: they pass through as the command's stderr.
    QVERIFY2(
        command->result().stderrData.contains("opsdeck-pid:" + decoyPid), command->result().stderrData.constData());
}

void TestSshSession::emptyCommandIsRejected()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    QCOMPARE(run(session, {}).error.kind, SshError::Kind::InvalidRequest);
}

namespace {
// A QPSQL connection to the sandbox's PostgreSQL through a tunnel's local port.
QSqlDatabase postgresThrough(const QString& name, quint16 port, const Sandbox::Server& pg)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    db.setHostName(QStringLiteral("127.0.0.1"));
    db.setPort(port);
    db.setUserName(pg.user);
    db.setPassword(pg.password);
    db.setDatabaseName(QStringLiteral("postgres"));
    return db;
}

QString queryOne(QSqlDatabase& db, const QString& sql)
{
    QSqlQuery query(db);
    if (!query.exec(sql) || !query.next())
        return QStringLiteral("ERROR: ") + query.lastError().text();
    return query.value(0).toString();
}
} // namespace

void TestSshSession::tunnelToPostgresOverTcp()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const Sandbox::Server pg = m_sandbox.postgres();
    QString error;
    std::unique_ptr<SshTunnel> tunnel(session.openTcpTunnel(pg.host, pg.port, &error));
    QVERIFY2(tunnel, qPrintable(error));
    QVERIFY(tunnel->localPort() != 0 && tunnel->localPort() != pg.port);
    {
        QSqlDatabase db = postgresThrough(QStringLiteral("pg-tcp"), tunnel->localPort(), pg);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QCOMPARE(queryOne(db, QStringLiteral("SELECT 40 + 2")), QStringLiteral("42"));
        QVERIFY(queryOne(db, QStringLiteral("SELECT version()")).startsWith(QStringLiteral("PostgreSQL 15")));
        // A second connection through the same tunnel.
        QSqlDatabase second = postgresThrough(QStringLiteral("pg-tcp-2"), tunnel->localPort(), pg);
        QVERIFY2(second.open(), qPrintable(second.lastError().text()));
        QCOMPARE(queryOne(second, QStringLiteral("SELECT count(*) FROM generate_series(1, 100000)")),
            QStringLiteral("100000"));
        second.close();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("pg-tcp"));
    QSqlDatabase::removeDatabase(QStringLiteral("pg-tcp-2"));
}

// Sends PostgreSQL's SSLRequest through the tunnel at `port` as `user` (empty: this process's own) and says whether
// the server's one-byte answer came back ("answered") or the connection was closed unanswered ("closed").
static QByteArray probeTunnel(quint16 port, const QString& user)
{
    const QString probe = QStringLiteral("import socket, struct, sys\n"
                                         "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20)\n"
                                         "s.sendall(struct.pack('!ii', 8, 80877103))\n"
                                         "try:\n    b = s.recv(1)\nexcept ConnectionResetError:\n    b = b''\n"
                                         "print('answered' if b else 'closed')\n");
    QStringList argv = { QStringLiteral("python3"), QStringLiteral("-c"), probe, QString::number(port) };
    if (!user.isEmpty())
        argv = QStringList { QStringLiteral("runuser"), QStringLiteral("-u"), user, QStringLiteral("--") } + argv;
    QProcess process;
    process.start(argv.front(), argv.mid(1));
    if (!process.waitForFinished(30000))
        return "did not finish";
    return process.readAllStandardOutput().trimmed() + process.readAllStandardError();
}

// Any local user can connect to 127.0.0.1, and the databases behind a tunnel trust their host's loopback: another
// user of the admin's machine must not reach them through the admin's tunnel. The sandbox's second local user
// is refused, while this user's own connections work, before and after.
void TestSshSession::tunnelServesOnlyItsOwnUser()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const Sandbox::Server pg = m_sandbox.postgres();
    QString error;
    std::unique_ptr<SshTunnel> tunnel(session.openTcpTunnel(pg.host, pg.port, &error));
    QVERIFY2(tunnel, qPrintable(error));
    QCOMPARE(probeTunnel(tunnel->localPort(), {}), QByteArray("answered"));
    QCOMPARE(probeTunnel(tunnel->localPort(), QStringLiteral("opsdeck-sandbox")), QByteArray("closed"));
    {
        QSqlDatabase db = postgresThrough(QStringLiteral("pg-own-user"), tunnel->localPort(), pg);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QCOMPARE(queryOne(db, QStringLiteral("SELECT 40 + 2")), QStringLiteral("42"));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("pg-own-user"));
    QCOMPARE(probeTunnel(tunnel->localPort(), QStringLiteral("opsdeck-sandbox")), QByteArray("closed"));
}

void TestSshSession::tunnelToPostgresUnixSocket()
{
    SshSession session(m_sandbox.target(QStringLiteral("wpia-packit")));
    const Sandbox::Server pg = m_sandbox.postgres();
    QString error;
    std::unique_ptr<SshTunnel> tunnel(
        session.openUnixTunnel(QStringLiteral("%1/.s.PGSQL.%2").arg(pg.socket).arg(pg.port), &error));
    QVERIFY2(tunnel, qPrintable(error));
    {
        QSqlDatabase db = postgresThrough(QStringLiteral("pg-unix"), tunnel->localPort(), pg);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QCOMPARE(queryOne(db, QStringLiteral("SELECT current_user")), pg.user);
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("pg-unix"));
}

void TestSshSession::tunnelToMariaDbViaPasswordHost()
{
    SshSession session(m_sandbox.passwordTarget());
    session.setSecret(m_sandbox.password());
    const Sandbox::Server my = m_sandbox.mariadb();
    QString error;
    std::unique_ptr<SshTunnel> tunnel(session.openTcpTunnel(my.host, my.port, &error));
    QVERIFY2(tunnel, qPrintable(error));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QMYSQL"), QStringLiteral("my-tcp"));
        db.setHostName(QStringLiteral("127.0.0.1"));
        db.setPort(tunnel->localPort());
        db.setUserName(my.user);
        db.setPassword(my.password);
        db.setDatabaseName(QStringLiteral("pulumi"));
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QVERIFY(queryOne(db, QStringLiteral("SELECT VERSION()")).contains(QStringLiteral("MariaDB")));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("my-tcp"));
}

// Opening a tunnel starts the login, before any client comes (its handshake overlaps the client's own start); a
// client that comes after the server refused the login is closed at once, and the refused login is not tried again.
void TestSshSession::tunnelConnectsAtOnceAndARefusedLoginIsNotRepeated()
{
    const Sandbox::Server my = m_sandbox.mariadb();
    QString error;
    {
        SshSession session(m_sandbox.passwordTarget());
        session.setSecret(m_sandbox.password());
        std::unique_ptr<SshTunnel> tunnel(session.openTcpTunnel(my.host, my.port, &error));
        QVERIFY2(tunnel, qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SshSession::State::Connected, 10000);
    }
    SshSession session(m_sandbox.passwordTarget());
    session.setSecret(QStringLiteral("not-the-password"));
    QSignalSpy states(&session, &SshSession::stateChanged);
    std::unique_ptr<SshTunnel> tunnel(session.openTcpTunnel(my.host, my.port, &error));
    QVERIFY2(tunnel, qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SshSession::State::Failed, 10000);
    QCOMPARE(session.lastError().kind, SshError::Kind::AuthFailed);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, tunnel->localPort());
    QVERIFY(client.waitForConnected(5000));
    QElapsedTimer closing;
    closing.start();
    if (client.state() == QAbstractSocket::ConnectedState)
        QVERIFY(client.waitForDisconnected(5000));
    QVERIFY2(closing.elapsed() < 400, "closed before any retry could have run (its backoff is 500 ms)");
    QTest::qWait(1000); // a retry, had there been one, would have started by now
    qsizetype attempts = 0;
    for (const QList<QVariant>& state : std::as_const(states))
        attempts += state.at(0).value<SshSession::State>() == SshSession::State::Connecting ? 1 : 0;
    QCOMPARE(attempts, 1);
    QCOMPARE(session.state(), SshSession::State::Failed);
}

void TestSshSession::killedSshdFailsTheCommandThenReconnects()
{
    const QString host = QStringLiteral("wpia-packit-private");
    SshSession session(m_sandbox.target(host));
    QSignalSpy states(&session, &SshSession::stateChanged);
    QVERIFY(run(session, { QStringLiteral("true") }).succeeded());
    const QString marker = markerPath(host, QStringLiteral("after-kill"));
    QFile::remove(marker);
    std::unique_ptr<SshCommand> command(session.exec(
        { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo started; sleep 8; touch \"$0\""), marker }));
    QSignalSpy started(command.get(), &SshCommand::stdoutReceived);
    QVERIFY(started.wait(10000));
    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { host }), 0);
    QVERIFY(command->waitForFinished(20000));
    QCOMPARE(command->result().error.kind, SshError::Kind::Disconnected);
    QVERIFY(!command->result().succeeded());
    QCOMPARE(command->result().stdoutData, QByteArray("started\n"));
    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SshSession::State::Reconnecting, 5000);

    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { host }), 0);
    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SshSession::State::Connected, 40000);
    const ExecResult after = run(session, { QStringLiteral("echo"), QStringLiteral("back") });
    QVERIFY2(after.succeeded(), qPrintable(after.error.message));
    QCOMPARE(after.stdoutData, QByteArray("back\n"));
}

QTEST_GUILESS_MAIN(TestSshSession)
#include "tst_sshsession.moc"
