#include "raft/RaftResetOperation.h"

#include "config/NameRules.h"
#include "core/ShellQuote.h"
#include "kube/KubeExec.h"
#include "raft/RaftLogging.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QThread>

namespace opsdeck {

namespace {

const QString kTriggerKey = QStringLiteral("image.openshift.io/triggers");
// The stand-in's pods become Ready within half a second; a real cluster's in tens of seconds. Polling every 250 ms
// costs a GET of the StatefulSet and one of its pods.
constexpr int kPollMs = 250;
// How long a read may go unanswered (a dropped connection, an API server restarting) before recovery gives up.
constexpr int kPatientReadMs = 60000;
// How long the image trigger controller gets to put `latest` back after the annotation is restored.
constexpr int kTriggerWaitMs = 30000;

QString shortImage(const QString& image)
{
    const qsizetype slash = image.lastIndexOf(u'/');
    return slash < 0 ? image : image.mid(slash + 1);
}

// The scripts run in each pod, through `sh -c` so that a missing ./doctor is exit 127 and $SERVICE_DATA_PERM_DIR
// expands. Paths are quoted; they were checked against a strict pattern when planned.
QString indexGetScript(const QString& dir)
{
    return QStringLiteral("./doctor raftIndexGet -d %1 -i 0").arg(ShellQuote::quote(dir + QStringLiteral("/data")));
}

QString resetScript(const QString& dir)
{
    return QStringLiteral("rm -Rf -- %1 && ./doctor raftIndexSet -d %2")
        .arg(ShellQuote::quote(dir + QStringLiteral("/raft")), ShellQuote::quote(dir + QStringLiteral("/data")));
}

QString setScript(const QString& dir)
{
    return QStringLiteral("./doctor raftIndexSet -d %1").arg(ShellQuote::quote(dir + QStringLiteral("/data")));
}

QString listScript(const QString& dir)
{
    return QStringLiteral("ls -- %1").arg(ShellQuote::quote(dir));
}

const QString kDiscoverScript
    = QStringLiteral("echo \"$SERVICE_DATA_PERM_DIR\"; echo \"$SERVICE_DATA_PERM_DIR\"/*/data");

// A strategic-merge patch that sets `container`'s image (containers merge by name).
QJsonObject imagePatch(const QString& container, const QString& image)
{
    return { { QStringLiteral("spec"),
        QJsonObject { { QStringLiteral("template"),
            QJsonObject { { QStringLiteral("spec"),
                QJsonObject { { QStringLiteral("containers"),
                    QJsonArray { QJsonObject {
                        { QStringLiteral("name"), container }, { QStringLiteral("image"), image } } } } } } } } } } };
}

// The DR patch: the trigger annotation removed and the DR image set, in one write so the trigger cannot revert it.
// `resourceVersion`, when given, is its precondition.
QJsonObject drPatch(const QString& container, const QString& drImage, const QString& resourceVersion = {})
{
    QJsonObject metadata { { QStringLiteral("annotations"), QJsonObject { { kTriggerKey, QJsonValue::Null } } } };
    if (!resourceVersion.isEmpty())
        metadata.insert(QStringLiteral("resourceVersion"), resourceVersion);
    QJsonObject patch = imagePatch(container, drImage);
    patch.insert(QStringLiteral("metadata"), metadata);
    return patch;
}

} // namespace

RaftResetOperation::RaftResetOperation(RaftTarget target, QString statefulSet, QString drImage, Options options)
    : m_target(std::move(target))
    , m_name(std::move(statefulSet))
    , m_drImage(std::move(drImage))
    , m_options(options)
{
}

RaftResetOperation::~RaftResetOperation() = default;

std::unique_ptr<RaftResetOperation> RaftResetOperation::recovery(
    RaftTarget target, const QString& runId, const QJsonObject& saved, Options options, QString* error)
{
    auto operation
        = std::make_unique<RaftResetOperation>(std::move(target), saved.value(QStringLiteral("statefulSet")).toString(),
            saved.value(QStringLiteral("drImage")).toString(), options);
    operation->m_recovers = runId;
    operation->m_container = saved.value(QStringLiteral("container")).toString();
    operation->m_image = saved.value(QStringLiteral("image")).toString();
    operation->m_annotation = saved.value(QStringLiteral("annotation")).toString();
    operation->m_hadTrigger = saved.value(QStringLiteral("hadTrigger")).toBool();
    operation->m_imageFollowsTrigger = saved.value(QStringLiteral("imageFollowsTrigger")).toBool();
    operation->m_replicas = saved.value(QStringLiteral("replicas")).toInt(-1);
    for (const QJsonValue& pod : saved.value(QStringLiteral("pods")).toArray()) {
        operation->m_data << PodData { pod.toObject().value(QStringLiteral("pod")).toString(),
            pod.toObject().value(QStringLiteral("dir")).toString() };
    }
    QString problem;
    if (operation->m_replicas < 1 || operation->m_container.isEmpty() || operation->m_image.isEmpty()
        || operation->m_data.size() != operation->m_replicas)
        problem = QStringLiteral("its plan does not hold the saved replicas, container, image and pods");
    else if (const QString imageProblem = imageReferenceError(operation->m_drImage); !imageProblem.isEmpty())
        problem = imageProblem;
    if (!problem.isEmpty()) {
        *error = QStringLiteral("cannot recover run %1: %2").arg(runId, problem);
        return nullptr;
    }
    return operation;
}

QString RaftResetOperation::imageReferenceError(const QString& image)
{
    // registry[:port]/path...(@sha256:<64 hex>|:tag), the forms a pod spec names an image by.
    static const QRegularExpression reference(
        QStringLiteral("\\A[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+"
                       "(?:@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})\\z"));
    if (reference.match(image).hasMatch())
        return {};
    return QStringLiteral("--dr-image %1 is not an image reference: use registry/path@sha256:<64 hex digits> (or "
                          "registry/path:tag), e.g. "
                          "image-registry.openshift-image-registry.svc:5000/fg/jerriedr@sha256:b2aa...")
        .arg(NameRules::quoted(image));
}

QString RaftResetOperation::readOnlyError(const RaftTarget& target)
{
    return QStringLiteral("cluster %1 is read-only in the inventory: opsdeck never resets a RAFT there; nothing was "
                          "touched")
        .arg(target.cluster.name);
}

bool RaftResetOperation::connect(QString* error)
{
    if (!m_client) {
        m_client = std::make_unique<KubeClient>(m_target.kube);
        m_exec = std::make_unique<KubeExec>(m_target.kube);
    }
    return m_client->ready(error) && m_exec->ready(error);
}

bool RaftResetOperation::makePlan(Plan* plan, QString* error)
{
    if (const QString problem = NameRules::dnsLabelError(QStringLiteral("--statefulset"), m_name); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (const QString problem = imageReferenceError(m_drImage); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_target.cluster.tags.readOnly) {
        *error = readOnlyError(m_target);
        return false;
    }
    if (!connect(error))
        return false;
    return m_recovers.isEmpty() ? planReset(plan, error) : planRecovery(plan, error);
}

bool RaftResetOperation::planReset(Plan* plan, QString* error)
{
    const QString where = QStringLiteral("StatefulSet %1/%2 on %3").arg(m_target.ns, m_name, m_target.cluster.name);
    QString problem;
    const QString user = m_client->whoAmI(&problem);
    if (user.isEmpty()) {
        *error = QStringLiteral("%1: cannot tell who the token is: %2").arg(where, problem);
        return false;
    }
    const auto statefulSet = RaftQueries::statefulSet(*m_client, m_target.ns, m_name, &problem);
    if (!statefulSet) {
        *error = problem;
        return false;
    }
    const auto pods = RaftQueries::pods(*m_client, m_target.ns, *statefulSet, &problem);
    if (!pods) {
        *error = problem;
        return false;
    }
    if (statefulSet->image == m_drImage) {
        *error
            = QStringLiteral("%1 already runs the DR image %2%3: a reset may have been left unfinished. See `opsdeck "
                             "journal unfinished` and recover that run instead of starting another.")
                  .arg(where, shortImage(m_drImage),
                      statefulSet->hasTrigger ? QString() : QStringLiteral(" and has no image trigger annotation"));
        return false;
    }
    if (statefulSet->desiredReplicas < 1) {
        *error = QStringLiteral("%1 is scaled to 0: the reset runs in its pods; scale it up first").arg(where);
        return false;
    }
    int serving = 0;
    for (const PodRow& pod : *pods)
        serving += pod.runningAndReady() && pod.revision == statefulSet->updateRevision ? 1 : 0;
    if (statefulSet->updateRevision != statefulSet->currentRevision || serving != statefulSet->desiredReplicas
        || pods->size() != statefulSet->desiredReplicas) {
        *error = QStringLiteral("%1 is not settled: %2 of %3 pods are Running and Ready on the current revision "
                                "(%4 pods, revision %5 → %6). Wait until its rollout is done, then plan again.")
                     .arg(where)
                     .arg(serving)
                     .arg(statefulSet->desiredReplicas)
                     .arg(pods->size())
                     .arg(statefulSet->currentRevision, statefulSet->updateRevision);
        return false;
    }

    // Each pod's own data directory, read in the pod: never the runbook's one hard-coded directory.
    m_data.clear();
    QStringList dataLines;
    for (const PodRow& pod : *pods) {
        const ExecAnswer answer = shell(pod.name, kDiscoverScript);
        const QStringList lines = answer.out.split(u'\n', Qt::SkipEmptyParts);
        const QString base = lines.value(0).trimmed();
        const QStringList found = lines.value(1).split(u' ', Qt::SkipEmptyParts);
        QString dir = found.value(0);
        dir.chop(QStringLiteral("/data").size());
        static const QRegularExpression safePath(QStringLiteral("\\A(/[A-Za-z0-9._-]+)+\\z"));
        if (!answer.ran || answer.exitCode != 0) {
            problem = answer.ran ? answer.err.trimmed() : answer.problem;
        } else if (base.isEmpty()) {
            problem
                = QStringLiteral("SERVICE_DATA_PERM_DIR is not set in its container %1").arg(statefulSet->container);
        } else if (found.size() != 1 || !found.first().endsWith(QStringLiteral("/data"))
            || found.first().contains(u'*')) {
            problem = QStringLiteral("expected one data directory under %1, found: %2")
                          .arg(base, lines.value(1).trimmed().isEmpty() ? QStringLiteral("none") : lines.value(1));
        } else if (!safePath.match(dir).hasMatch() || !NameRules::isStrictlyUnder(dir, base)) {
            problem = QStringLiteral("its data directory %1 is not a plain path under %2").arg(found.first(), base);
        }
        if (!problem.isEmpty()) {
            *error = QStringLiteral("%1: reading the data directory of pod %2 failed: %3; nothing was changed")
                         .arg(where, pod.name, problem);
            return false;
        }
        m_data << PodData { pod.name, dir };
        dataLines << QStringLiteral("%1: %2/data (image %3)").arg(pod.name, dir, shortImage(pod.imageId));
    }

    m_container = statefulSet->container;
    m_image = statefulSet->image;
    m_annotation = statefulSet->triggerAnnotation;
    m_hadTrigger = statefulSet->hasTrigger;
    m_replicas = statefulSet->desiredReplicas;
    m_resourceVersion = statefulSet->resourceVersion;
    m_imageFollowsTrigger = false;
    QString latest;
    for (const ImageTrigger& trigger : statefulSet->triggers) {
        if (trigger.container != m_container || trigger.paused)
            continue;
        const auto image = RaftQueries::triggerImage(*m_client, m_target.ns, trigger, &problem);
        if (!image) {
            *error = QStringLiteral("%1: reading what %2 resolves to failed: %3").arg(where, trigger.tag, problem);
            return false;
        }
        m_imageFollowsTrigger = true;
        latest = *image;
    }

    // The DR patch, validated by the API server without being applied. A 409 means the StatefulSet was written
    // since it was read: the plan reads it again, and refuses if what it saves changed.
    QByteArray dryRunPatch;
    for (int attempt = 0;; ++attempt) {
        dryRunPatch = QJsonDocument(drPatch(m_container, m_drImage, m_resourceVersion)).toJson(QJsonDocument::Compact);
        const KubeResponse dryRun = m_client->patch(
            KubeClient::statefulSetPath(m_target.ns, m_name), KubePatch::StrategicMerge, dryRunPatch, true);
        if (dryRun.ok())
            break;
        const auto again = dryRun.reason == QStringLiteral("Conflict") && attempt < 3
            ? RaftQueries::statefulSet(*m_client, m_target.ns, m_name, &problem)
            : std::nullopt;
        if (!again || again->image != m_image || again->triggerAnnotation != m_annotation
            || again->desiredReplicas != m_replicas) {
            *error = QStringLiteral("%1: the API server refused the DR patch in a dry run: %2")
                         .arg(where,
                             again ? QStringLiteral("the StatefulSet changed while it was planned; plan again")
                                   : dryRun.message);
            return false;
        }
        m_resourceVersion = again->resourceVersion;
    }

    QJsonArray podList;
    for (int i = 0; i < m_data.size(); ++i) {
        podList << QJsonObject { { QStringLiteral("pod"), m_data[i].pod }, { QStringLiteral("dir"), m_data[i].dir },
            { QStringLiteral("imageId"), pods->at(i).imageId } };
    }
    plan->operation = name();
    plan->target = QStringLiteral("%1/%2/%3").arg(m_target.cluster.name, m_target.ns, m_name);
    plan->targetName = m_name;
    plan->verb = QStringLiteral("Reset RAFT");
    plan->production = m_target.cluster.tags.production;
    plan->readOnly = m_target.cluster.tags.readOnly;
    plan->irreversible = true;
    plan->parameters = { { QStringLiteral("cluster"), m_target.cluster.name },
        { QStringLiteral("namespace"), m_target.ns }, { QStringLiteral("statefulSet"), m_name },
        { QStringLiteral("drImage"), m_drImage }, { QStringLiteral("container"), m_container },
        { QStringLiteral("image"), m_image }, { QStringLiteral("annotation"), m_annotation },
        { QStringLiteral("hadTrigger"), m_hadTrigger },
        { QStringLiteral("imageFollowsTrigger"), m_imageFollowsTrigger }, { QStringLiteral("latestImage"), latest },
        { QStringLiteral("replicas"), m_replicas }, { QStringLiteral("resourceVersion"), m_resourceVersion },
        { QStringLiteral("pods"), podList }, { QStringLiteral("kubeUser"), user },
        { QStringLiteral("podTimeoutSeconds"), m_options.podTimeoutSeconds } };
    plan->counts << Plan::Count { QStringLiteral("pods"), QStringLiteral("Pods restarted"), m_replicas,
        QStringLiteral("Planned: the StatefulSet's replicas, each restarted. Before and after: its pods.") }
                 << Plan::Count { QStringLiteral("raftDirectories"), QStringLiteral("RAFT directories deleted"),
                        m_replicas, QStringLiteral("One per pod: the RAFT log and snapshots the reset clears.") };
    plan->measures << Plan::Measure { QStringLiteral("readyPods"), QStringLiteral("Ready pods"),
        QStringLiteral("Pods whose containers all report ready.") };

    const QString sts = KubeClient::statefulSetPath(m_target.ns, m_name);
    plan->steps << Plan::Step { QStringLiteral("check"),
        QStringLiteral("Check that %1 is as planned and save its annotation and image").arg(m_name),
        QStringLiteral("GET %1").arg(sts),
        QStringLiteral("same generation, replicas, image and trigger annotation as planned") };
    plan->steps << Plan::Step { QStringLiteral("dr-image"),
        QStringLiteral("Remove the image trigger and switch container %1 to the DR image").arg(m_container),
        QStringLiteral("PATCH %1 (strategic merge) %2").arg(sts, QString::fromUtf8(dryRunPatch)),
        QStringLiteral("one patch, so the trigger cannot revert the image; refused if the StatefulSet changed since "
                       "it was read") };
    plan->steps << Plan::Step { QStringLiteral("rollout-dr"), QStringLiteral("Wait until every pod runs the DR image"),
        QStringLiteral("GET %1 and its pods every %2 ms").arg(sts).arg(kPollMs),
        QStringLiteral("kubectl rollout status, and each of the %1 pods Running, Ready, on the new revision and the DR "
                       "image")
            .arg(m_replicas) };
    for (const PodData& data : std::as_const(m_data)) {
        plan->steps << Plan::Step { QStringLiteral("reset-") + data.pod,
            QStringLiteral("Reset the RAFT of %1").arg(data.pod),
            QStringLiteral("%1\n%2\n%3")
                .arg(execCommandText(data.pod, indexGetScript(data.dir)),
                    execCommandText(data.pod, resetScript(data.dir)),
                    execCommandText(data.pod, indexGetScript(data.dir))),
            QStringLiteral("the index read after raftIndexSet differs from the one read before (or already is the one "
                           "every node gets)") };
    }
    plan->steps << Plan::Step { QStringLiteral("scale-down"), QStringLiteral("Scale %1 to 0").arg(m_name),
        QStringLiteral("PATCH %1/scale (merge) {\"spec\":{\"replicas\":0}}").arg(sts),
        QStringLiteral("no pod matches %1 any more").arg(KubeClient::labelSelector(statefulSet->matchLabels)) };
    plan->steps << Plan::Step { QStringLiteral("restore-trigger"),
        m_hadTrigger ? QStringLiteral("Restore the image trigger annotation byte for byte")
                     : QStringLiteral("Set container %1 back to its image").arg(m_container),
        m_hadTrigger
            ? QStringLiteral("PATCH %1 (strategic merge) {\"metadata\":{\"annotations\":{\"%2\":%3}}}")
                  .arg(sts, kTriggerKey,
                      QString::fromUtf8(
                          QJsonDocument(QJsonArray { m_annotation }).toJson(QJsonDocument::Compact).mid(1).chopped(1)))
            : QStringLiteral("PATCH %1 (strategic merge) image %2").arg(sts, m_image),
        m_imageFollowsTrigger
            ? QStringLiteral("the annotation reads back identical and the trigger sets the image to %1").arg(latest)
            : QStringLiteral("the annotation reads back identical and the image is %1").arg(m_image) };
    plan->steps << Plan::Step { QStringLiteral("scale-up"),
        QStringLiteral("Scale %1 back to %2").arg(m_name).arg(m_replicas),
        QStringLiteral("PATCH %1/scale (merge) {\"spec\":{\"replicas\":%2}}").arg(sts).arg(m_replicas),
        QStringLiteral("pods %1-0 … %1-%2 Running and Ready in order, on the new revision")
            .arg(m_name)
            .arg(m_replicas - 1) };
    plan->steps << Plan::Step { QStringLiteral("verify"), QStringLiteral("Check that each node recreated its RAFT"),
        QStringLiteral("GET %1 and its pods; in each pod: %2").arg(sts, listScript(QStringLiteral("DIR"))),
        QStringLiteral("every pod serving, and a raft directory in each pod's data again") };

    plan->warnings << QStringLiteral("The service is down from the DR rollout until the last pod is Ready again: %1 "
                                     "pods restart twice.")
                          .arg(m_replicas);
    if (m_imageFollowsTrigger) {
        plan->warnings << (latest == m_image
                ? QStringLiteral("Restoring the annotation sets the image to %1 (latest), which is what runs now.")
                      .arg(shortImage(latest))
                : QStringLiteral("Restoring the annotation sets the image to %1 (latest), not the %2 running now.")
                      .arg(shortImage(latest), shortImage(m_image)));
    } else {
        plan->warnings << (m_hadTrigger
                ? QStringLiteral("The trigger annotation does not follow container %1 (%2): "
                                 "the image is set back to %3 explicitly.")
                      .arg(m_container,
                          statefulSet->triggerError.isEmpty() ? QStringLiteral("paused") : statefulSet->triggerError,
                          shortImage(m_image))
                : QStringLiteral("%1 has no image trigger annotation: the image is set back to "
                                 "%2 explicitly.")
                      .arg(m_name, shortImage(m_image)));
    }
    plan->warnings << QStringLiteral("The service is scaled back to %1 replicas at the end (the runbook never says "
                                     "to).")
                          .arg(m_replicas);
    plan->warnings << QStringLiteral("Each node's own data directory is reset, not the runbook's "
                                     "/var/data/single/permie-2-server-0 for every node.");
    plan->details = { { QStringLiteral("pods"), podList }, { QStringLiteral("annotation"), m_annotation } };
    plan->detailText = QStringLiteral("Signed in as %1.\nRunning image: %2\nDR image: %3\nTrigger annotation: %4\n"
                                      "Pods and their data:\n  %5")
                           .arg(user, m_image, m_drImage, m_hadTrigger ? m_annotation : QStringLiteral("(none)"),
                               dataLines.join(u"\n  "));
    return true;
}

bool RaftResetOperation::planRecovery(Plan* plan, QString* error)
{
    QString problem;
    const QString user = m_client->whoAmI(&problem);
    if (user.isEmpty()) {
        *error = QStringLiteral("cannot tell who the token for %1 is: %2").arg(m_target.cluster.name, problem);
        return false;
    }
    const QString sts = KubeClient::statefulSetPath(m_target.ns, m_name);
    plan->operation = name();
    plan->target = QStringLiteral("%1/%2/%3").arg(m_target.cluster.name, m_target.ns, m_name);
    plan->targetName = m_name;
    plan->verb = QStringLiteral("Recover");
    plan->production = m_target.cluster.tags.production;
    plan->readOnly = m_target.cluster.tags.readOnly;
    plan->irreversible = false;
    QJsonArray podList;
    for (const PodData& data : std::as_const(m_data))
        podList << QJsonObject { { QStringLiteral("pod"), data.pod }, { QStringLiteral("dir"), data.dir } };
    plan->parameters = { { QStringLiteral("cluster"), m_target.cluster.name },
        { QStringLiteral("namespace"), m_target.ns }, { QStringLiteral("statefulSet"), m_name },
        { QStringLiteral("drImage"), m_drImage }, { QStringLiteral("container"), m_container },
        { QStringLiteral("image"), m_image }, { QStringLiteral("annotation"), m_annotation },
        { QStringLiteral("hadTrigger"), m_hadTrigger },
        { QStringLiteral("imageFollowsTrigger"), m_imageFollowsTrigger }, { QStringLiteral("replicas"), m_replicas },
        { QStringLiteral("pods"), podList }, { QStringLiteral("kubeUser"), user },
        { QStringLiteral("podTimeoutSeconds"), m_options.podTimeoutSeconds } };
    plan->counts << Plan::Count { QStringLiteral("pods"), QStringLiteral("Pods"), m_replicas,
        QStringLiteral("The StatefulSet's replicas.") };
    plan->measures << Plan::Measure { QStringLiteral("readyPods"), QStringLiteral("Ready pods"),
        QStringLiteral("Pods whose containers all report ready.") };
    plan->steps << Plan::Step { QStringLiteral("observe"),
        QStringLiteral("Read %1, its pods and their RAFT data").arg(m_name),
        QStringLiteral("GET %1 and its pods; in each pod on the DR image: %2")
            .arg(sts, listScript(QStringLiteral("DIR"))),
        QStringLiteral("decides: finish the reset when a node's RAFT is gone, else put the service back as it was") };
    plan->steps << Plan::Step { QStringLiteral("restore-trigger"),
        m_hadTrigger ? QStringLiteral("Put the image trigger annotation back byte for byte")
                     : QStringLiteral("Put the image back"),
        QStringLiteral("PATCH %1 (strategic merge), only if it differs").arg(sts),
        QStringLiteral("the annotation reads back identical; the image is no longer the DR image") };
    plan->steps << Plan::Step { QStringLiteral("scale-up"),
        QStringLiteral("Delete pods stuck on a broken template, scale %1 to %2 and wait").arg(m_name).arg(m_replicas),
        QStringLiteral("DELETE stuck pods; PATCH %1/scale, only if it differs").arg(sts),
        QStringLiteral("%1 pods Running and Ready on the update revision").arg(m_replicas) };
    for (const Plan::Step& step : std::as_const(plan->steps))
        m_planSteps << step.id;
    plan->warnings << QStringLiteral("Recovery ends with the trigger annotation as run %1 saved it and %2 replicas "
                                     "serving; it finishes the RAFT reset of every node if any node's RAFT was "
                                     "already deleted.")
                          .arg(m_recovers)
                          .arg(m_replicas);
    plan->detailText = QStringLiteral("Saved by run %1:\nImage: %2\nTrigger annotation: %3\nReplicas: %4")
                           .arg(m_recovers, m_image, m_hadTrigger ? m_annotation : QStringLiteral("(none)"))
                           .arg(m_replicas);
    return true;
}

bool RaftResetOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    context.setCancelHook([http = m_client->abortHandle(), exec = m_exec->abortHandle()] {
        http->abort();
        exec->abort();
    });
    const bool ok = m_recovers.isEmpty() ? runReset(context) : recover(context, {});
    context.setCancelHook({});
    return ok;
}

QString RaftResetOperation::execCommandText(const QString& pod, const QString& script) const
{
    return QStringLiteral("exec %1 -c %2 -- sh -c %3").arg(pod, m_container, ShellQuote::quote(script));
}

RaftResetOperation::ExecAnswer RaftResetOperation::shell(const QString& pod, const QString& script, int timeoutMs)
{
    const KubeExecResult result = m_exec->run(m_target.ns, pod, m_container.isEmpty() ? QString() : m_container,
        { QStringLiteral("sh"), QStringLiteral("-c"), script }, timeoutMs);
    ExecAnswer answer;
    answer.ran = result.outcome == KubeExecResult::Outcome::Exited;
    answer.exitCode = result.exitCode;
    answer.out = QString::fromUtf8(result.standardOutput);
    answer.err = QString::fromUtf8(result.standardError);
    answer.problem = result.message;
    return answer;
}

std::optional<qint64> RaftResetOperation::raftIndex(const PodData& data, QString* error)
{
    const ExecAnswer answer = shell(data.pod, indexGetScript(data.dir));
    bool ok = false;
    const qint64 index = answer.out.trimmed().toLongLong(&ok);
    if (answer.ran && answer.exitCode == 0 && ok)
        return index;
    *error = !answer.ran ? answer.problem
        : answer.exitCode != 0
        ? QStringLiteral("raftIndexGet exited with %1: %2").arg(answer.exitCode).arg(answer.err.trimmed())
        : QStringLiteral("raftIndexGet printed %1, not an index").arg(NameRules::quoted(answer.out.trimmed()));
    return std::nullopt;
}

std::optional<StatefulSetRow> RaftResetOperation::readStatefulSet(QString* error, bool patient)
{
    QDeadlineTimer deadline(patient ? kPatientReadMs : 0);
    for (;;) {
        const KubeResponse response = m_client->get(KubeClient::statefulSetPath(m_target.ns, m_name));
        if (response.ok())
            return RaftQueries::statefulSetRow(response.object);
        *error = response.message;
        if (!response.unanswered() || deadline.hasExpired())
            return std::nullopt;
        QThread::msleep(1000);
    }
}

std::optional<QList<PodRow>> RaftResetOperation::readPods(
    const StatefulSetRow& statefulSet, QString* error, bool patient)
{
    QDeadlineTimer deadline(patient ? kPatientReadMs : 0);
    for (;;) {
        if (auto pods = RaftQueries::pods(*m_client, m_target.ns, statefulSet, error))
            return pods;
        if (deadline.hasExpired())
            return std::nullopt;
        QThread::msleep(1000);
    }
}

bool RaftResetOperation::pollUntil(
    RunContext& context, bool inRecovery, const std::function<Poll(QString* status)>& check, QString* error)
{
    // Fails when nothing moved for a pod's timeout: a pod that never gets Ready stops a rollout for ever.
    const qint64 stallMs = qint64(m_options.podTimeoutSeconds) * 1000;
    QElapsedTimer sinceProgress;
    sinceProgress.start();
    int lastProgress = -1;
    QString lastStatus;
    for (;;) {
        if (!inRecovery && context.cancelled()) {
            *error = QStringLiteral("cancelled");
            return false;
        }
        QString status;
        const Poll poll = check(&status);
        if (poll.state == Poll::Done) {
            context.output(status);
            return true;
        }
        if (poll.state == Poll::Failed) {
            *error = status;
            return false;
        }
        if (status != lastStatus)
            context.output(status);
        lastStatus = status;
        if (poll.progress != lastProgress) {
            lastProgress = poll.progress;
            sinceProgress.restart();
        } else if (sinceProgress.elapsed() > stallMs) {
            *error = QStringLiteral("no progress for %1 s: %2").arg(m_options.podTimeoutSeconds).arg(status);
            return false;
        }
        QThread::msleep(kPollMs);
    }
}

RaftResetOperation::Poll RaftResetOperation::servingState(const QString& image, int replicas, QString* status)
{
    QString error;
    const auto statefulSet = readStatefulSet(&error, true);
    const auto pods = statefulSet ? readPods(*statefulSet, &error, true) : std::nullopt;
    if (!pods) {
        *status = error;
        return { Poll::Failed, 0 };
    }
    int serving = 0;
    QStringList waiting;
    for (const PodRow& pod : *pods) {
        const bool ok = pod.runningAndReady() && pod.revision == statefulSet->updateRevision && pod.image == image;
        serving += ok ? 1 : 0;
        if (!ok) {
            waiting << QStringLiteral("%1 %2%3%4")
                           .arg(pod.name, pod.terminating ? QStringLiteral("Terminating") : pod.phase,
                               pod.ready ? QString() : QStringLiteral(", not Ready"),
                               pod.image == image ? QString() : QStringLiteral(", image ") + shortImage(pod.image));
        }
    }
    // kubectl's rollout status for a StatefulSet, and every pod on the new revision, Ready, with the image.
    const bool seen = statefulSet->observedGeneration > 0 && statefulSet->observedGeneration >= statefulSet->generation;
    const bool done = seen && statefulSet->image == image && statefulSet->desiredReplicas == replicas
        && statefulSet->readyReplicas >= replicas && statefulSet->updatedReplicas >= replicas - statefulSet->partition
        && serving == replicas && pods->size() == replicas;
    *status = QStringLiteral("%1 of %2 pods serving %3 on revision %4%5")
                  .arg(serving)
                  .arg(replicas)
                  .arg(shortImage(image), statefulSet->updateRevision,
                      waiting.isEmpty() ? QString()
                                        : QStringLiteral("; waiting for ") + waiting.join(QStringLiteral(", ")));
    return { done ? Poll::Done : Poll::Waiting, serving };
}

bool RaftResetOperation::patchStatefulSet(
    const QJsonObject& patch, const std::function<bool(const StatefulSetRow&)>& stillAsExpected, QString* error)
{
    // A resourceVersion precondition: a 409 means someone wrote in between; re-read, and apply again only while
    // the StatefulSet is still what this step expects.
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto statefulSet = readStatefulSet(error, true);
        if (!statefulSet)
            return false;
        if (!stillAsExpected(*statefulSet)) {
            *error = QStringLiteral("%1 changed since it was planned (generation %2, image %3, %4 replicas); nothing "
                                    "was written")
                         .arg(m_name)
                         .arg(statefulSet->generation)
                         .arg(shortImage(statefulSet->image))
                         .arg(statefulSet->desiredReplicas);
            return false;
        }
        QJsonObject body = patch;
        QJsonObject metadata = body.value(QStringLiteral("metadata")).toObject();
        metadata.insert(QStringLiteral("resourceVersion"), statefulSet->resourceVersion);
        body.insert(QStringLiteral("metadata"), metadata);
        const KubeResponse response = m_client->patch(KubeClient::statefulSetPath(m_target.ns, m_name),
            KubePatch::StrategicMerge, QJsonDocument(body).toJson(QJsonDocument::Compact));
        if (response.ok())
            return true;
        *error = response.message;
        if (response.reason != QStringLiteral("Conflict"))
            return false;
        qCInfo(lcRaft) << "conflict patching" << m_name << "; reading it again";
    }
    return false;
}

