// KubeJob's pure parts: the Job object it creates (one pod, never retried, argv kept as argv after the wrapper's own
// arguments, the labels on the Job and its pod, a PVC or an emptyDir at the mount path), what a Job and its pods say
// (exit codes and reasons, OOMKilled, a pod deleted or evicted before it ended, images that cannot be pulled), and Job
// names that stay DNS labels.
#include "kube/KubeJob.h"

#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

using namespace opsdeck;
using namespace Qt::StringLiterals;

namespace {

QJsonObject json(const QByteArray& text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad fixture: %s", qPrintable(error.errorString()));
    return document.object();
}

QJsonArray pods(std::initializer_list<QByteArray> texts)
{
    QJsonArray array;
    for (const QByteArray& text : texts)
        array.append(json(text));
    return array;
}

const char* kRunningJob = R"({"metadata":{"name":"j"},"status":{"active":1,"ready":1}})";
const char* kFailedJob = R"({"metadata":{"name":"j"},"status":{"failed":1,"conditions":[
    {"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}})";
const char* kCompleteJob = R"({"metadata":{"name":"j"},"status":{"succeeded":1,"conditions":[
    {"type":"Complete","status":"True"}]}})";

} // namespace

class TestKubeJobState : public QObject
{
    Q_OBJECT

private slots:
    void manifestRunsOnceWithTheWrapper();
    void manifestVolumeAndServiceAccount();
    void runningPod();
    void exitCodesAndReasons();
    void oomKilledIsSaid();
    void podDeletedBeforeItEndedIsVanished();
    void evictedPodIsVanished();
    void imagePullErrors();
    void newestPodCounts();
    void jobNamesStayLabels();
    void startAndEndTimes();
};

void TestKubeJobState::manifestRunsOnceWithTheWrapper()
{
    KubeJob::Spec spec;
    spec.image = u"gcr.io/onec-co/datamon:v2.6.9"_s;
    spec.argv = { u"datamon"_s, u"purge"_s, u"build-reverse-lookup"_s, u"--context"_s, u"a b;$(id)"_s };
    spec.env = { { u"A"_s, u"1"_s } };
    spec.mountPath = u"/work"_s;
    spec.stdoutFile = u"/work/runs/r/jobs/build-index/stdout"_s;
    spec.labels = { { u"opsdeck.io/run"_s, u"r"_s }, { u"opsdeck.io/step"_s, u"build-index"_s } };
    const QJsonObject job = KubeJob::manifest(u"opsdeck-r-build-index"_s, spec, u"opsdeck-stdout-0123456789abcdef"_s);
    QCOMPARE(job.value(u"kind"_s).toString(), u"Job"_s);
    QCOMPARE(job.value(u"apiVersion"_s).toString(), u"batch/v1"_s);
    const QJsonObject metadata = job.value(u"metadata"_s).toObject();
    QCOMPARE(metadata.value(u"name"_s).toString(), u"opsdeck-r-build-index"_s);
    QCOMPARE(metadata.value(u"labels"_s).toObject().value(u"opsdeck.io/step"_s).toString(), u"build-index"_s);
    QCOMPARE(metadata.value(u"annotations"_s).toObject().value(u"opsdeck.io/stdout-marker"_s).toString(),
        u"opsdeck-stdout-0123456789abcdef"_s);
    const QJsonObject jobSpec = job.value(u"spec"_s).toObject();
    // Never a second run of a step by Kubernetes.
    QCOMPARE(jobSpec.value(u"backoffLimit"_s).toInt(-1), 0);
    QCOMPARE(jobSpec.value(u"completions"_s).toInt(), 1);
    const QJsonObject tpl = jobSpec.value(u"template"_s).toObject();
    QCOMPARE(tpl.value(u"metadata"_s).toObject().value(u"labels"_s).toObject().value(u"opsdeck.io/run"_s).toString(),
        u"r"_s);
    const QJsonObject podSpec = tpl.value(u"spec"_s).toObject();
    QCOMPARE(podSpec.value(u"restartPolicy"_s).toString(), u"Never"_s);
    QVERIFY(!podSpec.contains(u"serviceAccountName"_s));
    const QJsonObject container = podSpec.value(u"containers"_s).toArray().first().toObject();
    QCOMPARE(container.value(u"image"_s).toString(), spec.image);
    const QJsonArray command = container.value(u"command"_s).toArray();
    QCOMPARE(command.at(0).toString(), u"/bin/sh"_s);
    QCOMPARE(command.at(1).toString(), u"-c"_s);
    QCOMPARE(command.at(3).toString(), u"opsdeck-job"_s); // $0
    QCOMPARE(command.at(4).toString(), spec.stdoutFile);
    QCOMPARE(command.at(5).toString(), u"opsdeck-stdout-0123456789abcdef"_s);
    QCOMPARE(command.at(6).toString(), u"0"_s); // no free space asked for
    // each word its own argument: nothing of it is shell text; commandOf reads it back
    QCOMPARE(KubeJob::commandOf(job), spec.argv);
    QCOMPARE(command.size(), 7 + spec.argv.size());
    QVERIFY(!jobSpec.contains(u"ttlSecondsAfterFinished"_s));
    QCOMPARE(container.value(u"env"_s).toArray().first().toObject().value(u"value"_s).toString(), u"1"_s);
    QCOMPARE(
        container.value(u"volumeMounts"_s).toArray().first().toObject().value(u"mountPath"_s).toString(), u"/work"_s);
    QVERIFY(podSpec.value(u"volumes"_s).toArray().first().toObject().contains(u"emptyDir"_s));
}

