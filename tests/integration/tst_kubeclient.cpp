// KubeClient against the sandbox's Kubernetes API stand-in (tests/sandbox/standins/kubernetes), through the
// kubeconfig the sandbox writes: reads, the three patch types, preconditions, dryRun, /scale, and every failure as
// one sentence (401, 403, 404, 409, 415, 422, a wrong CA). The stand-in's switches are reset after each test and
// every object is left as it was: other tests share the sandbox. Then what the stand-in cannot show, against a
// canned server in this process: whoAmI's SelfSubjectReview fallback, a 2xx that is not a JSON object, a token
// echoed in an error.
#include "Sandbox.h"
#include "http/HttpClient.h"
#include "kube/KubeClient.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <functional>

using namespace opsdeck;
using namespace opsdeck::test;

Q_DECLARE_METATYPE(opsdeck::KubePatch)

namespace {

const QString kNs = QStringLiteral("fg");
const QString kTestAnnotation = QStringLiteral("opsdeck.test/kube-rest");
const QString kTriggerKey = QStringLiteral("image.openshift.io/triggers");

// HTTP/1.1 on loopback that answers each request with the response `answer` makes from its first line, and
// remembers the requests.
class CannedServer
{
public:
    explicit CannedServer(std::function<QByteArray(const QByteArray& requestLine)> answer)
        : m_answer(std::move(answer))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket* socket = m_server.nextPendingConnection()) {
                QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    m_pending[socket] += socket->readAll();
                    const QByteArray& data = m_pending[socket];
                    const qsizetype end = data.indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QByteArray head = data.left(end);
                    qsizetype length = 0;
                    for (const QByteArray& line : head.split('\n')) {
                        if (line.toLower().startsWith("content-length:"))
                            length = line.mid(15).trimmed().toLongLong();
                    }
                    if (data.size() < end + 4 + length)
                        return;
                    const QByteArray requestLine = head.left(head.indexOf("\r\n"));
                    requests << QString::fromLatin1(requestLine);
                    m_pending.remove(socket);
                    socket->write(m_answer(requestLine));
                    socket->disconnectFromHost();
                });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        m_server.listen(QHostAddress::LocalHost);
    }

    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort()); }

    static QByteArray response(int status, const QByteArray& body)
    {
        return "HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    }

    QStringList requests;

private:
    std::function<QByteArray(const QByteArray&)> m_answer;
    QTcpServer m_server;
    QHash<QTcpSocket*, QByteArray> m_pending;
};

QJsonObject annotationsOf(const QJsonObject& object)
{
    return object.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("annotations")).toObject();
}

QStringList namesOf(const QJsonObject& list)
{
    QStringList names;
    for (const QJsonValue& item : list.value(QStringLiteral("items")).toArray())
        names << item.toObject().value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString();
    names.sort();
    return names;
}

QByteArray json(const QJsonObject& object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

class TestKubeClient : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();

    void listsAndGetsStatefulSets();
    void listsPodsByLabelSelector();
    void readsTheImageStream();
    void patchesAnAnnotationWithEachPatchType_data();
    void patchesAnAnnotationWithEachPatchType();
    void staleResourceVersionIsAConflict();
    void dryRunChangesNothing();
    void scalesAndBack();
    void negativeReplicasNameTheField();
    void wrongContentTypeIsUnsupported();
    void expiredTokenSaysLogInAgain();
    void forbiddenNamesUserVerbAndResource();
    void unknownStatefulSetIsNotFound();
    void whoAmIOfAdminAndViewer();
    void wrongCaIsATlsFailureAndNothingIsSent();

    void whoAmIFallsBackToSelfSubjectReview();
    void successThatIsNotAJsonObjectIsAFailure();
    void tokenEchoedInAnErrorIsMasked();

private:
    Kubeconfig::Resolved context(const QString& user);
    QJsonObject control(const QJsonObject& switches);
    QJsonObject statefulSet(KubeClient& client, const QString& name);
    bool waitUntilSettled(KubeClient& client, const QString& name, int replicas);

    Sandbox m_sandbox;
    QJsonObject m_kube;
    std::optional<Kubeconfig> m_kubeconfig;
};

