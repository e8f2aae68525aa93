#include "raft/RaftQueries.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace opsdeck {

namespace {

const QString kTriggerAnnotation = QStringLiteral("image.openshift.io/triggers");

// The fieldPath forms the trigger controller accepts for a container's image (../shared/reference/kubernetes.md
// section 8): by name, with double quotes exactly, or by index.
const QRegularExpression kByName(
    QStringLiteral(R"re(^spec\.template\.spec\.containers\[\?\(@\.name=="([^"]+)"\)\]\.image\z)re"));
const QRegularExpression kByIndex(
    QStringLiteral(R"re(^spec\.template\.spec\.containers\[(0|[1-9][0-9]{0,3})\]\.image\z)re"));

QJsonObject objectAt(const QJsonObject& object, const QString& key)
{
    return object.value(key).toObject();
}

// The container named `name` of a containers list; the first one when `name` is empty; empty when there is none.
QJsonObject containerNamed(const QJsonArray& containers, const QString& name)
{
    for (const QJsonValue& value : containers) {
        const QJsonObject container = value.toObject();
        if (name.isEmpty() || container.value(QStringLiteral("name")).toString() == name)
            return container;
    }
    return {};
}

// The pod's ordinal: the decimal number after the name's last '-', as the StatefulSet controller names its pods.
int ordinalOf(const QString& podName)
{
    const qsizetype dash = podName.lastIndexOf(u'-');
    const QString digits = dash < 0 ? QString() : podName.mid(dash + 1);
    static const QRegularExpression number(QStringLiteral("^(0|[1-9][0-9]{0,8})\\z"));
    return number.match(digits).hasMatch() ? digits.toInt() : -1;
}

std::optional<ImageTrigger> parseTrigger(const QJsonValue& value, qsizetype index, QString* error)
{
    const QString which = QStringLiteral("trigger %1").arg(index + 1);
    if (!value.isObject()) {
        *error = QStringLiteral("%1 is not an object").arg(which);
        return std::nullopt;
    }
    const QJsonObject entry = value.toObject();
    const QJsonValue from = entry.value(QStringLiteral("from"));
    if (!from.isObject()) {
        *error = QStringLiteral("%1 has no \"from\" object").arg(which);
        return std::nullopt;
    }
    const QJsonValue kind = from.toObject().value(QStringLiteral("kind"));
    if (kind.toString() != QStringLiteral("ImageStreamTag")) {
        *error = QStringLiteral("%1's from.kind is not ImageStreamTag").arg(which);
        return std::nullopt;
    }
    const QString name = from.toObject().value(QStringLiteral("name")).toString();
    const qsizetype colon = name.indexOf(u':');
    if (colon <= 0 || colon == name.size() - 1 || name.indexOf(u':', colon + 1) >= 0) {
        *error = QStringLiteral("%1's from.name is not an image stream tag (stream:tag)").arg(which);
        return std::nullopt;
    }
    ImageTrigger trigger;
    trigger.tag = name;
    const QJsonValue ns = from.toObject().value(QStringLiteral("namespace"));
    if (!ns.isUndefined() && !ns.isNull() && !ns.isString()) {
        *error = QStringLiteral("%1's from.namespace is not a string").arg(which);
        return std::nullopt;
    }
    trigger.tagNamespace = ns.toString();
    const QJsonValue fieldPath = entry.value(QStringLiteral("fieldPath"));
    const QString path = fieldPath.toString();
    if (const auto byName = kByName.match(path); byName.hasMatch()) {
        trigger.container = byName.captured(1);
    } else if (const auto byIndex = kByIndex.match(path); byIndex.hasMatch()) {
        trigger.containerIndex = byIndex.captured(1).toInt();
    } else {
        *error = QStringLiteral("%1's fieldPath is not a container's image: use "
                                "spec.template.spec.containers[?(@.name==\"NAME\")].image or "
                                "spec.template.spec.containers[INDEX].image")
                     .arg(which);
        return std::nullopt;
    }
    trigger.fieldPath = path;
    const QJsonValue paused = entry.value(QStringLiteral("paused"));
    if (!paused.isUndefined() && !paused.isNull() && !paused.isBool()) {
        *error = QStringLiteral("%1's paused is not true or false").arg(which);
        return std::nullopt;
    }
    trigger.paused = paused.toBool();
    return trigger;
}

// An API answer that must be a list: its items, or nullopt with *error.
std::optional<QJsonArray> itemsOf(const KubeResponse& response, const QString& what, QString* error)
{
    if (!response.ok()) {
        *error = response.message;
        return std::nullopt;
    }
    const QJsonValue items = response.object.value(QStringLiteral("items"));
    if (!items.isArray()) {
        *error = QStringLiteral("the API server's list of %1 has no items: is it a Kubernetes API server?").arg(what);
        return std::nullopt;
    }
    return items.toArray();
}

} // namespace

std::optional<QList<ImageTrigger>> RaftQueries::parseTriggers(const QString& annotation, QString* error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(annotation.toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("the %1 annotation is not JSON (%2 at offset %3)")
                     .arg(kTriggerAnnotation, parseError.errorString())
                     .arg(parseError.offset);
        return std::nullopt;
    }
    if (!document.isArray()) {
        *error = QStringLiteral("the %1 annotation is not a JSON array").arg(kTriggerAnnotation);
        return std::nullopt;
    }
    const QJsonArray entries = document.array();
    QList<ImageTrigger> triggers;
    QSet<QString> fieldPaths;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        QString why;
        const auto trigger = parseTrigger(entries.at(i), i, &why);
        if (!trigger) {
            *error = QStringLiteral("the %1 annotation: %2").arg(kTriggerAnnotation, why);
            return std::nullopt;
        }
        // The controller rejects the whole annotation then.
        if (fieldPaths.contains(trigger->fieldPath)) {
            *error = QStringLiteral("the %1 annotation names the fieldPath %2 twice")
                         .arg(kTriggerAnnotation, trigger->fieldPath);
            return std::nullopt;
        }
        fieldPaths.insert(trigger->fieldPath);
        triggers << *trigger;
    }
    return triggers;
}

