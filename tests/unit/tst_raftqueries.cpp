// The parsers of RaftQueries on the API's answers as ../shared/reference/kubernetes.md shows them (sections 2, 3, 8),
// and on malformed ones: missing fields, wrong types, a trigger annotation that is not JSON.
#include "raft/RaftQueries.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

// The reference's annotation, byte for byte: a JSON string inside a JSON string.
const QString kAnnotation
    = uR"([{"from":{"kind":"ImageStreamTag","name":"permie:latest"},"fieldPath":"spec.template.spec.containers[?(@.name==\"app\")].image"}])"_s;

const char* const kStatefulSet = R"({"apiVersion":"apps/v1","kind":"StatefulSet",
 "metadata":{"name":"permie","namespace":"fg","resourceVersion":"881234","generation":7,
   "annotations":{"image.openshift.io/triggers":"[{\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"permie:latest\"},\"fieldPath\":\"spec.template.spec.containers[?(@.name==\\\"app\\\")].image\"}]"}},
 "spec":{"replicas":3,"serviceName":"permie","podManagementPolicy":"OrderedReady",
   "selector":{"matchLabels":{"app":"permie"}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}},
   "template":{"metadata":{"labels":{"app":"permie"}},"spec":{"containers":[
     {"name":"sidecar","image":"registry.example/sidecar:1"},
     {"name":"app","image":"image-registry.openshift-image-registry.svc:5000/fg/permie@sha256:7144"}]}}},
 "status":{"observedGeneration":6,"replicas":3,"readyReplicas":2,"availableReplicas":3,"currentReplicas":3,"updatedReplicas":1,
   "currentRevision":"permie-6d4f8b7c9","updateRevision":"permie-7f5e9c8d0","collisionCount":0}})";

const char* const kPod = R"({"metadata":{"name":"permie-12","creationTimestamp":"2026-01-05T09:59:00Z",
  "labels":{"app":"permie","controller-revision-hash":"permie-6d4f8b7c9","statefulset.kubernetes.io/pod-name":"permie-12"},
  "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"permie","controller":true}]},
 "spec":{"containers":[{"name":"sidecar","image":"registry.example/sidecar:1"},{"name":"app","image":"fg/permie@sha256:7144"}]},
 "status":{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"True","lastTransitionTime":"2026-01-05T10:00:00Z"}],
  "containerStatuses":[{"name":"sidecar","ready":true,"restartCount":9,"imageID":"sidecar-id"},
   {"name":"app","ready":true,"restartCount":2,"image":"fg/permie@sha256:7144","imageID":"fg/permie@sha256:7144aa","state":{"running":{"startedAt":"x"}}}]}})";

QJsonObject object(const QByteArray& json)
{
    const QJsonDocument document = QJsonDocument::fromJson(json);
    Q_ASSERT(document.isObject());
    return document.object();
}

QString trigger(const QString& fieldPath, const QString& extra = {})
{
    return uR"({"from":{"kind":"ImageStreamTag","name":"permie:latest"},"fieldPath":")"_s
        + QString(fieldPath).replace(u"\""_s, u"\\\""_s) + u"\""_s + extra + u"}"_s;
}

} // namespace

class TestRaftQueries : public QObject
{
    Q_OBJECT

private slots:
    void statefulSetAsTheReferenceShowsIt();
    void statefulSetDefaultsAndWrongTypes();
    void statefulSetWithoutTrigger();
    void statefulSetWithABrokenTrigger();
    void containerChosenByTheTrigger_data();
    void containerChosenByTheTrigger();
    void triggers_data();
    void triggers();
    void badTriggers_data();
    void badTriggers();
    void podAsTheReferenceShowsIt();
    void podReadiness_data();
    void podReadiness();
    void podOrdinal_data();
    void podOrdinal();
    void podWithMissingFields();
    void latestImage();
};