void TestKubeClient::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_kube = m_sandbox.json().value(QStringLiteral("kubernetes")).toObject();
    QVERIFY2(!m_kube.isEmpty(), "sandbox.json has no \"kubernetes\" entry");
    QString error;
    m_kubeconfig = Kubeconfig::load({ m_kube.value(QStringLiteral("kubeconfig")).toString() }, &error);
    QVERIFY2(m_kubeconfig, qPrintable(error));
    cleanup();
    // A rollout another test left going would move the objects these tests compare before and after.
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    QVERIFY2(waitUntilSettled(client, QStringLiteral("permie"), 3), "fg/permie is not settled at 3 Ready replicas");
    QVERIFY2(waitUntilSettled(client, QStringLiteral("permie-ledger"), 5),
        "fg/permie-ledger is not settled at 5 Ready replicas");
}

void TestKubeClient::cleanup()
{
    const QJsonObject switches = control({ { QStringLiteral("forbidden"), QJsonArray() },
        { QStringLiteral("conflictNextWrite"), false }, { QStringLiteral("expiredUsers"), QJsonArray() } });
    QVERIFY2(switches.value(QStringLiteral("forbidden")).toArray().isEmpty(), json(switches).constData());
}

Kubeconfig::Resolved TestKubeClient::context(const QString& user)
{
    for (const QString& name : m_kubeconfig->contextNames()) {
        if (name.startsWith(kNs + u'/') && name.endsWith(u'/' + user)) {
            QString error;
            const auto resolved = m_kubeconfig->resolve(name, &error);
            if (!resolved)
                qFatal("%s", qPrintable(error));
            return *resolved;
        }
    }
    qFatal("the sandbox kubeconfig has no context for %s in %s", qPrintable(user), qPrintable(kNs));
}

QJsonObject TestKubeClient::control(const QJsonObject& switches)
{
    const QJsonObject answer = m_sandbox.kubernetesStandin(QStringLiteral("/_standin/control"), switches);
    if (answer.isEmpty() || answer.value(QStringLiteral("status")).toString() == QStringLiteral("Failure"))
        qWarning("the stand-in's control answered %s", json(answer).constData());
    return answer;
}

QJsonObject TestKubeClient::statefulSet(KubeClient& client, const QString& name)
{
    const KubeResponse response = client.get(KubeClient::statefulSetPath(kNs, name));
    if (!response.ok())
        qWarning("%s", qPrintable(response.message));
    return response.object;
}

// Until the StatefulSet has `replicas` pods, all Running and Ready on its current revision, as it was seeded.
bool TestKubeClient::waitUntilSettled(KubeClient& client, const QString& name, int replicas)
{
    for (int attempt = 0; attempt < 150; ++attempt) {
        const QJsonObject sts = statefulSet(client, name);
        const QJsonObject status = sts.value(QStringLiteral("status")).toObject();
        const KubeResponse pods = client.get(KubeClient::podsPath(kNs),
            QUrlQuery { { QStringLiteral("labelSelector"), QStringLiteral("app=") + name } });
        if (status.value(QStringLiteral("readyReplicas")).toInt() == replicas
            && status.value(QStringLiteral("replicas")).toInt() == replicas
            && status.value(QStringLiteral("currentRevision")) == status.value(QStringLiteral("updateRevision"))
            && pods.object.value(QStringLiteral("items")).toArray().size() == replicas)
            return true;
        QThread::msleep(100);
    }
    return false;
}

void TestKubeClient::listsAndGetsStatefulSets()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    QString error;
    QVERIFY2(client.ready(&error), qPrintable(error));
    const KubeResponse list = client.get(KubeClient::statefulSetsPath(kNs));
    QVERIFY2(list.ok(), qPrintable(list.message));
    QCOMPARE(list.object.value(QStringLiteral("kind")).toString(), QStringLiteral("StatefulSetList"));
    QCOMPARE(namesOf(list.object), (QStringList { QStringLiteral("permie"), QStringLiteral("permie-ledger") }));

    const QJsonObject permie = statefulSet(client, QStringLiteral("permie"));
    QCOMPARE(permie.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString(),
        QStringLiteral("permie"));
    QVERIFY(annotationsOf(permie).contains(kTriggerKey));
    QCOMPARE(permie.value(QStringLiteral("spec")).toObject().value(QStringLiteral("replicas")).toInt(), 3);
}