StatefulSetRow RaftQueries::statefulSetRow(const QJsonObject& statefulSet)
{
    const QJsonObject metadata = objectAt(statefulSet, QStringLiteral("metadata"));
    const QJsonObject spec = objectAt(statefulSet, QStringLiteral("spec"));
    const QJsonObject status = objectAt(statefulSet, QStringLiteral("status"));
    const QJsonObject strategy = objectAt(spec, QStringLiteral("updateStrategy"));

    StatefulSetRow row;
    row.name = metadata.value(QStringLiteral("name")).toString();
    row.resourceVersion = metadata.value(QStringLiteral("resourceVersion")).toString();
    row.generation = metadata.value(QStringLiteral("generation")).toInteger();
    row.observedGeneration = status.value(QStringLiteral("observedGeneration")).toInteger();
    // The API's defaults, for an object written without them.
    row.desiredReplicas = spec.value(QStringLiteral("replicas")).toInt(1);
    row.replicas = status.value(QStringLiteral("replicas")).toInt();
    row.readyReplicas = status.value(QStringLiteral("readyReplicas")).toInt();
    row.updatedReplicas = status.value(QStringLiteral("updatedReplicas")).toInt();
    row.updateStrategy = strategy.value(QStringLiteral("type")).toString(QStringLiteral("RollingUpdate"));
    row.partition = objectAt(strategy, QStringLiteral("rollingUpdate")).value(QStringLiteral("partition")).toInt();
    row.podManagementPolicy
        = spec.value(QStringLiteral("podManagementPolicy")).toString(QStringLiteral("OrderedReady"));
    row.currentRevision = status.value(QStringLiteral("currentRevision")).toString();
    row.updateRevision = status.value(QStringLiteral("updateRevision")).toString();
    row.matchLabels = objectAt(objectAt(spec, QStringLiteral("selector")), QStringLiteral("matchLabels"));

    const QJsonValue annotation = objectAt(metadata, QStringLiteral("annotations")).value(kTriggerAnnotation);
    row.hasTrigger = !annotation.isUndefined();
    if (row.hasTrigger && !annotation.isString()) {
        row.triggerError = QStringLiteral("the %1 annotation is not a string").arg(kTriggerAnnotation);
    } else if (row.hasTrigger) {
        row.triggerAnnotation = annotation.toString();
        if (const auto triggers = parseTriggers(row.triggerAnnotation, &row.triggerError))
            row.triggers = *triggers;
    }

    const QJsonArray containers = objectAt(objectAt(spec, QStringLiteral("template")), QStringLiteral("spec"))
                                      .value(QStringLiteral("containers"))
                                      .toArray();
    QJsonObject container = containerNamed(containers, {});
    // The container the first active trigger traces: the one whose image the trigger controller sets.
    const auto traced = std::find_if(
        row.triggers.cbegin(), row.triggers.cend(), [](const ImageTrigger& trigger) { return !trigger.paused; });
    if (traced != row.triggers.cend()) {
        const QJsonObject tracedContainer = traced->container.isEmpty()
            ? containers.at(traced->containerIndex).toObject()
            : containerNamed(containers, traced->container);
        if (tracedContainer.isEmpty())
            row.triggerError = QStringLiteral("the %1 annotation's fieldPath %2 names no container of the template")
                                   .arg(kTriggerAnnotation, traced->fieldPath);
        else
            container = tracedContainer;
    }
    row.container = container.value(QStringLiteral("name")).toString();
    row.image = container.value(QStringLiteral("image")).toString();
    return row;
}

