#pragma once

#include "kube/KubeClient.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace opsdeck {

// One image trigger of the image.openshift.io/triggers annotation (../shared/reference/kubernetes.md section 8).
struct ImageTrigger
{
    QString tag; // "permie:latest"
    QString tagNamespace; // empty: the object's own
    QString container; // from fieldPath ?(@.name=="app"), empty when it selects by index
    int containerIndex = -1; // from fieldPath containers[N], -1 when it selects by name
    QString fieldPath; // as written; two entries with one fieldPath make the controller reject the annotation
    bool paused = false;
};

// A StatefulSet as the pane and the reset read it.
struct StatefulSetRow
{
    QString name;
    QString resourceVersion;
    qint64 generation = 0;
    qint64 observedGeneration = 0;
    int desiredReplicas = 0; // spec.replicas
    int replicas = 0; // status.replicas
    int readyReplicas = 0;
    int updatedReplicas = 0;
    int partition = 0;
    QString updateStrategy; // RollingUpdate, OnDelete
    QString podManagementPolicy; // OrderedReady, Parallel
    QString currentRevision;
    QString updateRevision;
    QJsonObject matchLabels; // spec.selector.matchLabels
    QString container; // the container the trigger traces, else the first one
    QString image; // that container's image in the template
    bool hasTrigger = false;
    QString triggerAnnotation; // the annotation's value, byte for byte; empty when absent
    QList<ImageTrigger> triggers; // parsed; empty when absent or unparsable
    QString triggerError; // why the annotation could not be parsed (the controller would reject it too)
};

// A pod of a StatefulSet.
struct PodRow
{
    QString name;
    int ordinal = -1; // from the name's suffix
    QString phase; // Pending, Running, Succeeded, Failed, Unknown
    bool ready = false; // condition Ready == "True"
    bool terminating = false; // metadata.deletionTimestamp set
    QString image; // the container's image in the pod spec
    QString imageId; // its status' imageID
    QString revision; // label controller-revision-hash
    int restarts = 0;
    QDateTime created; // metadata.creationTimestamp, UTC

    bool runningAndReady() const { return phase == QStringLiteral("Running") && ready && !terminating; }
};

// Every read of the RAFT pane and the reset: the Kubernetes calls and the parsing of their answers. The parsers are
// pure (unit-tested, fuzzed); the calls run on a worker thread's KubeClient.
class RaftQueries
{
public:
    static StatefulSetRow statefulSetRow(const QJsonObject& statefulSet);
    static PodRow podRow(const QJsonObject& pod, const QString& container);
    // The annotation's entries, or nullopt with *error (not a JSON array, an entry without from.name, a fieldPath that
    // is not a container's image, duplicate fieldPaths).
    static std::optional<QList<ImageTrigger>> parseTriggers(const QString& annotation, QString* error);
    // status.tags[tag].items[0].dockerImageReference of an ImageStream; empty when the tag has no items.
    static QString latestImage(const QJsonObject& imageStream, const QString& tag);

    static std::optional<QList<StatefulSetRow>> statefulSets(KubeClient& client, const QString& ns, QString* error);
    static std::optional<StatefulSetRow> statefulSet(
        KubeClient& client, const QString& ns, const QString& name, QString* error);
    // The pods matching the StatefulSet's selector, by ordinal.
    static std::optional<QList<PodRow>> pods(
        KubeClient& client, const QString& ns, const StatefulSetRow& statefulSet, QString* error);
    // What `trigger` resolves to now: the image stream tag's newest image reference.
    static std::optional<QString> triggerImage(
        KubeClient& client, const QString& ns, const ImageTrigger& trigger, QString* error);
};

} // namespace opsdeck
