#include "deploy/MergePullOperation.h"

#include "deploy/GithubClient.h"
#include "deploy/UpdatePull.h"
#include "runbook/RunContext.h"

#include <QJsonArray>

namespace opsdeck {

MergePullOperation::MergePullOperation(DeploySetup setup, int number, QString expectedHead, Evidence evidence)
    : m_setup(std::move(setup))
    , m_number(number)
    , m_expectedHead(std::move(expectedHead))
    , m_evidence(std::move(evidence))
{
}

bool MergePullOperation::makePlan(Plan* plan, QString* error)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    if (deploy.repository.isEmpty()) {
        *error = QStringLiteral("the inventory has no deploy section: add deploy.repository");
        return false;
    }
    if (m_number <= 0) {
        *error = QStringLiteral("pull request number %1 is not allowed: give a positive number").arg(m_number);
        return false;
    }
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    const auto pull = UpdatePull::read(github, m_number, error);
    if (!pull)
        return false;
    if (pull->state != QStringLiteral("open")) {
        *error = QStringLiteral("pull request #%1 is %2%3: nothing to merge")
                     .arg(m_number)
                     .arg(pull->state, pull->merged ? QStringLiteral(" (merged)") : QString());
        return false;
    }
    if (!m_expectedHead.isEmpty() && pull->headSha != m_expectedHead) {
        *error = QStringLiteral("pull request #%1 moved: its head is %2, not %3 that was checked; deploy and check "
                                "the new head on staging first")
                     .arg(m_number)
                     .arg(pull->headSha.left(10), m_expectedHead.left(10));
        return false;
    }
    m_testMerge = pull->testMergeSha;

    plan->operation = name();
    plan->target = QStringLiteral("%1#%2").arg(deploy.repository).arg(m_number);
    plan->targetName = QString::number(m_number);
    plan->verb = QStringLiteral("Merge");
    plan->irreversible = true;
    // What is merged into the branch goes to production with the next deploy: the number is typed.
    plan->production = true;
    plan->lock = QStringLiteral("deploy:") + deploy.repository;
    plan->parameters
        = { { QStringLiteral("repository"), deploy.repository }, { QStringLiteral("pullRequest"), m_number },
              { QStringLiteral("head"), pull->headSha }, { QStringLiteral("testMerge"), m_testMerge },
              { QStringLiteral("stagingVerifiedAt"), m_evidence.stagingRevision },
              { QStringLiteral("manualChecks"), QJsonArray::fromStringList(m_evidence.manualChecks) },
              { QStringLiteral("manualChecksNotTicked"), QJsonArray::fromStringList(m_evidence.manualChecksOpen) } };
    plan->counts = { { QStringLiteral("commits"), QStringLiteral("Commits in the pull request"), pull->commits.size(),
                         QStringLiteral("The commits the merge brings into the branch.") },
        { QStringLiteral("checksPassed"), QStringLiteral("GitHub checks passed"),
            std::count_if(pull->checks.cbegin(), pull->checks.cend(), UpdatePull::passed),
            QStringLiteral("Check runs on the pull request's head that succeeded.") },
        { QStringLiteral("checks"), QStringLiteral("GitHub checks"), pull->checks.size(),
            QStringLiteral("Every check run on the pull request's head.") },
        { QStringLiteral("manualChecks"), QStringLiteral("Manual checks ticked"), m_evidence.manualChecks.size(),
            QStringLiteral("The staging checks the admin ticked as done by hand.") } };
    plan->measures << Plan::Measure { deploy.branch, QStringLiteral("%1: head commit").arg(deploy.branch),
        QStringLiteral("The commit the branch points at on GitHub.") };
    plan->steps = {
        { QStringLiteral("merge"), QStringLiteral("Merge #%1 into %2").arg(m_number).arg(deploy.branch),
            QStringLiteral("PUT /repos/%1/pulls/%2/merge {\"merge_method\":\"merge\",\"sha\":\"%3\"}")
                .arg(deploy.repository)
                .arg(m_number)
                .arg(pull->headSha),
            QStringLiteral("GitHub answers merged: true") },
        { QStringLiteral("verify"), QStringLiteral("Check that %1 points at the merge commit").arg(deploy.branch),
            QStringLiteral("GET /repos/%1/commits/%2").arg(deploy.repository, deploy.branch),
            QStringLiteral("the sha GitHub returned for the merge") },
    };
    QStringList lines { QStringLiteral("#%1 %2 (%3)").arg(m_number).arg(pull->title, pull->url) };
    for (const UpdatePull::Commit& c : pull->commits)
        lines << QStringLiteral("  %1 %2").arg(c.sha.left(10), c.message);
    lines << QStringLiteral("GitHub checks: %1").arg(pull->checksSummary());
    plan->detailText = lines.join(u'\n');
    if (!pull->checksPassed())
        plan->warnings << QStringLiteral("GitHub's checks have not all passed (%1)").arg(pull->checksSummary());
    if (pull->mergeable == QStringLiteral("false"))
        plan->warnings << QStringLiteral(
            "GitHub says the pull request cannot be merged (%1): the merge will be refused")
                              .arg(pull->mergeableState);
    if (m_evidence.stagingRevision.isEmpty())
        plan->warnings << QStringLiteral("the staging checks have not passed on this pull request");
    else if (m_evidence.stagingRevision != m_testMerge)
        plan->warnings << QStringLiteral("the staging checks passed on %1, but the pull request's merge is now %2")
                              .arg(m_evidence.stagingRevision.left(10), m_testMerge.left(10));
    if (!m_evidence.manualChecksOpen.isEmpty())
        plan->warnings << QStringLiteral("manual checks not ticked: %1")
                              .arg(m_evidence.manualChecksOpen.join(QStringLiteral("; ")));
    return true;
}