PodRow RaftQueries::podRow(const QJsonObject& pod, const QString& container)
{
    const QJsonObject metadata = objectAt(pod, QStringLiteral("metadata"));
    const QJsonObject status = objectAt(pod, QStringLiteral("status"));

    PodRow row;
    row.name = metadata.value(QStringLiteral("name")).toString();
    row.ordinal = ordinalOf(row.name);
    row.phase = status.value(QStringLiteral("phase")).toString();
    for (const QJsonValue& condition : status.value(QStringLiteral("conditions")).toArray()) {
        const QJsonObject c = condition.toObject();
        if (c.value(QStringLiteral("type")).toString() == QStringLiteral("Ready"))
            row.ready = c.value(QStringLiteral("status")).toString() == QStringLiteral("True"); // a string, not a bool
    }
    const QJsonValue deletion = metadata.value(QStringLiteral("deletionTimestamp"));
    row.terminating = !deletion.isUndefined() && !deletion.isNull();
    row.revision
        = objectAt(metadata, QStringLiteral("labels")).value(QStringLiteral("controller-revision-hash")).toString();
    row.created
        = QDateTime::fromString(metadata.value(QStringLiteral("creationTimestamp")).toString(), Qt::ISODate).toUTC();

    const QJsonObject specContainer = containerNamed(
        objectAt(pod, QStringLiteral("spec")).value(QStringLiteral("containers")).toArray(), container);
    row.image = specContainer.value(QStringLiteral("image")).toString();
    const QString name = specContainer.value(QStringLiteral("name")).toString();
    if (!name.isEmpty()) {
        const QJsonObject containerStatus
            = containerNamed(status.value(QStringLiteral("containerStatuses")).toArray(), name);
        row.imageId = containerStatus.value(QStringLiteral("imageID")).toString();
        row.restarts = containerStatus.value(QStringLiteral("restartCount")).toInt();
    }
    return row;
}

