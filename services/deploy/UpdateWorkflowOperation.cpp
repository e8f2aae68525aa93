#include "deploy/UpdateWorkflowOperation.h"

#include "core/Counted.h"
#include "deploy/GithubClient.h"
#include "deploy/UpdatePull.h"
#include "runbook/RunContext.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QThread>

namespace opsdeck {

namespace {

// A run takes minutes; polling faster would only spend the rate limit (1,000 an hour for some tokens).
constexpr unsigned long kPollMs = 5000;
// Errors in a row before following the run is given up (it goes on on GitHub either way).
constexpr int kPollErrors = 5;
// How long a dispatch without run details may take to show its run in the list.
constexpr int kFindRunMs = 60000;

} // namespace

UpdateWorkflowOperation::UpdateWorkflowOperation(DeploySetup setup, QMap<QString, QString> inputs)
    : m_setup(std::move(setup))
    , m_inputs(std::move(inputs))
{
    for (auto it = m_inputs.begin(); it != m_inputs.end();)
        it = it->isEmpty() ? m_inputs.erase(it) : std::next(it);
}

QStringList UpdateWorkflowOperation::inputNames()
{
    return { QStringLiteral("outpack_server"), QStringLiteral("packit"), QStringLiteral("orderly-runner") };
}

QString UpdateWorkflowOperation::inputsError(const QMap<QString, QString>& inputs)
{
    static const QRegularExpression allowed(QStringLiteral("^[A-Za-z0-9._/-]*\\z"));
    for (auto it = inputs.cbegin(); it != inputs.cend(); ++it) {
        if (!inputNames().contains(it.key()))
            return QStringLiteral("input \"%1\" is not one of the workflow's: %2")
                .arg(it.key(), inputNames().join(QStringLiteral(", ")));
        if (!allowed.match(*it).hasMatch() || it->contains(QStringLiteral("..")))
            return QStringLiteral("input %1 \"%2\" is not allowed: give a git ref or image tag of letters, digits and "
                                  ". _ / - (or leave it empty for the latest)")
                .arg(it.key(), *it);
    }
    return {};
}

bool UpdateWorkflowOperation::makePlan(Plan* plan, QString* error)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    if (deploy.repository.isEmpty()) {
        *error = QStringLiteral("the inventory has no deploy section: add deploy.repository");
        return false;
    }
    if (const QString problem = inputsError(m_inputs); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    const auto open = UpdatePull::readOpen(github, error);
    if (!open)
        return false;
    m_openBefore = open->number;
    const QJsonObject body = dispatchBody();
    const QJsonObject inputs = body.value(QStringLiteral("inputs")).toObject();
    QStringList described;
    for (const QString& name : inputNames())
        described << QStringLiteral("%1 = %2").arg(name, m_inputs.value(name, QStringLiteral("(latest)")));
    plan->operation = name();
    plan->target = deploy.repository;
    plan->targetName = deploy.repo();
    plan->verb = QStringLiteral("Trigger");
    plan->lock = QStringLiteral("deploy:") + deploy.repository;
    plan->irreversible = false;
    plan->parameters
        = { { QStringLiteral("repository"), deploy.repository }, { QStringLiteral("workflow"), deploy.updateWorkflow },
              { QStringLiteral("ref"), deploy.branch }, { QStringLiteral("inputs"), inputs } };
    plan->counts = { { QStringLiteral("inputs"), QStringLiteral("Inputs given"), inputs.size(),
                         QStringLiteral("The workflow's inputs this run sets (the parameters list them).") },
        { QStringLiteral("openPullRequests"), QStringLiteral("Open update pull requests"), open->number ? 1 : 0,
            QStringLiteral("Update pull requests already open, waiting to be merged.") } };
    plan->measures << Plan::Measure { QStringLiteral("openPullRequest"),
        QStringLiteral("Open update pull request, by number"),
        QStringLiteral("The update pull request open when the run started (0: none).") }
                   << Plan::Measure { QStringLiteral("workflowRun"), QStringLiteral("Workflow run"),
                          QStringLiteral("The GitHub Actions run this trigger started.") }
                   << Plan::Measure { QStringLiteral("pullRequest"), QStringLiteral("Update pull request"),
                          QStringLiteral("The pull request the workflow opened or updated.") };
    const QString path = QStringLiteral("actions/workflows/%1/dispatches").arg(deploy.updateWorkflow);
    plan->steps = {
        { QStringLiteral("dispatch"), QStringLiteral("Trigger %1 on %2").arg(deploy.updateWorkflow, deploy.branch),
            QStringLiteral("POST /repos/%1/%2 %3")
                .arg(deploy.repository, path,
                    QString::fromUtf8(QJsonDocument(
                        QJsonObject { { QStringLiteral("ref"), deploy.branch }, { QStringLiteral("inputs"), inputs } })
                                          .toJson(QJsonDocument::Compact))),
            QStringLiteral("GitHub accepts it and names the run") },
        { QStringLiteral("wait-run"), QStringLiteral("Wait for the workflow run to finish"),
            QStringLiteral("GET /repos/%1/actions/runs/<id>, every %2 s").arg(deploy.repository).arg(kPollMs / 1000),
            QStringLiteral("status completed, conclusion success") },
        { QStringLiteral("find-pull"), QStringLiteral("Find the update pull request"),
            QStringLiteral("GET /repos/%1/pulls?state=open&head=%2&base=%3")
                .arg(deploy.repository, deploy.updateHead, deploy.branch),
            QStringLiteral("an open pull request from %1").arg(deploy.updateHead) },
    };
    plan->detailText = QStringLiteral("Inputs: %1").arg(described.join(QStringLiteral(", ")));
    if (open->number)
        plan->warnings << QStringLiteral("pull request #%1 is open already: the workflow updates it, so any staging "
                                         "checks done on it must be done again")
                              .arg(open->number);
    return true;
}

QJsonObject UpdateWorkflowOperation::dispatchBody() const
{
    QJsonObject inputs;
    for (auto it = m_inputs.cbegin(); it != m_inputs.cend(); ++it)
        inputs.insert(it.key(), *it);
    QJsonObject body { { QStringLiteral("ref"), m_setup.inventory.deploy.branch },
        { QStringLiteral("inputs"), inputs } };
    // Under 2022-11-28, github.com names the run only when asked (since 2026-02) and GitHub Enterprise up to 3.20
    // rejects the field; under 2026-03-10 it always names it.
    if (m_setup.inventory.github.apiVersion == QStringLiteral("2022-11-28")
        && m_setup.inventory.github.apiUrl == QStringLiteral("https://api.github.com"))
        body.insert(QStringLiteral("return_run_details"), true);
    return body;
}

qint64 UpdateWorkflowOperation::dispatch(RunContext& context, const QDateTime& sentAt)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    context.setCancelHook([abort = github.abortHandle()] { abort->abort(); });
    if (context.cancelled()) {
        context.setCancelHook({});
        context.cancelStep(QStringLiteral("cancelled before anything was sent"));
        return -1;
    }
    int status = 0;
    QString error;
    const auto answer = github.send("POST",
        QStringLiteral("actions/workflows/%1/dispatches").arg(GithubClient::encode(deploy.updateWorkflow)),
        dispatchBody(), &status, &error);
    if (!answer) {
        context.setCancelHook({});
        // Without an answer GitHub may have started the run all the same.
        context.fail(QStringLiteral("triggering %1 failed: %2%3")
                         .arg(deploy.updateWorkflow, error,
                             status == 0 ? QStringLiteral("; it may have started anyway: look at the workflow's runs "
                                                          "on GitHub before triggering again")
                                         : QString()));
        return -1;
    }
    qint64 runId = answer->value(QStringLiteral("workflow_run_id")).toInteger();
    if (runId <= 0)
        runId = findRun(github, sentAt, context, &error);
    context.setCancelHook({});
    if (runId <= 0) {
        context.fail(QStringLiteral("GitHub accepted the dispatch (so the workflow runs) but its run was not found: "
                                    "%1; follow it on GitHub's Actions page")
                         .arg(error));
        return -1;
    }
    context.succeed(QStringLiteral("workflow run %1").arg(runId));
    return runId;
}

