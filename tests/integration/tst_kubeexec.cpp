// KubeExec against the sandbox's Kubernetes API stand-in (tests/sandbox/standins/kubernetes): exec over WebSocket
// with v5/v4.channel.k8s.io, the exit code from the channel-3 status, the stand-in's exec fault switches, and the
// refusals before the upgrade. Runs in fg-staging/permie-0 (the permie image: no ./doctor) and only reads its files.
#include "Sandbox.h"

#include "kube/KubeExec.h"
#include "kube/Kubeconfig.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTest>

#include <chrono>
#include <functional>
#include <optional>
#include <thread>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {
const QString kNamespace = QStringLiteral("fg-staging");
const QString kPod = QStringLiteral("permie-0");
const QString kContainer = QStringLiteral("app");
const QString kV5 = QStringLiteral("v5.channel.k8s.io");
const QString kV4 = QStringLiteral("v4.channel.k8s.io");
} // namespace

class TestKubeExec : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void exitCodeWithBothStreams();
    void successOverV5();
    void successOverV4WhenTheServerOnlySpeaksV4();
    void runsOnAWorkerThread();
    void droppedBeforeTheStatusIsUnknown();
    void internalErrorIsNotRun();
    void missingDoctorIsExit127();
    void argumentsArriveWhole();
    void viewerIsRefusedWithTheRbacVerb();
    void unknownPodIsNotRun();
    void unknownContainerIsNotRun();
    void abortFromAnotherThreadEndsAsUnknown();
    void stopFlagEndsAsUnknown();
    void timeoutIsUnknown();
    void abortedBeforeItStartsIsNotRun();
    void unreachableServerIsNotRun();
    void anotherCertificateAuthorityIsNotRun();
    void brokenUpgradeAnswerIsUnknown();

private:
    Kubeconfig::Resolved context(const QString& user) const;
    KubeExecResult run(const QStringList& argv, const QString& pod = kPod, const QString& container = kContainer);
    // POST /_standin/control; fails the test when the stand-in does not take it.
    void control(const QJsonObject& switches);
    QJsonObject standinState() const;
    QJsonObject podVolume() const;

    Sandbox m_sandbox;
    QJsonObject m_kubernetes;
    std::optional<Kubeconfig> m_kubeconfig;
    QJsonObject m_volumeBefore;
};

void TestKubeExec::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_kubernetes = m_sandbox.json().value(QStringLiteral("kubernetes")).toObject();
    QVERIFY(!m_kubernetes.isEmpty());
    QString error;
    m_kubeconfig = Kubeconfig::load({ m_kubernetes.value(QStringLiteral("kubeconfig")).toString() }, &error);
    QVERIFY2(m_kubeconfig, qPrintable(error));
    m_volumeBefore = podVolume();
    QVERIFY(!m_volumeBefore.isEmpty());
}

void TestKubeExec::cleanup()
{
    control({ { QStringLiteral("execDrop"), false }, { QStringLiteral("execInternalError"), false },
        { QStringLiteral("v4Only"), false } });
}

void TestKubeExec::cleanupTestCase()
{
    // Every exec creates the working directory (/opt/app) in the pod's volume; nothing else may have changed.
    QJsonObject after = podVolume();
    for (const QString& created : { QStringLiteral("/opt"), QStringLiteral("/opt/app") }) {
        if (!m_volumeBefore.contains(created))
            after.remove(created);
    }
    QCOMPARE(after, m_volumeBefore);
}

Kubeconfig::Resolved TestKubeExec::context(const QString& user) const
{
    // The stand-in writes a context NAMESPACE/SERVER/USER per namespace and user, as `oc login` does.
    for (const QString& name : m_kubeconfig->contextNames()) {
        if (name.startsWith(kNamespace + u'/') && name.endsWith(u'/' + user)) {
            QString error;
            const std::optional<Kubeconfig::Resolved> resolved = m_kubeconfig->resolve(name, &error);
            if (resolved)
                return *resolved;
            qWarning() << error;
        }
    }
    qWarning() << "no usable context for" << user;
    return {};
}