void TestKubeClient::listsPodsByLabelSelector()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QJsonObject matchLabels = statefulSet(client, QStringLiteral("permie"))
                                        .value(QStringLiteral("spec"))
                                        .toObject()
                                        .value(QStringLiteral("selector"))
                                        .toObject()
                                        .value(QStringLiteral("matchLabels"))
                                        .toObject();
    const QString selector = KubeClient::labelSelector(matchLabels);
    QCOMPARE(selector, QStringLiteral("app=permie"));
    const KubeResponse pods
        = client.get(KubeClient::podsPath(kNs), QUrlQuery { { QStringLiteral("labelSelector"), selector } });
    QVERIFY2(pods.ok(), qPrintable(pods.message));
    QCOMPARE(pods.object.value(QStringLiteral("kind")).toString(), QStringLiteral("PodList"));
    // permie-ledger's pods are not permie's.
    QCOMPARE(namesOf(pods.object),
        (QStringList { QStringLiteral("permie-0"), QStringLiteral("permie-1"), QStringLiteral("permie-2") }));

    const KubeResponse pod = client.get(KubeClient::podPath(kNs, QStringLiteral("permie-1")));
    QVERIFY2(pod.ok(), qPrintable(pod.message));
    QCOMPARE(pod.object.value(QStringLiteral("status")).toObject().value(QStringLiteral("phase")).toString(),
        QStringLiteral("Running"));
}

void TestKubeClient::readsTheImageStream()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const KubeResponse stream = client.get(KubeClient::imageStreamPath(kNs, QStringLiteral("permie")));
    QVERIFY2(stream.ok(), qPrintable(stream.message));
    const QJsonArray tags
        = stream.object.value(QStringLiteral("status")).toObject().value(QStringLiteral("tags")).toArray();
    QVERIFY(!tags.isEmpty());
    const QJsonObject latest = tags.first().toObject();
    QCOMPARE(latest.value(QStringLiteral("tag")).toString(), QStringLiteral("latest"));
    const QString reference = latest.value(QStringLiteral("items"))
                                  .toArray()
                                  .first()
                                  .toObject()
                                  .value(QStringLiteral("dockerImageReference"))
                                  .toString();
    QVERIFY2(reference.contains(QStringLiteral("/fg/permie@sha256:")), qPrintable(reference));
}

void TestKubeClient::patchesAnAnnotationWithEachPatchType_data()
{
    QTest::addColumn<KubePatch>("type");
    QTest::addColumn<QByteArray>("set");
    QTest::addColumn<QByteArray>("unset");
    const QByteArray mergeSet = R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":"VALUE"}}})";
    const QByteArray mergeUnset = R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":null}}})";
    QTest::newRow("strategic merge") << KubePatch::StrategicMerge << mergeSet << mergeUnset;
    QTest::newRow("merge") << KubePatch::Merge << mergeSet << mergeUnset;
    QTest::newRow("json") << KubePatch::Json
                          << QByteArray(R"([{"op":"add","path":"/metadata/annotations/opsdeck.test~1kube-rest",)"
                                        R"("value":"VALUE"}])")
                          << QByteArray(R"([{"op":"remove","path":"/metadata/annotations/opsdeck.test~1kube-rest"}])");
}

void TestKubeClient::patchesAnAnnotationWithEachPatchType()
{
    QFETCH(KubePatch, type);
    QFETCH(QByteArray, set);
    QFETCH(QByteArray, unset);
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QString path = KubeClient::statefulSetPath(kNs, QStringLiteral("permie"));
    const QJsonObject before = statefulSet(client, QStringLiteral("permie"));
    QVERIFY(!annotationsOf(before).contains(kTestAnnotation));
    const QString value = QString::fromLatin1(QTest::currentDataTag());

    const KubeResponse patched = client.patch(path, type, QByteArray(set).replace("VALUE", value.toUtf8()));
    QVERIFY2(patched.ok(), qPrintable(patched.message));
    QCOMPARE(annotationsOf(patched.object).value(kTestAnnotation).toString(), value);
    QCOMPARE(annotationsOf(statefulSet(client, QStringLiteral("permie"))).value(kTestAnnotation).toString(), value);

    const KubeResponse restored = client.patch(path, type, unset);
    QVERIFY2(restored.ok(), qPrintable(restored.message));
    const QJsonObject after = statefulSet(client, QStringLiteral("permie"));
    QCOMPARE(annotationsOf(after), annotationsOf(before));
    QCOMPARE(after.value(QStringLiteral("spec")), before.value(QStringLiteral("spec")));
}