void TestKubeJobState::manifestVolumeAndServiceAccount()
{
    KubeJob::Spec spec;
    spec.image = u"i:1"_s;
    spec.argv = { u"true"_s };
    spec.serviceAccount = u"datamon-purge"_s;
    spec.volumeClaim = u"purge-index"_s;
    spec.ttlSecondsAfterFinished = 600;
    spec.minFreeKiB = 1024 * 1024;
    spec.mountPath = u"/work"_s;
    spec.stdoutFile = u"/work/out"_s;
    const QJsonObject podSpec = KubeJob::manifest(u"j"_s, spec, u"m"_s)
                                    .value(u"spec"_s)
                                    .toObject()
                                    .value(u"template"_s)
                                    .toObject()
                                    .value(u"spec"_s)
                                    .toObject();
    QCOMPARE(podSpec.value(u"serviceAccountName"_s).toString(), u"datamon-purge"_s);
    QCOMPARE(
        KubeJob::manifest(u"j"_s, spec, u"m"_s).value(u"spec"_s).toObject().value(u"ttlSecondsAfterFinished"_s).toInt(),
        600);
    const QJsonArray command
        = podSpec.value(u"containers"_s).toArray().first().toObject().value(u"command"_s).toArray();
    QCOMPARE(command.at(6).toString(), u"1048576"_s);
    const QJsonObject volume = podSpec.value(u"volumes"_s).toArray().first().toObject();
    QCOMPARE(volume.value(u"persistentVolumeClaim"_s).toObject().value(u"claimName"_s).toString(), u"purge-index"_s);
    QVERIFY(!volume.contains(u"emptyDir"_s));
    const QJsonObject container = podSpec.value(u"containers"_s).toArray().first().toObject();
    QVERIFY(!container.contains(u"env"_s));
}

void TestKubeJobState::runningPod()
{
    const KubeJob::State state = KubeJob::stateOf(json(kRunningJob),
        pods({ R"({"metadata":{"name":"j-abcde","creationTimestamp":"2026-12-05T10:00:00Z"},"status":{"phase":"Running",
            "containerStatuses":[{"name":"job","state":{"running":{"startedAt":"2026-12-05T10:00:01Z"}}}]}})" }));
    QVERIFY(state.exists);
    QCOMPARE(state.active, 1);
    QCOMPARE(state.pod, u"j-abcde"_s);
    QCOMPARE(state.podPhase, u"Running"_s);
    QVERIFY(!state.ended());
    QVERIFY(!state.cannotStart());
    QVERIFY(!state.exitCode);
    QCOMPARE(state.describe(), u"its pod j-abcde is Running"_s);
    // No Job, no pod: not there at all.
    const KubeJob::State none = KubeJob::stateOf({}, {});
    QVERIFY(!none.exists);
    QVERIFY(!none.ended());
    QCOMPARE(none.describe(), u"the Job does not exist"_s);
}

