#pragma once

#include <QByteArray>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkRequest>
#include <QPointer>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

#include <atomic>

class QNetworkReply;

namespace opsdeck {

struct HttpResponse
{
    int status = 0; // 0: no HTTP answer at all (see error)
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QString error; // why there was no answer (refused, timeout, TLS, cancelled); empty when status != 0

    bool answered() const { return status != 0; }
    bool ok() const { return status >= 200 && status < 300; }
    // Case-insensitive; empty when absent.
    QByteArray header(const QByteArray& name) const;
};

// HTTP for one worker thread: blocking calls that spin a local event loop, so services written as plain
// sequences of steps (operations, refresh jobs) can use QNetworkAccessManager. Never use it on the GUI thread.
// TLS verification stays on; caFile adds a CA to the system's (GitHub Enterprise, the sandbox).
class HttpClient
{
public:
    explicit HttpClient(const QString& caFile = {});
    ~HttpClient();

    // False with *error when the CA file given cannot be used.
    bool ready(QString* error) const;

    HttpResponse send(
        const QByteArray& verb, QNetworkRequest request, const QByteArray& body = {}, int timeoutMs = 15000);
    HttpResponse get(const QUrl& url, int timeoutMs = 15000);

    // Thread-safe: the request in flight ends at once with "cancelled", and so does every later one.
    void abort();

private:
    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
    QString m_setupError;
    QMutex m_mutex;
    QPointer<QNetworkReply> m_reply; // in flight, guarded by m_mutex
    std::atomic_bool m_aborted = false;
};

} // namespace opsdeck
