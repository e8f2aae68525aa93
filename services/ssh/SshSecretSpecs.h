#pragma once

#include "config/Inventory.h"
#include "secrets/CredentialStore.h"

// The secret a host's SSH auth uses. Here rather than in secrets/SecretSpecs: whether a key file needs a passphrase
// takes libssh to tell, and services/secrets depends on nothing above config.
namespace opsdeck::SshSecretSpecs {

// The key passphrase or password a host's SSH auth uses: opsdeck/ssh/<host>/<user>.
SecretSpec forHost(const Host& host);
// True when connecting to the host needs a secret (password auth, or an encrypted key).
bool hostNeedsSecret(const Host& host);

} // namespace opsdeck::SshSecretSpecs
