#include "secrets/SecretResolver.h"

#include <QPointer>

#include <memory>

namespace opsdeck::SecretResolver {

namespace {

struct Pending
{
    QPointer<CredentialStore> store;
    QList<SecretSpec> specs;
    QPointer<QObject> context;
    bool stopAtFailure = false;
    QList<SecretResult> results;
    std::function<void(const QList<SecretResult>&)> done;
};

void next(const std::shared_ptr<Pending>& pending)
{
    const bool failed = !pending->results.isEmpty() && !pending->results.last().ok;
    if (pending->results.size() == pending->specs.size() || (failed && pending->stopAtFailure)) {
        pending->done(pending->results);
        return;
    }
    if (!pending->store || !pending->context)
        return; // like a lookup whose store or context is gone: no answer
    pending->store->lookup(
        pending->specs[pending->results.size()], pending->context, [pending](const SecretResult& result) {
            pending->results << result;
            next(pending);
        });
}

void start(CredentialStore* store,
    const QList<SecretSpec>& specs,
    QObject* context,
    bool stopAtFailure,
    std::function<void(const QList<SecretResult>&)> done)
{
    auto pending = std::make_shared<Pending>();
    pending->store = store;
    pending->specs = specs;
    pending->context = context ? context : store;
    pending->stopAtFailure = stopAtFailure;
    pending->done = std::move(done);
    if (!specs.isEmpty()) {
        next(pending);
        return;
    }
    // Nothing to look up: still answer after this call has returned, as the store does.
    QMetaObject::invokeMethod(
        pending->context.data(), [pending] { next(pending); }, Qt::QueuedConnection);
}

} // namespace

void resolve(CredentialStore* store,
    const QList<SecretSpec>& specs,
    QObject* context,
    std::function<void(const QStringList& secrets, const QString& error)> done)
{
    start(store, specs, context, true, [specs, done = std::move(done)](const QList<SecretResult>& results) {
        QStringList secrets;
        for (qsizetype i = 0; i < results.size(); ++i) {
            if (!results[i].ok) {
                // Callers tell success by an empty error: a failure must never look like one.
                done({},
                    results[i].error.isEmpty()
                        ? QStringLiteral("no secret for %1").arg(CredentialStore::keyFor(specs[i]))
                        : results[i].error);
                return;
            }
            secrets << results[i].secret;
        }
        done(secrets, {});
    });
}

void resolveEach(CredentialStore* store,
    const QList<SecretSpec>& specs,
    QObject* context,
    std::function<void(const QList<SecretResult>& results)> done)
{
    start(store, specs, context, false, std::move(done));
}

} // namespace opsdeck::SecretResolver
