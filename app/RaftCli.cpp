#include "RaftCli.h"

#include "CliSupport.h"
#include "config/NameRules.h"
#include "kube/KubeClient.h"
#include "kube/KubeSecrets.h"
#include "raft/RaftQueries.h"
#include "raft/RaftRecovery.h"
#include "raft/RaftResetOperation.h"
#include "raft/RaftTarget.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace opsdeck::cli {

namespace {

QList<CliOption> clusterOptions()
{
    return { CliOption::required(
                 QStringLiteral("cluster"), QStringLiteral("CLUSTER"), QStringLiteral("Inventory cluster.")),
        // Checked by the target (an empty one is a bad name there), so that the message names it.
        CliOption::checked(QStringLiteral("namespace"), QStringLiteral("NAMESPACE"),
            QStringLiteral("One of the cluster's namespaces.")) };
}

// The cluster and namespace of --cluster/--namespace with its token; prints the problem and sets *exitCode when it
// cannot.
std::optional<RaftTarget> raftTarget(const Invocation& call, int* exitCode)
{
    *exitCode = Cli::Usage;
    const auto inventory = call.inventory();
    if (!inventory)
        return std::nullopt;
    RaftTarget::Problem problem = RaftTarget::Problem::None;
    QString error;
    const auto target = RaftTarget::resolve(
        *inventory, call.value(QStringLiteral("cluster")), call.value(QStringLiteral("namespace")), &problem, &error);
    if (!target) {
        err() << "opsdeck: " << error << "\n";
        if (problem == RaftTarget::Problem::Refused)
            *exitCode = Cli::Refused;
        else if (problem == RaftTarget::Problem::Kubeconfig)
            *exitCode = Cli::Failure;
        return std::nullopt;
    }
    for (const QString& warning : target->kube.warnings)
        err() << "opsdeck: warning: " << warning << "\n";
    auto [resolved, why]
        = awaitSecrets<std::optional<RaftTarget>>([&](CredentialStore* store, QObject* context, auto done) {
              resolveKubeSecrets(store, *target, context, done);
          });
    *exitCode = resolved ? Cli::Success : Cli::Failure;
    if (!resolved)
        err() << "opsdeck: " << why << "\n";
    return resolved;
}

// Runs `read` with a KubeClient of `target` on a pool thread (the client blocks; never on the main thread) and waits
// for its answer.
template <typename T>
std::optional<T> readOffThread(
    const RaftTarget& target, QString* error, std::function<std::optional<T>(KubeClient&, QString*)> read)
{
    auto [value, why] = awaitOffThread<std::pair<std::optional<T>, QString>>([kube = target.kube, read] {
        std::pair<std::optional<T>, QString> result;
        KubeClient client(kube);
        if (client.ready(&result.second))
            result.first = read(client, &result.second);
        return result;
    });
    *error = why;
    return value;
}

QString triggerText(const StatefulSetRow& row)
{
    if (!row.hasTrigger)
        return QStringLiteral("none");
    if (!row.triggerError.isEmpty() || row.triggers.isEmpty())
        return QStringLiteral("invalid");
    QStringList tags;
    for (const ImageTrigger& trigger : row.triggers)
        tags << (trigger.paused ? trigger.tag + QStringLiteral(" (paused)") : trigger.tag);
    return tags.join(QStringLiteral(", "));
}

QJsonObject statefulSetJson(const StatefulSetRow& row)
{
    QJsonArray triggers;
    for (const ImageTrigger& trigger : row.triggers)
        triggers.append(
            QJsonObject { { QStringLiteral("tag"), trigger.tag }, { QStringLiteral("namespace"), trigger.tagNamespace },
                { QStringLiteral("fieldPath"), trigger.fieldPath }, { QStringLiteral("paused"), trigger.paused } });
    return QJsonObject {
        { QStringLiteral("name"), row.name },
        { QStringLiteral("desiredReplicas"), row.desiredReplicas },
        { QStringLiteral("replicas"), row.replicas },
        { QStringLiteral("readyReplicas"), row.readyReplicas },
        { QStringLiteral("updatedReplicas"), row.updatedReplicas },
        { QStringLiteral("container"), row.container },
        { QStringLiteral("image"), row.image },
        { QStringLiteral("triggerAnnotation"),
            row.hasTrigger ? QJsonValue(row.triggerAnnotation) : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("triggers"), triggers },
        { QStringLiteral("triggerError"), row.triggerError },
        { QStringLiteral("currentRevision"), row.currentRevision },
        { QStringLiteral("updateRevision"), row.updateRevision },
        { QStringLiteral("updateStrategy"), row.updateStrategy },
        { QStringLiteral("partition"), row.partition },
        { QStringLiteral("podManagementPolicy"), row.podManagementPolicy },
        { QStringLiteral("generation"), row.generation },
        { QStringLiteral("observedGeneration"), row.observedGeneration },
        { QStringLiteral("resourceVersion"), row.resourceVersion },
    };
}

QJsonObject podJson(const PodRow& row)
{
    return QJsonObject {
        { QStringLiteral("ordinal"), row.ordinal },
        { QStringLiteral("name"), row.name },
        { QStringLiteral("phase"), row.phase },
        { QStringLiteral("ready"), row.ready },
        { QStringLiteral("terminating"), row.terminating },
        { QStringLiteral("image"), row.image },
        { QStringLiteral("imageID"), row.imageId },
        { QStringLiteral("revision"), row.revision },
        { QStringLiteral("restarts"), row.restarts },
        { QStringLiteral("created"), row.created.toString(Qt::ISODate) },
    };
}

} // namespace

