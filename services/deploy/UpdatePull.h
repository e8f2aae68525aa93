#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace opsdeck {

class GithubClient;

// The update pull request as the deploy flow shows it: what it changes (its commits, its body), whether GitHub's
// checks passed, and whether it can be merged.
struct UpdatePull
{
    struct Commit
    {
        QString sha;
        QString message; // first line
    };
    struct Check
    {
        QString name;
        QString status; // queued, in_progress, completed, ...
        QString conclusion; // success, failure, ... (empty until completed)
    };

    int number = 0; // 0: no open update pull request
    QString title;
    QString body;
    QString url;
    QString state; // open, closed
    bool merged = false;
    QString mergeable; // "true", "false" or "unknown"
    QString mergeableState;
    QString headSha;
    QString testMergeSha; // what refs/pull/<n>/merge points at: the commit a staging deploy of it runs
    QList<Commit> commits;
    QList<Check> checks;

    bool checksPassed() const; // at least one check, all completed with success/neutral/skipped
    static bool passed(const Check& check);
    QString checksSummary() const; // "1 of 1 passed", "1 running", "no checks"
    QString mergeRef() const { return QStringLiteral("refs/pull/%1/merge").arg(number); }
    QJsonObject toJson() const;

    // The open update pull request (deploy.updateHead into the branch) with its commits and checks; number 0 if
    // there is none.
    static std::optional<UpdatePull> readOpen(GithubClient& github, QString* error);
    // Pull request `number`, whatever its state.
    static std::optional<UpdatePull> read(GithubClient& github, int number, QString* error);
    // What read() makes of GitHub's answers: the pull request, its commits and its head's latest check runs
    // (all but testMergeSha, which takes a call of its own).
    static UpdatePull fromJson(const QJsonObject& pull, const QJsonArray& commits, const QJsonArray& checkRuns);
};

} // namespace opsdeck
