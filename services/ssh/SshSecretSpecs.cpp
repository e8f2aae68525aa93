#include "ssh/SshSecretSpecs.h"

#include "ssh/SshSession.h"

namespace opsdeck::SshSecretSpecs {

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

} // namespace opsdeck::SshSecretSpecs