bool RaftResetOperation::scaleTo(RunContext& context, int replicas, bool inRecovery, QString* error)
{
    const auto current = readStatefulSet(error, true);
    if (!current)
        return false;
    // A recovery writes only what differs.
    const KubeResponse response = current->desiredReplicas == replicas
        ? KubeResponse { 200, {}, {}, {} }
        : m_client->patch(KubeClient::scalePath(m_target.ns, m_name), KubePatch::Merge,
            QJsonDocument(
                QJsonObject { { QStringLiteral("spec"), QJsonObject { { QStringLiteral("replicas"), replicas } } } })
                .toJson(QJsonDocument::Compact));
    if (!response.ok() && !response.unanswered()) {
        *error = response.message;
        return false;
    }
    // Unanswered: whether it took is read below, not assumed.
    if (replicas == 0) {
        return pollUntil(
            context, inRecovery,
            [&](QString* status) -> Poll {
                QString problem;
                const auto statefulSet = readStatefulSet(&problem, true);
                const auto pods = statefulSet ? readPods(*statefulSet, &problem, true) : std::nullopt;
                if (!pods) {
                    *status = problem;
                    return { Poll::Failed, 0 };
                }
                if (statefulSet->desiredReplicas != 0) {
                    *status
                        = QStringLiteral("%1 still asks for %2 replicas").arg(m_name).arg(statefulSet->desiredReplicas);
                    return { Poll::Failed, 0 };
                }
                QStringList left;
                for (const PodRow& pod : *pods)
                    left << pod.name + (pod.terminating ? QStringLiteral(" (terminating)") : QString());
                *status = left.isEmpty()
                    ? QStringLiteral("no pod left")
                    : QStringLiteral("%1 pods left: %2").arg(left.size()).arg(left.join(QStringLiteral(", ")));
                return { left.isEmpty() ? Poll::Done : Poll::Waiting, m_replicas - int(left.size()) };
            },
            error);
    }
    return pollUntil(
        context, inRecovery, [&](QString* status) { return servingState(m_latestImage, replicas, status); }, error);
}

