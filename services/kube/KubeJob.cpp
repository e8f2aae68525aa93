#include "kube/KubeJob.h"

#include "kube/KubeLogging.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QThread>
#include <QUrlQuery>

namespace opsdeck {

namespace {

const QString kMarkerAnnotation = QStringLiteral("opsdeck.io/stdout-marker");
// The container's command: /bin/sh -c WRAPPER opsdeck-job STDOUT-FILE MARKER MIN-FREE-KIB, then the command's argv.
constexpr int kWrapperWords = 7;
constexpr int kLogTimeoutMs = 60000;

// A failure that may pass by itself: no answer (a dropped connection, an API server restarting), a 5xx, 429.
void noteTransient(const KubeResponse& response, bool* transient)
{
    if (transient)
        *transient = response.unanswered() || response.status >= 500 || response.status == 429;
}

// $1: the stdout file, $2: the marker, $3: the KiB that must be free on the stdout file's volume (0: no check), the
// rest: the command. The command runs in the background only so that the shell (the container's first process, the
// one a pod's deletion signals) can pass SIGTERM on; `wait` returns early when a trapped signal arrives, hence the
// loop until the command is really gone. A background command's stdin is /dev/null (POSIX, without job control).
// What the wrapper refuses, it says on a `opsdeck-job:` line and exits 125, before the command starts.
const QString kWrapper = QStringLiteral(
    "out=$1 mark=$2 need=$3; shift 3\n"
    "mkdir -p \"${out%/*}\" || { echo \"opsdeck-job: cannot create ${out%/*}\" >&2; exit 125; }\n"
    "if [ \"$need\" -gt 0 ]; then\n"
    "  free=$(df -Pk -- \"${out%/*}\" | { read -r _; read -r _ _ _ f _; echo \"$f\"; })\n"
    "  if [ -z \"$free\" ] || [ \"$free\" -lt \"$need\" ]; then\n"
    "    echo \"opsdeck-job: ${free:-an unknown number of} KiB free in ${out%/*}, $need KiB needed\" >&2\n"
    "    exit 125\n"
    "  fi\n"
    "fi\n"
    "\"$@\" >\"$out\" &\n"
    "pid=$!\n"
    "trap 'kill -TERM \"$pid\" 2>/dev/null' TERM INT HUP\n"
    "while :; do wait \"$pid\"; rc=$?; kill -0 \"$pid\" 2>/dev/null || break; done\n"
    "printf '%s begin\\n' \"$mark\"\n"
    "cat \"$out\"\n"
    "printf '%s end\\n' \"$mark\"\n"
    "exit \"$rc\"\n");

QString newMarker()
{
    const quint64 nonce = QRandomGenerator::system()->generate64();
    return QStringLiteral("opsdeck-stdout-%1").arg(nonce, 16, 16, QLatin1Char('0'));
}

QJsonObject labelsObject(const QMap<QString, QString>& labels)
{
    QJsonObject object;
    for (auto it = labels.cbegin(); it != labels.cend(); ++it)
        object.insert(it.key(), it.value());
    return object;
}

// A pod log line's time (RFC 3339 with up to nine digits of fraction, as the kubelet writes it) as seconds and
// nanoseconds; nullopt for anything else. Strings do not compare: the kubelet drops a fraction's trailing zeros.
std::optional<std::pair<qint64, qint64>> logTime(const QByteArray& stamp)
{
    static const QRegularExpression kTime(
        QStringLiteral(R"(^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)\z)"));
    const QRegularExpressionMatch match = kTime.match(QString::fromLatin1(stamp));
    if (!match.hasMatch())
        return std::nullopt;
    const QString zone = match.captured(3) == QStringLiteral("Z") ? QStringLiteral("+00:00") : match.captured(3);
    const QDateTime time = QDateTime::fromString(match.captured(1) + zone, Qt::ISODate);
    if (!time.isValid())
        return std::nullopt;
    const QString fraction = match.captured(2).leftJustified(9, u'0');
    return std::pair { time.toSecsSinceEpoch(), fraction.toLongLong() };
}

QString rfc3339Seconds(qint64 second)
{
    return QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(Qt::ISODate);
}

} // namespace

bool KubeJob::State::ended() const
{
    return exitCode.has_value() || !condition.isEmpty() || podPhase == QStringLiteral("Succeeded")
        || podPhase == QStringLiteral("Failed") || (exists && pod.isEmpty() && (failed > 0 || succeeded > 0));
}

bool KubeJob::State::cannotStart() const
{
    // ErrImagePull is the first failed pull (it may be a registry's hiccup): the kubelet retries, and a pull that
    // keeps failing becomes ImagePullBackOff.
    static const QStringList kStuck
        = { QStringLiteral("ImagePullBackOff"), QStringLiteral("InvalidImageName"), QStringLiteral("ErrImageNeverPull"),
              QStringLiteral("CreateContainerConfigError"), QStringLiteral("CreateContainerError") };
    return !ended() && kStuck.contains(reason);
}

QString KubeJob::State::describe() const
{
    const QString said = message.isEmpty() ? QString() : QStringLiteral(": %1").arg(message);
    if (exitCode) {
        if (reason == QStringLiteral("OOMKilled"))
            return QStringLiteral("its container was killed for using more memory than its limit (OOMKilled, exit "
                                  "code %1)")
                .arg(*exitCode);
        return QStringLiteral("its container exited with code %1 (%2%3)")
            .arg(*exitCode)
            .arg(reason.isEmpty() ? QStringLiteral("no reason given") : reason, said);
    }
    if (cannotStart())
        return QStringLiteral("its container cannot start (%1%2)").arg(reason, said);
    if (vanished()) {
        if (!reason.isEmpty())
            return QStringLiteral("its pod ended without an exit code (%1%2)").arg(reason, said);
        if (pod.isEmpty())
            return QStringLiteral("its pod was deleted before its container ended (the Job is %1%2)")
                .arg(condition.isEmpty() ? QStringLiteral("without a pod") : condition,
                    conditionReason.isEmpty() ? QString() : QStringLiteral(", ") + conditionReason);
        return QStringLiteral("its pod is %1 without an exit code").arg(podPhase);
    }
    if (!exists)
        return pod.isEmpty() ? QStringLiteral("the Job does not exist")
                             : QStringLiteral("the Job is gone and its pod %1 is going").arg(pod);
    if (pod.isEmpty())
        return QStringLiteral("the Job has no pod yet");
    return QStringLiteral("its pod %1 is %2%3")
        .arg(pod, podPhase, reason.isEmpty() ? QString() : QStringLiteral(" (%1%2)").arg(reason, said));
}

KubeJob::KubeJob(KubeClient& client, QString ns, QString name)
    : m_client(client)
    , m_ns(std::move(ns))
    , m_name(std::move(name))
{
}

QString KubeJob::where() const
{
    const Kubeconfig::Resolved& cluster = m_client.cluster();
    return QStringLiteral("Job %1/%2 on cluster %3 (%4)").arg(m_ns, m_name, cluster.context.cluster, cluster.server);
}

QString KubeJob::jobName(const QStringList& parts)
{
    QString name = parts.join(u'-').toLower();
    if (name.size() <= 63)
        return name;
    const QString hash
        = QString::fromLatin1(QCryptographicHash::hash(name.toUtf8(), QCryptographicHash::Sha256).toHex().left(8));
    name.truncate(63 - 1 - hash.size());
    while (name.endsWith(u'-'))
        name.chop(1);
    return name + u'-' + hash;
}

QJsonObject KubeJob::manifest(const QString& name, const Spec& spec, const QString& marker)
{
    const QJsonObject labels = labelsObject(spec.labels);
    QJsonArray command { QStringLiteral("/bin/sh"), QStringLiteral("-c"), kWrapper, QStringLiteral("opsdeck-job"),
        spec.stdoutFile, marker, QString::number(spec.minFreeKiB) };
    Q_ASSERT(command.size() == kWrapperWords);
    for (const QString& word : spec.argv)
        command.append(word);
    QJsonArray env;
    for (const auto& [variable, value] : spec.env)
        env.append(QJsonObject { { QStringLiteral("name"), variable }, { QStringLiteral("value"), value } });
    QJsonObject container { { QStringLiteral("name"), QStringLiteral("job") }, { QStringLiteral("image"), spec.image },
        { QStringLiteral("command"), command },
        { QStringLiteral("volumeMounts"),
            QJsonArray { QJsonObject { { QStringLiteral("name"), QStringLiteral("work") },
                { QStringLiteral("mountPath"), spec.mountPath } } } } };
    if (!env.isEmpty())
        container.insert(QStringLiteral("env"), env);
    const QJsonObject volume = spec.volumeClaim.isEmpty()
        ? QJsonObject { { QStringLiteral("name"), QStringLiteral("work") },
              { QStringLiteral("emptyDir"), QJsonObject {} } }
        : QJsonObject { { QStringLiteral("name"), QStringLiteral("work") },
              { QStringLiteral("persistentVolumeClaim"),
                  QJsonObject { { QStringLiteral("claimName"), spec.volumeClaim } } } };
    QJsonObject podSpec { { QStringLiteral("restartPolicy"), QStringLiteral("Never") },
        { QStringLiteral("containers"), QJsonArray { container } },
        { QStringLiteral("volumes"), QJsonArray { volume } } };
    if (!spec.serviceAccount.isEmpty())
        podSpec.insert(QStringLiteral("serviceAccountName"), spec.serviceAccount);
    QJsonObject jobSpec { { QStringLiteral("backoffLimit"), 0 }, { QStringLiteral("completions"), 1 },
        { QStringLiteral("parallelism"), 1 },
        { QStringLiteral("template"),
            QJsonObject { { QStringLiteral("metadata"), QJsonObject { { QStringLiteral("labels"), labels } } },
                { QStringLiteral("spec"), podSpec } } } };
    if (spec.ttlSecondsAfterFinished > 0)
        jobSpec.insert(QStringLiteral("ttlSecondsAfterFinished"), spec.ttlSecondsAfterFinished);
    return { { QStringLiteral("apiVersion"), QStringLiteral("batch/v1") },
        { QStringLiteral("kind"), QStringLiteral("Job") },
        { QStringLiteral("metadata"),
            QJsonObject { { QStringLiteral("name"), name }, { QStringLiteral("labels"), labels },
                { QStringLiteral("annotations"), QJsonObject { { kMarkerAnnotation, marker } } } } },
        { QStringLiteral("spec"), jobSpec } };
}

bool KubeJob::create(const Spec& spec, QString* error)
{
    const QString marker = newMarker();
    const KubeResponse created = m_client.send(QByteArrayLiteral("POST"), KubeClient::jobsPath(m_ns), {},
        QByteArrayLiteral("application/json"),
        QJsonDocument(manifest(m_name, spec, marker)).toJson(QJsonDocument::Compact), KubeClient::kWriteTimeoutMs);
    if (!created.ok()) {
        *error = created.message;
        return false;
    }
    m_marker = marker;
    qCInfo(lcKube).noquote() << "created" << where();
    return true;
}

QList<QJsonObject> KubeJob::pods(QString* error, bool* transient)
{
    // job-name: the label every Kubernetes version puts on a Job's pods (batch.kubernetes.io/job-name too, from 1.27).
    const KubeResponse listed = m_client.get(KubeClient::podsPath(m_ns),
        QUrlQuery { { QStringLiteral("labelSelector"), QStringLiteral("job-name=") + m_name } });
    if (!listed.ok()) {
        *error = listed.message;
        noteTransient(listed, transient);
        return {};
    }
    QList<QJsonObject> items;
    for (const QJsonValue& item : listed.object.value(QStringLiteral("items")).toArray())
        items << item.toObject();
    return items;
}

std::optional<KubeJob::State> KubeJob::inspect(QString* error, bool* transient)
{
    const KubeResponse job = m_client.get(KubeClient::jobPath(m_ns, m_name));
    if (!job.ok() && job.status != 404) {
        *error = job.message;
        noteTransient(job, transient);
        return std::nullopt;
    }
    QString podsError;
    const QList<QJsonObject> items = pods(&podsError, transient);
    if (!podsError.isEmpty()) {
        *error = podsError;
        return std::nullopt;
    }
    if (job.ok()) {
        m_marker = job.object.value(QStringLiteral("metadata"))
                       .toObject()
                       .value(QStringLiteral("annotations"))
                       .toObject()
                       .value(kMarkerAnnotation)
                       .toString();
    }
    QJsonArray array;
    for (const QJsonObject& item : items)
        array.append(item);
    return stateOf(job.ok() ? job.object : QJsonObject {}, array);
}

QStringList KubeJob::commandOf(const QJsonObject& job)
{
    const QJsonArray command = job.value(QStringLiteral("spec"))
                                   .toObject()
                                   .value(QStringLiteral("template"))
                                   .toObject()
                                   .value(QStringLiteral("spec"))
                                   .toObject()
                                   .value(QStringLiteral("containers"))
                                   .toArray()
                                   .first()
                                   .toObject()
                                   .value(QStringLiteral("command"))
                                   .toArray();
    QStringList argv;
    if (command.size() <= kWrapperWords || command.at(3).toString() != QStringLiteral("opsdeck-job"))
        return argv; // not one of ours
    for (qsizetype i = kWrapperWords; i < command.size(); ++i)
        argv << command.at(i).toString();
    return argv;
}

KubeJob::State KubeJob::stateOf(const QJsonObject& job, const QJsonArray& pods)
{
    State state;
    state.exists = !job.isEmpty();
    const QJsonObject status = job.value(QStringLiteral("status")).toObject();
    const auto time = [](const QJsonValue& value) { return QDateTime::fromString(value.toString(), Qt::ISODate); };
    state.startedAt = time(status.value(QStringLiteral("startTime")));
    if (!state.startedAt.isValid())
        state.startedAt
            = time(job.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("creationTimestamp")));
    state.endedAt = time(status.value(QStringLiteral("completionTime")));
    state.active = status.value(QStringLiteral("active")).toInt();
    state.succeeded = status.value(QStringLiteral("succeeded")).toInt();
    state.failed = status.value(QStringLiteral("failed")).toInt();
    for (const QJsonValue& value : status.value(QStringLiteral("conditions")).toArray()) {
        const QJsonObject condition = value.toObject();
        const QString type = condition.value(QStringLiteral("type")).toString();
        if (condition.value(QStringLiteral("status")).toString() == QStringLiteral("True")
            && (type == QStringLiteral("Complete") || type == QStringLiteral("Failed"))) {
            state.condition = type;
            state.conditionReason = condition.value(QStringLiteral("reason")).toString();
            if (!state.endedAt.isValid()) // a failed Job has no completionTime
                state.endedAt = time(condition.value(QStringLiteral("lastTransitionTime")));
        }
    }
    // With backoffLimit 0 there is one pod; should there be more, the newest is the one that counts.
    QJsonObject pod;
    for (const QJsonValue& value : pods) {
        const QJsonObject candidate = value.toObject();
        const auto created = [](const QJsonObject& p) {
            return p.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("creationTimestamp")).toString();
        };
        if (pod.isEmpty() || created(candidate) > created(pod))
            pod = candidate;
    }
    if (pod.isEmpty())
        return state;
    const QJsonObject metadata = pod.value(QStringLiteral("metadata")).toObject();
    const QJsonObject podStatus = pod.value(QStringLiteral("status")).toObject();
    state.pod = metadata.value(QStringLiteral("name")).toString();
    state.podDeleting = metadata.contains(QStringLiteral("deletionTimestamp"));
    state.podPhase = podStatus.value(QStringLiteral("phase")).toString();
    state.reason = podStatus.value(QStringLiteral("reason")).toString();
    state.message = podStatus.value(QStringLiteral("message")).toString();
    const QJsonArray containers = podStatus.value(QStringLiteral("containerStatuses")).toArray();
    if (containers.isEmpty())
        return state;
    const QJsonObject containerState = containers.first().toObject().value(QStringLiteral("state")).toObject();
    for (const QString& kind : { QStringLiteral("terminated"), QStringLiteral("waiting") }) {
        if (!containerState.contains(kind))
            continue;
        const QJsonObject detail = containerState.value(kind).toObject();
        if (kind == QStringLiteral("terminated")) {
            state.exitCode = detail.value(QStringLiteral("exitCode")).toInt();
            if (const QDateTime finished = time(detail.value(QStringLiteral("finishedAt"))); finished.isValid())
                state.endedAt = finished;
        }
        state.reason = detail.value(QStringLiteral("reason")).toString();
        state.message = detail.value(QStringLiteral("message")).toString();
    }
    return state;
}

