#include "deploy/GithubClient.h"

#include "deploy/DeployLogging.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QThread>

namespace opsdeck {

namespace {

constexpr int kTimeoutMs = 20000;

} // namespace

GithubClient::GithubClient(const GithubConfig& github,
    const DeployConfig& deploy,
    const QString& token,
    std::shared_ptr<const std::atomic_bool> stop)
    : m_github(github)
    , m_deploy(deploy)
    , m_token(token)
    , m_http(github.caFile, std::move(stop))
{
}

QString GithubClient::errorMessage(const QByteArray& body)
{
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    QString message = object.value(QStringLiteral("message")).toString();
    // Validation errors carry details; some endpoints put plain strings there.
    QStringList details;
    for (const QJsonValue& e : object.value(QStringLiteral("errors")).toArray()) {
        if (e.isString())
            details << e.toString();
        else if (e.isObject()) {
            const QJsonObject o = e.toObject();
            details << (o.contains(QStringLiteral("message"))
                    ? o.value(QStringLiteral("message")).toString()
                    : QStringLiteral("%1 %2 %3")
                          .arg(o.value(QStringLiteral("resource")).toString(),
                              o.value(QStringLiteral("field")).toString(), o.value(QStringLiteral("code")).toString())
                          .simplified());
        }
    }
    if (!details.isEmpty())
        message += QStringLiteral(" (%1)").arg(details.join(QStringLiteral("; ")));
    return message.isEmpty() ? QString::fromUtf8(body.left(200)).simplified() : message;
}

QString GithubClient::nextLink(const QByteArray& link)
{
    static const QRegularExpression next(QStringLiteral("<([^>]+)>\\s*;\\s*rel=\"next\""));
    return next.match(QString::fromUtf8(link)).captured(1);
}

QJsonArray GithubClient::listItems(const QByteArray& body)
{
    const QJsonDocument document = QJsonDocument::fromJson(body);
    QJsonArray items = document.array();
    if (document.isObject()) {
        for (const QJsonValue& v : document.object()) {
            if (v.isArray())
                items = v.toArray();
        }
    }
    return items;
}

QString GithubClient::encode(const QString& pathSegment)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(pathSegment));
}

HttpResponse GithubClient::call(const QByteArray& verb, const QString& url, const QByteArray& body)
{
    QNetworkRequest request(QUrl::fromEncoded(url.toUtf8()));
    request.setRawHeader("Accept", "application/vnd.github+json");
    request.setRawHeader("User-Agent", "opsdeck/" + QCoreApplication::applicationVersion().toUtf8());
    if (url.startsWith(m_github.apiUrl + u'/')) {
        request.setRawHeader("X-GitHub-Api-Version", m_github.apiVersion.toUtf8());
        if (!m_token.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    }
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    HttpResponse response;
    // Only reads are retried: a write that timed out may have happened.
    const int attempts = verb == "GET" ? 3 : 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        response = m_http.send(verb, request, body, kTimeoutMs);
        // A 5xx or no answer at all may pass; a 4xx will not, and a cancel is meant.
        const bool transient = response.status >= 500 || !response.answered();
        if (!transient || response.error == QStringLiteral("cancelled") || attempt == attempts)
            break;
        qCInfo(lcDeploy) << "GitHub" << verb << url << "answered" << response.status << "; retrying";
        QThread::msleep(1000UL * static_cast<unsigned long>(attempt));
    }
    return response;
}

QString GithubClient::describe(const QByteArray& verb, const QString& url, const HttpResponse& response) const
{
    const QString what = QStringLiteral("GitHub %1 %2").arg(QString::fromLatin1(verb), url);
    if (!response.answered())
        return QStringLiteral("%1: %2; check the network and github.apiUrl (%3), then refresh")
            .arg(what, response.error, m_github.apiUrl);
    const QString message = errorMessage(response.body);
    const QString tokenPlace = m_github.tokenEnv.isEmpty()
        ? QStringLiteral("the keychain entry opsdeck/github/%1/token").arg(m_deploy.owner())
        : QStringLiteral("$%1").arg(m_github.tokenEnv);
    const QByteArray remaining = response.header("x-ratelimit-remaining");
    const QByteArray retryAfter = response.header("retry-after");
    QString advice;
    if ((response.status == 403 || response.status == 429) && (!retryAfter.isEmpty() || remaining == "0")) {
        const QDateTime until = !retryAfter.isEmpty()
            ? QDateTime::currentDateTime().addSecs(retryAfter.toLongLong())
            : QDateTime::fromSecsSinceEpoch(response.header("x-ratelimit-reset").toLongLong());
        advice = QStringLiteral("rate limited: try again after %1 (%2 s)")
                     .arg(until.toLocalTime().toString(QStringLiteral("HH:mm:ss")))
                     .arg(std::max<qint64>(0, QDateTime::currentDateTime().secsTo(until)));
    } else if (response.status == 401) {
        advice = QStringLiteral("the token in %1 is wrong or expired: store a new one").arg(tokenPlace);
    } else if (response.status == 403) {
        const QByteArray needed = response.header("x-accepted-github-permissions");
        advice = QStringLiteral("the token in %1 lacks a permission%2")
                     .arg(tokenPlace,
                         needed.isEmpty() ? QString()
                                          : QStringLiteral(" (GitHub wants %1)").arg(QString::fromUtf8(needed)));
    } else if (response.status == 404) {
        advice = QStringLiteral("check deploy.repository (%1) and that the token in %2 can see it")
                     .arg(m_deploy.repository, tokenPlace);
    } else if (response.status >= 500) {
        advice = QStringLiteral("GitHub is having trouble: try again in a few minutes");
    }
    return QStringLiteral("%1: %2 %3%4")
        .arg(what, QString::number(response.status), message,
            advice.isEmpty() ? QString() : QStringLiteral("; ") + advice);
}

