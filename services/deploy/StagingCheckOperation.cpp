#include "deploy/StagingCheckOperation.h"

#include "core/Counted.h"
#include "deploy/DeployMatrixReader.h"
#include "http/HttpClient.h"
#include "runbook/RunContext.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace opsdeck {

StagingCheckOperation::StagingCheckOperation(DeploySetup setup, QString machine, QString expectedRevision)
    : m_setup(std::move(setup))
    , m_machine(std::move(machine))
    , m_expected(std::move(expectedRevision))
{
}

bool StagingCheckOperation::makePlan(Plan* plan, QString* error)
{
    const DeployMachine* machine = m_setup.machine(m_machine);
    if (!machine) {
        *error = QStringLiteral("machine \"%1\" is not in the inventory").arg(m_machine);
        return false;
    }
    const MachineStatus status = DeployMatrixReader(m_setup).readOne(m_machine);
    m_instances.clear();
    for (const InstanceBuild& build : status.instances)
        m_instances << build.instance;
    // Without the proxy's list, the inventory's instances of the host are the best knowledge.
    if (const Host* host = m_setup.inventory.host(machine->host); m_instances.isEmpty() && host) {
        for (const PackitInstance& instance : host->instances)
            m_instances << instance.name;
    }
    if (m_instances.isEmpty()) {
        *error = QStringLiteral("no instances known on %1: %2").arg(m_machine, status.error);
        return false;
    }
    plan->operation = name();
    plan->target = m_machine;
    plan->targetName = m_machine;
    plan->verb = QStringLiteral("Check");
    plan->irreversible = false;
    plan->parameters = { { QStringLiteral("machine"), m_machine }, { QStringLiteral("expectedRevision"), m_expected },
        { QStringLiteral("instances"), QJsonArray::fromStringList(m_instances) } };
    plan->counts = { { QStringLiteral("instances"), QStringLiteral("Instances"), m_instances.size(),
        QStringLiteral("The Packit instances on the machine whose API is checked.") } };
    plan->measures << Plan::Measure { QStringLiteral("landing"), QStringLiteral("Landing page answers"),
        QStringLiteral("true: the machine's landing page answered.") }
                   << Plan::Measure { QStringLiteral("api"), QStringLiteral("Every API answers"),
                          QStringLiteral("true: each instance's API listed its packet groups.") }
                   << Plan::Measure { QStringLiteral("revision"), QStringLiteral("Runs the expected revision"),
                          QStringLiteral("true: the machine reports the commit to check.") }
                   << Plan::Measure { QStringLiteral("passed"), QStringLiteral("Passed"),
                          QStringLiteral("true: every check above passed.") };
    QString apis;
    for (const QString& instance : std::as_const(m_instances))
        apis += QStringLiteral("GET %1/packetGroups\n")
                    .arg(QString(machine->instanceApiUrl).replace(QStringLiteral("{instance}"), instance));
    plan->steps = {
        { QStringLiteral("landing"), QStringLiteral("The landing page lists every instance"),
            QStringLiteral("GET %1").arg(machine->landingUrl),
            QStringLiteral("HTTP 200 naming %1").arg(m_instances.join(QStringLiteral(", "))) },
        { QStringLiteral("api"), QStringLiteral("Each instance's API answers"), apis.trimmed(),
            QStringLiteral("HTTP 200, or 401/403 (the API runs and asks for a login); not 5xx") },
        { QStringLiteral("revision"), QStringLiteral("The metrics show the deployed revision"),
            machine->metrics == MetricsSource::Ssh ? QStringLiteral("configuration-info.prom over SSH")
                                                   : machine->metricsProxy + QStringLiteral("/targets/node_exporter"),
            QStringLiteral("revision=\"%1\"").arg(m_expected) },
    };
    return true;
}

bool StagingCheckOperation::checkLanding(RunContext& context)
{
    context.begin(QStringLiteral("landing"));
    HttpClient http;
    const QString url = m_setup.machine(m_machine)->landingUrl;
    const HttpResponse page = http.get(QUrl(url));
    if (page.status != 200) {
        context.fail(QStringLiteral("%1 answered %2").arg(url, page.describe()));
        return false;
    }
    const QString text = QString::fromUtf8(page.body);
    QStringList missing;
    for (const QString& instance : std::as_const(m_instances)) {
        // The whole name: "reside" must not be found in "reside-dev".
        const QRegularExpression name(
            QStringLiteral("(?<![a-z0-9-])%1(?![a-z0-9-])").arg(QRegularExpression::escape(instance)));
        if (!name.match(text).hasMatch())
            missing << instance;
    }
    if (!missing.isEmpty()) {
        context.fail(QStringLiteral("the landing page does not list %1").arg(missing.join(QStringLiteral(", "))));
        return false;
    }
    context.succeed(QStringLiteral("lists %1").arg(m_instances.join(QStringLiteral(", "))));
    return true;
}

bool StagingCheckOperation::checkApis(RunContext& context)
{
    context.begin(QStringLiteral("api"));
    HttpClient http;
    QStringList lines, failed;
    for (const QString& instance : std::as_const(m_instances)) {
        const QString url
            = QString(m_setup.machine(m_machine)->instanceApiUrl).replace(QStringLiteral("{instance}"), instance)
            + QStringLiteral("/packetGroups");
        const HttpResponse response = http.get(QUrl(url));
        const bool answers = response.status == 200 || response.status == 401 || response.status == 403;
        lines << QStringLiteral("%1: %2").arg(instance, response.describe());
        if (!answers)
            failed << instance;
    }
    if (!failed.isEmpty()) {
        context.fail(QStringLiteral("the API of %1 does not answer: check the packit-api unit and its journal")
                         .arg(failed.join(QStringLiteral(", "))),
            lines.join(u'\n'));
        return false;
    }
    context.succeed(lines.join(u'\n'));
    return true;
}

bool StagingCheckOperation::checkRevision(RunContext& context)
{
    context.begin(QStringLiteral("revision"));
    const MachineStatus status = DeployMatrixReader(m_setup).readOne(m_machine);
    if (status.revision != m_expected) {
        context.fail(QStringLiteral("%1 reports %2, not %3: deploy the pull request to it first")
                         .arg(m_machine, status.revision.isEmpty() ? status.error : status.revision, m_expected));
        return false;
    }
    context.succeed(QStringLiteral("revision %1, narHash %2").arg(status.revision, status.narHash));
    return true;
}

bool StagingCheckOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    // Every check runs even when one fails: the admin wants the whole picture.
    const bool landing = checkLanding(context);
    const bool apis = checkApis(context);
    const bool revision = checkRevision(context);
    const bool passed = landing && apis && revision;
    context.record().after = { { QStringLiteral("landing"), landing }, { QStringLiteral("api"), apis },
        { QStringLiteral("revision"), revision }, { QStringLiteral("passed"), passed } };
    context.record().summary = passed
        ? QStringLiteral("%1 passed the automatic checks at %2: landing page, %3, revision.")
              .arg(m_machine, m_expected.left(10), counted(m_instances.size(), QStringLiteral("API")))
        : QStringLiteral("%1 failed the automatic checks at %2: see the failed steps.")
              .arg(m_machine, m_expected.left(10));
    return passed;
}

} // namespace opsdeck
