#include "deploy/UpdatePull.h"

#include "deploy/GithubClient.h"

#include <QJsonArray>

namespace opsdeck {

bool UpdatePull::passed(const Check& c)
{
    return c.status == QStringLiteral("completed")
        && (c.conclusion == QStringLiteral("success") || c.conclusion == QStringLiteral("neutral")
            || c.conclusion == QStringLiteral("skipped"));
}

bool UpdatePull::checksPassed() const
{
    return !checks.isEmpty() && std::all_of(checks.cbegin(), checks.cend(), passed);
}

QString UpdatePull::checksSummary() const
{
    if (checks.isEmpty())
        return QStringLiteral("no checks reported");
    int passed = 0, running = 0, failed = 0;
    for (const Check& c : checks) {
        if (c.status != QStringLiteral("completed"))
            ++running;
        else if (UpdatePull::passed(c))
            ++passed;
        else
            ++failed;
    }
    QStringList parts { QStringLiteral("%1 of %2 passed").arg(passed).arg(checks.size()) };
    if (running)
        parts << QStringLiteral("%1 running").arg(running);
    if (failed)
        parts << QStringLiteral("%1 failed").arg(failed);
    return parts.join(QStringLiteral(", "));
}

QJsonObject UpdatePull::toJson() const
{
    QJsonArray commitList, checkList;
    for (const Commit& c : commits)
        commitList.append(QJsonObject { { QStringLiteral("sha"), c.sha }, { QStringLiteral("message"), c.message } });
    for (const Check& c : checks)
        checkList.append(QJsonObject { { QStringLiteral("name"), c.name }, { QStringLiteral("status"), c.status },
            { QStringLiteral("conclusion"), c.conclusion } });
    return { { QStringLiteral("number"), number }, { QStringLiteral("title"), title }, { QStringLiteral("url"), url },
        { QStringLiteral("state"), state }, { QStringLiteral("merged"), merged },
        { QStringLiteral("mergeable"), mergeable }, { QStringLiteral("mergeableState"), mergeableState },
        { QStringLiteral("headSha"), headSha }, { QStringLiteral("testMergeSha"), testMergeSha },
        { QStringLiteral("commits"), commitList }, { QStringLiteral("checks"), checkList },
        { QStringLiteral("checksPassed"), checksPassed() } };
}

std::optional<UpdatePull> UpdatePull::readOpen(GithubClient& github, QString* error)
{
    const auto open = github.openUpdatePull(error);
    if (!open)
        return std::nullopt;
    if (open->isEmpty())
        return UpdatePull();
    return read(github, open->value(QStringLiteral("number")).toInt(), error);
}

std::optional<UpdatePull> UpdatePull::read(GithubClient& github, int number, QString* error)
{
    const auto pull = github.pull(number, error);
    if (!pull)
        return std::nullopt;
    const auto commits = github.getList(QStringLiteral("pulls/%1/commits?per_page=100").arg(number), error, 250);
    if (!commits)
        return std::nullopt;
    const QString headSha = pull->value(QStringLiteral("head")).toObject().value(QStringLiteral("sha")).toString();
    const auto runs = github.getList(
        QStringLiteral("commits/%1/check-runs?filter=latest&per_page=100").arg(GithubClient::encode(headSha)), error);
    if (!runs)
        return std::nullopt;
    UpdatePull p = fromJson(*pull, *commits, *runs);
    p.number = number;
    // A pull request with conflicts has no test merge: it stays empty, and mergeable says why.
    if (p.state == QStringLiteral("open")) {
        QString mergeError;
        if (const auto merge = github.commit(p.mergeRef(), &mergeError))
            p.testMergeSha = merge->value(QStringLiteral("sha")).toString();
    }
    return p;
}

UpdatePull UpdatePull::fromJson(const QJsonObject& pull, const QJsonArray& commits, const QJsonArray& checkRuns)
{
    UpdatePull p;
    p.number = pull.value(QStringLiteral("number")).toInt();
    p.title = pull.value(QStringLiteral("title")).toString();
    p.body = pull.value(QStringLiteral("body")).toString();
    p.url = pull.value(QStringLiteral("html_url")).toString();
    p.state = pull.value(QStringLiteral("state")).toString();
    p.merged = pull.value(QStringLiteral("merged")).toBool();
    const QJsonValue mergeable = pull.value(QStringLiteral("mergeable"));
    p.mergeable = mergeable.isBool() ? (mergeable.toBool() ? QStringLiteral("true") : QStringLiteral("false"))
                                     : QStringLiteral("unknown");
    p.mergeableState = pull.value(QStringLiteral("mergeable_state")).toString();
    p.headSha = pull.value(QStringLiteral("head")).toObject().value(QStringLiteral("sha")).toString();
    for (const QJsonValue& c : commits) {
        const QJsonObject o = c.toObject();
        p.commits << Commit { o.value(QStringLiteral("sha")).toString(),
            o.value(QStringLiteral("commit"))
                .toObject()
                .value(QStringLiteral("message"))
                .toString()
                .section(u'\n', 0, 0) };
    }
    for (const QJsonValue& r : checkRuns) {
        const QJsonObject o = r.toObject();
        p.checks << Check { o.value(QStringLiteral("name")).toString(), o.value(QStringLiteral("status")).toString(),
            o.value(QStringLiteral("conclusion")).toString() };
    }
    return p;
}

} // namespace opsdeck