void TestKubeClient::staleResourceVersionIsAConflict()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QString path = KubeClient::statefulSetPath(kNs, QStringLiteral("permie"));
    QJsonObject sts = statefulSet(client, QStringLiteral("permie"));
    const QString version
        = sts.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("resourceVersion")).toString();
    QVERIFY(!version.isEmpty());
    // Someone writes in between: our resourceVersion is stale.
    const QByteArray set = R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":"between"}}})";
    QVERIFY(client.patch(path, KubePatch::Merge, set).ok());
    const QByteArray guarded = R"({"metadata":{"resourceVersion":")" + version.toUtf8()
        + R"(","annotations":{"opsdeck.test/kube-rest":null}}})";
    KubeResponse stale = client.patch(path, KubePatch::StrategicMerge, guarded);
    QCOMPARE(stale.status, 409);
    QCOMPARE(stale.reason, QStringLiteral("Conflict"));
    QVERIFY2(stale.message.startsWith(QStringLiteral("patch statefulsets fg/permie on cluster "))
            && stale.message.contains(QStringLiteral("the object changed since it was read"))
            && stale.message.contains(QStringLiteral("read it again and retry"))
            && stale.message.contains(QStringLiteral("the object has been modified")),
        qPrintable(stale.message));
    QCOMPARE(annotationsOf(statefulSet(client, QStringLiteral("permie"))).value(kTestAnnotation).toString(),
        QStringLiteral("between"));

    // A PUT of the object as it was read, stale too.
    stale = client.put(path, json(sts));
    QCOMPARE(stale.status, 409);
    QVERIFY2(stale.message.startsWith(QStringLiteral("update statefulsets fg/permie on cluster ")),
        qPrintable(stale.message));

    // The same guard with the current version goes through.
    sts = statefulSet(client, QStringLiteral("permie"));
    const QByteArray current = QByteArray(guarded).replace(version.toUtf8(),
        sts.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("resourceVersion")).toString().toUtf8());
    const KubeResponse removed = client.patch(path, KubePatch::StrategicMerge, current);
    QVERIFY2(removed.ok(), qPrintable(removed.message));
    QVERIFY(!annotationsOf(statefulSet(client, QStringLiteral("permie"))).contains(kTestAnnotation));

    // The stand-in's switch: the next write conflicts whatever it holds.
    control({ { QStringLiteral("conflictNextWrite"), true } });
    const KubeResponse switched = client.patch(path, KubePatch::Merge, set);
    QCOMPARE(switched.status, 409);
    QVERIFY2(switched.message.contains(QStringLiteral("the object changed since it was read")),
        qPrintable(switched.message));
    QVERIFY(!annotationsOf(statefulSet(client, QStringLiteral("permie"))).contains(kTestAnnotation));
}

void TestKubeClient::dryRunChangesNothing()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QString path = KubeClient::statefulSetPath(kNs, QStringLiteral("permie"));
    const QJsonObject before = statefulSet(client, QStringLiteral("permie"));
    const KubeResponse wouldBe = client.patch(
        path, KubePatch::StrategicMerge, R"({"metadata":{"annotations":{"image.openshift.io/triggers":null}}})", true);
    QVERIFY2(wouldBe.ok(), qPrintable(wouldBe.message));
    QVERIFY(!annotationsOf(wouldBe.object).contains(kTriggerKey));
    QCOMPARE(statefulSet(client, QStringLiteral("permie")), before);

    const KubeResponse scaled = client.patch(
        KubeClient::scalePath(kNs, QStringLiteral("permie")), KubePatch::Merge, R"({"spec":{"replicas":0}})", true);
    QVERIFY2(scaled.ok(), qPrintable(scaled.message));
    QCOMPARE(scaled.object.value(QStringLiteral("spec")).toObject().value(QStringLiteral("replicas")).toInt(), 0);
    QJsonObject put = before;
    QJsonObject metadata = put.value(QStringLiteral("metadata")).toObject();
    metadata.insert(QStringLiteral("labels"),
        QJsonObject {
            { QStringLiteral("app"), QStringLiteral("permie") }, { QStringLiteral("dry"), QStringLiteral("run") } });
    put.insert(QStringLiteral("metadata"), metadata);
    const KubeResponse replaced = client.put(path, json(put), true);
    QVERIFY2(replaced.ok(), qPrintable(replaced.message));
    QCOMPARE(statefulSet(client, QStringLiteral("permie")), before);
}

