#include "deploy/DeployMatrixReader.h"

#include "config/CommandTemplates.h"
#include "core/Logging.h"
#include "deploy/GithubClient.h"
#include "deploy/PrometheusText.h"
#include "http/HttpClient.h"
#include "ssh/SshSession.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QThreadPool>

#include <future>
#include <memory>

namespace opsdeck {

namespace {

const QString kConfigurationInfo = QStringLiteral("nixos_configuration_info");
const QString kSourceInfo = QStringLiteral("nixos_source_info");

// The sample describing `machine`: the one with its hostname, else the only one.
std::optional<PrometheusSample> sampleFor(const QList<PrometheusSample>& samples, const QString& machine)
{
    const auto named = PrometheusText::find(samples, kConfigurationInfo, QStringLiteral("hostname"), machine);
    if (!named.isEmpty())
        return named.front();
    const auto any = PrometheusText::find(samples, kConfigurationInfo);
    if (any.size() == 1)
        return any.front();
    return std::nullopt;
}

QString buildRevision(const QByteArray& text, const QString& metric)
{
    const auto samples = PrometheusText::find(PrometheusText::parse(text), metric);
    return samples.isEmpty() ? QString() : samples.front().labels.value(QStringLiteral("revision"));
}

} // namespace

DeployMatrixReader::DeployMatrixReader(DeploySetup setup, std::shared_ptr<const std::atomic_bool> stop)
    : m_setup(std::move(setup))
    , m_stop(std::move(stop))
{
}

DeployMatrixReader::~DeployMatrixReader() = default;

BranchSnapshot DeployMatrixReader::readBranch(GithubClient& github)
{
    BranchSnapshot branch;
    const DeployConfig& deploy = m_setup.inventory.deploy;
    if (deploy.repository.isEmpty()) {
        branch.error = QStringLiteral("the inventory has no deploy section: add deploy.repository to compare the "
                                      "machines with a branch");
        return branch;
    }
    QString error;
    if (const auto head = github.commit(deploy.branch, &error)) {
        branch.revision = head->value(QStringLiteral("sha")).toString();
        branch.title = head->value(QStringLiteral("commit"))
                           .toObject()
                           .value(QStringLiteral("message"))
                           .toString()
                           .section(u'\n', 0, 0);
    } else {
        branch.error = error;
        return branch;
    }
    const auto metrics = github.getText(deploy.sourceMetricsUrl, &error);
    if (!metrics) {
        branch.error = QStringLiteral("cannot read the repository metrics (narHash per machine): %1").arg(error);
        return branch;
    }
    for (const PrometheusSample& s : PrometheusText::find(PrometheusText::parse(*metrics), kSourceInfo)) {
        // The file is built from one commit; one published from an older one says nothing about this head.
        if (s.labels.value(QStringLiteral("revision")) == branch.revision)
            branch.narHashByMachine.insert(
                s.labels.value(QStringLiteral("hostname")), s.labels.value(QStringLiteral("narHash")));
    }
    if (branch.narHashByMachine.isEmpty())
        qCInfo(lcDeploy) << "the repository metrics at" << deploy.sourceMetricsUrl << "describe no machine at"
                         << branch.revision << "(not rebuilt yet?); config-matches cannot be told apart";
    return branch;
}

QList<MachineStatus> DeployMatrixReader::readAll(const MachineDone& each)
{
    const QList<DeployMachine>& machines = m_setup.inventory.machines;
    {
        QMutexLocker lock(&m_compareMutex);
        m_compareCache.clear();
    }
    // One thread per machine: most of the time is waiting on the network, not the CPU.
    QThreadPool pool;
    pool.setMaxThreadCount(static_cast<int>(std::min<qsizetype>(machines.size() + 1, 64)));
    std::promise<BranchSnapshot> branchPromise;
    std::shared_future<BranchSnapshot> branch = branchPromise.get_future().share();
    pool.start([this, &branchPromise] {
        GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken);
        branchPromise.set_value(readBranch(github));
    });
    QList<MachineStatus> results(machines.size());
    for (qsizetype i = 0; i < machines.size(); ++i) {
        pool.start([this, &machines, &results, &branch, &each, i] {
            results[i] = readMachine(machines[i], [&branch] { return branch.get(); });
            if (each)
                each(results[i]);
        });
    }
    pool.waitForDone();
    return results;
}