QString shortImage(const QString& image)
{
    QString shown = image;
    // The registry is the first part when it looks like a host (a dot, a port, localhost), as docker reads it.
    const qsizetype slash = shown.indexOf(u'/');
    if (slash > 0) {
        const QString first = shown.left(slash);
        if (first.contains(u'.') || first.contains(u':') || first == QStringLiteral("localhost"))
            shown = shown.mid(slash + 1);
    }
    const qsizetype digest = shown.indexOf(QStringLiteral("@sha256:"));
    if (digest >= 0)
        shown = shown.left(digest + 8 + 12);
    return shown;
}

QString shortAge(const QDateTime& since, const QDateTime& now)
{
    if (!since.isValid())
        return QStringLiteral("-");
    const qint64 seconds = std::max<qint64>(0, since.secsTo(now));
    if (seconds < 120)
        return QStringLiteral("%1s").arg(seconds);
    if (seconds < 2 * 3600)
        return QStringLiteral("%1m").arg(seconds / 60);
    if (seconds < 2 * 86400)
        return QStringLiteral("%1h").arg(seconds / 3600);
    return QStringLiteral("%1d").arg(seconds / 86400);
}

namespace {

int runRaftStatefulSets(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto target = raftTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    const auto rows = readOffThread<QList<StatefulSetRow>>(*target, &error,
        [ns = target->ns](KubeClient& client, QString* why) { return RaftQueries::statefulSets(client, ns, why); });
    if (!rows) {
        err() << "opsdeck: reading the StatefulSets of " << target->id() << " failed: " << error << "\n";
        return Cli::Failure;
    }
    if (call.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const StatefulSetRow& row : *rows)
            array.append(statefulSetJson(row));
        printJson(array);
        return Cli::Success;
    }
    QList<QStringList> table;
    for (const StatefulSetRow& row : *rows)
        table << QStringList { row.name, QStringLiteral("%1/%2").arg(row.readyReplicas).arg(row.desiredReplicas),
            shortImage(row.image), triggerText(row),
            row.currentRevision == row.updateRevision
                ? row.currentRevision
                : row.currentRevision + QStringLiteral(" -> ") + row.updateRevision,
            row.podManagementPolicy };
    // The RAFT pane's column names.
    printTable({ QStringLiteral("STATEFULSET"), QStringLiteral("READY"), QStringLiteral("IMAGE"),
                   QStringLiteral("IMAGE TRIGGER"), QStringLiteral("REVISION"), QStringLiteral("POD MANAGEMENT") },
        table);
    return Cli::Success;
}

