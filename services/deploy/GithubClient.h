#pragma once

#include "config/Inventory.h"
#include "http/HttpClient.h"

#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace opsdeck {

// The GitHub REST calls of the deploy flow (../shared/reference/github-api.md), blocking, for one worker
// thread. Every failure comes back as one sentence: the call, GitHub's status and message, and what to do
// (a new token, a missing permission, when a rate limit ends). GETs that hit a 5xx are retried twice.
class GithubClient
{
public:
    GithubClient(const GithubConfig& github,
        const DeployConfig& deploy,
        const QString& token,
        std::shared_ptr<const std::atomic_bool> stop = {});

    bool ready(QString* error) const { return m_http.ready(error); }

    // Paths are relative to /repos/<owner>/<repo>/, e.g. "commits/main".
    std::optional<QJsonObject> getObject(const QString& repoPath, QString* error);
    // A list endpoint, all pages (Link rel="next"), up to maxItems.
    std::optional<QJsonArray> getList(const QString& repoPath, QString* error, int maxItems = 1000);
    // POST/PUT with a JSON body. *status gets GitHub's status whenever it answered (also on failure).
    std::optional<QJsonObject> send(
        const QByteArray& verb, const QString& repoPath, const QJsonObject& body, int* status, QString* error);
    // A file published beside the API (the repository metrics on GitHub Pages). No token is sent elsewhere.
    std::optional<QByteArray> getText(const QString& url, QString* error);

    // The commit `ref` (branch, sha, refs/pull/<n>/merge) points at.
    std::optional<QJsonObject> commit(const QString& ref, QString* error);
    // compare/<base>...<head>: status, ahead_by, behind_by, commits.
    std::optional<QJsonObject> compare(const QString& base, const QString& head, QString* error);
    // The open pull request from deploy.updateHead into deploy.branch; an empty object when there is none.
    std::optional<QJsonObject> openUpdatePull(QString* error);
    // One pull request, waiting (up to about 10 s) while GitHub is still computing "mergeable".
    std::optional<QJsonObject> pull(int number, QString* error);

    // For a cancel hook: ends the call in flight and every later one; safe to keep after the client is gone.
    std::shared_ptr<HttpAbort> abortHandle() const { return m_http.abortHandle(); }

    static QString encode(const QString& pathSegment);

    // Readers of GitHub's answers (the fuzz target feeds them arbitrary bytes).
    // The sentence for a call that failed: the call, GitHub's status and message, and what to do.
    QString describe(const QByteArray& verb, const QString& url, const HttpResponse& response) const;
    // GitHub's message in an error body, with its validation details; the body's start when it has none.
    static QString errorMessage(const QByteArray& body);
    // The items of one page of a list: a bare array, or the one array-valued field of a wrapped list
    // (check_runs, workflow_runs).
    static QJsonArray listItems(const QByteArray& body);
    // The rel="next" URL of a Link header, or empty.
    static QString nextLink(const QByteArray& link);

private:
    HttpResponse call(const QByteArray& verb, const QString& url, const QByteArray& body = {});

    GithubConfig m_github;
    DeployConfig m_deploy;
    QString m_token;
    HttpClient m_http;
};

} // namespace opsdeck