bool RaftResetOperation::restoreTrigger(RunContext& context, bool inRecovery, QString* error)
{
    if (m_hadTrigger) {
        const auto current = readStatefulSet(error, true);
        if (!current)
            return false;
        if (current->triggerAnnotation != m_annotation || !current->hasTrigger) {
            const QJsonObject patch { { QStringLiteral("metadata"),
                QJsonObject { { QStringLiteral("annotations"), QJsonObject { { kTriggerKey, m_annotation } } } } } };
            // Whatever else changed meanwhile, the saved annotation goes back.
            if (!patchStatefulSet(
                    patch, [](const StatefulSetRow&) { return true; }, error))
                return false;
        }
        const auto restored = readStatefulSet(error, true);
        if (!restored)
            return false;
        if (!restored->hasTrigger || restored->triggerAnnotation != m_annotation) {
            *error = QStringLiteral("the trigger annotation read back differs from the saved one: %1")
                         .arg(NameRules::quoted(restored->triggerAnnotation));
            return false;
        }
        context.output(QStringLiteral("annotation restored byte for byte: %1").arg(m_annotation));
    }
    // The trigger controller sets the image to the tag's latest; without a trigger that follows the container (or
    // when the controller does not act), the image is set here: the tag's latest, else the saved image.
    QString target = m_image;
    if (m_imageFollowsTrigger) {
        QDeadlineTimer deadline(kTriggerWaitMs);
        while (!deadline.hasExpired()) {
            const auto statefulSet = readStatefulSet(error, true);
            if (!statefulSet)
                return false;
            if (statefulSet->image != m_drImage) {
                m_latestImage = statefulSet->image;
                context.output(QStringLiteral("the image trigger set the image to %1").arg(m_latestImage));
                return true;
            }
            if (!inRecovery && context.cancelled())
                break;
            QThread::msleep(kPollMs);
        }
        const auto statefulSet = readStatefulSet(error, true);
        if (!statefulSet)
            return false;
        for (const ImageTrigger& trigger : statefulSet->triggers) {
            if (trigger.container == m_container && !trigger.paused) {
                QString problem;
                if (const auto latest = RaftQueries::triggerImage(*m_client, m_target.ns, trigger, &problem))
                    target = *latest;
            }
        }
        context.output(QStringLiteral("the image trigger did not set the image within %1 s; setting it to %2")
                           .arg(kTriggerWaitMs / 1000)
                           .arg(target));
    }
    const auto statefulSet = readStatefulSet(error, true);
    if (!statefulSet)
        return false;
    if (statefulSet->image != m_drImage) {
        m_latestImage = statefulSet->image;
        return true;
    }
    const QJsonObject patch = imagePatch(m_container, target);
    if (!patchStatefulSet(
            patch, [](const StatefulSetRow&) { return true; }, error))
        return false;
    m_latestImage = target;
    return true;
}

