// KubeClient's pure parts: the one sentence a failure becomes (from the Status bodies of
// ../shared/reference/kubernetes.md section 10, a body that is not a Status, no body, no answer), the label selector
// and the paths, whose names are percent-encoded.
#include "kube/KubeClient.h"

#include <QJsonObject>
#include <QTest>

using namespace opsdeck;

namespace {

const QString kCluster = QStringLiteral("api-ocp-example-org:6443 (https://api.ocp.example.org:6443)");
const QString kAction = QStringLiteral("patch statefulsets fg/permie");

QByteArray status(int code, const char* reason, const char* message, const char* details = nullptr)
{
    QByteArray body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")"
        + QByteArray(message).replace("\"", "\\\"") + R"(","reason":")" + reason + '"';
    if (details)
        body += R"(,"details":)" + QByteArray(details);
    return body + R"(,"code":)" + QByteArray::number(code) + '}';
}

} // namespace

class TestKubeStatus : public QObject
{
    Q_OBJECT

private slots:
    void failureIsOneSentenceWithWhatToDo_data();
    void failureIsOneSentenceWithWhatToDo();
    void labelSelectorSortsKeys();
    void pathsEncodeEveryName();
    void setupErrorIsReported();
};

void TestKubeStatus::failureIsOneSentenceWithWhatToDo_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("transportError");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("401 expired token")
        << 401 << status(401, "Unauthorized", "Unauthorized") << QString()
        << QStringList { kAction, QStringLiteral("the token of cluster %1 is invalid or expired").arg(kCluster),
               QStringLiteral("log in again with `oc login` and retry"), QStringLiteral("\"Unauthorized\"") };
    QTest::newRow("403 patch")
        << 403
        << status(403, "Forbidden",
               R"(statefulsets.apps "permie" is forbidden: User "alice" cannot patch resource "statefulsets" in API group "apps" in the namespace "fg")",
               R"({"name":"permie","group":"apps","kind":"statefulsets"})")
        << QString()
        << QStringList { QStringLiteral("user alice may not patch statefulsets (API group apps) "
                                        "in namespace fg"),
               QStringLiteral("ask for RBAC permission to patch statefulsets in namespace fg"),
               QStringLiteral(R"(User "alice" cannot patch resource "statefulsets")") };
    QTest::newRow("403 exec")
        << 403
        << status(403, "Forbidden",
               R"(pods "permie-0" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "fg")")
        << QString()
        << QStringList { QStringLiteral("user bob may not create pods/exec (API group core) in namespace fg") };
    QTest::newRow("403 anonymous")
        << 403
        << status(403, "Forbidden",
               R"(users.user.openshift.io "~" is forbidden: User "system:anonymous" cannot get resource "users" in API group "user.openshift.io" at the cluster scope)")
        << QString() << QStringList { QStringLiteral("no token was sent"), QStringLiteral("oc login") };
    QTest::newRow("404") << 404
                         << status(404, "NotFound", R"(statefulsets.apps "permie" not found)",
                                R"({"name":"permie","group":"apps","kind":"statefulsets"})")
                         << QString()
                         << QStringList { QStringLiteral("not found"),
                                QStringLiteral(R"(the server said "statefulsets.apps "permie" not found")"),
                                QStringLiteral("check the name and the namespace") };
    QTest::newRow("409")
        << 409
        << status(409, "Conflict",
               R"(Operation cannot be fulfilled on statefulsets.apps "permie": the object has been modified; please apply your changes to the latest version and try again)")
        << QString()
        << QStringList { QStringLiteral("the object changed since it was read"),
               QStringLiteral("read it again and retry"), QStringLiteral("the object has been modified") };
    QTest::newRow("409 exists") << 409
                                << status(409, "AlreadyExists", R"(jobs.batch "opsdeck-r-build-index" already exists)",
                                       R"({"name":"opsdeck-r-build-index","group":"batch","kind":"jobs"})")
                                << QString()
                                << QStringList { QStringLiteral("an object of that name exists already"),
                                       QStringLiteral("read it to see whose it is") };
    QTest::newRow("422 field")
        << 422
        << status(422, "Invalid",
               R"(StatefulSet.apps "permie" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0)",
               R"({"name":"permie","group":"apps","kind":"StatefulSet","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]})")
        << QString()
        << QStringList { QStringLiteral("rejected the change as invalid, spec.replicas: Invalid value: -1: must be "
                                        "greater than or equal to 0 ("),
               QStringLiteral("correct that value and retry") };
    QTest::newRow("422 no causes")
        << 422
        << status(
               422, "Invalid", "the server rejected our request due to an error in our request: test failed at /spec/x")
        << QString()
        << QStringList { QStringLiteral("rejected the change as invalid"), QStringLiteral("test failed at /spec/x") };
    QTest::newRow("400") << 400 << status(400, "BadRequest", "error decoding patch: unexpected end of JSON input")
                         << QString()
                         << QStringList { QStringLiteral("malformed"), QStringLiteral("error decoding patch") };
    QTest::newRow("415")
        << 415
        << status(415, "UnsupportedMediaType",
               "the body of the request was in an unknown format - accepted media types include: "
               "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
               "application/strategic-merge-patch+json")
        << QString()
        << QStringList { QStringLiteral("does not accept the request's Content-Type"),
               QStringLiteral("unknown format") };
    QTest::newRow("500 Status") << 500 << status(500, "InternalError", "Internal error occurred: etcd timeout")
                                << QString()
                                << QStringList { QStringLiteral("HTTP 500 InternalError"),
                                       QStringLiteral("etcd timeout"), QStringLiteral("retry") };
    QTest::newRow("502 not a Status") << 502 << QByteArray("<html><body>Bad Gateway</body></html>\n") << QString()
                                      << QStringList { QStringLiteral("HTTP 502"),
                                             QStringLiteral("not a Kubernetes Status: \"<html><body>Bad Gateway"),
                                             QStringLiteral("not a proxy or a login page") };
    QTest::newRow("404 empty body") << 404 << QByteArray() << QString()
                                    << QStringList { QStringLiteral("not found"),
                                           QStringLiteral("the answer had an empty body") };
    QTest::newRow("401 not a Status") << 401 << QByteArray("Unauthorized\n") << QString()
                                      << QStringList { QStringLiteral("is invalid or expired"),
                                             QStringLiteral("not a Kubernetes Status: \"Unauthorized\"") };
    QTest::newRow("refused") << 0 << QByteArray() << QStringLiteral("Connection refused")
                             << QStringList { QStringLiteral("no answer (Connection refused)"),
                                    QStringLiteral("check the server address of %1").arg(kCluster),
                                    QStringLiteral("may or may not have taken effect") };
    QTest::newRow("timeout") << 0 << QByteArray() << QStringLiteral("no answer within 15 s")
                             << QStringList { QStringLiteral("no answer (no answer within 15 s)"),
                                    QStringLiteral("VPN, proxy, firewall") };
    QTest::newRow("TLS") << 0 << QByteArray()
                         << QStringLiteral("SSL handshake failed: The issuer certificate of a locally looked up "
                                           "certificate could not be found")
                         << QStringList { QStringLiteral("the TLS connection failed (SSL handshake failed"),
                                QStringLiteral("nothing was sent"),
                                QStringLiteral("certificate authority is the one of %1").arg(kCluster) };
    QTest::newRow("cancelled") << 0 << QByteArray() << QStringLiteral("cancelled")
                               << QStringList { QStringLiteral("cancelled; whether a write took effect is unknown") };
    QTest::newRow("cut off") << 200 << QByteArray(R"({"kind":)") << QStringLiteral("Connection closed")
                             << QStringList { QStringLiteral("(HTTP 200) was cut off (Connection closed)") };
}