void TestRaftQueries::statefulSetAsTheReferenceShowsIt()
{
    const StatefulSetRow row = RaftQueries::statefulSetRow(object(kStatefulSet));
    QCOMPARE(row.name, u"permie"_s);
    QCOMPARE(row.resourceVersion, u"881234"_s);
    QCOMPARE(row.generation, 7);
    QCOMPARE(row.observedGeneration, 6);
    QCOMPARE(row.desiredReplicas, 3);
    QCOMPARE(row.replicas, 3);
    QCOMPARE(row.readyReplicas, 2);
    QCOMPARE(row.updatedReplicas, 1);
    QCOMPARE(row.partition, 0);
    QCOMPARE(row.updateStrategy, u"RollingUpdate"_s);
    QCOMPARE(row.podManagementPolicy, u"OrderedReady"_s);
    QCOMPARE(row.currentRevision, u"permie-6d4f8b7c9"_s);
    QCOMPARE(row.updateRevision, u"permie-7f5e9c8d0"_s);
    QCOMPARE(row.matchLabels, object(R"({"app":"permie"})"));
    QVERIFY(row.hasTrigger);
    QCOMPARE(row.triggerAnnotation, kAnnotation); // byte for byte
    QCOMPARE(row.triggerError, QString());
    QCOMPARE(row.triggers.size(), 1);
    QCOMPARE(row.triggers[0].tag, u"permie:latest"_s);
    QCOMPARE(row.triggers[0].tagNamespace, QString());
    QCOMPARE(row.triggers[0].container, u"app"_s);
    QVERIFY(!row.triggers[0].paused);
    // The traced container, not the first one.
    QCOMPARE(row.container, u"app"_s);
    QCOMPARE(row.image, u"image-registry.openshift-image-registry.svc:5000/fg/permie@sha256:7144"_s);
}

void TestRaftQueries::statefulSetDefaultsAndWrongTypes()
{
    // Absent: the API's defaults. Wrong types count as absent, and nothing throws or crashes.
    const StatefulSetRow bare = RaftQueries::statefulSetRow(object(R"({"metadata":{"name":"x"}})"));
    QCOMPARE(bare.name, u"x"_s);
    QCOMPARE(bare.desiredReplicas, 1);
    QCOMPARE(bare.updateStrategy, u"RollingUpdate"_s);
    QCOMPARE(bare.podManagementPolicy, u"OrderedReady"_s);
    QCOMPARE(bare.container, QString());
    QCOMPARE(bare.image, QString());
    QVERIFY(!bare.hasTrigger);
    QVERIFY(bare.matchLabels.isEmpty());

    const StatefulSetRow wrong = RaftQueries::statefulSetRow(object(R"({"metadata":{"name":7,"generation":"7"},
        "spec":{"replicas":"3","selector":[],"template":{"spec":{"containers":{"name":"app"}}},
                "updateStrategy":{"type":1,"rollingUpdate":{"partition":"2"}}},
        "status":"ready"})"));
    QCOMPARE(wrong.name, QString());
    QCOMPARE(wrong.generation, 0);
    QCOMPARE(wrong.desiredReplicas, 1);
    QCOMPARE(wrong.readyReplicas, 0);
    QCOMPARE(wrong.partition, 0);
    QCOMPARE(wrong.updateStrategy, u"RollingUpdate"_s);
    QVERIFY(wrong.matchLabels.isEmpty());
    QCOMPARE(wrong.container, QString());

    QCOMPARE(RaftQueries::statefulSetRow({}).name, QString());
}

void TestRaftQueries::statefulSetWithoutTrigger()
{
    QJsonObject sts = object(kStatefulSet);
    QJsonObject metadata = sts[u"metadata"_s].toObject();
    metadata.remove(u"annotations"_s);
    sts[u"metadata"_s] = metadata;
    const StatefulSetRow row = RaftQueries::statefulSetRow(sts);
    QVERIFY(!row.hasTrigger);
    QCOMPARE(row.triggerAnnotation, QString());
    QVERIFY(row.triggers.isEmpty());
    // Without a trigger the first container is the one shown.
    QCOMPARE(row.container, u"sidecar"_s);
    QCOMPARE(row.image, u"registry.example/sidecar:1"_s);
}