// A 204 names no run: the newest dispatch run on the branch created since just before the request is ours. The
// run appears in the list a few seconds after the dispatch.
qint64 UpdateWorkflowOperation::findRun(
    GithubClient& github, const QDateTime& sentAt, RunContext& context, QString* error)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    const QDeadlineTimer deadline(kFindRunMs);
    while (!context.cancelled()) {
        const auto runs = github.getList(
            QStringLiteral("actions/workflows/%1/runs?event=workflow_dispatch&branch=%2&created=%3&per_page=20")
                .arg(GithubClient::encode(deploy.updateWorkflow), GithubClient::encode(deploy.branch),
                    GithubClient::encode(QStringLiteral(">=") + sentAt.addSecs(-60).toUTC().toString(Qt::ISODate))),
            error, 20);
        if (runs && !runs->isEmpty())
            return runs->first().toObject().value(QStringLiteral("id")).toInteger();
        if (runs)
            *error = QStringLiteral("no run created since %1").arg(sentAt.toString(Qt::ISODate));
        if (deadline.hasExpired())
            break;
        QThread::msleep(2000);
    }
    return -1;
}

bool UpdateWorkflowOperation::waitForRun(qint64 runId, RunContext& context)
{
    const DeployConfig& deploy = m_setup.inventory.deploy;
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    context.setCancelHook([abort = github.abortHandle()] { abort->abort(); });
    const QDeadlineTimer deadline(kRunTimeoutMs);
    QString error;
    QString lastStatus;
    int errors = 0;
    const auto finish = [&context] { context.setCancelHook({}); };
    while (true) {
        const auto run = github.getObject(QStringLiteral("actions/runs/%1").arg(runId), &error);
        if (context.cancelled()) {
            finish();
            context.cancelStep(QStringLiteral("stopped waiting; workflow run %1 goes on on GitHub").arg(runId));
            return false;
        }
        if (!run) {
            // A blip (rate limit, network) does not end the run on GitHub; several in a row end the waiting.
            if (++errors >= kPollErrors) {
                finish();
                context.fail(QStringLiteral("cannot follow workflow run %1 (%2 failures in a row): %3; it goes on on "
                                            "GitHub")
                                 .arg(runId)
                                 .arg(errors)
                                 .arg(error));
                return false;
            }
            context.output(QStringLiteral("%1 cannot read run %2: %3\n")
                               .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")))
                               .arg(runId)
                               .arg(error));
            QThread::msleep(kPollMs);
            continue;
        }
        errors = 0;
        const QString status = run->value(QStringLiteral("status")).toString();
        if (status != lastStatus) {
            context.output(QStringLiteral("%1 run %2: %3\n")
                               .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")))
                               .arg(runId)
                               .arg(status));
            lastStatus = status;
        }
        if (status == QStringLiteral("completed")) {
            finish();
            const QString conclusion = run->value(QStringLiteral("conclusion")).toString();
            const QString url = run->value(QStringLiteral("html_url")).toString();
            if (conclusion != QStringLiteral("success")) {
                context.fail(QStringLiteral("workflow run %1 ended with %2: read its log at %3")
                                 .arg(runId)
                                 .arg(conclusion, url));
                return false;
            }
            context.succeed();
            return true;
        }
        if (deadline.hasExpired()) {
            finish();
            context.fail(QStringLiteral("workflow run %1 is still %2 after %3 min: look at it on GitHub")
                             .arg(runId)
                             .arg(status)
                             .arg(kRunTimeoutMs / 60000));
            return false;
        }
        QThread::msleep(kPollMs);
    }
}

