#include "datamon/DatamonTarget.h"

#include "config/NameRules.h"
#include "kube/KubeSecrets.h"
#include "secrets/SecretResolver.h"
#include "ssh/SshSecretSpecs.h"

#include <QRegularExpression>

namespace opsdeck {

std::optional<DatamonTarget> DatamonTarget::resolve(const Inventory& inventory,
    const QString& name,
    Problem* problem,
    QString* error,
    const QStringList& kubeconfigFiles)
{
    if (const QString why = NameRules::nameError(QStringLiteral("datamon context"), name); !why.isEmpty()) {
        *problem = Problem::InvalidName;
        *error = why;
        return std::nullopt;
    }
    const DatamonContext* context = inventory.datamonContext(name);
    if (!context) {
        QStringList names;
        for (const DatamonContext& c : inventory.datamon)
            names << c.name;
        *problem = Problem::UnknownContext;
        *error = QStringLiteral("datamon context %1 is not in the inventory%2")
                     .arg(NameRules::quoted(name),
                         names.isEmpty() ? QStringLiteral(" (it has no datamon section)")
                                         : QStringLiteral(": use one of ") + names.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    DatamonTarget target;
    target.context = *context;
    if (!context->host.isEmpty())
        target.host = *inventory.host(context->host); // the loader checked that it exists
    if (context->jobs) {
        KubeTarget::Problem clusterProblem = KubeTarget::Problem::None;
        QString why;
        target.cluster = KubeTarget::resolve(
            inventory, context->jobs->cluster, context->jobs->jobNamespace, &clusterProblem, &why, kubeconfigFiles);
        if (!target.cluster) {
            *problem = Problem::Cluster;
            *error = QStringLiteral("datamon context %1 runs its purge steps as Jobs: %2").arg(name, why);
            return std::nullopt;
        }
    }
    *problem = Problem::None;
    return target;
}

QString DatamonTarget::repoError(const QString& repo)
{
    static const QRegularExpression rule(QStringLiteral("^[A-Za-z0-9-]+\\z"));
    if (repo.isEmpty())
        return QStringLiteral("repo must not be empty: use letters, digits and '-' (datamon's rule for repo names)");
    if (repo.size() > 200 || !rule.match(repo).hasMatch())
        return QStringLiteral("repo %1 is not allowed: use letters, digits and '-' (datamon's rule for repo names)")
            .arg(NameRules::quoted(repo));
    return {};
}

QStringList DatamonTarget::datamon(const QStringList& words, const QString& otherContext) const
{
    return QStringList { context.binary } + words
        + QStringList { QStringLiteral("--context"), otherContext.isEmpty() ? context.context : otherContext,
              QStringLiteral("--config"), context.config, QStringLiteral("--metrics=false") };
}

QStringList DatamonTarget::purgeStep(const QStringList& words) const
{
    QStringList argv = datamon(words);
    if (context.jobs)
        argv.first() = context.jobs->binary;
    return argv;
}

QStringList DatamonTarget::gcloudStorage(const QStringList& words) const
{
    return QStringList { context.gcloud, QStringLiteral("storage") } + words
        + QStringList { QStringLiteral("--quiet"), QStringLiteral("--verbosity=error") };
}

QString DatamonTarget::runDir(const QString& runId) const
{
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9-]{1,64}\\z"));
    Q_ASSERT(safe.match(runId).hasMatch());
    return context.workDir + QStringLiteral("/runs/") + runId;
}

void resolveDatamonSecrets(CredentialStore* store,
    DatamonTarget target,
    QObject* context,
    std::function<void(std::optional<DatamonTarget>, const QString& error)> done)
{
    QList<SecretSpec> specs;
    const bool hostSecret = target.host && SshSecretSpecs::hostNeedsSecret(*target.host);
    if (hostSecret)
        specs << SshSecretSpecs::forHost(*target.host);
    const bool clusterToken = target.cluster && target.cluster->needsToken();
    if (clusterToken)
        specs << kubeTokenSpec(target.cluster->cluster);
    SecretResolver::resolve(store, specs, context,
        [target = std::move(target), hostSecret, clusterToken, done = std::move(done)](
            const QStringList& secrets, const QString& error) mutable {
            if (!error.isEmpty()) {
                done(std::nullopt, error);
                return;
            }
            if (hostSecret)
                target.sshSecret = secrets.front();
            if (clusterToken)
                target.cluster->kube.token = secrets.back();
            done(target, {});
        });
}

} // namespace opsdeck