void KubeJob::take(const QByteArray& text, Output* output)
{
    const QByteArray mark = m_marker.toLatin1();
    if (!mark.isEmpty() && !m_stdoutDone) {
        // A marker ends its line; what comes before it on the line is the end of a stream that had no final newline.
        const QByteArray begin = mark + " begin";
        const QByteArray end = mark + " end";
        if (!m_inStdout && text.endsWith(begin)) {
            if (text.size() > begin.size())
                output->err += text.left(text.size() - begin.size()) + '\n';
            m_inStdout = true;
            return;
        }
        if (m_inStdout && text.endsWith(end)) {
            output->out += text.left(text.size() - end.size());
            m_inStdout = false;
            m_stdoutDone = true;
            output->outComplete = true;
            return;
        }
    }
    (m_inStdout ? output->out : output->err) += text + '\n';
}

void KubeJob::rewindLog()
{
    m_cursor = LogCursor {};
    m_inStdout = false;
    m_stdoutDone = false;
}

std::optional<KubeJob::Output> KubeJob::readLog(const State& state, QString* error, bool* transient)
{
    if (state.pod.isEmpty() || state.podPhase == QStringLiteral("Pending"))
        return Output {};
    if (m_cursor.pod != state.pod) {
        rewindLog();
        m_cursor.pod = state.pod;
    }
    QUrlQuery query { { QStringLiteral("timestamps"), QStringLiteral("true") } };
    if (m_cursor.second >= 0)
        query.addQueryItem(QStringLiteral("sinceTime"), rfc3339Seconds(m_cursor.second));
    return readLogQuery(state.pod, query, error, transient);
}

