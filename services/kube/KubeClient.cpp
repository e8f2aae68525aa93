#include "kube/KubeClient.h"

#include "core/SecretScrubber.h"
#include "kube/KubeLogging.h"
#include "kube/KubeTls.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QStringList>
#include <QUrl>

namespace opsdeck {

namespace {

// The TLS of the context, or the default one with *error set: ready() then says why, and send() refuses.
QSslConfiguration tlsOrDefault(const Kubeconfig::Resolved& cluster, QString* error)
{
    const std::optional<QSslConfiguration> ssl = kubeTlsConfiguration(cluster, error);
    return ssl ? *ssl : QSslConfiguration::defaultConfiguration();
}

QByteArray contentTypeOf(KubePatch type)
{
    switch (type) {
    case KubePatch::StrategicMerge:
        return QByteArrayLiteral("application/strategic-merge-patch+json");
    case KubePatch::Merge:
        return QByteArrayLiteral("application/merge-patch+json");
    case KubePatch::Json:
        return QByteArrayLiteral("application/json-patch+json");
    }
    return {};
}

QString encode(const QString& name)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(name));
}

QString namespacedPath(const QString& apiPrefix, const QString& ns, const QString& resource)
{
    return QStringLiteral("%1/namespaces/%2/%3").arg(apiPrefix, encode(ns), resource);
}

// Every key and value percent-encoded: QUrlQuery leaves '+' (a space to Go's query parser), '=' and ',' as they are.
QString encodedQuery(const QUrlQuery& query)
{
    QStringList pairs;
    for (const auto& [key, value] : query.queryItems(QUrl::FullyDecoded))
        pairs << encode(key) + u'=' + encode(value);
    return pairs.join(u'&');
}

// "patch statefulsets/scale fg/permie", "list pods in fg", else the verb and the path: what a failure was about,
// in kubectl's words.
QString actionOf(const QByteArray& verb, const QString& path)
{
    const QStringList segments = path.split(u'/', Qt::SkipEmptyParts);
    const qsizetype at = segments.indexOf(QStringLiteral("namespaces"));
    if (at < 0 || segments.size() < at + 3)
        return QStringLiteral("%1 %2").arg(QString::fromLatin1(verb), path);
    const QString ns = QUrl::fromPercentEncoding(segments[at + 1].toUtf8());
    QString resource = segments[at + 2];
    const bool named = segments.size() > at + 3;
    if (segments.size() > at + 4)
        resource += u'/' + segments[at + 4];
    static const QList<std::pair<QByteArray, QString>> kVerbs
        = { { "GET", QStringLiteral("get") }, { "PATCH", QStringLiteral("patch") }, { "PUT", QStringLiteral("update") },
              { "DELETE", QStringLiteral("delete") }, { "POST", QStringLiteral("create") } };
    QString word = QString::fromLatin1(verb).toLower();
    for (const auto& [method, name] : kVerbs) {
        if (method == verb)
            word = name;
    }
    if (!named)
        return QStringLiteral("%1 %2 in %3").arg(verb == "GET" ? QStringLiteral("list") : word, resource, ns);
    return QStringLiteral("%1 %2 %3/%4").arg(word, resource, ns, QUrl::fromPercentEncoding(segments[at + 3].toUtf8()));
}

// A metav1.Status, or an empty object when `body` is something else (a proxy's HTML page, nothing).
QJsonObject statusOf(const QByteArray& body)
{
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    const bool isStatus = object.value(QStringLiteral("kind")).toString() == QStringLiteral("Status")
        || object.value(QStringLiteral("status")).toString() == QStringLiteral("Failure");
    return isStatus ? object : QJsonObject();
}

// The start of a body that is not a Status, on one line, for a message.
QString snippet(const QByteArray& body)
{
    const QString text = QString::fromUtf8(body.left(400)).simplified();
    return text.size() > 160 ? text.left(160) + QStringLiteral("...") : text;
}

// What the server said, quoted, for the end of every sentence.
QString serverWords(const QJsonObject& status, const QByteArray& body)
{
    if (!status.isEmpty())
        return QStringLiteral("the server said \"%1\"").arg(status.value(QStringLiteral("message")).toString());
    if (body.trimmed().isEmpty())
        return QStringLiteral("the answer had an empty body");
    return QStringLiteral("the answer was not a Kubernetes Status: \"%1\"").arg(snippet(body));
}