bool RaftResetOperation::deleteStuckPods(RunContext& context, QString* error)
{
    // A pod created from a broken template never gets Ready, and under OrderedReady the controller waits for it
    // for ever, even once the template is fixed (kubernetes#67250): it must be deleted to be made again.
    const auto statefulSet = readStatefulSet(error, true);
    const auto pods = statefulSet ? readPods(*statefulSet, error, true) : std::nullopt;
    if (!pods)
        return false;
    for (const PodRow& pod : *pods) {
        if (pod.runningAndReady() || pod.terminating || pod.revision == statefulSet->updateRevision)
            continue;
        const KubeResponse response = m_client->remove(KubeClient::podPath(m_target.ns, pod.name));
        if (!response.ok() && response.reason != QStringLiteral("NotFound")) {
            *error = QStringLiteral("deleting pod %1, stuck on revision %2, failed: %3")
                         .arg(pod.name, pod.revision, response.message);
            return false;
        }
        context.output(QStringLiteral("deleted pod %1: not Ready on the old revision %2 (kubernetes#67250)")
                           .arg(pod.name, pod.revision));
    }
    return true;
}

bool RaftResetOperation::resetPod(RunContext& context, const PodData& data, bool raftPresent, QString* error)
{
    QJsonObject node { { QStringLiteral("pod"), data.pod },
        { QStringLiteral("dataDir"), data.dir + QStringLiteral("/data") } };
    std::optional<qint64> before;
    if (raftPresent) {
        before = raftIndex(data, error);
        if (!before) {
            *error = QStringLiteral("reading the RAFT index of %1 failed: %2").arg(data.pod, *error);
            return false;
        }
        node.insert(QStringLiteral("indexBefore"), *before);
        context.output(QStringLiteral("%1: index %2").arg(data.pod).arg(*before));
    }
    m_nodes.insert(data.pod, node);
    const ExecAnswer reset = shell(data.pod, raftPresent ? resetScript(data.dir) : setScript(data.dir));
    if (!reset.ran || reset.exitCode != 0) {
        *error = !reset.ran ? QStringLiteral("resetting the RAFT of %1: %2").arg(data.pod, reset.problem)
                            : QStringLiteral("resetting the RAFT of %1 exited with %2: %3")
                                  .arg(data.pod)
                                  .arg(reset.exitCode)
                                  .arg(reset.err.trimmed());
        return false;
    }
    context.output(QStringLiteral("%1: %2").arg(data.pod, reset.out.trimmed()));
    const auto after = raftIndex(data, error);
    if (!after) {
        *error = QStringLiteral("reading the RAFT index of %1 after the reset failed: %2").arg(data.pod, *error);
        return false;
    }
    node.insert(QStringLiteral("indexAfterReset"), *after);
    m_nodes.insert(data.pod, node);
    // raftIndexSet writes one value on every node. An index that did not change is that value already (a node
    // reset before that took no proposal since) only if it is what the other nodes get; until one changes, the
    // unchanged ones wait for the comparison (checkResetIndexes).
    const bool unchanged = before && *after == *before;
    if (m_resetIndex && *after != *m_resetIndex) {
        *error = unchanged ? QStringLiteral("the RAFT index of %1 is still %2 after raftIndexSet, while the other "
                                            "nodes were set to %3")
                                 .arg(data.pod)
                                 .arg(*after)
                                 .arg(*m_resetIndex)
                           : QStringLiteral("raftIndexSet set %1 to %2, the other nodes to %3")
                                 .arg(data.pod)
                                 .arg(*after)
                                 .arg(*m_resetIndex);
        return false;
    }
    if (unchanged) {
        node.insert(QStringLiteral("unchanged"), true);
        m_nodes.insert(data.pod, node);
        context.output(QStringLiteral("%1: index unchanged at %2: already reset, if the other nodes get %2 too")
                           .arg(data.pod)
                           .arg(*after));
        return true;
    }
    if (!m_resetIndex) {
        m_resetIndex = *after;
        if (!checkResetIndexes(error))
            return false;
    }
    context.output(QStringLiteral("%1: index %2 → %3")
                       .arg(data.pod, before ? QString::number(*before) : QStringLiteral("(reset earlier)"))
                       .arg(*after));
    return true;
}