void TestKubeJobState::exitCodesAndReasons()
{
    const KubeJob::State ok = KubeJob::stateOf(json(kCompleteJob),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Succeeded","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})" }));
    QVERIFY(ok.ended());
    QCOMPARE(ok.exitCode, std::optional<int>(0));
    QCOMPARE(ok.condition, u"Complete"_s);
    QVERIFY(!ok.vanished());
    const KubeJob::State failed = KubeJob::stateOf(json(kFailedJob),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Failed","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}})" }));
    QCOMPARE(failed.exitCode, std::optional<int>(2));
    QCOMPARE(failed.reason, u"Error"_s);
    QCOMPARE(failed.conditionReason, u"BackoffLimitExceeded"_s);
    QCOMPARE(failed.describe(), u"its container exited with code 2 (Error)"_s);
    // A container terminated before the Job controller has seen it: over already.
    const KubeJob::State early = KubeJob::stateOf(json(kRunningJob),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Running","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":1,"reason":"Error"}}}]}})" }));
    QVERIFY(early.ended());
    QCOMPARE(early.exitCode, std::optional<int>(1));
    const KubeJob::State cannotExec = KubeJob::stateOf(json(kFailedJob),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Failed","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":128,"reason":"StartError",
            "message":"exec: \"datamon\": executable file not found in $PATH"}}}]}})" }));
    QCOMPARE(cannotExec.describe(),
        u"its container exited with code 128 (StartError: exec: \"datamon\": executable file not found in $PATH)"_s);
}

void TestKubeJobState::oomKilledIsSaid()
{
    const KubeJob::State state = KubeJob::stateOf(json(kFailedJob),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Failed","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}})" }));
    QVERIFY(state.ended());
    QCOMPARE(state.exitCode, std::optional<int>(137));
    QCOMPARE(state.reason, u"OOMKilled"_s);
    QVERIFY(state.describe().contains(u"more memory than its limit (OOMKilled, exit code 137)"_s));
}

void TestKubeJobState::podDeletedBeforeItEndedIsVanished()
{
    // The Job controller counts a deleted pod as failed; with backoffLimit 0 the Job fails, and no exit code exists.
    const KubeJob::State state = KubeJob::stateOf(json(kFailedJob), {});
    QVERIFY(state.exists);
    QVERIFY(state.ended());
    QVERIFY(state.vanished());
    QVERIFY(state.pod.isEmpty());
    QCOMPARE(state.describe(),
        u"its pod was deleted before its container ended (the Job is Failed, BackoffLimitExceeded)"_s);
    // Going: its deletion under way, the container still running.
    const KubeJob::State going = KubeJob::stateOf(json(kRunningJob),
        pods({ R"({"metadata":{"name":"j-1","deletionTimestamp":"2026-12-05T10:00:00Z"},"status":{"phase":"Running",
            "containerStatuses":[{"name":"job","state":{"running":{}}}]}})" }));
    QVERIFY(going.podDeleting);
    QVERIFY(!going.ended());
}

void TestKubeJobState::evictedPodIsVanished()
{
    const KubeJob::State state = KubeJob::stateOf(
        json(kFailedJob), pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Failed","reason":"Evicted",
            "message":"The node was low on resource: ephemeral-storage."}})" }));
    QVERIFY(state.vanished());
    QCOMPARE(state.describe(),
        u"its pod ended without an exit code (Evicted: The node was low on resource: ephemeral-storage.)"_s);
}

void TestKubeJobState::imagePullErrors()
{
    const auto waiting = [](const char* reason) {
        return KubeJob::stateOf(json(kRunningJob),
            pods({ QByteArray(R"({"metadata":{"name":"j-1"},"status":{"phase":"Pending","containerStatuses":[
                {"name":"job","state":{"waiting":{"reason":")")
                + reason + R"(","message":"Back-off pulling image \"gcr.io/x/datamon:v9\""}}}]}})" }));
    };
    for (const char* stuck : { "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError" }) {
        const KubeJob::State state = waiting(stuck);
        QVERIFY2(state.cannotStart(), stuck);
        QVERIFY(!state.ended());
        QVERIFY2(state.describe().startsWith(
                     u"its container cannot start (%1: Back-off pulling image"_s.arg(QString::fromLatin1(stuck))),
            qPrintable(state.describe()));
    }
    // The first failed pull may be a registry's hiccup; the kubelet tries again.
    QVERIFY(!waiting("ErrImagePull").cannotStart());
    QVERIFY(!waiting("ContainerCreating").cannotStart());
}

