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
#include <memory>

class QNetworkReply;

namespace opsdeck {

struct HttpResponse
{
    int status = 0; // 0: no HTTP answer at all (see error)
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QString error; // why there was no (whole) answer: refused, timeout, TLS, cut off, cancelled

    bool answered() const { return status != 0; }
    // A 2xx that arrived whole (a connection cut mid-body leaves a status but an error).
    bool ok() const { return status >= 200 && status < 300 && error.isEmpty(); }
    // "HTTP 502", or why there was no answer; for error messages.
    QString describe() const;
    // Case-insensitive; empty when absent.
    QByteArray header(const QByteArray& name) const;
};

// Ends the requests of one HttpClient from any thread, and outlives it: a cancel hook may hold it after the
// client is gone.
class HttpAbort
{
public:
    void abort();
    bool aborted() const { return m_aborted; }

private:
    friend class HttpClient;
    void track(QNetworkReply* reply);
    QMutex m_mutex;
    QPointer<QNetworkReply> m_reply; // in flight
    std::atomic_bool m_aborted = false;
};

// HTTP for one worker thread: blocking calls that spin a local event loop, so services written as plain
// sequences of steps (operations, refresh jobs) can use QNetworkAccessManager. Never use it on the GUI thread.
// TLS verification stays on; caFile adds a CA to the system's (GitHub Enterprise, the sandbox). `stop`, when
// set, ends the request in flight and every later one (a closing window).
class HttpClient
{
public:
    explicit HttpClient(const QString& caFile = {}, std::shared_ptr<const std::atomic_bool> stop = {});
    // TLS exactly as given (a Kubernetes cluster's own CA only, a client certificate).
    explicit HttpClient(const QSslConfiguration& ssl, std::shared_ptr<const std::atomic_bool> stop = {});
    ~HttpClient();

    // False with *error when the CA file given cannot be used.
    bool ready(QString* error) const;

    HttpResponse send(
        const QByteArray& verb, QNetworkRequest request, const QByteArray& body = {}, int timeoutMs = 15000);
    HttpResponse get(const QUrl& url, int timeoutMs = 15000);

    // For a cancel hook: ends the request in flight at once with "cancelled", and every later one.
    std::shared_ptr<HttpAbort> abortHandle() const { return m_abort; }

private:
    bool stopped() const { return m_abort->aborted() || (m_stop && *m_stop); }

    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
    QString m_setupError;
    std::shared_ptr<HttpAbort> m_abort = std::make_shared<HttpAbort>();
    std::shared_ptr<const std::atomic_bool> m_stop;
};

} // namespace opsdeck
