#pragma once

#include "secrets/CredentialStore.h"
#include "secrets/SecretPrompter.h"

#include <QObject>
#include <QTest>
#include <QTimer>

#include <optional>

namespace opsdeck::test {

// Answers prompts like a dialog would: later, with `answer` (std::nullopt: the user cancels). With `deferred`
// it keeps the callback in `pending` for the test to call.
class FakePrompter : public SecretPrompter
{
public:
    void ask(const Request& request, std::function<void(std::optional<QString>)> done) override
    {
        requests.append(request);
        if (deferred) {
            pending = std::move(done);
            return;
        }
        QTimer::singleShot(0, [done, reply = answer] { done(reply); });
    }

    std::optional<QString> answer;
    bool deferred = false;
    std::function<void(std::optional<QString>)> pending;
    QList<Request> requests;
};

inline SecretSpec bastionSpec(const QString& account, const QString& envVar = {})
{
    return { QStringLiteral("ssh"), QStringLiteral("bastion"), account, envVar,
        QStringLiteral("Password for %1@bastion").arg(account) };
}

// Starts an operation with a context of its own and waits for its result (std::nullopt if none in time).
template <typename Start> std::optional<SecretResult> awaitSecret(Start start, int waitMs = 10000)
{
    std::optional<SecretResult> result;
    QObject context;
    start(&context, [&result](const SecretResult& r) { result = r; });
    return QTest::qWaitFor([&result] { return result.has_value(); }, waitMs) ? result : std::nullopt;
}

inline std::optional<SecretResult> lookupSecret(CredentialStore& store, const SecretSpec& spec)
{
    return awaitSecret([&](QObject* context, CredentialStore::Callback done) { store.lookup(spec, context, done); });
}

inline std::optional<SecretResult> storeSecret(CredentialStore& store, const SecretSpec& spec, const QString& secret)
{
    return awaitSecret(
        [&](QObject* context, CredentialStore::Callback done) { store.store(spec, secret, context, done); });
}

inline std::optional<SecretResult> forgetSecret(CredentialStore& store, const SecretSpec& spec)
{
    return awaitSecret([&](QObject* context, CredentialStore::Callback done) { store.forget(spec, context, done); });
}

} // namespace opsdeck::test