std::optional<QByteArray> KubeJob::readStdout(const State& state, QString* error)
{
    // The wrapper prints the stdout at the end of the log: its last lines hold it, whatever the stderr before it.
    constexpr int kTailLines = 1000;
    rewindLog();
    if (!state.exitCode || state.pod.isEmpty())
        return std::nullopt;
    m_cursor.pod = state.pod;
    const auto log = readLogQuery(state.pod,
        { { QStringLiteral("timestamps"), QStringLiteral("true") },
            { QStringLiteral("tailLines"), QString::number(kTailLines) } },
        error);
    rewindLog();
    if (!log)
        return std::nullopt;
    if (!log->outComplete) {
        *error = QStringLiteral("%1: its stdout is not in the last %2 lines of pod %3's log")
                     .arg(where())
                     .arg(kTailLines)
                     .arg(state.pod);
        return std::nullopt;
    }
    return log->out;
}

std::optional<KubeJob::Output> KubeJob::readLogQuery(
    const QString& pod, const QUrlQuery& query, QString* error, bool* transient)
{
    Output output;
    const KubeResponse log = m_client.getText(KubeClient::podLogPath(m_ns, pod), query, kLogTimeoutMs);
    if (!log.ok()) {
        if (log.status == 404)
            return output; // the pod went meanwhile: inspect() says how
        *error = log.message;
        noteTransient(log, transient);
        return std::nullopt;
    }
    qsizetype at = 0;
    int seenAtLast = 0; // of the lines read before, those at the cursor's time that this answer repeats
    for (;;) {
        const qsizetype newline = log.text.indexOf('\n', at);
        if (newline < 0)
            break; // a line still being written comes whole with the next read
        const QByteArray line = log.text.mid(at, newline - at);
        at = newline + 1;
        const qsizetype space = line.indexOf(' ');
        const auto time = logTime(space < 0 ? line : line.left(space));
        if (!time) {
            qCWarning(lcKube).noquote() << where() << "log line without a time, skipped:" << line.left(200);
            continue;
        }
        const QByteArray text = space < 0 ? QByteArray() : line.mid(space + 1);
        const std::pair<qint64, qint64> last { m_cursor.second, m_cursor.nanos };
        if (*time < last)
            continue;
        if (*time == last) {
            if (++seenAtLast <= m_cursor.seenAtLast)
                continue;
            ++m_cursor.seenAtLast;
        } else {
            m_cursor.second = time->first;
            m_cursor.nanos = time->second;
            m_cursor.seenAtLast = 1;
            seenAtLast = 1;
        }
        take(text, &output);
    }
    return output;
}

