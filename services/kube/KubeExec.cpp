#include "kube/KubeExec.h"

#include "kube/KubeLogging.h"
#include "kube/KubeTls.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSslError>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

namespace opsdeck {

namespace {

const QString kMayHaveRun = QStringLiteral("the command may have run; re-read the state before doing anything else");

// GET wss://SERVER/api/v1/namespaces/NS/pods/POD/exec?command=..&command=..&container=C&stdin=false&... with each
// value percent-encoded by hand: QUrlQuery leaves '+', which the API server reads as a space, as it is.
QUrl execUrl(
    const QString& server, const QString& ns, const QString& pod, const QString& container, const QStringList& argv)
{
    QUrl url(server);
    url.setScheme(QStringLiteral("wss")); // Kubeconfig::resolve accepts https servers only
    QString path = url.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    path += QStringLiteral("/api/v1/namespaces/%1/pods/%2/exec")
                .arg(QString::fromLatin1(QUrl::toPercentEncoding(ns)),
                    QString::fromLatin1(QUrl::toPercentEncoding(pod)));
    url.setPath(path, QUrl::TolerantMode);
    QByteArray query;
    for (const QString& argument : argv)
        query += "command=" + QUrl::toPercentEncoding(argument) + '&';
    if (!container.isEmpty())
        query += "container=" + QUrl::toPercentEncoding(container) + '&';
    query += "stdin=false&stdout=true&stderr=true&tty=false";
    url.setQuery(QString::fromLatin1(query), QUrl::TolerantMode);
    return url;
}

// The HTTP status of a refused upgrade. Qt 6.4 keeps neither the status nor the body of the answer: it reports
// "QWebSocketPrivate::processHandshake: Unhandled http status code: 403 (Forbidden)." for most, and for a 400
// only "...: Unknown error condition encountered. Aborting connection.". 0 when the error is not a refused upgrade.
int refusedUpgradeStatus(const QString& qtError)
{
    static const QRegularExpression unhandled(QStringLiteral("Unhandled http status code: (\\d+)"));
    const QRegularExpressionMatch match = unhandled.match(qtError);
    if (match.hasMatch())
        return match.captured(1).toInt();
    if (qtError.contains(QStringLiteral("processHandshake: Unknown error condition")))
        return 400;
    return 0;
}

const char* outcomeName(KubeExecResult::Outcome outcome)
{
    switch (outcome) {
    case KubeExecResult::Outcome::Exited:
        return "exited";
    case KubeExecResult::Outcome::NotRun:
        return "not run";
    case KubeExecResult::Outcome::Unknown:
        break;
    }
    return "unknown";
}

// What one socket told us, gathered while the event loop runs.
struct ExecTranscript
{
    bool upgraded = false;
    QString protocol;
    QByteArray standardOutput;
    QByteArray standardError;
    QByteArray status; // channel 3
    QAbstractSocket::SocketError error = QAbstractSocket::UnknownSocketError;
    QString errorString;
    bool tlsFailed = false; // sslErrors: the TLS handshake failed, so no request left
    bool timedOut = false;
    bool cancelled = false;

    // One binary message: byte 0 is the channel (1 stdout, 2 stderr, 3 the status); a message that is just the
    // channel byte opens the channel and carries nothing. True once the status is whole.
    bool take(const QByteArray& message, const std::function<void(int, const QByteArray&)>& onOutput)
    {
        if (message.size() < 2)
            return false;
        const int channel = static_cast<unsigned char>(message.at(0));
        const QByteArray payload = message.mid(1);
        if (channel == 1 || channel == 2) {
            (channel == 1 ? standardOutput : standardError) += payload;
            if (onOutput)
                onOutput(channel, payload);
        } else if (channel == 3) {
            status += payload;
            return QJsonDocument::fromJson(status).isObject();
        } else {
            qCDebug(lcKube) << "exec ignores a message on channel" << channel;
        }
        return false;
    }
};

// Whether nothing reached an API server: the name did not resolve, the connection was refused, or TLS failed. Qt
// reports a refused connection and a rejected upgrade answer (a 101 with a wrong key, which may follow a command
// that ran) with the same code, ConnectionRefusedError: only the socket's own text tells them apart.
bool neverSent(const ExecTranscript& transcript)
{
    return transcript.tlsFailed || transcript.error == QAbstractSocket::HostNotFoundError
        || transcript.error == QAbstractSocket::SslHandshakeFailedError
        || (transcript.error == QAbstractSocket::ConnectionRefusedError
            && transcript.errorString == QStringLiteral("Connection refused"));
}

class ExecOutcome
{
public:
    ExecOutcome(QString what, QString ns, QString container)
        : m_what(std::move(what))
        , m_ns(std::move(ns))
        , m_container(std::move(container))
    {
    }