void TestRaftQueries::statefulSetWithABrokenTrigger()
{
    QJsonObject sts = object(kStatefulSet);
    QJsonObject metadata = sts[u"metadata"_s].toObject();
    metadata[u"annotations"_s] = QJsonObject { { u"image.openshift.io/triggers"_s, u"[{\"from\":"_s } };
    sts[u"metadata"_s] = metadata;
    StatefulSetRow row = RaftQueries::statefulSetRow(sts);
    QVERIFY(row.hasTrigger);
    QCOMPARE(row.triggerAnnotation, u"[{\"from\":"_s); // kept as it is, so that a restore puts back what was there
    QVERIFY(row.triggers.isEmpty());
    QVERIFY2(row.triggerError.contains(u"is not JSON"_s), qPrintable(row.triggerError));

    metadata[u"annotations"_s] = QJsonObject { { u"image.openshift.io/triggers"_s, 5 } };
    sts[u"metadata"_s] = metadata;
    row = RaftQueries::statefulSetRow(sts);
    QVERIFY(row.hasTrigger);
    QVERIFY2(row.triggerError.contains(u"is not a string"_s), qPrintable(row.triggerError));

    // A trigger naming a container the template does not have.
    metadata[u"annotations"_s] = QJsonObject { { u"image.openshift.io/triggers"_s,
        u"["_s + trigger(uR"(spec.template.spec.containers[?(@.name=="db")].image)"_s) + u"]"_s } };
    sts[u"metadata"_s] = metadata;
    row = RaftQueries::statefulSetRow(sts);
    QCOMPARE(row.triggers.size(), 1);
    QVERIFY2(row.triggerError.contains(u"names no container"_s), qPrintable(row.triggerError));
    QCOMPARE(row.container, u"sidecar"_s);
}

void TestRaftQueries::containerChosenByTheTrigger_data()
{
    QTest::addColumn<QString>("annotation");
    QTest::addColumn<QString>("container");

    QTest::newRow("by name") << u"["_s + trigger(uR"(spec.template.spec.containers[?(@.name=="app")].image)"_s) + u"]"_s
                             << u"app"_s;
    QTest::newRow("by index") << u"["_s + trigger(u"spec.template.spec.containers[1].image"_s) + u"]"_s << u"app"_s;
    QTest::newRow("index 0") << u"["_s + trigger(u"spec.template.spec.containers[0].image"_s) + u"]"_s << u"sidecar"_s;
    QTest::newRow("paused one skipped") << u"["_s
            + trigger(uR"(spec.template.spec.containers[?(@.name=="sidecar")].image)"_s, u",\"paused\":true"_s) + u","_s
            + trigger(uR"(spec.template.spec.containers[?(@.name=="app")].image)"_s)
            + u"]"_s << u"app"_s;
}

void TestRaftQueries::containerChosenByTheTrigger()
{
    QFETCH(QString, annotation);
    QFETCH(QString, container);
    QJsonObject sts = object(kStatefulSet);
    QJsonObject metadata = sts[u"metadata"_s].toObject();
    metadata[u"annotations"_s] = QJsonObject { { u"image.openshift.io/triggers"_s, annotation } };
    sts[u"metadata"_s] = metadata;
    const StatefulSetRow row = RaftQueries::statefulSetRow(sts);
    QCOMPARE(row.triggerError, QString());
    QCOMPARE(row.container, container);
}

void TestRaftQueries::triggers_data()
{
    QTest::addColumn<QString>("annotation");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("tagNamespace");
    QTest::addColumn<int>("containerIndex");
    QTest::addColumn<bool>("paused");

    QTest::newRow("the reference's") << kAnnotation << 1 << QString() << -1 << false;
    QTest::newRow("with namespace and paused")
        << uR"([{"from":{"kind":"ImageStreamTag","name":"permie:latest","namespace":"images"},"fieldPath":"spec.template.spec.containers[2].image","paused":true}])"_s
        << 1 << u"images"_s << 2 << true;
    QTest::newRow("empty list") << u"[]"_s << 0 << QString() << -1 << false;
    QTest::newRow("two containers") << u"["_s + trigger(u"spec.template.spec.containers[0].image"_s) + u","_s
            + trigger(u"spec.template.spec.containers[1].image"_s) + u"]"_s
                                    << 2 << QString() << 0 << false;
}