void TestKubeJobState::newestPodCounts()
{
    const KubeJob::State state = KubeJob::stateOf(json(kRunningJob),
        pods({ R"({"metadata":{"name":"j-new","creationTimestamp":"2026-12-05T10:00:05Z"},"status":{"phase":"Running"}})",
            R"({"metadata":{"name":"j-old","creationTimestamp":"2026-12-05T10:00:00Z"},"status":{"phase":"Failed"}})" }));
    QCOMPARE(state.pod, u"j-new"_s);
    QVERIFY(!state.ended());
}

void TestKubeJobState::jobNamesStayLabels()
{
    static const QRegularExpression label(u"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\z"_s);
    const QString run = u"6F9619FF-8B86-D011-B42D-00C04FC964FF"_s;
    const QString name = KubeJob::jobName({ u"opsdeck"_s, run, u"drop-stale-index"_s });
    QCOMPARE(name, u"opsdeck-6f9619ff-8b86-d011-b42d-00c04fc964ff-drop-stale-index"_s);
    QVERIFY(label.match(name).hasMatch());
    const QString longer = KubeJob::jobName({ u"opsdeck"_s, run, u"verify-dry-run-after-delete"_s });
    const QString other = KubeJob::jobName({ u"opsdeck"_s, run, u"verify-dry-run-after-delete-2"_s });
    QVERIFY2(label.match(longer).hasMatch(), qPrintable(longer));
    QVERIFY(longer.size() <= 63);
    QVERIFY(longer != other);
    QCOMPARE(KubeJob::jobName({ u"opsdeck"_s, run, u"verify-dry-run-after-delete"_s }), longer);
}

// When a Job started and ended, what a purge orders its dry runs and deletes by: the container's finishedAt, else the
// Job's completionTime, else (a failed Job has none) its Failed condition's time.
void TestKubeJobState::startAndEndTimes()
{
    const auto at = [](const char* text) { return QDateTime::fromString(QString::fromLatin1(text), Qt::ISODate); };
    const KubeJob::State running = KubeJob::stateOf(
        json(R"({"metadata":{"name":"j","creationTimestamp":"2026-12-05T10:00:00Z"},"status":{"active":1}})"), {});
    QCOMPARE(running.startedAt, at("2026-12-05T10:00:00Z"));
    QVERIFY(!running.endedAt.isValid());
    const KubeJob::State complete = KubeJob::stateOf(
        json(R"({"metadata":{"name":"j","creationTimestamp":"2026-12-05T10:00:00Z"},"status":{"succeeded":1,
            "startTime":"2026-12-05T10:00:02Z","completionTime":"2026-12-05T10:05:09Z",
            "conditions":[{"type":"Complete","status":"True"}]}})"),
        pods({ R"({"metadata":{"name":"j-1"},"status":{"phase":"Succeeded","containerStatuses":[{"name":"job",
            "state":{"terminated":{"exitCode":0,"reason":"Completed","finishedAt":"2026-12-05T10:05:07Z"}}}]}})" }));
    QCOMPARE(complete.startedAt, at("2026-12-05T10:00:02Z"));
    QCOMPARE(complete.endedAt, at("2026-12-05T10:05:07Z"));
    const KubeJob::State failed = KubeJob::stateOf(
        json(R"({"metadata":{"name":"j"},"status":{"failed":1,"startTime":"2026-12-05T10:00:02Z","conditions":[
            {"type":"Failed","status":"True","reason":"BackoffLimitExceeded",
             "lastTransitionTime":"2026-12-05T10:01:00Z"}]}})"),
        {});
    QCOMPARE(failed.endedAt, at("2026-12-05T10:01:00Z"));
}

QTEST_GUILESS_MAIN(TestKubeJobState)
#include "tst_kubejobstate.moc"