void TestKubeClient::scalesAndBack()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QString name = QStringLiteral("permie-ledger");
    const QString path = KubeClient::scalePath(kNs, name);
    const KubeResponse scale = client.get(path);
    QVERIFY2(scale.ok(), qPrintable(scale.message));
    QCOMPARE(scale.object.value(QStringLiteral("kind")).toString(), QStringLiteral("Scale"));
    const int replicas
        = scale.object.value(QStringLiteral("spec")).toObject().value(QStringLiteral("replicas")).toInt();
    QCOMPARE(replicas, 5);

    const KubeResponse down = client.patch(path, KubePatch::Merge, R"({"spec":{"replicas":4}})");
    QVERIFY2(down.ok(), qPrintable(down.message));
    QCOMPARE(down.object.value(QStringLiteral("spec")).toObject().value(QStringLiteral("replicas")).toInt(), 4);
    QVERIFY2(waitUntilSettled(client, name, 4), "permie-ledger did not settle at 4 replicas");

    const KubeResponse back = client.patch(path, KubePatch::Merge, R"({"spec":{"replicas":5}})");
    QVERIFY2(back.ok(), qPrintable(back.message));
    QVERIFY2(waitUntilSettled(client, name, replicas), "permie-ledger did not come back to 5 Ready replicas");
}

void TestKubeClient::negativeReplicasNameTheField()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QJsonObject before = statefulSet(client, QStringLiteral("permie"));
    const KubeResponse scale = client.patch(
        KubeClient::scalePath(kNs, QStringLiteral("permie")), KubePatch::Merge, R"({"spec":{"replicas":-1}})");
    QCOMPARE(scale.status, 422);
    QCOMPARE(scale.reason, QStringLiteral("Invalid"));
    QVERIFY2(scale.message.startsWith(QStringLiteral("patch statefulsets/scale fg/permie on cluster "))
            && scale.message.contains(
                QStringLiteral("rejected the change as invalid, spec.replicas: Invalid value: -1: "
                               "must be greater than or equal to 0")),
        qPrintable(scale.message));
    const KubeResponse sts = client.patch(KubeClient::statefulSetPath(kNs, QStringLiteral("permie")),
        KubePatch::StrategicMerge, R"({"spec":{"replicas":-3}})");
    QCOMPARE(sts.status, 422);
    QVERIFY2(sts.message.contains(QStringLiteral("spec.replicas: Invalid value: -3")), qPrintable(sts.message));
    QCOMPARE(statefulSet(client, QStringLiteral("permie")), before);
}

void TestKubeClient::wrongContentTypeIsUnsupported()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const QJsonObject before = statefulSet(client, QStringLiteral("permie"));
    const KubeResponse response = client.send("PATCH", KubeClient::statefulSetPath(kNs, QStringLiteral("permie")), {},
        "application/json", R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":"x"}}})", 15000);
    QCOMPARE(response.status, 415);
    QCOMPARE(response.reason, QStringLiteral("UnsupportedMediaType"));
    QVERIFY2(response.message.contains(QStringLiteral("does not accept the request's Content-Type"))
            && response.message.contains(QStringLiteral("unknown format")),
        qPrintable(response.message));
    QCOMPARE(statefulSet(client, QStringLiteral("permie")), before);
}