MachineStatus DeployMatrixReader::readOne(const QString& name)
{
    const DeployMachine* machine = m_setup.machine(name);
    if (!machine) {
        MachineStatus status;
        status.machine = name;
        status.error = QStringLiteral("machine %1 is not in the inventory").arg(name);
        return status;
    }
    return readMachine(*machine, [this] {
        GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken);
        return readBranch(github);
    });
}

MachineStatus DeployMatrixReader::readMachine(
    const DeployMachine& machine, const std::function<BranchSnapshot()>& branch)
{
    QElapsedTimer clock;
    clock.start();
    MachineStatus status;
    status.machine = machine.name;
    const bool read = readConfiguration(machine, &status);
    if (read)
        readBuilds(machine, &status);
    const BranchSnapshot snapshot = branch();
    status.expectedRevision = snapshot.revision;
    status.expectedNarHash = snapshot.narHashByMachine.value(machine.name);
    if (read && !status.revision.isEmpty() && !snapshot.revision.isEmpty())
        compare(&status, snapshot);
    status.state = DeployClassifier::classify(status, snapshot, !read);
    if (!snapshot.error.isEmpty() && status.state == DeployState::Unknown)
        status.error = status.error.isEmpty() ? snapshot.error : status.error + QStringLiteral("; ") + snapshot.error;
    status.checkedAt = QDateTime::currentDateTimeUtc();
    status.elapsedMs = clock.elapsed();
    qCDebug(lcDeploy) << machine.name << MachineStatus::stateName(status.state) << status.elapsedMs << "ms"
                      << status.error;
    return status;
}

bool DeployMatrixReader::readConfiguration(const DeployMachine& machine, MachineStatus* status)
{
    QByteArray text;
    QString source;
    if (stopped()) {
        status->error = QStringLiteral("cancelled");
        return false;
    }
    if (machine.metrics == MetricsSource::Ssh) {
        const Host* host = m_setup.inventory.host(machine.host);
        if (!host) {
            status->error = QStringLiteral("host %1 is not in the inventory").arg(machine.host);
            return false;
        }
        const QString file = host->metricsDir + QStringLiteral("/configuration-info.prom");
        source = QStringLiteral("%1 on %2").arg(file, host->name);
        SshSession session(SshTarget::fromHost(*host));
        session.setSecret(m_setup.sshSecrets.value(host->name));
        session.setConnectTimeout(kConnectTimeoutSeconds);
        QString templateError;
        const QStringList argv = CommandTemplates::expand(host->commands.value(QStringLiteral("readMetrics")),
            { { QStringLiteral("file"), { file } } }, &templateError);
        std::unique_ptr<SshCommand> command(session.exec(argv, kReadTimeoutMs));
        command->waitForFinished();
        const ExecResult result = command->result();
        if (!result.succeeded()) {
            status->error = QStringLiteral("cannot read %1: %2; check that the machine is up (opsdeck hosts)")
                                .arg(source, result.describe());
            return false;
        }
        text = result.stdoutData;
    } else {
        const QString url = machine.metricsProxy + QStringLiteral("/targets/node_exporter");
        source = url;
        HttpClient http;
        const HttpResponse response = http.get(QUrl(url), kReadTimeoutMs);
        if (!response.ok()) {
            status->error
                = QStringLiteral("cannot read %1: %2; check that the machine and its metrics proxy are up")
                      .arg(url, response.answered() ? QStringLiteral("HTTP %1").arg(response.status) : response.error);
            return false;
        }
        text = response.body;
    }
    const auto sample = sampleFor(PrometheusText::parse(text), machine.name);
    if (!sample) {
        // Reachable, but nothing to compare: say so, it is not an outage.
        status->error = QStringLiteral("%1 has no nixos_configuration_info line for %2").arg(source, machine.name);
        return true;
    }
    status->revision = sample->labels.value(QStringLiteral("revision"));
    status->narHash = sample->labels.value(QStringLiteral("narHash"));
    status->dirty = status->revision.endsWith(QStringLiteral("-dirty"));
    return true;
}

