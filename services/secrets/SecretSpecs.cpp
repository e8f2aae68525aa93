#include "secrets/SecretSpecs.h"

namespace opsdeck::SecretSpecs {

SecretSpec forDatabase(const Database& database)
{
    SecretSpec spec;
    spec.kind = QStringLiteral("db");
    spec.target = database.name;
    spec.account = database.user;
    spec.envVar = database.passwordEnv;
    spec.label = QStringLiteral("Password of %1 for database %2").arg(database.user, database.name);
    return spec;
}

SecretSpec forJournalKey(const JournalConfig& journal)
{
    SecretSpec spec;
    spec.kind = QStringLiteral("journal-key");
    spec.target = journal.database.isEmpty() ? QStringLiteral("local") : journal.database;
    spec.account = QStringLiteral("key");
    spec.envVar = journal.keyEnv;
    spec.label = QStringLiteral("Key of the journal's chain (%1)").arg(spec.target);
    return spec;
}

bool databaseNeedsSecret(const Database& database)
{
    return !database.passwordEnv.isEmpty();
}

SecretSpec forGithub(const GithubConfig& github, const DeployConfig& deploy)
{
    SecretSpec spec;
    spec.kind = QStringLiteral("github");
    spec.target = deploy.owner();
    spec.account = QStringLiteral("token");
    spec.envVar = github.tokenEnv;
    spec.label = QStringLiteral("GitHub token for %1 (needs contents, pull requests and actions: read and write)")
                     .arg(deploy.repository);
    return spec;
}

} // namespace opsdeck::SecretSpecs