KubeExecResult TestKubeExec::run(const QStringList& argv, const QString& pod, const QString& container)
{
    KubeExec exec(context(QStringLiteral("opsdeck-admin")));
    return exec.run(kNamespace, pod, container, argv, 15000);
}

void TestKubeExec::control(const QJsonObject& switches)
{
    const QJsonObject answer = m_sandbox.kubernetesStandin(QStringLiteral("/_standin/control"), switches);
    QVERIFY2(!answer.isEmpty() && answer.value(QStringLiteral("status")).toString() != QStringLiteral("Failure"),
        QJsonDocument(answer).toJson(QJsonDocument::Compact).constData());
}

QJsonObject TestKubeExec::standinState() const
{
    return m_sandbox.kubernetesStandin(QStringLiteral("/_standin/state"));
}

QJsonObject TestKubeExec::podVolume() const
{
    return standinState().value(QStringLiteral("volumes")).toObject().value(kNamespace + u'/' + kPod).toObject();
}

void TestKubeExec::exitCodeWithBothStreams()
{
    // The stand-in's shell has no redirections: a failing ls writes the stderr line.
    KubeExec exec(context(QStringLiteral("opsdeck-admin")));
    QList<std::pair<int, QByteArray>> frames;
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer,
        { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo out; ls /nowhere; exit 3") }, 15000,
        [&frames](int channel, const QByteArray& bytes) {
            frames.append({ channel, bytes });
        });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Exited);
    QCOMPARE(result.exitCode, 3);
    QVERIFY(!result.succeeded());
    QCOMPARE(result.standardOutput, QByteArray("out\n"));
    QCOMPARE(result.standardError, QByteArray("ls: cannot access '/nowhere': No such file or directory\n"));
    QCOMPARE(result.protocol, kV5);
    QVERIFY(result.message.isEmpty());
    // The callback saw each stream's bytes, in order, and never an empty frame.
    QByteArray out;
    QByteArray err;
    for (const auto& [channel, bytes] : frames) {
        QVERIFY(channel == 1 || channel == 2);
        QVERIFY(!bytes.isEmpty());
        (channel == 1 ? out : err) += bytes;
    }
    QCOMPARE(out, result.standardOutput);
    QCOMPARE(err, result.standardError);
}