bool KubeJob::stop(int timeoutMs, QString* error)
{
    // Background: the Job goes at once and the garbage collector deletes its pods; the pods are deleted here too, so
    // that a pod the collector has not reached yet (or one orphaned earlier) gets its SIGTERM now.
    const KubeResponse deleted = m_client.send(QByteArrayLiteral("DELETE"), KubeClient::jobPath(m_ns, m_name),
        QUrlQuery { { QStringLiteral("propagationPolicy"), QStringLiteral("Background") } }, {}, {},
        KubeClient::kWriteTimeoutMs);
    if (!deleted.ok() && deleted.status != 404) {
        *error = deleted.message;
        return false;
    }
    qCInfo(lcKube).noquote() << "deleted" << where();
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        QString listError;
        const QList<QJsonObject> left = pods(&listError);
        const KubeResponse job = m_client.get(KubeClient::jobPath(m_ns, m_name));
        if (listError.isEmpty() && left.isEmpty() && job.status == 404)
            return true;
        for (const QJsonObject& pod : left) {
            const QJsonObject metadata = pod.value(QStringLiteral("metadata")).toObject();
            if (metadata.contains(QStringLiteral("deletionTimestamp")))
                continue;
            const KubeResponse gone
                = m_client.remove(KubeClient::podPath(m_ns, metadata.value(QStringLiteral("name")).toString()));
            if (!gone.ok() && gone.status != 404)
                qCWarning(lcKube).noquote() << gone.message;
        }
        if (deadline.hasExpired()) {
            QStringList names;
            for (const QJsonObject& pod : left)
                names << pod.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString();
            *error = !listError.isEmpty() ? listError
                : job.ok()
                ? QStringLiteral("%1 still exists %2 s after it was deleted; check it with `kubectl get job -n %3 %4`")
                      .arg(where())
                      .arg(timeoutMs / 1000)
                      .arg(m_ns, m_name)
                : QStringLiteral("%1 was deleted, but its pod %2 still exists %3 s later (its node may be "
                                 "unreachable); check it with `kubectl get pod -n %4 %2` before running the step again")
                      .arg(where(), names.join(QStringLiteral(", ")))
                      .arg(timeoutMs / 1000)
                      .arg(m_ns);
            return false;
        }
        QThread::msleep(250);
    }
}

} // namespace opsdeck
