#include "datamon/DatamonTarget.h"

#include "config/NameRules.h"
#include "secrets/SecretResolver.h"
#include "ssh/SshSecretSpecs.h"

#include <QRegularExpression>

namespace opsdeck {

std::optional<DatamonTarget> DatamonTarget::resolve(
    const Inventory& inventory, const QString& name, Problem* problem, QString* error)
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
    if (target.host && SshSecretSpecs::hostNeedsSecret(*target.host))
        specs << SshSecretSpecs::forHost(*target.host);
    SecretResolver::resolve(store, specs, context,
        [target = std::move(target), done = std::move(done)](const QStringList& secrets, const QString& error) mutable {
            if (!error.isEmpty()) {
                done(std::nullopt, error);
                return;
            }
            if (!secrets.isEmpty())
                target.sshSecret = secrets.front();
            done(target, {});
        });
}

} // namespace opsdeck