QString describeForbidden(const QString& prefix, const QString& message, const QString& words)
{
    static const QRegularExpression kDenied(
        QStringLiteral(R"re(User "([^"]*)" cannot ([^ ]+) resource "([^"]*)"(?: in API group "([^"]*)")?)re"
                       R"re((?: in the namespace "([^"]*)")?)re"));
    const QRegularExpressionMatch match = kDenied.match(message);
    if (!match.hasMatch()) {
        return QStringLiteral("%1: the cluster forbids this (%2); ask the cluster's administrators for the RBAC "
                              "permission it needs")
            .arg(prefix, words);
    }
    const QString user = match.captured(1);
    if (user == QStringLiteral("system:anonymous")) {
        return QStringLiteral("%1: no token was sent, so the request counted as anonymous (%2); log in with "
                              "`oc login` and retry")
            .arg(prefix, words);
    }
    const QString verb = match.captured(2);
    const QString resource = match.captured(3);
    const QString group = match.captured(4).isEmpty() ? QStringLiteral("core") : match.captured(4);
    const QString where = match.captured(5).isEmpty() ? QStringLiteral("the cluster")
                                                      : QStringLiteral("namespace %1").arg(match.captured(5));
    return QStringLiteral("%1: user %2 may not %3 %4 (API group %5) in %6 (%7); ask for RBAC permission to %3 %4 in "
                          "%6 (a Role or ClusterRole bound to %2), or log in as a user who has it")
        .arg(prefix, user, verb, resource, group, where, words);
}

// "spec.replicas: Invalid value: -1: must be greater than or equal to 0; ..." from details.causes.
QString invalidFields(const QJsonObject& status)
{
    QStringList fields;
    const QJsonArray causes
        = status.value(QStringLiteral("details")).toObject().value(QStringLiteral("causes")).toArray();
    for (const QJsonValue& cause : causes) {
        const QString field = cause.toObject().value(QStringLiteral("field")).toString();
        const QString message = cause.toObject().value(QStringLiteral("message")).toString();
        fields << (field.isEmpty() ? message : QStringLiteral("%1: %2").arg(field, message));
    }
    return fields.join(QStringLiteral("; "));
}

QString describeUnanswered(const QString& prefix, const QString& clusterName, const QString& transportError)
{
    if (transportError == QStringLiteral("cancelled")) {
        return QStringLiteral("%1: cancelled; whether a write took effect is unknown, read the object again before "
                              "going on")
            .arg(prefix);
    }
    static const QRegularExpression kTls(
        QStringLiteral("ssl|tls|certificate|handshake"), QRegularExpression::CaseInsensitiveOption);
    if (kTls.match(transportError).hasMatch()) {
        return QStringLiteral("%1: the TLS connection failed (%2), so nothing was sent; check that the kubeconfig's "
                              "certificate authority is the one of %3 (`oc login` writes it) and that its server "
                              "address is right")
            .arg(prefix, transportError, clusterName);
    }
    return QStringLiteral("%1: no answer (%2); check the server address of %3 in the kubeconfig, that the API server "
                          "is up and reachable from here (VPN, proxy, firewall); a write may or may not have taken "
                          "effect, read the object again before retrying")
        .arg(prefix, transportError, clusterName);
}

} // namespace

KubeClient::KubeClient(Kubeconfig::Resolved cluster, std::shared_ptr<const std::atomic_bool> stop)
    : m_cluster(std::move(cluster))
    , m_http(tlsOrDefault(m_cluster, &m_setupError), std::move(stop))
{
}

bool KubeClient::ready(QString* error) const
{
    if (m_setupError.isEmpty())
        return true;
    *error = m_setupError;
    return false;
}

KubeResponse KubeClient::get(const QString& path, const QUrlQuery& query, int timeoutMs)
{
    return send(QByteArrayLiteral("GET"), path, query, {}, {}, timeoutMs);
}

KubeResponse KubeClient::getText(const QString& path, const QUrlQuery& query, int timeoutMs)
{
    return exchange(QByteArrayLiteral("GET"), path, query, {}, {}, timeoutMs, Answer::Text);
}

KubeResponse KubeClient::patch(const QString& path, KubePatch type, const QByteArray& body, bool dryRun)
{
    QUrlQuery query;
    if (dryRun)
        query.addQueryItem(QStringLiteral("dryRun"), QStringLiteral("All"));
    return send(QByteArrayLiteral("PATCH"), path, query, contentTypeOf(type), body, kWriteTimeoutMs);
}

KubeResponse KubeClient::put(const QString& path, const QByteArray& body, bool dryRun)
{
    QUrlQuery query;
    if (dryRun)
        query.addQueryItem(QStringLiteral("dryRun"), QStringLiteral("All"));
    return send(QByteArrayLiteral("PUT"), path, query, QByteArrayLiteral("application/json"), body, kWriteTimeoutMs);
}

KubeResponse KubeClient::remove(const QString& path)
{
    return send(QByteArrayLiteral("DELETE"), path, {}, {}, {}, kWriteTimeoutMs);
}

QString KubeClient::clusterLabel() const
{
    // A no-answer message must name the server to check, not only the kubeconfig's name for it.
    return m_cluster.context.cluster.isEmpty()
        ? m_cluster.server
        : QStringLiteral("%1 (%2)").arg(m_cluster.context.cluster, m_cluster.server);
}

KubeResponse KubeClient::send(const QByteArray& verb,
    const QString& path,
    const QUrlQuery& query,
    const QByteArray& contentType,
    const QByteArray& body,
    int timeoutMs)
{
    return exchange(verb, path, query, contentType, body, timeoutMs, Answer::JsonObject);
}

KubeResponse KubeClient::exchange(const QByteArray& verb,
    const QString& path,
    const QUrlQuery& query,
    const QByteArray& contentType,
    const QByteArray& body,
    int timeoutMs,
    Answer answer)
{
    KubeResponse response;
    const QString action = actionOf(verb, path);
    const QString clusterName = clusterLabel();
    if (!m_setupError.isEmpty()) {
        response.message = QStringLiteral("%1 on cluster %2: %3").arg(action, clusterName, m_setupError);
        return response;
    }
    QString url = m_cluster.server;
    while (url.endsWith(u'/'))
        url.chop(1);
    url += path;
    if (!query.isEmpty())
        url += u'?' + encodedQuery(query);
    QNetworkRequest request(QUrl::fromEncoded(url.toUtf8(), QUrl::StrictMode));
    request.setRawHeader("Accept", answer == Answer::Text ? "text/plain, */*" : "application/json");
    request.setRawHeader("User-Agent", "opsdeck");
    if (!m_cluster.token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_cluster.token.toUtf8());
    if (!contentType.isEmpty())
        request.setRawHeader("Content-Type", contentType);

    const HttpResponse http = m_http.send(verb, request, body, timeoutMs);
    response.status = http.status;
    const QJsonObject status = statusOf(http.body);
    response.reason = status.value(QStringLiteral("reason")).toString();
    if (http.ok() && answer == Answer::Text) {
        response.text = http.body;
    } else if (http.ok()) {
        const QJsonDocument document = QJsonDocument::fromJson(http.body);
        if (document.isObject()) {
            response.object = document.object();
        } else {
            response.message
                = QStringLiteral("%1 on cluster %2: HTTP %3, but the answer is not a JSON object (%4); "
                                 "check that the kubeconfig's server is the Kubernetes API server")
                      .arg(action, clusterName)
                      .arg(http.status)
                      .arg(http.body.trimmed().isEmpty() ? QStringLiteral("an empty body")
                                                         : QStringLiteral("\"%1\"").arg(snippet(http.body)));
        }
    } else {
        response.message = describeFailure(clusterName, action, http.status, http.body, http.error);
    }
    // The server never echoes a bearer token, but a proxy's error page might; the journal must not get it.
    if (!m_cluster.token.isEmpty())
        response.message.replace(m_cluster.token, SecretScrubber::kMask.toString());
    if (response.ok())
        qCDebug(lcKube) << verb << path << "->" << response.status;
    else
        qCInfo(lcKube).noquote() << verb << path << "->" << response.status << response.message;
    return response;
}

QString KubeClient::describeFailure(const QString& clusterName,
    const QString& action,
    int status,
    const QByteArray& body,
    const QString& transportError)
{
    const QString prefix = QStringLiteral("%1 on cluster %2").arg(action, clusterName);
    if (status == 0)
        return describeUnanswered(prefix, clusterName, transportError);
    if (status >= 200 && status < 300) {
        return QStringLiteral("%1: the answer (HTTP %2) was cut off (%3); whether a write took effect is unknown, read "
                              "the object again before going on")
            .arg(prefix)
            .arg(status)
            .arg(transportError);
    }
    const QJsonObject statusBody = statusOf(body);
    const QString words = serverWords(statusBody, body);
    switch (status) {
    case 401:
        return QStringLiteral("%1: the token of cluster %2 is invalid or expired (%3); log in again with `oc login` "
                              "and retry")
            .arg(action, clusterName, words);
    case 403:
        return describeForbidden(prefix, statusBody.value(QStringLiteral("message")).toString(), words);
    case 404:
        return QStringLiteral("%1: not found (%2); check the name and the namespace, the object may have been "
                              "deleted or renamed")
            .arg(prefix, words);
    case 409:
        // The same code for a create of a name that is taken (a Job a lost answer had created, or an earlier run's).
        if (statusBody.value(QStringLiteral("reason")).toString() == QStringLiteral("AlreadyExists"))
            return QStringLiteral("%1: an object of that name exists already (%2); nothing was written, read it to "
                                  "see whose it is")
                .arg(prefix, words);
        return QStringLiteral("%1: the object changed since it was read (%2); nothing was written, read it again and "
                              "retry")
            .arg(prefix, words);
    case 422: {
        const QString fields = invalidFields(statusBody);
        if (fields.isEmpty()) {
            return QStringLiteral("%1: the server rejected the change as invalid (%2); nothing was written, read the "
                                  "object again and check the change")
                .arg(prefix, words);
        }
        return QStringLiteral("%1: the server rejected the change as invalid, %2 (%3); nothing was written, correct "
                              "that value and retry")
            .arg(prefix, fields, words);
    }
    case 400:
        return QStringLiteral("%1: the server rejected the request as malformed (%2); nothing was changed, report "
                              "this to opsdeck's maintainers with the message")
            .arg(prefix, words);
    case 415:
        return QStringLiteral("%1: the server does not accept the request's Content-Type (%2); nothing was changed, "
                              "report this to opsdeck's maintainers with the message")
            .arg(prefix, words);
    default:
        break;
    }
    if (statusBody.isEmpty()) {
        return QStringLiteral("%1: HTTP %2 and %3; check that the kubeconfig's server is the Kubernetes API server "
                              "and not a proxy or a login page")
            .arg(prefix)
            .arg(status)
            .arg(words);
    }
    return QStringLiteral("%1: HTTP %2 %3 (%4); retry, and if it persists ask the cluster's administrators")
        .arg(prefix)
        .arg(status)
        .arg(statusBody.value(QStringLiteral("reason")).toString(), words);
}

QString KubeClient::statefulSetsPath(const QString& ns)
{
    return namespacedPath(QStringLiteral("/apis/apps/v1"), ns, QStringLiteral("statefulsets"));
}

QString KubeClient::statefulSetPath(const QString& ns, const QString& name)
{
    return statefulSetsPath(ns) + u'/' + encode(name);
}

QString KubeClient::scalePath(const QString& ns, const QString& statefulSet)
{
    return statefulSetPath(ns, statefulSet) + QStringLiteral("/scale");
}

QString KubeClient::podsPath(const QString& ns)
{
    return namespacedPath(QStringLiteral("/api/v1"), ns, QStringLiteral("pods"));
}

QString KubeClient::podPath(const QString& ns, const QString& name)
{
    return podsPath(ns) + u'/' + encode(name);
}

QString KubeClient::imageStreamPath(const QString& ns, const QString& name)
{
    return namespacedPath(QStringLiteral("/apis/image.openshift.io/v1"), ns, QStringLiteral("imagestreams")) + u'/'
        + encode(name);
}

QString KubeClient::jobsPath(const QString& ns)
{
    return namespacedPath(QStringLiteral("/apis/batch/v1"), ns, QStringLiteral("jobs"));
}

QString KubeClient::jobPath(const QString& ns, const QString& name)
{
    return jobsPath(ns) + u'/' + encode(name);
}

QString KubeClient::podLogPath(const QString& ns, const QString& pod)
{
    return podPath(ns, pod) + QStringLiteral("/log");
}

QString KubeClient::labelSelector(const QJsonObject& matchLabels)
{
    // QJsonObject keeps its keys sorted.
    QStringList terms;
    for (auto it = matchLabels.begin(); it != matchLabels.end(); ++it)
        terms << it.key() + u'=' + it.value().toString();
    return terms.join(u',');
}

QString KubeClient::whoAmI(QString* error)
{
    const KubeResponse user = get(QStringLiteral("/apis/user.openshift.io/v1/users/~"));
    if (user.ok()) {
        const QString name
            = user.object.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString();
        if (!name.isEmpty())
            return name;
        *error = QStringLiteral("cluster %1 answered who am I without a user name").arg(clusterLabel());
        return {};
    }
    // Not OpenShift: kubectl auth whoami's SelfSubjectReview (Kubernetes 1.28 and later).
    if (user.status != 404) {
        *error = user.message;
        return {};
    }
    const KubeResponse review = send(QByteArrayLiteral("POST"),
        QStringLiteral("/apis/authentication.k8s.io/v1/selfsubjectreviews"), {}, QByteArrayLiteral("application/json"),
        QByteArrayLiteral(R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})"), kWriteTimeoutMs);
    if (!review.ok()) {
        *error = review.message;
        return {};
    }
    const QString name = review.object.value(QStringLiteral("status"))
                             .toObject()
                             .value(QStringLiteral("userInfo"))
                             .toObject()
                             .value(QStringLiteral("username"))
                             .toString();
    if (name.isEmpty()) {
        *error = QStringLiteral("cluster %1 answered the SelfSubjectReview without a user name").arg(clusterLabel());
    }
    return name;
}

} // namespace opsdeck
