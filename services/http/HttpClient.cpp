#include "http/HttpClient.h"

#include "http/HttpLogging.h"

#include <QEventLoop>
#include <QFile>
#include <QMutexLocker>
#include <QNetworkReply>
#include <QSslCertificate>
#include <QTimer>

namespace opsdeck {

QByteArray HttpResponse::header(const QByteArray& name) const
{
    for (const auto& [key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QString HttpResponse::describe() const
{
    if (!answered())
        return error;
    return error.isEmpty() ? QStringLiteral("HTTP %1").arg(status)
                           : QStringLiteral("HTTP %1, %2").arg(status).arg(error);
}

void HttpAbort::abort()
{
    m_aborted = true;
    QMutexLocker lock(&m_mutex);
    if (m_reply)
        QMetaObject::invokeMethod(m_reply.data(), &QNetworkReply::abort, Qt::QueuedConnection);
}

void HttpAbort::track(QNetworkReply* reply)
{
    QMutexLocker lock(&m_mutex);
    m_reply = reply;
}

HttpClient::HttpClient(const QString& caFile, std::shared_ptr<const std::atomic_bool> stop)
    : m_ssl(QSslConfiguration::defaultConfiguration())
    , m_stop(std::move(stop))
{
    // Answers come from services we call on purpose; following a redirect to another host would send our
    // bearer token there.
    m_manager.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    if (caFile.isEmpty())
        return;
    QFile file(caFile);
    const QList<QSslCertificate> certificates = file.open(QIODevice::ReadOnly)
        ? QSslCertificate::fromData(file.readAll(), QSsl::Pem)
        : QList<QSslCertificate>();
    if (certificates.isEmpty()) {
        m_setupError = QStringLiteral("cannot use the CA file %1: %2")
                           .arg(caFile,
                               file.error() != QFileDevice::NoError ? file.errorString()
                                                                    : QStringLiteral("no PEM certificate in it"));
        return;
    }
    m_ssl.addCaCertificates(certificates);
}

HttpClient::HttpClient(const QSslConfiguration& ssl, std::shared_ptr<const std::atomic_bool> stop)
    : m_ssl(ssl)
    , m_stop(std::move(stop))
{
    m_manager.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

HttpClient::~HttpClient() = default;

bool HttpClient::ready(QString* error) const
{
    if (m_setupError.isEmpty())
        return true;
    *error = m_setupError;
    return false;
}

HttpResponse HttpClient::send(const QByteArray& verb, QNetworkRequest request, const QByteArray& body, int timeoutMs)
{
    HttpResponse response;
    if (!m_setupError.isEmpty()) {
        response.error = m_setupError;
        return response;
    }
    if (stopped()) {
        response.error = QStringLiteral("cancelled");
        return response;
    }
    request.setSslConfiguration(m_ssl);
    // No data for this long ends it; the deadline below bounds the whole exchange.
    request.setTransferTimeout(timeoutMs);
    QNetworkReply* reply = m_manager.sendCustomRequest(request, verb, body);
    m_abort->track(reply);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    bool timedOut = false;
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, reply, [reply, &timedOut] {
        timedOut = true;
        reply->abort();
    });
    deadline.start(timeoutMs * 2);
    // A stop from elsewhere (a closing window) is noticed within a tenth of a second.
    QTimer watch;
    QObject::connect(&watch, &QTimer::timeout, reply, [this, reply] {
        if (stopped())
            reply->abort();
    });
    watch.start(100);
    // abort() may have come between the check above and the tracking.
    if (stopped())
        reply->abort();
    if (!reply->isFinished())
        loop.exec();
    m_abort->track(nullptr);
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.body = reply->readAll();
    response.headers = reply->rawHeaderPairs();
    // An HTTP error status is an answer, not a failure of the exchange; anything else (cut off, aborted) is.
    const QNetworkReply::NetworkError error = reply->error();
    const bool httpStatusOnly = response.status >= 400 && error >= QNetworkReply::ContentAccessDenied
        && error <= QNetworkReply::UnknownServerError;
    if (stopped())
        response.error = QStringLiteral("cancelled");
    else if (timedOut || (error == QNetworkReply::OperationCanceledError && response.status == 0))
        response.error = QStringLiteral("no answer within %1 s").arg(timeoutMs / 1000.0);
    else if (error != QNetworkReply::NoError && !httpStatusOnly)
        response.error = reply->errorString();
    qCDebug(lcHttp) << verb << request.url().toString(QUrl::RemoveQuery) << "->" << response.status << response.error;
    // Deleted here, not later: a pool thread may never run an event loop that would process a deferred delete.
    delete reply;
    return response;
}

HttpResponse HttpClient::get(const QUrl& url, int timeoutMs)
{
    return send(QByteArrayLiteral("GET"), QNetworkRequest(url), {}, timeoutMs);
}

} // namespace opsdeck