    KubeExecResult decide(const ExecTranscript& transcript, int timeoutMs) const
    {
        KubeExecResult result;
        result.protocol = transcript.protocol;
        result.standardOutput = transcript.standardOutput;
        result.standardError = transcript.standardError;
        const QJsonDocument status = QJsonDocument::fromJson(transcript.status);
        if (status.isObject()) {
            fromStatus(status.object(), &result);
            return result;
        }
        if (!transcript.upgraded && !transcript.timedOut && !transcript.cancelled) {
            const int httpStatus = refusedUpgradeStatus(transcript.errorString);
            if (httpStatus != 0) {
                notRun(refused(httpStatus, transcript.errorString), &result);
                return result;
            }
            if (neverSent(transcript)) {
                notRun(QStringLiteral("%1 could not reach the API server (%2); check the server address, the "
                                      "network and the kubeconfig's certificate authority, then retry")
                           .arg(m_what, transcript.errorString),
                    &result);
                return result;
            }
        }
        QString why;
        if (transcript.cancelled)
            why = QStringLiteral("was cancelled");
        else if (transcript.timedOut)
            why = QStringLiteral("had no status within %1 s").arg(timeoutMs / 1000.0);
        else if (transcript.upgraded)
            why = QStringLiteral("ended without the command's status (%1)")
                      .arg(transcript.errorString.isEmpty() ? QStringLiteral("the connection closed")
                                                            : transcript.errorString);
        else
            why = QStringLiteral("lost its connection during the upgrade (%1)").arg(transcript.errorString);
        result.outcome = KubeExecResult::Outcome::Unknown;
        result.message = QStringLiteral("%1 %2: %3").arg(m_what, why, kMayHaveRun);
        return result;
    }

private:
    // The channel-3 metav1.Status (../shared/reference/kubernetes.md section 9).
    void fromStatus(const QJsonObject& status, KubeExecResult* result) const
    {
        const QString state = status.value(QStringLiteral("status")).toString();
        const QString reason = status.value(QStringLiteral("reason")).toString();
        if (state == QStringLiteral("Success")) {
            result->outcome = KubeExecResult::Outcome::Exited;
            result->exitCode = 0;
            return;
        }
        if (reason == QStringLiteral("NonZeroExitCode")) {
            // The code is the cause's; the message's wording differs between versions.
            const QJsonArray causes
                = status.value(QStringLiteral("details")).toObject().value(QStringLiteral("causes")).toArray();
            for (const QJsonValue& cause : causes) {
                const QJsonObject object = cause.toObject();
                if (object.value(QStringLiteral("reason")).toString() != QStringLiteral("ExitCode"))
                    continue;
                bool ok = false;
                const int code = object.value(QStringLiteral("message")).toString().toInt(&ok);
                if (ok && code >= 0 && code <= 255) {
                    result->outcome = KubeExecResult::Outcome::Exited;
                    result->exitCode = code;
                    return;
                }
            }
            result->outcome = KubeExecResult::Outcome::Unknown;
            result->message = QStringLiteral("%1 ended with a non-zero exit whose code the status does not give "
                                             "(%2): %3")
                                  .arg(m_what, status.value(QStringLiteral("message")).toString(), kMayHaveRun);
            return;
        }
        notRun(QStringLiteral("%1 failed before the command ran (%2: %3); check that the pod's container \"%4\" is "
                              "running, then retry")
                   .arg(m_what, reason.isEmpty() ? state : reason, status.value(QStringLiteral("message")).toString(),
                       m_container),
            result);
    }

    // One sentence for an HTTP error before the upgrade, from its status alone (Qt gives no body).
    QString refused(int httpStatus, const QString& qtError) const
    {
        switch (httpStatus) {
        case 401:
            return QStringLiteral("%1 was refused (401 Unauthorized): the token is invalid or expired; log in again "
                                  "(oc login) and retry")
                .arg(m_what);
        case 403:
            return QStringLiteral("%1 was refused (403 Forbidden): the user may not create pods/exec in the "
                                  "namespace \"%2\"; ask a cluster admin for the RBAC verb create on pods/exec there, "
                                  "or use a context that has it")
                .arg(m_what, m_ns);
        case 404:
            return QStringLiteral("%1 was refused (404 Not Found): the pod or its namespace does not exist; re-read "
                                  "the StatefulSet's pods and retry with a current pod name")
                .arg(m_what);
        case 400:
            return QStringLiteral("%1 was refused (400 Bad Request): the container \"%2\" may not be in the pod, the "
                                  "pod may not be running, or the server speaks neither v5.channel.k8s.io nor "
                                  "v4.channel.k8s.io; check the pod and retry")
                .arg(m_what, m_container);
        default:
            return QStringLiteral("%1 was refused before the command ran (%2); check the API server, then retry")
                .arg(m_what, qtError);
        }
    }