bool RaftResetOperation::checkResetIndexes(QString* error) const
{
    // Every node reset so far holds the same index: the one raftIndexSet wrote where it changed something, or, when
    // nothing changed anywhere, the one they all had.
    std::optional<qint64> common = m_resetIndex;
    for (const PodData& data : std::as_const(m_data)) {
        const QJsonObject node = m_nodes.value(data.pod);
        if (!node.contains(QStringLiteral("indexAfterReset")))
            continue;
        const qint64 index = node.value(QStringLiteral("indexAfterReset")).toInteger();
        if (!common)
            common = index;
        if (index != *common) {
            *error = QStringLiteral("the RAFT index of %1 is %2 after the reset, other nodes hold %3: raftIndexSet "
                                    "did not take on every node")
                         .arg(data.pod)
                         .arg(index)
                         .arg(*common);
            return false;
        }
    }
    return true;
}

bool RaftResetOperation::step(RunContext& context, const QString& id, const std::function<bool(QString*)>& action)
{
    context.begin(id);
    return finishStep(context, action);
}

bool RaftResetOperation::finishStep(RunContext& context, const std::function<bool(QString*)>& action)
{
    QString error;
    if (action(&error)) {
        context.succeed();
        return true;
    }
    context.fail(error);
    m_failure = error;
    return false;
}

