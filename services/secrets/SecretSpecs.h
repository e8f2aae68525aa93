#pragma once

#include "config/Inventory.h"
#include "secrets/CredentialStore.h"

namespace opsdeck::SecretSpecs {

// A host's SSH secret is in ssh/SshSecretSpecs: telling whether a key needs a passphrase takes libssh.

// A database password: opsdeck/db/<database>/<user>. Only databases that name a passwordEnv use one; the
// others authenticate without a password (packit-infra trusts the host's loopback).
SecretSpec forDatabase(const Database& database);
bool databaseNeedsSecret(const Database& database);

// The GitHub token of the deploy flow: opsdeck/github/<owner>/token, or the variable github.tokenEnv names.
SecretSpec forGithub(const GithubConfig& github, const DeployConfig& deploy);

// The journal chain's key: opsdeck/journal-key/<the team journal's database entry, or "local">/key, or the variable
// journal.keyEnv names (which also says that the chain is keyed).
SecretSpec forJournalKey(const JournalConfig& journal);

} // namespace opsdeck::SecretSpecs