std::optional<QJsonObject> GithubClient::getObject(const QString& repoPath, QString* error)
{
    const QString url = QStringLiteral("%1/repos/%2/%3").arg(m_github.apiUrl, m_deploy.repository, repoPath);
    const HttpResponse response = call("GET", url);
    if (!response.ok()) {
        *error = describe("GET", url, response);
        return std::nullopt;
    }
    return QJsonDocument::fromJson(response.body).object();
}

std::optional<QJsonArray> GithubClient::getList(const QString& repoPath, QString* error, int maxItems)
{
    QString url = QStringLiteral("%1/repos/%2/%3").arg(m_github.apiUrl, m_deploy.repository, repoPath);
    QJsonArray all;
    while (!url.isEmpty() && all.size() < maxItems) {
        const HttpResponse response = call("GET", url);
        if (!response.ok()) {
            *error = describe("GET", url, response);
            return std::nullopt;
        }
        for (const QJsonValue& item : listItems(response.body))
            all.append(item);
        const QString next = nextLink(response.header("link"));
        // Never follow a link off the API (the token would go with it).
        url = next.startsWith(m_github.apiUrl + u'/') ? next : QString();
    }
    return all;
}

std::optional<QJsonObject> GithubClient::send(
    const QByteArray& verb, const QString& repoPath, const QJsonObject& body, int* status, QString* error)
{
    const QString url = QStringLiteral("%1/repos/%2/%3").arg(m_github.apiUrl, m_deploy.repository, repoPath);
    const HttpResponse response = call(verb, url, QJsonDocument(body).toJson(QJsonDocument::Compact));
    *status = response.status;
    if (!response.ok()) {
        *error = describe(verb, url, response);
        return std::nullopt;
    }
    return QJsonDocument::fromJson(response.body).object();
}

std::optional<QByteArray> GithubClient::getText(const QString& url, QString* error)
{
    const HttpResponse response = call("GET", url);
    if (!response.ok()) {
        *error = describe("GET", url, response);
        return std::nullopt;
    }
    return response.body;
}

std::optional<QJsonObject> GithubClient::commit(const QString& ref, QString* error)
{
    return getObject(QStringLiteral("commits/") + encode(ref), error);
}

std::optional<QJsonObject> GithubClient::compare(const QString& base, const QString& head, QString* error)
{
    return getObject(QStringLiteral("compare/%1...%2").arg(encode(base), encode(head)), error);
}

std::optional<QJsonObject> GithubClient::openUpdatePull(QString* error)
{
    // head must be owner:branch; GitHub ignores a bare branch and lists every open pull request.
    const auto pulls = getList(QStringLiteral("pulls?state=open&head=%1&base=%2&per_page=100")
                                   .arg(encode(m_deploy.updateHead), encode(m_deploy.branch)),
        error);
    if (!pulls)
        return std::nullopt;
    for (const QJsonValue& p : *pulls) {
        const QJsonObject pull = p.toObject();
        if (pull.value(QStringLiteral("head")).toObject().value(QStringLiteral("label")).toString()
            == m_deploy.updateHead)
            return pull;
    }
    return QJsonObject();
}

std::optional<QJsonObject> GithubClient::pull(int number, QString* error)
{
    std::optional<QJsonObject> pull;
    for (int attempt = 0; attempt < 10; ++attempt) {
        pull = getObject(QStringLiteral("pulls/%1").arg(number), error);
        // null: GitHub has started computing it in the background; asking again shortly gives the answer.
        if (!pull || !pull->value(QStringLiteral("mergeable")).isNull()
            || pull->value(QStringLiteral("state")).toString() != QStringLiteral("open"))
            break;
        QThread::msleep(1000);
    }
    return pull;
}

} // namespace opsdeck