void TestRaftQueries::triggers()
{
    QFETCH(QString, annotation);
    QFETCH(int, count);
    QFETCH(QString, tagNamespace);
    QFETCH(int, containerIndex);
    QFETCH(bool, paused);
    QString error;
    const auto parsed = RaftQueries::parseTriggers(annotation, &error);
    QVERIFY2(parsed, qPrintable(error));
    QCOMPARE(parsed->size(), count);
    if (count == 0)
        return;
    QCOMPARE(parsed->at(0).tag, u"permie:latest"_s);
    QCOMPARE(parsed->at(0).tagNamespace, tagNamespace);
    QCOMPARE(parsed->at(0).containerIndex, containerIndex);
    QCOMPARE(parsed->at(0).paused, paused);
}

void TestRaftQueries::badTriggers_data()
{
    QTest::addColumn<QString>("annotation");
    QTest::addColumn<QString>("error");

    const QString byName = uR"(spec.template.spec.containers[?(@.name=="app")].image)"_s;
    QTest::newRow("not JSON") << u"permie:latest"_s << u"is not JSON"_s;
    QTest::newRow("truncated") << kAnnotation.chopped(1) << u"is not JSON"_s;
    QTest::newRow("empty") << QString() << u"is not JSON"_s;
    QTest::newRow("an object") << u"{}"_s << u"is not a JSON array"_s;
    QTest::newRow("a string entry") << u"[\"permie:latest\"]"_s << u"trigger 1 is not an object"_s;
    QTest::newRow("no from") << uR"([{"fieldPath":"spec.template.spec.containers[0].image"}])"_s
                             << u"trigger 1 has no \"from\" object"_s;
    QTest::newRow("from a string") << uR"([{"from":"permie:latest","fieldPath":"x"}])"_s
                                   << u"trigger 1 has no \"from\" object"_s;
    QTest::newRow("other kind")
        << uR"([{"from":{"kind":"DockerImage","name":"permie:latest"},"fieldPath":"spec.template.spec.containers[0].image"}])"_s
        << u"from.kind is not ImageStreamTag"_s;
    QTest::newRow("no name") << uR"([{"from":{"kind":"ImageStreamTag"},"fieldPath":"x"}])"_s
                             << u"from.name is not an image stream tag"_s;
    QTest::newRow("name without tag")
        << uR"([{"from":{"kind":"ImageStreamTag","name":"permie"},"fieldPath":"spec.template.spec.containers[0].image"}])"_s
        << u"from.name is not an image stream tag"_s;
    QTest::newRow("name a number") << uR"([{"from":{"kind":"ImageStreamTag","name":5},"fieldPath":"x"}])"_s
                                   << u"from.name is not an image stream tag"_s;
    QTest::newRow("namespace a number")
        << uR"([{"from":{"kind":"ImageStreamTag","name":"a:b","namespace":1},"fieldPath":"spec.template.spec.containers[0].image"}])"_s
        << u"from.namespace is not a string"_s;
    QTest::newRow("no fieldPath") << uR"([{"from":{"kind":"ImageStreamTag","name":"a:b"}}])"_s
                                  << u"fieldPath is not a container's image"_s;
    QTest::newRow("single quotes") << u"["_s + trigger(uR"(spec.template.spec.containers[?(@.name=='app')].image)"_s)
            + u"]"_s << u"fieldPath is not a container's image"_s;
    QTest::newRow("not the image") << u"["_s + trigger(uR"(spec.template.spec.containers[?(@.name=="app")].command)"_s)
            + u"]"_s << u"fieldPath is not a container's image"_s;
    QTest::newRow("init container") << u"["_s
            + trigger(uR"(spec.template.spec.initContainers[?(@.name=="app")].image)"_s)
            + u"]"_s << u"fieldPath is not a container's image"_s;
    QTest::newRow("negative index") << u"["_s + trigger(u"spec.template.spec.containers[-1].image"_s) + u"]"_s
                                    << u"fieldPath is not a container's image"_s;
    QTest::newRow("trailing newline") << u"["_s + trigger(byName + u"\\n"_s) + u"]"_s
                                      << u"fieldPath is not a container's image"_s;
    QTest::newRow("paused a string") << u"["_s + trigger(byName, u",\"paused\":\"true\""_s) + u"]"_s
                                     << u"paused is not true or false"_s;
    QTest::newRow("duplicate fieldPath") << u"["_s + trigger(byName) + u","_s + trigger(byName) + u"]"_s
                                         << u"names the fieldPath "_s + byName + u" twice"_s;
    QTest::newRow("second entry bad") << u"["_s + trigger(byName) + u",[]]"_s << u"trigger 2 is not an object"_s;
}