void TestKubeStatus::failureIsOneSentenceWithWhatToDo()
{
    QFETCH(int, code);
    QFETCH(QByteArray, body);
    QFETCH(QString, transportError);
    QFETCH(QStringList, expected);
    const QString message = KubeClient::describeFailure(kCluster, kAction, code, body, transportError);
    QVERIFY2(message.startsWith(kAction), qPrintable(message));
    for (const QString& part : expected)
        QVERIFY2(message.contains(part), qPrintable(QStringLiteral("\"%1\" lacks \"%2\"").arg(message, part)));
    QVERIFY2(!message.contains(u'\n'), qPrintable(message));
}

void TestKubeStatus::labelSelectorSortsKeys()
{
    QCOMPARE(KubeClient::labelSelector(QJsonObject { { QStringLiteral("tier"), QStringLiteral("db") },
                 { QStringLiteral("app"), QStringLiteral("permie") } }),
        QStringLiteral("app=permie,tier=db"));
    QCOMPARE(KubeClient::labelSelector(
                 QJsonObject { { QStringLiteral("app.kubernetes.io/name"), QStringLiteral("permie") } }),
        QStringLiteral("app.kubernetes.io/name=permie"));
    QCOMPARE(KubeClient::labelSelector({}), QString());
}

void TestKubeStatus::pathsEncodeEveryName()
{
    QCOMPARE(
        KubeClient::statefulSetsPath(QStringLiteral("fg")), QStringLiteral("/apis/apps/v1/namespaces/fg/statefulsets"));
    QCOMPARE(KubeClient::statefulSetPath(QStringLiteral("fg"), QStringLiteral("permie")),
        QStringLiteral("/apis/apps/v1/namespaces/fg/statefulsets/permie"));
    // A name is one path segment whatever it holds: no '/' or '?' may reach another resource or the query.
    QCOMPARE(KubeClient::statefulSetPath(QStringLiteral("f/g"), QStringLiteral("a b/../c?d#e%f&g=h")),
        QStringLiteral("/apis/apps/v1/namespaces/f%2Fg/statefulsets/a%20b%2F..%2Fc%3Fd%23e%25f%26g%3Dh"));
    QCOMPARE(KubeClient::scalePath(QStringLiteral("fg"), QStringLiteral("per/mie")),
        QStringLiteral("/apis/apps/v1/namespaces/fg/statefulsets/per%2Fmie/scale"));
    QCOMPARE(
        KubeClient::podsPath(QStringLiteral("fg staging")), QStringLiteral("/api/v1/namespaces/fg%20staging/pods"));
    QCOMPARE(KubeClient::podPath(QStringLiteral("fg"), QStringLiteral("permie-0?watch=1")),
        QStringLiteral("/api/v1/namespaces/fg/pods/permie-0%3Fwatch%3D1"));
    QCOMPARE(KubeClient::imageStreamPath(QStringLiteral("fg"), QStringLiteral("pérmie")),
        QStringLiteral("/apis/image.openshift.io/v1/namespaces/fg/imagestreams/p%C3%A9rmie"));
}

void TestKubeStatus::setupErrorIsReported()
{
    Kubeconfig::Resolved cluster;
    cluster.context.name = QStringLiteral("fg/c/alice");
    cluster.context.cluster = QStringLiteral("c");
    cluster.server = QStringLiteral("https://127.0.0.1:1");
    cluster.caPem = "not a certificate";
    cluster.token = QStringLiteral("sha256~planted-token-kubestatus");
    KubeClient client(cluster);
    QString error;
    QVERIFY(!client.ready(&error));
    QVERIFY2(error.contains(QStringLiteral("certificate authority holds no PEM certificate")), qPrintable(error));
    const KubeResponse response = client.get(KubeClient::statefulSetsPath(QStringLiteral("fg")));
    QVERIFY(!response.ok());
    QVERIFY(response.unanswered());
    QVERIFY2(response.message.startsWith(QStringLiteral("list statefulsets in fg on cluster c (https://127.0.0.1:1): "))
            && response.message.contains(error),
        qPrintable(response.message));
    QVERIFY(!response.message.contains(cluster.token));
}

QTEST_GUILESS_MAIN(TestKubeStatus)
#include "tst_kubestatus.moc"