bool RaftResetOperation::recoveryStep(RunContext& context,
    const QString& id,
    const QString& title,
    const QString& command,
    const std::function<bool(QString*)>& action)
{
    // `opsdeck recover` planned some of these; the run's own recovery planned none.
    if (m_planSteps.contains(id))
        return step(context, id, action);
    context.beginRecovery(id, title, command);
    return finishStep(context, action);
}

bool RaftResetOperation::runReset(RunContext& context)
{
    context.note(QStringLiteral("saved"),
        { { QStringLiteral("annotation"), m_annotation }, { QStringLiteral("image"), m_image },
            { QStringLiteral("container"), m_container }, { QStringLiteral("replicas"), m_replicas } });
    const auto asPlanned = [this](const StatefulSetRow& row) {
        return row.image == m_image && row.triggerAnnotation == m_annotation && row.hasTrigger == m_hadTrigger
            && row.desiredReplicas == m_replicas && row.container == m_container;
    };
    const bool checked = step(context, QStringLiteral("check"), [&](QString* error) {
        const auto statefulSet = readStatefulSet(error, false);
        if (!statefulSet)
            return false;
        if (!asPlanned(*statefulSet)) {
            *error = QStringLiteral("%1 changed since the plan (image %2, %3 replicas, trigger %4); plan again")
                         .arg(m_name, shortImage(statefulSet->image))
                         .arg(statefulSet->desiredReplicas)
                         .arg(statefulSet->hasTrigger ? QStringLiteral("present") : QStringLiteral("absent"));
            return false;
        }
        return true;
    });
    if (!checked || context.cancelled()) {
        context.record().summary = QStringLiteral("Nothing was changed on %1: %2")
                                       .arg(m_name, checked ? QStringLiteral("cancelled") : m_failure);
        return false;
    }
    context.record().before = { { QStringLiteral("pods"), m_replicas }, { QStringLiteral("readyPods"), m_replicas } };

    bool ok = step(context, QStringLiteral("dr-image"),
        [&](QString* error) { return patchStatefulSet(drPatch(m_container, m_drImage), asPlanned, error); });
    ok = ok && !context.cancelled() && step(context, QStringLiteral("rollout-dr"), [&](QString* error) {
        return pollUntil(
            context, false, [&](QString* status) { return servingState(m_drImage, m_replicas, status); }, error);
    });
    for (const PodData& data : std::as_const(m_data)) {
        ok = ok && !context.cancelled() && step(context, QStringLiteral("reset-") + data.pod, [&](QString* error) {
            return resetPod(context, data, true, error);
        });
    }
    ok = ok && !context.cancelled() && step(context, QStringLiteral("scale-down"), [&](QString* error) {
        return checkResetIndexes(error) && scaleTo(context, 0, false, error);
    });
    ok = ok && !context.cancelled() && step(context, QStringLiteral("restore-trigger"), [&](QString* error) {
        return restoreTrigger(context, false, error);
    });
    ok = ok && !context.cancelled() && step(context, QStringLiteral("scale-up"), [&](QString* error) {
        return scaleTo(context, m_replicas, false, error);
    });
    if (!ok)
        return recover(context, context.cancelled() ? QStringLiteral("cancelled") : m_failure);
    const bool verified
        = step(context, QStringLiteral("verify"), [&](QString* error) { return verifyNodes(context, error); });
    context.record().summary = finishRecord(context) + (verified ? QString() : u' ' + m_failure);
    return verified;
}