void DeployMatrixReader::readBuilds(const DeployMachine& machine, MachineStatus* status)
{
    HttpClient http;
    const QString targetsUrl = machine.metricsProxy + QStringLiteral("/targets");
    const HttpResponse targets = http.get(QUrl(targetsUrl), kReadTimeoutMs);
    if (!targets.ok()) {
        status->error
            = QStringLiteral("build info: cannot read %1: %2")
                  .arg(targetsUrl, targets.answered() ? QStringLiteral("HTTP %1").arg(targets.status) : targets.error);
        return;
    }
    // http_sd: one entry per job and instance; its labels say which metrics path serves it.
    QMap<QString, InstanceBuild> builds;
    for (const QJsonValue& entry : QJsonDocument::fromJson(targets.body).array()) {
        const QJsonObject labels = entry.toObject().value(QStringLiteral("labels")).toObject();
        const QString job = labels.value(QStringLiteral("job")).toString();
        const QString project = labels.value(QStringLiteral("project")).toString();
        const QString path = labels.value(QStringLiteral("__metrics_path__")).toString();
        const bool packit = job == QStringLiteral("packit-api");
        if ((!packit && job != QStringLiteral("outpack_server")) || project.isEmpty() || !path.startsWith(u'/'))
            continue;
        if (stopped())
            break;
        InstanceBuild& build = builds[project];
        build.instance = project;
        const HttpResponse metrics = http.get(QUrl(machine.metricsProxy + path), kReadTimeoutMs);
        if (!metrics.ok()) {
            build.error += QStringLiteral("%1: %2 ").arg(
                job, metrics.answered() ? QStringLiteral("HTTP %1").arg(metrics.status) : metrics.error);
            continue;
        }
        const QString revision = buildRevision(metrics.body,
            packit ? QStringLiteral("packit_api_build_info") : QStringLiteral("outpack_server_build_info"));
        (packit ? build.packit : build.outpack) = revision;
    }
    for (InstanceBuild& build : builds) {
        build.error = build.error.trimmed();
        status->instances << build;
    }
}

void DeployMatrixReader::compare(MachineStatus* status, const BranchSnapshot& branch)
{
    const QString deployed = status->dirty ? status->revision.chopped(6) : status->revision;
    if (deployed == branch.revision) {
        status->behindBy = 0;
        status->compareStatus = QStringLiteral("identical");
        return;
    }
    {
        QMutexLocker lock(&m_compareMutex);
        if (const auto cached = m_compareCache.constFind(deployed); cached != m_compareCache.cend()) {
            status->behindBy = cached->first;
            status->compareStatus = cached->second;
            return;
        }
    }
    GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken);
    QString error;
    const auto result = github.compare(deployed, branch.revision, &error);
    if (!result) {
        status->error = QStringLiteral("cannot compare %1 with %2: %3")
                            .arg(deployed.left(10), m_setup.inventory.deploy.branch, error);
        return;
    }
    // compare/<deployed>...<branch>: "ahead" means the branch has commits the machine lacks.
    status->behindBy = result->value(QStringLiteral("ahead_by")).toInt();
    status->compareStatus = result->value(QStringLiteral("status")).toString();
    QMutexLocker lock(&m_compareMutex);
    m_compareCache.insert(deployed, { status->behindBy, status->compareStatus });
}

} // namespace opsdeck