void TestKubeClient::expiredTokenSaysLogInAgain()
{
    const Kubeconfig::Resolved expired = context(QStringLiteral("opsdeck-expired"));
    KubeClient client(expired);
    const KubeResponse response = client.get(KubeClient::statefulSetsPath(kNs));
    QCOMPARE(response.status, 401);
    QCOMPARE(response.reason, QStringLiteral("Unauthorized"));
    QVERIFY2(response.message.contains(QStringLiteral("the token of cluster %1 (%2) is invalid or expired")
                                           .arg(expired.context.cluster, expired.server))
            && response.message.contains(QStringLiteral("log in again with `oc login` and retry")),
        qPrintable(response.message));
    QVERIFY(!response.message.contains(expired.token));

    // The switch expires the admin's token too.
    control({ { QStringLiteral("expiredUsers"), QJsonArray { QStringLiteral("opsdeck-admin") } } });
    KubeClient admin(context(QStringLiteral("opsdeck-admin")));
    QCOMPARE(admin.get(KubeClient::statefulSetsPath(kNs)).status, 401);
    QString error;
    QVERIFY(admin.whoAmI(&error).isEmpty());
    QVERIFY2(error.contains(QStringLiteral("is invalid or expired")), qPrintable(error));
}

void TestKubeClient::forbiddenNamesUserVerbAndResource()
{
    KubeClient viewer(context(QStringLiteral("opsdeck-viewer")));
    const QString path = KubeClient::statefulSetPath(kNs, QStringLiteral("permie"));
    const QByteArray set = R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":"viewer"}}})";
    KubeResponse response = viewer.patch(path, KubePatch::StrategicMerge, set);
    QCOMPARE(response.status, 403);
    QCOMPARE(response.reason, QStringLiteral("Forbidden"));
    QVERIFY2(response.message.contains(
                 QStringLiteral("user opsdeck-viewer may not patch statefulsets (API group apps) in namespace fg"))
            && response.message.contains(QStringLiteral("ask for RBAC permission to patch statefulsets")),
        qPrintable(response.message));
    // Reading is what a viewer may do.
    QVERIFY(viewer.get(path).ok());

    control({ { QStringLiteral("forbidden"), QJsonArray { QStringLiteral("patch statefulsets/scale") } } });
    KubeClient admin(context(QStringLiteral("opsdeck-admin")));
    response = admin.patch(
        KubeClient::scalePath(kNs, QStringLiteral("permie")), KubePatch::Merge, R"({"spec":{"replicas":3}})");
    QCOMPARE(response.status, 403);
    QVERIFY2(response.message.contains(QStringLiteral(
                 "user opsdeck-admin may not patch statefulsets/scale (API group apps) in namespace fg")),
        qPrintable(response.message));
    QVERIFY(!annotationsOf(statefulSet(admin, QStringLiteral("permie"))).contains(kTestAnnotation));
}

void TestKubeClient::unknownStatefulSetIsNotFound()
{
    KubeClient client(context(QStringLiteral("opsdeck-admin")));
    const KubeResponse response = client.get(KubeClient::statefulSetPath(kNs, QStringLiteral("permie-9")));
    QCOMPARE(response.status, 404);
    QCOMPARE(response.reason, QStringLiteral("NotFound"));
    QVERIFY2(response.message.startsWith(QStringLiteral("get statefulsets fg/permie-9 on cluster "))
            && response.message.contains(QStringLiteral(R"(statefulsets.apps "permie-9" not found)"))
            && response.message.contains(QStringLiteral("check the name and the namespace")),
        qPrintable(response.message));
    // A name is one segment: "permie/scale" must not reach permie's /scale.
    QCOMPARE(client.get(KubeClient::statefulSetPath(kNs, QStringLiteral("permie/scale"))).status, 404);
}

void TestKubeClient::whoAmIOfAdminAndViewer()
{
    QString error;
    KubeClient admin(context(QStringLiteral("opsdeck-admin")));
    QCOMPARE(admin.whoAmI(&error), QStringLiteral("opsdeck-admin"));
    KubeClient viewer(context(QStringLiteral("opsdeck-viewer")));
    QCOMPARE(viewer.whoAmI(&error), QStringLiteral("opsdeck-viewer"));
}

