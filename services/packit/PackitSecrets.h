#pragma once

#include "packit/PackitTarget.h"

#include <QObject>

#include <functional>

namespace opsdeck {

class CredentialStore;

// Fills in the secrets a Packit target needs (the SSH key passphrase or password, the database password) from
// the credential store, asking the admin if it must. `done` runs on `context`'s thread, with the target or
// with what is missing.
void resolvePackitSecrets(CredentialStore* store,
    PackitTarget target,
    QObject* context,
    std::function<void(std::optional<PackitTarget>, const QString& error)> done);

} // namespace opsdeck
