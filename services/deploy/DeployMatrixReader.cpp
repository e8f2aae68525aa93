#include "deploy/DeployMatrixReader.h"

#include "config/CommandTemplates.h"
#include "config/NameRules.h"
#include "deploy/DeployLogging.h"
#include "deploy/GithubClient.h"
#include "deploy/PrometheusText.h"
#include "http/HttpClient.h"
#include "ssh/SshSession.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QRegularExpression>
#include <QThreadPool>

#include <future>
#include <memory>

namespace opsdeck {

namespace {

const QString kConfigurationInfo = QStringLiteral("nixos_configuration_info");
const QString kSourceInfo = QStringLiteral("nixos_source_info");

// The sample describing `machine`: the one with its hostname, else the only one if it names no host. One naming
// another host is not this machine's: the inventory may point at the wrong address.
std::optional<PrometheusSample> sampleFor(const QList<PrometheusSample>& samples, const QString& machine)
{
    const auto named = PrometheusText::find(samples, kConfigurationInfo, QStringLiteral("hostname"), machine);
    if (!named.isEmpty())
        return named.front();
    const auto any = PrometheusText::find(samples, kConfigurationInfo);
    if (any.size() == 1 && any.front().labels.value(QStringLiteral("hostname")).isEmpty())
        return any.front();
    return std::nullopt;
}

void addError(MachineStatus* status, const QString& error)
{
    if (!error.isEmpty())
        status->error = status->error.isEmpty() ? error : status->error + QStringLiteral("; ") + error;
}

bool isCommitSha(const QString& revision)
{
    static const QRegularExpression sha(QStringLiteral("^[0-9a-f]{40}\\z"));
    return sha.match(revision).hasMatch();
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
    if (stopped()) {
        branch.error = QStringLiteral("cancelled");
        return branch;
    }
    QString error;
    if (const auto head = github.commit(deploy.branch, &error)) {
        branch.revision = head->value(QStringLiteral("sha")).toString();
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
        GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken, m_stop);
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
        GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken, m_stop);
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
    // "unknown" (packit-infra's fallback) or anything else that is no commit cannot be compared.
    const QString deployed = status.dirty ? status.revision.chopped(6) : status.revision;
    if (read && isCommitSha(deployed) && !snapshot.revision.isEmpty())
        compare(&status, deployed, snapshot);
    status.state = DeployClassifier::classify(status, snapshot, !read);
    if (status.compareStatus == QStringLiteral("behind"))
        addError(&status,
            QStringLiteral("runs %1, which %2 does not contain yet: a pull request's test merge, or an unmerged "
                           "branch")
                .arg(deployed.left(10), m_setup.inventory.deploy.branch));
    addError(&status, snapshot.error);
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
        if (argv.isEmpty()) {
            status->error = QStringLiteral("command template readMetrics of %1: %2").arg(host->name, templateError);
            return false;
        }
        std::unique_ptr<SshCommand> command(session.exec(argv, kReadTimeoutMs));
        command->waitForFinished();
        const ExecResult result = command->result();
        if (!result.succeeded()) {
            QString cause = result.describe();
            if (cause.endsWith(u'.'))
                cause.chop(1); // "... are right; check that ...", not "right.; check"
            status->error
                = QStringLiteral("cannot read %1: %2; check that the machine is up (opsdeck hosts)").arg(source, cause);
            return false;
        }
        text = result.stdoutData;
    } else {
        const QString url = machine.metricsProxy + QStringLiteral("/targets/node_exporter");
        source = url;
        HttpClient http(QString(), m_stop);
        const HttpResponse response = http.get(QUrl(url), kReadTimeoutMs);
        if (!response.ok()) {
            status->error = QStringLiteral("cannot read %1: %2; check that the machine and its metrics proxy are up")
                                .arg(url, response.describe());
            return false;
        }
        text = response.body;
    }
    const auto sample = sampleFor(PrometheusText::parse(text), machine.name);
    if (!sample) {
        // Reachable, but nothing to compare: say so, it is not an outage.
        status->error = QStringLiteral("%1 has no nixos_configuration_info line with hostname=\"%2\": is the "
                                       "inventory's address for %2 right?")
                            .arg(source, machine.name);
        return true;
    }
    status->revision = sample->labels.value(QStringLiteral("revision"));
    status->narHash = sample->labels.value(QStringLiteral("narHash"));
    status->dirty = status->revision.endsWith(QStringLiteral("-dirty"));
    return true;
}

void DeployMatrixReader::readBuilds(const DeployMachine& machine, MachineStatus* status)
{
    HttpClient http(QString(), m_stop);
    const QString targetsUrl = machine.metricsProxy + QStringLiteral("/targets");
    const HttpResponse targets = http.get(QUrl(targetsUrl), kReadTimeoutMs);
    if (!targets.ok()) {
        addError(status, QStringLiteral("build info: cannot read %1: %2").arg(targetsUrl, targets.describe()));
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
        // The names go into URLs and the staging checks: only instance names and plain paths are taken.
        if ((!packit && job != QStringLiteral("outpack_server")) || !NameRules::isValidName(project)
            || !path.startsWith(u'/') || path.contains(QStringLiteral("..")) || path.contains(u'@'))
            continue;
        if (stopped())
            break;
        InstanceBuild& build = builds[project];
        build.instance = project;
        const HttpResponse metrics = http.get(QUrl(machine.metricsProxy + path), kReadTimeoutMs);
        if (!metrics.ok()) {
            build.error += QStringLiteral("%1: %2 ").arg(job, metrics.describe());
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

void DeployMatrixReader::compare(MachineStatus* status, const QString& deployed, const BranchSnapshot& branch)
{
    if (deployed == branch.revision) {
        status->behindBy = 0;
        status->compareStatus = QStringLiteral("identical");
        return;
    }
    std::promise<Comparison> promise;
    std::shared_future<Comparison> answer;
    bool mine = false;
    {
        QMutexLocker lock(&m_compareMutex);
        const auto cached = m_compareCache.constFind(deployed);
        if (cached != m_compareCache.cend()) {
            answer = *cached;
        } else {
            answer = promise.get_future().share();
            m_compareCache.insert(deployed, answer);
            mine = true;
        }
    }
    if (mine) {
        Comparison comparison;
        GithubClient github(m_setup.inventory.github, m_setup.inventory.deploy, m_setup.githubToken, m_stop);
        // compare/<deployed>...<branch>: "ahead" means the branch has commits the machine lacks.
        if (const auto result = github.compare(deployed, branch.revision, &comparison.error)) {
            comparison.behindBy = result->value(QStringLiteral("ahead_by")).toInt();
            comparison.status = result->value(QStringLiteral("status")).toString();
        }
        promise.set_value(comparison);
    }
    const Comparison& comparison = answer.get();
    status->behindBy = comparison.behindBy;
    status->compareStatus = comparison.status;
    if (!comparison.error.isEmpty())
        addError(status,
            QStringLiteral("cannot compare %1 with %2: %3")
                .arg(deployed.left(10), m_setup.inventory.deploy.branch, comparison.error));
}

} // namespace opsdeck