bool RaftResetOperation::verifyNodes(RunContext& context, QString* error)
{
    QStringList missing;
    for (const PodData& data : std::as_const(m_data)) {
        const ExecAnswer answer = shell(data.pod, listScript(data.dir));
        const bool recreated
            = answer.ran && answer.exitCode == 0 && answer.out.split(u'\n').contains(QStringLiteral("raft"));
        QJsonObject node = m_nodes.value(data.pod, { { QStringLiteral("pod"), data.pod } });
        node.insert(QStringLiteral("raftAfterRestart"),
            recreated        ? QStringLiteral("recreated")
                : answer.ran ? QStringLiteral("missing")
                             : QStringLiteral("unknown"));
        m_nodes.insert(data.pod, node);
        if (!recreated)
            missing << data.pod + (answer.ran ? QString() : QStringLiteral(" (") + answer.problem + u')');
        context.output(
            QStringLiteral("%1: RAFT %2").arg(data.pod, node.value(QStringLiteral("raftAfterRestart")).toString()));
    }
    if (missing.isEmpty())
        return true;
    *error = QStringLiteral("no raft directory yet in %1: check the service's logs")
                 .arg(missing.join(QStringLiteral(", ")));
    return false;
}

QString RaftResetOperation::finishRecord(RunContext& context)
{
    QJsonArray nodes;
    QStringList indexes;
    for (const PodData& data : std::as_const(m_data)) {
        const QJsonObject node = m_nodes.value(data.pod);
        if (node.isEmpty())
            continue;
        nodes << node;
        indexes << QStringLiteral("%1 %2 → %3")
                       .arg(data.pod,
                           node.contains(QStringLiteral("indexBefore"))
                               ? QString::number(node.value(QStringLiteral("indexBefore")).toInteger())
                               : QStringLiteral("?"),
                           node.contains(QStringLiteral("indexAfterReset"))
                               ? QString::number(node.value(QStringLiteral("indexAfterReset")).toInteger())
                               : QStringLiteral("?"));
    }
    if (!nodes.isEmpty())
        context.record().deleted.insert(QStringLiteral("raftDirectories"), nodes);
    QString error;
    const auto statefulSet = readStatefulSet(&error, true);
    const auto pods = statefulSet ? readPods(*statefulSet, &error, true) : std::nullopt;
    const QString reset
        = QStringLiteral("RAFT index per node: %1.")
              .arg(indexes.isEmpty() ? QStringLiteral("no node was reset") : indexes.join(QStringLiteral(", ")));
    if (!pods)
        return QStringLiteral("%1 The final state could not be read: %2").arg(reset, error);
    int ready = 0;
    for (const PodRow& pod : *pods)
        ready += pod.runningAndReady() ? 1 : 0;
    context.record().after = { { QStringLiteral("pods"), int(pods->size()) }, { QStringLiteral("readyPods"), ready } };
    return reset + u' ' + summaryOfState(*statefulSet, *pods);
}

QString RaftResetOperation::summaryOfState(const StatefulSetRow& statefulSet, const QList<PodRow>& pods) const
{
    int ready = 0;
    for (const PodRow& pod : pods)
        ready += pod.runningAndReady() && pod.image == statefulSet.image ? 1 : 0;
    const bool annotationBack = m_hadTrigger ? statefulSet.hasTrigger && statefulSet.triggerAnnotation == m_annotation
                                             : !statefulSet.hasTrigger;
    return QStringLiteral("Now: %1 of %2 replicas Ready on %3; the trigger annotation %4.")
        .arg(ready)
        .arg(statefulSet.desiredReplicas)
        .arg(shortImage(statefulSet.image),
            !m_hadTrigger        ? QStringLiteral("was absent and still is")
                : annotationBack ? QStringLiteral("is restored byte for byte")
                                 : QStringLiteral("is NOT restored"));
}