void TestKubeExec::successOverV5()
{
    const KubeExecResult result = run({ QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Exited);
    QCOMPARE(result.exitCode, 0);
    QVERIFY(result.succeeded());
    QCOMPARE(result.protocol, kV5);
}

void TestKubeExec::successOverV4WhenTheServerOnlySpeaksV4()
{
    control({ { QStringLiteral("v4Only"), true } });
    const KubeExecResult result = run({ QStringLiteral("echo"), QStringLiteral("v4") });
    QVERIFY2(result.succeeded(), qPrintable(result.message));
    QCOMPARE(result.protocol, kV4);
    QCOMPARE(result.standardOutput, QByteArray("v4\n"));
}

void TestKubeExec::runsOnAWorkerThread()
{
    KubeExec exec(context(QStringLiteral("opsdeck-admin")));
    KubeExecResult result;
    std::thread worker([&] { result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") }); });
    worker.join();
    QVERIFY2(result.succeeded(), qPrintable(result.message));
}

void TestKubeExec::droppedBeforeTheStatusIsUnknown()
{
    control({ { QStringLiteral("execDrop"), true } });
    const KubeExecResult result = run({ QStringLiteral("echo"), QStringLiteral("dropped") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Unknown);
    QVERIFY(!result.succeeded());
    QCOMPARE(result.standardOutput, QByteArray("dropped\n"));
    QVERIFY2(result.message.contains(
                 QStringLiteral("the command may have run; re-read the state before doing anything else")),
        qPrintable(result.message));
}

void TestKubeExec::internalErrorIsNotRun()
{
    control({ { QStringLiteral("execInternalError"), true } });
    const KubeExecResult result = run({ QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("InternalError")), qPrintable(result.message));
    QVERIFY2(result.message.contains(QStringLiteral("CONTAINER_EXITED")), qPrintable(result.message));
}

void TestKubeExec::missingDoctorIsExit127()
{
    const KubeExecResult result = run({ QStringLiteral("sh"), QStringLiteral("-c"),
        QStringLiteral("./doctor raftIndexGet -d /var/data/single/permie-0/data") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Exited);
    QCOMPARE(result.exitCode, 127);
    QVERIFY2(result.standardError.contains("not found"), result.standardError.constData());
}

void TestKubeExec::argumentsArriveWhole()
{
    // No shell: ls gets exactly one argument with the URL's and the shell's special characters, so its one
    // complaint names all of it ('+' would arrive as a space, '#' would end the URL, '&' would split the query).
    const QString argument = QStringLiteral("a;b $(c) 'q' \"d\" +e %2F&command=f #g");
    const KubeExecResult result = run({ QStringLiteral("ls"), argument });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Exited);
    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.standardError,
        QStringLiteral("ls: cannot access '%1': No such file or directory\n").arg(argument).toUtf8());
    QVERIFY(result.standardOutput.isEmpty());
}

void TestKubeExec::viewerIsRefusedWithTheRbacVerb()
{
    KubeExec exec(context(QStringLiteral("opsdeck-viewer")));
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("403 Forbidden")), qPrintable(result.message));
    QVERIFY2(result.message.contains(QStringLiteral("create pods/exec")), qPrintable(result.message));
    QVERIFY(result.protocol.isEmpty());
}

void TestKubeExec::unknownPodIsNotRun()
{
    const KubeExecResult result = run({ QStringLiteral("true") }, QStringLiteral("permie-9"));
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("404 Not Found")), qPrintable(result.message));
    QVERIFY2(result.message.contains(QStringLiteral("fg-staging/permie-9")), qPrintable(result.message));
}

void TestKubeExec::unknownContainerIsNotRun()
{
    const KubeExecResult result = run({ QStringLiteral("true") }, kPod, QStringLiteral("sidecar"));
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("400 Bad Request")), qPrintable(result.message));
    QVERIFY2(result.message.contains(QStringLiteral("\"sidecar\"")), qPrintable(result.message));
}

namespace {
// An API server that accepts the connection and never answers: the exec hangs in the TLS handshake.
Kubeconfig::Resolved silentServer(QTcpServer* server)
{
    server->listen(QHostAddress::LocalHost);
    Kubeconfig::Resolved cluster;
    cluster.context.name = QStringLiteral("silent");
    cluster.server = QStringLiteral("https://127.0.0.1:%1").arg(server->serverPort());
    cluster.token = QStringLiteral("sha256~unused");
    return cluster;
}

// Runs `true` on a silent server and, from another thread after 300 ms, `cancel`: run() must end within a second
// of it, as Unknown (the request may have reached a server).
void cancelledFromAnotherThread(KubeExec* exec, const std::function<void()>& cancel)
{
    std::thread canceller([&cancel] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel();
    });
    QElapsedTimer clock;
    clock.start();
    const KubeExecResult result = exec->run(kNamespace, kPod, kContainer, { QStringLiteral("true") }, 60000);
    canceller.join();
    QVERIFY2(clock.elapsed() < 1300, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Unknown);
    QVERIFY2(
        result.message.contains(QStringLiteral("was cancelled: the command may have run")), qPrintable(result.message));
}
} // namespace

void TestKubeExec::abortFromAnotherThreadEndsAsUnknown()
{
    QTcpServer server;
    KubeExec exec(silentServer(&server));
    cancelledFromAnotherThread(&exec, [abort = exec.abortHandle()] { abort->abort(); });
}