void TestRaftQueries::badTriggers()
{
    QFETCH(QString, annotation);
    QFETCH(QString, error);
    QString why;
    QVERIFY(!RaftQueries::parseTriggers(annotation, &why));
    QVERIFY2(why.contains(error), qPrintable(why));
    QVERIFY2(why.contains(u"image.openshift.io/triggers"_s), qPrintable(why));
}

void TestRaftQueries::podAsTheReferenceShowsIt()
{
    const PodRow row = RaftQueries::podRow(object(kPod), u"app"_s);
    QCOMPARE(row.name, u"permie-12"_s);
    QCOMPARE(row.ordinal, 12);
    QCOMPARE(row.phase, u"Running"_s);
    QVERIFY(row.ready);
    QVERIFY(!row.terminating);
    QVERIFY(row.runningAndReady());
    QCOMPARE(row.image, u"fg/permie@sha256:7144"_s);
    QCOMPARE(row.imageId, u"fg/permie@sha256:7144aa"_s);
    QCOMPARE(row.revision, u"permie-6d4f8b7c9"_s);
    QCOMPARE(row.restarts, 2);
    QCOMPARE(row.created, QDateTime(QDate(2026, 1, 5), QTime(9, 59), Qt::UTC));
    // Without a container: the first one.
    QCOMPARE(RaftQueries::podRow(object(kPod), QString()).restarts, 9);
}

void TestRaftQueries::podReadiness_data()
{
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<QByteArray>("deletion");
    QTest::addColumn<bool>("ready");
    QTest::addColumn<bool>("terminating");

    QTest::newRow("ready") << QByteArray(R"([{"type":"Ready","status":"True"}])") << QByteArray() << true << false;
    QTest::newRow("not ready") << QByteArray(R"([{"type":"Ready","status":"False"}])") << QByteArray() << false
                               << false;
    // The condition's status is a string: a JSON true is not "True".
    QTest::newRow("bool true") << QByteArray(R"([{"type":"Ready","status":true}])") << QByteArray() << false << false;
    QTest::newRow("lower case") << QByteArray(R"([{"type":"Ready","status":"true"}])") << QByteArray() << false
                                << false;
    QTest::newRow("only ContainersReady")
        << QByteArray(R"([{"type":"ContainersReady","status":"True"}])") << QByteArray() << false << false;
    QTest::newRow("conditions not a list")
        << QByteArray(R"({"type":"Ready","status":"True"})") << QByteArray() << false << false;
    QTest::newRow("terminating") << QByteArray(R"([{"type":"Ready","status":"True"}])")
                                 << QByteArray(R"("2026-01-05T10:00:00Z")") << true << true;
    QTest::newRow("deletionTimestamp null")
        << QByteArray(R"([{"type":"Ready","status":"True"}])") << QByteArray("null") << true << false;
}