bool MergePullOperation::execute(const Plan& plan, RunContext& context)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    const QString head = plan.parameters.value(QStringLiteral("head")).toString();
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    QString error;
    if (const auto before = github.commit(deploy.branch, &error))
        context.record().before.insert(deploy.branch, before->value(QStringLiteral("sha")).toString());

    context.begin(QStringLiteral("merge"));
    if (context.cancelled()) {
        context.cancelStep(QStringLiteral("cancelled before the merge was asked for"));
        context.record().summary = QStringLiteral("Pull request #%1 was not merged: cancelled.").arg(m_number);
        return false;
    }
    int status = 0;
    const auto merged = github.send("PUT", QStringLiteral("pulls/%1/merge").arg(m_number),
        { { QStringLiteral("merge_method"), QStringLiteral("merge") }, { QStringLiteral("sha"), head },
            { QStringLiteral("commit_title"),
                QStringLiteral("Merge pull request #%1 from %2").arg(m_number).arg(deploy.updateHead) } },
        &status, &error);
    if (!merged || !merged->value(QStringLiteral("merged")).toBool()) {
        const QString why = status == 409
            ? QStringLiteral("the pull request's head moved since it was checked (%1): look at the new commits, "
                             "deploy and check them on staging, then merge again")
                  .arg(error)
            : status == 405 ? QStringLiteral("GitHub refuses to merge (%1): resolve it on GitHub").arg(error)
            : status == 0
            ? QStringLiteral("%1; the merge may have happened: look at #%2 on GitHub before merging again")
                  .arg(error)
                  .arg(m_number)
            : error;
        context.fail(why);
        context.skipRemaining();
        context.record().summary = QStringLiteral("Pull request #%1 was not merged: %2").arg(m_number).arg(why);
        return false;
    }
    const QString sha = merged->value(QStringLiteral("sha")).toString();
    context.succeed(QStringLiteral("merge commit %1").arg(sha));

    context.begin(QStringLiteral("verify"));
    const auto branch = github.commit(deploy.branch, &error);
    const QString now = branch ? branch->value(QStringLiteral("sha")).toString() : QString();
    context.record().after.insert(deploy.branch, now.isEmpty() ? error : now);
    if (now != sha) {
        context.fail(
            QStringLiteral("%1 is at %2, not the merge commit %3%4")
                .arg(deploy.branch, now.isEmpty() ? error : now.left(10), sha.left(10),
                    now.isEmpty()
                        ? QString()
                        : QStringLiteral(": someone pushed meanwhile; deploy %1 as it is now").arg(deploy.branch)));
        context.record().summary = QStringLiteral("Pull request #%1 is merged (%2), but %3 has moved on since.")
                                       .arg(m_number)
                                       .arg(sha.left(10), deploy.branch);
        return false;
    }
    context.succeed(QStringLiteral("%1 is at %2").arg(deploy.branch, sha));
    context.record().summary
        = QStringLiteral("Pull request #%1 is merged: %2 is at %3. Deploy %2 to every machine next.")
              .arg(m_number)
              .arg(deploy.branch, sha.left(10));
    return true;
}

} // namespace opsdeck