void TestKubeClient::wrongCaIsATlsFailureAndNothingIsSent()
{
    Kubeconfig::Resolved cluster = context(QStringLiteral("opsdeck-admin"));
    // Another CA of the sandbox: a certificate, but not the one that signed the API server's.
    QFile other(m_sandbox.json().value(QStringLiteral("github")).toObject().value(QStringLiteral("caFile")).toString());
    QVERIFY(other.open(QIODevice::ReadOnly));
    cluster.caPem = other.readAll();
    QVERIFY(!cluster.caPem.isEmpty());
    const QString requestLog = m_kube.value(QStringLiteral("requestLog")).toString();
    const qint64 logged = QFileInfo(requestLog).size();
    KubeClient client(cluster);
    QString error;
    QVERIFY2(client.ready(&error), qPrintable(error));
    const KubeResponse response = client.patch(KubeClient::statefulSetPath(kNs, QStringLiteral("permie")),
        KubePatch::Merge, R"({"metadata":{"annotations":{"opsdeck.test/kube-rest":"wrong-ca"}}})");
    QVERIFY(response.unanswered());
    QVERIFY2(response.message.contains(QStringLiteral("the TLS connection failed"))
            && response.message.contains(QStringLiteral("nothing was sent"))
            && response.message.contains(cluster.server),
        qPrintable(response.message));
    QVERIFY(!response.message.contains(cluster.token));
    QCOMPARE(QFileInfo(requestLog).size(), logged);
}

void TestKubeClient::whoAmIFallsBackToSelfSubjectReview()
{
    CannedServer server([](const QByteArray& requestLine) {
        if (requestLine.startsWith("POST /apis/authentication.k8s.io/v1/selfsubjectreviews "))
            return CannedServer::response(
                201, R"({"kind":"SelfSubjectReview","status":{"userInfo":{"username":"kube:alice"}}})");
        return CannedServer::response(404,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"the server could not find the requested resource",)"
            R"("reason":"NotFound","code":404})");
    });
    Kubeconfig::Resolved cluster;
    cluster.context.cluster = QStringLiteral("plain-kubernetes");
    cluster.server = server.url();
    cluster.token = QStringLiteral("planted-token-whoami");
    KubeClient client(cluster);
    QString error;
    QCOMPARE(client.whoAmI(&error), QStringLiteral("kube:alice"));
    QCOMPARE(server.requests,
        (QStringList { QStringLiteral("GET /apis/user.openshift.io/v1/users/~ HTTP/1.1"),
            QStringLiteral("POST /apis/authentication.k8s.io/v1/selfsubjectreviews HTTP/1.1") }));
}

void TestKubeClient::successThatIsNotAJsonObjectIsAFailure()
{
    CannedServer server([](const QByteArray& requestLine) {
        return CannedServer::response(200,
            requestLine.contains("/pods") ? QByteArray(R"(["not","an","object"])") : QByteArray("<html>login</html>"));
    });
    Kubeconfig::Resolved cluster;
    cluster.context.cluster = QStringLiteral("proxy");
    cluster.server = server.url();
    KubeClient client(cluster);
    KubeResponse response = client.get(KubeClient::statefulSetsPath(kNs));
    QCOMPARE(response.status, 200);
    QVERIFY(!response.ok());
    QVERIFY2(response.message.contains(
                 QStringLiteral("HTTP 200, but the answer is not a JSON object (\"<html>login</html>\")")),
        qPrintable(response.message));
    response = client.get(KubeClient::podsPath(kNs));
    QVERIFY(!response.ok());
    QVERIFY2(response.message.contains(QStringLiteral("not a JSON object")), qPrintable(response.message));
    QCOMPARE(server.requests.size(), 2);
}

void TestKubeClient::tokenEchoedInAnErrorIsMasked()
{
    const QString token = QStringLiteral("sha256~planted-token-echoed");
    CannedServer server([&token](const QByteArray&) {
        return CannedServer::response(502, "<html>upstream refused Bearer " + token.toUtf8() + "</html>");
    });
    Kubeconfig::Resolved cluster;
    cluster.context.cluster = QStringLiteral("proxy");
    cluster.server = server.url();
    cluster.token = token;
    KubeClient client(cluster);
    const KubeResponse response = client.get(KubeClient::statefulSetsPath(kNs));
    QCOMPARE(response.status, 502);
    QVERIFY2(
        response.message.contains(QStringLiteral("upstream refused Bearer [secret]")), qPrintable(response.message));
    QVERIFY(!response.message.contains(token));
}

QTEST_GUILESS_MAIN(TestKubeClient)
#include "tst_kubeclient.moc"
