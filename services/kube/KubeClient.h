#pragma once

#include "http/HttpClient.h"
#include "kube/Kubeconfig.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QUrlQuery>

#include <atomic>
#include <memory>

namespace opsdeck {

// One answer of the API server. On success `object` is the body; otherwise `message` is one sentence with what to
// do, made from the Status body (../shared/reference/kubernetes.md section 10) and the cluster's name.
struct KubeResponse
{
    int status = 0; // the HTTP status; 0 when no answer came (refused, TLS, timeout, cancelled)
    QString reason; // Status.reason: Unauthorized, Forbidden, NotFound, Conflict, Invalid, BadRequest, ...
    QJsonObject object;
    QString message;
    QByteArray text = {}; // the body of getText() (a pod's log)

    bool ok() const { return status >= 200 && status < 300 && message.isEmpty(); }
    // No answer at all: whether a write took effect is unknown, and only a read can tell.
    bool unanswered() const { return status == 0; }
};

enum class KubePatch
{
    StrategicMerge, // application/strategic-merge-patch+json: lists merge by their key (containers by name)
    Merge, // application/merge-patch+json (RFC 7386)
    Json, // application/json-patch+json (RFC 6902)
};

// The Kubernetes (and OpenShift) REST API of one cluster, for one worker thread: blocking calls over HttpClient.
// TLS from kubeTlsConfiguration, the bearer token from the resolved context. Never on the GUI thread.
class KubeClient
{
public:
    explicit KubeClient(Kubeconfig::Resolved cluster, std::shared_ptr<const std::atomic_bool> stop = {});

    // False with *error when the context's TLS material cannot be used.
    bool ready(QString* error) const;
    const Kubeconfig::Resolved& cluster() const { return m_cluster; }

    KubeResponse get(const QString& path, const QUrlQuery& query = {}, int timeoutMs = 15000);
    // A GET whose answer is text, not a JSON object (a pod's log): the body in `text`.
    KubeResponse getText(const QString& path, const QUrlQuery& query, int timeoutMs = 15000);
    // `body` is sent as it is; `dryRun` adds dryRun=All (validated, not persisted).
    KubeResponse patch(const QString& path, KubePatch type, const QByteArray& body, bool dryRun = false);
    KubeResponse put(const QString& path, const QByteArray& body, bool dryRun = false);
    KubeResponse remove(const QString& path);
    // Any call as it is (`path` already encoded, `contentType` empty for none), for what the verbs above do not
    // cover: a POST of a review, another Content-Type.
    KubeResponse send(const QByteArray& verb,
        const QString& path,
        const QUrlQuery& query,
        const QByteArray& contentType,
        const QByteArray& body,
        int timeoutMs);
    // Writes wait longer than reads: an admission webhook may take its time.
    static constexpr int kWriteTimeoutMs = 30000;

    // Paths, with every name percent-encoded.
    static QString statefulSetsPath(const QString& ns);
    static QString statefulSetPath(const QString& ns, const QString& name);
    static QString scalePath(const QString& ns, const QString& statefulSet);
    static QString podsPath(const QString& ns);
    static QString podPath(const QString& ns, const QString& name);
    static QString imageStreamPath(const QString& ns, const QString& name);
    static QString jobsPath(const QString& ns);
    static QString jobPath(const QString& ns, const QString& name);
    static QString podLogPath(const QString& ns, const QString& pod);
    // "app=permie,tier=db" from a selector's matchLabels, keys sorted.
    static QString labelSelector(const QJsonObject& matchLabels);

    // Who the token is: OpenShift's users/~ (metadata.name), else kubectl's SelfSubjectReview
    // (status.userInfo.username). Empty with *error when neither answers.
    QString whoAmI(QString* error);

    // For a cancel hook: ends the request in flight and every later one.
    std::shared_ptr<HttpAbort> abortHandle() const { return m_http.abortHandle(); }

    // One sentence with what to do, for an answer that is not a success: what the operation was (`action`, e.g.
    // "patch statefulset fg/permie"), the Status message, and the remedy (401: log in again; 403: the RBAC verb
    // and resource that is missing; 404; 409: re-read and retry; 422: the field; 400; 415).
    static QString describeFailure(const QString& clusterName,
        const QString& action,
        int status,
        const QByteArray& body,
        const QString& transportError);

private:
    // "NAME (https://SERVER)", how messages name the cluster.
    QString clusterLabel() const;
    enum class Answer
    {
        JsonObject,
        Text,
    };
    KubeResponse exchange(const QByteArray& verb,
        const QString& path,
        const QUrlQuery& query,
        const QByteArray& contentType,
        const QByteArray& body,
        int timeoutMs,
        Answer answer);

    Kubeconfig::Resolved m_cluster;
    QString m_setupError;
    HttpClient m_http;
};

} // namespace opsdeck