    static void notRun(const QString& message, KubeExecResult* result)
    {
        result->outcome = KubeExecResult::Outcome::NotRun;
        result->message = message;
    }

    QString m_what;
    QString m_ns;
    QString m_container;
};

} // namespace

KubeExec::KubeExec(Kubeconfig::Resolved cluster, std::shared_ptr<const std::atomic_bool> stop)
    : m_cluster(std::move(cluster))
    , m_stop(std::move(stop))
{
    if (const std::optional<QSslConfiguration> ssl = kubeTlsConfiguration(m_cluster, &m_setupError))
        m_ssl = *ssl;
}

bool KubeExec::ready(QString* error) const
{
    if (m_setupError.isEmpty())
        return true;
    *error = m_setupError;
    return false;
}

KubeExecResult KubeExec::run(const QString& ns,
    const QString& pod,
    const QString& container,
    const QStringList& argv,
    int timeoutMs,
    const std::function<void(int, const QByteArray&)>& onOutput)
{
    const QString what = QStringLiteral("exec in pod %1/%2 (container \"%3\") on context \"%4\"")
                             .arg(ns, pod, container, m_cluster.context.name);
    KubeExecResult result;
    if (!m_setupError.isEmpty() || argv.isEmpty() || stopped()) {
        result.outcome = KubeExecResult::Outcome::NotRun;
        result.message = !m_setupError.isEmpty() ? m_setupError
            : argv.isEmpty()                     ? QStringLiteral("%1: no command given").arg(what)
                                                 : QStringLiteral("%1 was cancelled before it started").arg(what);
        return result;
    }

    QNetworkRequest request(execUrl(m_cluster.server, ns, pod, container, argv));
    if (!m_cluster.token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_cluster.token.toUtf8());
    QWebSocketHandshakeOptions options;
    options.setSubprotocols({ QStringLiteral("v5.channel.k8s.io"), QStringLiteral("v4.channel.k8s.io") });
    QWebSocket socket;
    socket.setSslConfiguration(m_ssl);

    ExecTranscript transcript;
    QEventLoop loop;
    bool done = false;
    const auto finish = [&done, &loop] {
        done = true;
        loop.quit();
    };
    QObject::connect(&socket, &QWebSocket::connected, &loop, [&transcript, &socket] {
        transcript.upgraded = true;
        transcript.protocol = socket.subprotocol();
    });
    QObject::connect(&socket, &QWebSocket::binaryMessageReceived, &loop, [&](const QByteArray& message) {
        // The status is the last word: nothing the server could still send changes the outcome. Closed from the
        // event loop, not from inside the socket's own frame processing.
        if (transcript.take(message, onOutput))
            QMetaObject::invokeMethod(
                &socket, [&socket] { socket.close(); }, Qt::QueuedConnection);
    });
    QObject::connect(&socket, &QWebSocket::textMessageReceived, &loop,
        [&what](const QString&) { qCWarning(lcKube) << what << "ignores a text frame (not a channel protocol)"; });
    QObject::connect(&socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), &loop,
        [&](QAbstractSocket::SocketError error) {
            transcript.error = error;
            transcript.errorString = socket.errorString();
            // Before the upgrade nothing more comes; after it, frames still buffered arrive before disconnected.
            if (!transcript.upgraded)
                finish();
        });
    QObject::connect(&socket, &QWebSocket::disconnected, &loop, finish);
    QObject::connect(&socket, &QWebSocket::sslErrors, &loop, [&](const QList<QSslError>& errors) {
        transcript.tlsFailed = true;
        qCWarning(lcKube) << what << "TLS:" << errors;
    });

    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, [&] {
        transcript.timedOut = true;
        socket.abort();
        finish();
    });
    // A cancel (the abort handle) or a stop (a closing window) is noticed within a tenth of a second.
    QTimer watch;
    QObject::connect(&watch, &QTimer::timeout, &loop, [&] {
        if (!stopped())
            return;
        transcript.cancelled = true;
        socket.abort();
        finish();
    });
    deadline.start(timeoutMs);
    watch.start(100);

    qCInfo(lcKube) << what << "runs" << argv.first() << "with" << argv.size() - 1 << "arguments";
    socket.open(request, options);
    if (!done)
        loop.exec();
    deadline.stop();
    watch.stop();

    result = ExecOutcome(what, ns, container).decide(transcript, timeoutMs);
    qCInfo(lcKube) << what << "over" << (result.protocol.isEmpty() ? QStringLiteral("no protocol") : result.protocol)
                   << "->" << outcomeName(result.outcome) << result.exitCode << result.message;
    return result;
}

bool KubeExec::stopped() const
{
    return m_abort->aborted() || (m_stop && *m_stop);
}

} // namespace opsdeck