QString RaftResetOperation::finishByHand() const
{
    QStringList commands;
    const QString ns = ShellQuote::quote(m_target.ns);
    if (m_hadTrigger) {
        commands << QStringLiteral("kubectl -n %1 annotate statefulset %2 --overwrite %3")
                        .arg(ns, m_name, ShellQuote::quote(kTriggerKey + u'=' + m_annotation));
    } else {
        commands << QStringLiteral("kubectl -n %1 set image statefulset/%2 %3")
                        .arg(ns, m_name, ShellQuote::quote(m_container + u'=' + m_image));
    }
    commands << QStringLiteral("kubectl -n %1 scale statefulset %2 --replicas=%3").arg(ns, m_name).arg(m_replicas);
    return commands.join(QStringLiteral("; "));
}

bool RaftResetOperation::recover(RunContext& context, const QString& why)
{
    const QString prefix = why.isEmpty() ? QStringLiteral("Recovery of run %1: ").arg(m_recovers)
                                         : QStringLiteral("The reset stopped (%1). ").arg(why);
    // A cancel aborted the clients for good (their abort handles end every later request too): recovery reads and
    // writes through new ones, and is not cancelled itself.
    if (context.cancelled()) {
        context.setCancelHook({});
        m_client = std::make_unique<KubeClient>(m_target.kube);
        m_exec = std::make_unique<KubeExec>(m_target.kube);
    }
    std::optional<StatefulSetRow> statefulSet;
    QMap<QString, bool> raftPresent;
    bool finishReset = false;
    const bool observed = recoveryStep(context, QStringLiteral("observe"),
        QStringLiteral("Read %1, its pods and their RAFT data").arg(m_name),
        QStringLiteral("GET %1 and its pods; in each pod on the DR image: %2")
            .arg(KubeClient::statefulSetPath(m_target.ns, m_name), listScript(QStringLiteral("DIR"))),
        [&](QString* error) {
            statefulSet = readStatefulSet(error, true);
            const auto pods = statefulSet ? readPods(*statefulSet, error, true) : std::nullopt;
            if (!pods)
                return false;
            int onDr = 0;
            for (const PodRow& pod : *pods)
                onDr += pod.runningAndReady() && pod.image == m_drImage ? 1 : 0;
            context.output(summaryOfState(*statefulSet, *pods));
            // The RAFT data is touched only once every pod serves the DR image; then each pod says whether its
            // RAFT is still there.
            if (statefulSet->image != m_drImage || statefulSet->desiredReplicas != m_replicas || onDr != m_replicas)
                return true;
            for (const PodData& data : std::as_const(m_data)) {
                const ExecAnswer answer = shell(data.pod, listScript(data.dir));
                if (!answer.ran || answer.exitCode != 0) {
                    *error = QStringLiteral("cannot tell whether the RAFT of %1 was deleted: %2")
                                 .arg(data.pod, answer.ran ? answer.err.trimmed() : answer.problem);
                    return false;
                }
                const bool present = answer.out.split(u'\n').contains(QStringLiteral("raft"));
                raftPresent.insert(data.pod, present);
                finishReset = finishReset || !present;
                context.output(QStringLiteral("%1: RAFT %2")
                                   .arg(data.pod, present ? QStringLiteral("present") : QStringLiteral("deleted")));
            }
            return true;
        });
    const auto leaveOpen = [&](const QString& what) {
        const bool serviceDown = !statefulSet || statefulSet->image == m_drImage;
        context.record().summary
            = QStringLiteral("%1%2 %3 is left as it is: the service %4. Run `opsdeck recover %5 "
                             "--confirm %3` once the cluster answers%6.")
                  .arg(prefix, what, m_name,
                      serviceDown ? QStringLiteral("may be down on the DR image")
                                  : QStringLiteral("is not yet back at its replicas and annotation"),
                      m_recovers.isEmpty() ? context.record().id : m_recovers,
                      finishReset || !statefulSet
                          ? QStringLiteral("; do not scale it up by hand before every node's RAFT is reset")
                          : QStringLiteral(", or finish by hand: ") + finishByHand());
        // A recovery that fails leaves the run it recovers listed; the reset's own leaves itself.
        if (m_recovers.isEmpty())
            context.leaveOpen(what);
        context.record().summary += u' ' + finishRecord(context);
        return false;
    };
    if (!observed)
        return leaveOpen(QStringLiteral("Recovery could not read the state: %1.").arg(m_failure));

    if (finishReset) {
        for (const PodData& data : std::as_const(m_data)) {
            const bool present = raftPresent.value(data.pod);
            const bool done = recoveryStep(context, QStringLiteral("finish-reset-") + data.pod,
                QStringLiteral("Finish the RAFT reset of %1").arg(data.pod),
                execCommandText(data.pod, present ? resetScript(data.dir) : setScript(data.dir)),
                [&](QString* error) { return resetPod(context, data, present, error); });
            if (!done)
                return leaveOpen(QStringLiteral("Finishing the RAFT reset of %1 failed: %2.").arg(data.pod, m_failure));
        }
        if (!recoveryStep(context, QStringLiteral("scale-down"), QStringLiteral("Scale %1 to 0").arg(m_name),
                QStringLiteral("PATCH %1/scale {\"spec\":{\"replicas\":0}}")
                    .arg(KubeClient::statefulSetPath(m_target.ns, m_name)),
                [&](QString* error) { return checkResetIndexes(error) && scaleTo(context, 0, true, error); }))
            return leaveOpen(QStringLiteral("Scaling to 0 failed: %1.").arg(m_failure));
    }
    if (!recoveryStep(context, QStringLiteral("restore-trigger"),
            m_hadTrigger ? QStringLiteral("Put the image trigger annotation back byte for byte")
                         : QStringLiteral("Put the image back"),
            QStringLiteral("PATCH %1 (strategic merge) annotation %2")
                .arg(KubeClient::statefulSetPath(m_target.ns, m_name), kTriggerKey),
            [&](QString* error) { return restoreTrigger(context, true, error); }))
        return leaveOpen(QStringLiteral("Restoring the annotation failed: %1.").arg(m_failure));
    if (!recoveryStep(context, QStringLiteral("scale-up"),
            QStringLiteral("Delete pods stuck on a broken template, scale %1 to %2 and wait")
                .arg(m_name)
                .arg(m_replicas),
            QStringLiteral("DELETE stuck pods; PATCH %1/scale {\"spec\":{\"replicas\":%2}}")
                .arg(KubeClient::statefulSetPath(m_target.ns, m_name))
                .arg(m_replicas),
            [&](QString* error) {
                return deleteStuckPods(context, error) && scaleTo(context, m_replicas, true, error);
            }))
        return leaveOpen(
            QStringLiteral("Bringing %1 back to %2 replicas failed: %3.").arg(m_name).arg(m_replicas).arg(m_failure));
    // Only what was read is claimed: with the pods not all on the DR image their RAFT was not read.
    const QString how = finishReset ? QStringLiteral("Recovered forward: a node's RAFT was found deleted, so the reset "
                                                     "of every node was finished and the service brought back up. ")
        : !raftPresent.isEmpty()    ? QStringLiteral("Recovered back: every node's RAFT was still there; the service "
                                                        "is back as it was. ")
                                    : QStringLiteral("Recovered: the StatefulSet is back at its annotation and %1 "
                                                        "replicas. ")
                                       .arg(m_replicas);
    context.record().summary = prefix + how + finishRecord(context);
    return !m_recovers.isEmpty();
}

} // namespace opsdeck