QString RaftQueries::latestImage(const QJsonObject& imageStream, const QString& tag)
{
    for (const QJsonValue& value :
        objectAt(imageStream, QStringLiteral("status")).value(QStringLiteral("tags")).toArray()) {
        const QJsonObject entry = value.toObject();
        if (entry.value(QStringLiteral("tag")).toString() != tag)
            continue;
        // Items are newest first.
        return entry.value(QStringLiteral("items"))
            .toArray()
            .at(0)
            .toObject()
            .value(QStringLiteral("dockerImageReference"))
            .toString();
    }
    return {};
}

std::optional<QList<StatefulSetRow>> RaftQueries::statefulSets(KubeClient& client, const QString& ns, QString* error)
{
    const auto items = itemsOf(client.get(KubeClient::statefulSetsPath(ns)), QStringLiteral("StatefulSets"), error);
    if (!items)
        return std::nullopt;
    QList<StatefulSetRow> rows;
    for (const QJsonValue& item : *items) {
        StatefulSetRow row = statefulSetRow(item.toObject());
        if (row.name.isEmpty()) {
            *error = QStringLiteral("the API server listed a StatefulSet without a name in namespace %1").arg(ns);
            return std::nullopt;
        }
        rows << row;
    }
    std::sort(
        rows.begin(), rows.end(), [](const StatefulSetRow& a, const StatefulSetRow& b) { return a.name < b.name; });
    return rows;
}

std::optional<StatefulSetRow> RaftQueries::statefulSet(
    KubeClient& client, const QString& ns, const QString& name, QString* error)
{
    const KubeResponse response = client.get(KubeClient::statefulSetPath(ns, name));
    if (!response.ok()) {
        *error = response.message;
        return std::nullopt;
    }
    StatefulSetRow row = statefulSetRow(response.object);
    if (row.name != name) {
        *error = QStringLiteral("the API server answered for StatefulSet %1/%2 with \"%3\"").arg(ns, name, row.name);
        return std::nullopt;
    }
    return row;
}

std::optional<QList<PodRow>> RaftQueries::pods(
    KubeClient& client, const QString& ns, const StatefulSetRow& statefulSet, QString* error)
{
    // Without a selector the list would be every pod of the namespace.
    if (statefulSet.matchLabels.isEmpty()) {
        *error = QStringLiteral("StatefulSet %1/%2 has no spec.selector.matchLabels: opsdeck finds its pods by them")
                     .arg(ns, statefulSet.name);
        return std::nullopt;
    }
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("labelSelector"), KubeClient::labelSelector(statefulSet.matchLabels));
    const auto items = itemsOf(client.get(KubeClient::podsPath(ns), query), QStringLiteral("pods"), error);
    if (!items)
        return std::nullopt;
    QList<PodRow> rows;
    // A selector may match other pods too; the StatefulSet's own are named <name>-<ordinal>.
    const QString prefix = statefulSet.name + u'-';
    for (const QJsonValue& item : *items) {
        PodRow row = podRow(item.toObject(), statefulSet.container);
        if (row.ordinal >= 0 && row.name == prefix + QString::number(row.ordinal))
            rows << row;
    }
    std::sort(rows.begin(), rows.end(), [](const PodRow& a, const PodRow& b) { return a.ordinal < b.ordinal; });
    return rows;
}

std::optional<QString> RaftQueries::triggerImage(
    KubeClient& client, const QString& ns, const ImageTrigger& trigger, QString* error)
{
    const QString stream = trigger.tag.section(u':', 0, 0);
    const QString tag = trigger.tag.section(u':', 1);
    const QString streamNamespace = trigger.tagNamespace.isEmpty() ? ns : trigger.tagNamespace;
    const KubeResponse response = client.get(KubeClient::imageStreamPath(streamNamespace, stream));
    if (!response.ok()) {
        *error = response.message;
        return std::nullopt;
    }
    const QString image = latestImage(response.object, tag);
    if (image.isEmpty()) {
        *error = QStringLiteral("image stream tag %1/%2 has no image yet: push or tag one (oc tag) before the reset")
                     .arg(streamNamespace, trigger.tag);
        return std::nullopt;
    }
    return image;
}

} // namespace opsdeck