void TestKubeExec::stopFlagEndsAsUnknown()
{
    QTcpServer server;
    auto stop = std::make_shared<std::atomic_bool>(false);
    KubeExec exec(silentServer(&server), stop);
    cancelledFromAnotherThread(&exec, [stop] { *stop = true; });
}

void TestKubeExec::timeoutIsUnknown()
{
    QTcpServer server;
    KubeExec exec(silentServer(&server));
    QElapsedTimer clock;
    clock.start();
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") }, 500);
    QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Unknown);
    QVERIFY2(result.message.contains(QStringLiteral("no status within 0.5 s")), qPrintable(result.message));
}

void TestKubeExec::abortedBeforeItStartsIsNotRun()
{
    KubeExec exec(context(QStringLiteral("opsdeck-admin")));
    exec.abortHandle()->abort();
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("cancelled before it started")), qPrintable(result.message));
}

void TestKubeExec::unreachableServerIsNotRun()
{
    // A port nobody listens on (the server is closed again): the request was never sent.
    Kubeconfig::Resolved cluster;
    {
        QTcpServer server;
        cluster = silentServer(&server);
    }
    KubeExec exec(cluster);
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("could not reach the API server")), qPrintable(result.message));
}

void TestKubeExec::anotherCertificateAuthorityIsNotRun()
{
    // The kubeconfig's CA is the only root: the sandbox's GitHub CA does not vouch for the API server.
    Kubeconfig::Resolved cluster = context(QStringLiteral("opsdeck-admin"));
    QFile githubCa(
        m_sandbox.json().value(QStringLiteral("github")).toObject().value(QStringLiteral("caFile")).toString());
    QVERIFY(githubCa.open(QIODevice::ReadOnly));
    cluster.caPem = githubCa.readAll();
    KubeExec exec(cluster);
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") });
    QCOMPARE(result.outcome, KubeExecResult::Outcome::NotRun);
    QVERIFY2(result.message.contains(QStringLiteral("could not reach the API server")), qPrintable(result.message));
}

void TestKubeExec::brokenUpgradeAnswerIsUnknown()
{
    // A server (with the stand-in's certificate) that answers the upgrade with a 101 Qt rejects (a wrong
    // Sec-WebSocket-Accept): the request reached a server, which may have started the command.
    const QString stateDir = m_kubernetes.value(QStringLiteral("stateDir")).toString();
    QFile certificate(stateDir + QStringLiteral("/server.pem"));
    QFile key(stateDir + QStringLiteral("/server.key"));
    QVERIFY(certificate.open(QIODevice::ReadOnly) && key.open(QIODevice::ReadOnly));
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificate(QSslCertificate(certificate.readAll(), QSsl::Pem));
    ssl.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem));
    QSslServer server;
    server.setSslConfiguration(ssl);
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QObject::connect(&server, &QTcpServer::pendingConnectionAvailable, &server, [&server] {
        QTcpSocket* socket = server.nextPendingConnection();
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket] {
            if (socket->peek(1 << 16).contains("\r\n\r\n")) {
                socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: d3Jvbmc=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
            }
        });
    });
    Kubeconfig::Resolved cluster = context(QStringLiteral("opsdeck-admin"));
    cluster.server = QStringLiteral("https://127.0.0.1:%1").arg(server.serverPort());
    KubeExec exec(cluster);
    const KubeExecResult result = exec.run(kNamespace, kPod, kContainer, { QStringLiteral("true") }, 10000);
    QCOMPARE(result.outcome, KubeExecResult::Outcome::Unknown);
    QVERIFY2(
        result.message.contains(QStringLiteral("lost its connection during the upgrade")), qPrintable(result.message));
    QVERIFY2(result.message.contains(QStringLiteral("the command may have run")), qPrintable(result.message));
}

QTEST_GUILESS_MAIN(TestKubeExec)
#include "tst_kubeexec.moc"
