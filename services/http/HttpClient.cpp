#include "http/HttpClient.h"

#include "core/Logging.h"

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

HttpClient::HttpClient(const QString& caFile)
    : m_ssl(QSslConfiguration::defaultConfiguration())
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
    if (m_aborted) {
        response.error = QStringLiteral("cancelled");
        return response;
    }
    request.setSslConfiguration(m_ssl);
    request.setTransferTimeout(timeoutMs);
    QNetworkReply* reply = m_manager.sendCustomRequest(request, verb, body);
    {
        QMutexLocker lock(&m_mutex);
        m_reply = reply;
    }
    // abort() may have come between the check above and the registration.
    if (m_aborted)
        reply->abort();
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    {
        QMutexLocker lock(&m_mutex);
        m_reply = nullptr;
    }
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.body = reply->readAll();
    response.headers = reply->rawHeaderPairs();
    if (response.status == 0) {
        response.error = m_aborted ? QStringLiteral("cancelled")
            : reply->error() == QNetworkReply::OperationCanceledError
            ? QStringLiteral("no answer within %1 s").arg(timeoutMs / 1000.0)
            : reply->errorString();
    }
    qCDebug(lcHttp) << verb << request.url().toString(QUrl::RemoveQuery) << "->" << response.status << response.error;
    // Deleted here, not later: a pool thread may never run an event loop that would process a deferred delete.
    delete reply;
    return response;
}

HttpResponse HttpClient::get(const QUrl& url, int timeoutMs)
{
    return send(QByteArrayLiteral("GET"), QNetworkRequest(url), {}, timeoutMs);
}

void HttpClient::abort()
{
    m_aborted = true;
    QMutexLocker lock(&m_mutex);
    if (m_reply)
        QMetaObject::invokeMethod(m_reply.data(), &QNetworkReply::abort, Qt::QueuedConnection);
}

} // namespace opsdeck