int runRaftPods(Invocation& call)
{
    const QString name = call.value(QStringLiteral("statefulset"));
    if (const QString bad = NameRules::dnsLabelError(QStringLiteral("statefulset"), name); !bad.isEmpty()) {
        err() << "opsdeck: " << bad << "\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto target = raftTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    const auto rows = readOffThread<QList<PodRow>>(
        *target, &error, [ns = target->ns, name](KubeClient& client, QString* why) -> std::optional<QList<PodRow>> {
            const auto statefulSet = RaftQueries::statefulSet(client, ns, name, why);
            if (!statefulSet)
                return std::nullopt;
            return RaftQueries::pods(client, ns, *statefulSet, why);
        });
    if (!rows) {
        err() << "opsdeck: reading the pods of " << target->id() << "/" << name << " failed: " << error << "\n";
        return Cli::Failure;
    }
    if (call.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const PodRow& row : *rows)
            array.append(podJson(row));
        printJson(array);
        return Cli::Success;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<QStringList> table;
    for (const PodRow& row : *rows)
        table << QStringList { QString::number(row.ordinal), row.name,
            row.terminating ? QStringLiteral("Terminating") : row.phase,
            row.ready ? QStringLiteral("yes") : QStringLiteral("no"), shortImage(row.image), row.revision,
            QString::number(row.restarts), shortAge(row.created, now) };
    printTable(
        { QStringLiteral("#"), QStringLiteral("POD"), QStringLiteral("PHASE"), QStringLiteral("READY"),
            QStringLiteral("IMAGE"), QStringLiteral("REVISION"), QStringLiteral("RESTARTS"), QStringLiteral("AGE") },
        table);
    return Cli::Success;
}

QList<CliOption> resetOptionDefinitions()
{
    return clusterOptions()
        + QList { CliOption::required(QStringLiteral("statefulset"), QStringLiteral("NAME"),
                      QStringLiteral("The RAFT service's StatefulSet.")),
              CliOption::required(QStringLiteral("dr-image"), QStringLiteral("IMAGE"),
                  QStringLiteral("The DR image with ./doctor: registry/path@sha256:<64 hex> (or :tag).")),
              CliOption::optional(QStringLiteral("pod-timeout"), QStringLiteral("SECONDS"),
                  QStringLiteral("Seconds a pod may take to become Running and Ready (default 300).")) };
}

// --statefulset, --dr-image and --pod-timeout checked before anything is read; prints what is wrong (exit 2).
std::optional<RaftResetOperation::Options> resetOptions(const Invocation& call)
{
    QString problem
        = NameRules::dnsLabelError(QStringLiteral("--statefulset"), call.value(QStringLiteral("statefulset")));
    if (problem.isEmpty())
        problem = RaftResetOperation::imageReferenceError(call.value(QStringLiteral("dr-image")));
    if (!problem.isEmpty()) {
        err() << "opsdeck: " << problem << "; nothing was touched\n";
        return std::nullopt;
    }
    const auto seconds = call.integer(QStringLiteral("pod-timeout"), 300, 1, 3600, QStringLiteral("seconds"));
    if (!seconds)
        return std::nullopt;
    return RaftResetOperation::Options { *seconds };
}

std::unique_ptr<Operation> resetOperation(Invocation& call, int* exitCode)
{
    const auto options = resetOptions(call);
    if (!options) {
        *exitCode = Cli::Usage;
        return nullptr;
    }
    auto target = raftTarget(call, exitCode);
    if (!target)
        return nullptr;
    if (target->cluster.tags.readOnly) {
        err() << "opsdeck: " << RaftResetOperation::readOnlyError(*target) << "\n";
        *exitCode = Cli::Refused;
        return nullptr;
    }
    return std::make_unique<RaftResetOperation>(std::move(*target), call.value(QStringLiteral("statefulset")),
        call.value(QStringLiteral("dr-image")), *options);
}

} // namespace

CliModule raftCli()
{
    QList<CliCommand> commands = {
        { { QStringLiteral("raft"), QStringLiteral("statefulsets") }, {},
            QStringLiteral("StatefulSets: ready, image, trigger, revisions"), clusterOptions() + QList { jsonOption() },
            runRaftStatefulSets },
        { { QStringLiteral("raft"), QStringLiteral("pods") }, {}, QStringLiteral("a StatefulSet's pods by ordinal"),
            clusterOptions()
                + QList { CliOption::required(QStringLiteral("statefulset"), QStringLiteral("NAME"),
                              QStringLiteral("The StatefulSet.")),
                    jsonOption() },
            runRaftPods },
    };
    commands += planAndRunCommands(QStringLiteral("raft-reset"),
        QStringLiteral("the runbook's RAFT reset, scaled back up at the end"), resetOptionDefinitions(),
        QStringLiteral("the StatefulSet's name"), resetOperation);
    return { commands, recoverers(raftRecoveredOperations(), resolveRaftRecovery) };
}

} // namespace opsdeck::cli
