#pragma once

#include "config/Inventory.h"
#include "secrets/CredentialStore.h"

namespace opsdeck::SecretSpecs {

// The key passphrase or password a host's SSH auth uses: opsdeck/ssh/<host>/<user>.
SecretSpec forHost(const Host& host);
// True when connecting to the host needs a secret (password auth, or an encrypted key).
bool hostNeedsSecret(const Host& host);

// A database password: opsdeck/db/<database>/<user>. Only databases that name a passwordEnv use one; the
// others authenticate without a password (packit-infra trusts the host's loopback).
SecretSpec forDatabase(const Database& database);
bool databaseNeedsSecret(const Database& database);

// The GitHub token of the deploy flow: opsdeck/github/<owner>/token, or the variable github.tokenEnv names.
SecretSpec forGithub(const GithubConfig& github, const DeployConfig& deploy);

} // namespace opsdeck::SecretSpecs
