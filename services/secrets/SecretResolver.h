#pragma once

#include "secrets/CredentialStore.h"

#include <QList>
#include <QObject>
#include <QStringList>

#include <functional>

namespace opsdeck {

// The secrets one target (or one flow) needs, looked up as a list of specs with a single answer for the whole list,
// so that a caller states what it needs instead of chaining lookups. The lookups go one after another, in order:
// two prompts never stack, and the keychain runs its jobs one at a time anyway.
namespace SecretResolver {

// Calls `done` once, on `context`'s thread (never inside this call): with secrets[i] answering specs[i] and an empty
// error, or, at the first spec that fails, with no secrets and that spec's error (the specs after it are not looked
// up, so the admin is not asked for more once one is missing).
void resolve(CredentialStore* store,
    const QList<SecretSpec>& specs,
    QObject* context,
    std::function<void(const QStringList& secrets, const QString& error)> done);

// Looks up every spec, whatever the others gave, and calls `done` once with results[i] answering specs[i]: for
// callers that can go on without some of the secrets.
void resolveEach(CredentialStore* store,
    const QList<SecretSpec>& specs,
    QObject* context,
    std::function<void(const QList<SecretResult>& results)> done);

} // namespace SecretResolver
} // namespace opsdeck