bool UpdateWorkflowOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    const DeployConfig& deploy = m_setup.inventory.deploy;
    // Numbers that name a pull request and a workflow run: the report shows them as they are, not as counts.
    for (const QString& key : { QStringLiteral("openPullRequest"), QStringLiteral("workflowRun") }) {
        QJsonObject info = context.record().countInfo.value(key).toObject();
        info.insert(QStringLiteral("identifier"), true);
        context.record().countInfo.insert(key, info);
    }
    context.record().before.insert(QStringLiteral("openPullRequest"), m_openBefore);
    context.begin(QStringLiteral("dispatch"));
    const qint64 runId = dispatch(context, QDateTime::currentDateTimeUtc());
    if (runId <= 0) {
        context.skipRemaining();
        context.record().summary
            = QStringLiteral("The update workflow was not triggered: %1").arg(context.record().steps.front().error);
        return false;
    }
    context.record().after.insert(QStringLiteral("workflowRun"), runId);
    context.begin(QStringLiteral("wait-run"));
    if (!waitForRun(runId, context)) {
        context.skipRemaining();
        context.record().summary
            = QStringLiteral("Workflow run %1 did not succeed; no pull request was looked for.").arg(runId);
        return false;
    }
    context.begin(QStringLiteral("find-pull"));
    GithubClient github(m_setup.inventory.github, deploy, m_setup.githubToken);
    QString error;
    const auto pull = UpdatePull::readOpen(github, &error);
    if (!pull || pull->number == 0) {
        const QString why = pull ? QStringLiteral("there is no open pull request from %1: the workflow found nothing "
                                                  "to update")
                                       .arg(deploy.updateHead)
                                 : error;
        context.fail(why);
        context.record().summary = QStringLiteral("Workflow run %1 succeeded, but %2.").arg(runId).arg(why);
        return false;
    }
    context.record().after.insert(QStringLiteral("pullRequest"), pull->toJson());
    QStringList commits;
    for (const UpdatePull::Commit& c : pull->commits)
        commits << QStringLiteral("%1 %2").arg(c.sha.left(10), c.message);
    context.succeed(
        QStringLiteral("#%1 %2 (%3)\n%4").arg(pull->number).arg(pull->title, pull->url, commits.join(u'\n')));
    context.record().summary = QStringLiteral("Workflow run %1 succeeded; pull request #%2 \"%3\" has %4, head "
                                              "%5; checks: %6.")
                                   // One pass: a "%5" in the title stays as it is.
                                   .arg(QString::number(runId), QString::number(pull->number), pull->title,
                                       counted(pull->commits.size(), QStringLiteral("commit")), pull->headSha.left(10),
                                       pull->checksSummary());
    return true;
}

} // namespace opsdeck
