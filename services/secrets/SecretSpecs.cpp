#include "secrets/SecretSpecs.h"

#include "ssh/SshSession.h"

namespace opsdeck::SecretSpecs {

SecretSpec forHost(const Host& host)
{
    SecretSpec spec;
    spec.kind = QStringLiteral("ssh");
    spec.target = host.name;
    spec.account = host.user;
    spec.envVar = host.auth.secretEnv;
    spec.label = host.auth.method == AuthMethod::Password
        ? QStringLiteral("Password for %1@%2").arg(host.user, host.name)
        : QStringLiteral("Passphrase of %1 (for %2@%3)").arg(host.auth.identityFile, host.user, host.name);
    return spec;
}

bool hostNeedsSecret(const Host& host)
{
    switch (host.auth.method) {
    case AuthMethod::Password:
        return true;
    case AuthMethod::Key:
        return SshSession::keyNeedsPassphrase(host.auth.identityFile);
    case AuthMethod::Agent:
        return false;
    }
    return false;
}

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