void TestRaftQueries::podReadiness()
{
    QFETCH(QByteArray, status);
    QFETCH(QByteArray, deletion);
    QFETCH(bool, ready);
    QFETCH(bool, terminating);
    const QByteArray json = R"({"metadata":{"name":"permie-0")"
        + (deletion.isEmpty() ? QByteArray() : ",\"deletionTimestamp\":" + deletion)
        + R"(},"status":{"phase":"Running","conditions":)" + status + "}}";
    const PodRow row = RaftQueries::podRow(object(json), u"app"_s);
    QCOMPARE(row.ready, ready);
    QCOMPARE(row.terminating, terminating);
    QCOMPARE(row.runningAndReady(), ready && !terminating);
}

void TestRaftQueries::podOrdinal_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("ordinal");

    QTest::newRow("0") << u"permie-0"_s << 0;
    QTest::newRow("of a dashed name") << u"permie-ledger-4"_s << 4;
    QTest::newRow("leading zero") << u"permie-01"_s << -1;
    QTest::newRow("no number") << u"permie-abc"_s << -1;
    QTest::newRow("no dash") << u"permie"_s << -1;
    QTest::newRow("empty suffix") << u"permie-"_s << -1;
    QTest::newRow("too large") << u"permie-99999999999"_s << -1;
    QTest::newRow("sign") << u"permie-+1"_s << -1;
}

void TestRaftQueries::podOrdinal()
{
    QFETCH(QString, name);
    QFETCH(int, ordinal);
    QCOMPARE(RaftQueries::podRow(QJsonObject { { u"metadata"_s, QJsonObject { { u"name"_s, name } } } }, {}).ordinal,
        ordinal);
}

void TestRaftQueries::podWithMissingFields()
{
    PodRow row = RaftQueries::podRow({}, u"app"_s);
    QCOMPARE(row.name, QString());
    QCOMPARE(row.ordinal, -1);
    QVERIFY(!row.ready);
    QVERIFY(!row.runningAndReady());
    QVERIFY(!row.created.isValid());

    row = RaftQueries::podRow(object(R"({"metadata":{"name":"permie-1","labels":[],"creationTimestamp":5},
        "spec":{"containers":[{"name":"app","image":7}]},
        "status":{"phase":1,"containerStatuses":[{"name":"app","restartCount":"2","imageID":null}]}})"),
        u"app"_s);
    QCOMPARE(row.ordinal, 1);
    QCOMPARE(row.phase, QString());
    QCOMPARE(row.image, QString());
    QCOMPARE(row.restarts, 0);
    QCOMPARE(row.revision, QString());
    QVERIFY(!row.created.isValid());

    // The container asked for is not in the pod.
    row = RaftQueries::podRow(object(kPod), u"db"_s);
    QCOMPARE(row.image, QString());
    QCOMPARE(row.imageId, QString());
}

void TestRaftQueries::latestImage()
{
    const QJsonObject stream = object(R"({"kind":"ImageStream","status":{"tags":[
        {"tag":"stable","items":[{"dockerImageReference":"reg/fg/permie@sha256:0000"}]},
        {"tag":"latest","items":[{"dockerImageReference":"reg/fg/permie@sha256:7144","image":"sha256:7144"},
                                 {"dockerImageReference":"reg/fg/permie@sha256:old"}]},
        {"tag":"empty","items":[]}]}})");
    QCOMPARE(RaftQueries::latestImage(stream, u"latest"_s), u"reg/fg/permie@sha256:7144"_s);
    QCOMPARE(RaftQueries::latestImage(stream, u"stable"_s), u"reg/fg/permie@sha256:0000"_s);
    QCOMPARE(RaftQueries::latestImage(stream, u"empty"_s), QString());
    QCOMPARE(RaftQueries::latestImage(stream, u"missing"_s), QString());
    QCOMPARE(RaftQueries::latestImage(object(R"({"status":{"tags":{"latest":1}}})"), u"latest"_s), QString());
    QCOMPARE(RaftQueries::latestImage({}, u"latest"_s), QString());
}

QTEST_GUILESS_MAIN(TestRaftQueries)
#include "tst_raftqueries.moc"
