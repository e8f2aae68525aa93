#include "secrets/CredentialStore.h"

#include "core/SecretScrubber.h"
#include "secrets/SecretPrompter.h"
#include "secrets/SecretsLogging.h"

#include <QThread>
#include <QTimer>
#include <qt6keychain/keychain.h>

#include <atomic>
#include <memory>
#include <utility>

namespace opsdeck {

namespace {

const QString serviceName = QStringLiteral("opsdeck");

// Process-wide, not per store: QtKeychain runs its jobs one at a time through a process-wide queue, so once a job
// hangs every later job in the process would wait behind it and time out too.
std::atomic<bool> keychainBroken = false;

struct JobOutcome
{
    QKeychain::Error error;
    QString message;
    QString text; // read jobs only
};

// The job is parentless and deletes itself when it finishes. It must never be deleted before that: the libsecret
// backend keeps a raw pointer to it until its callback runs. A job that times out is therefore left to finish (or
// not) on its own; `settled` makes sure only the first of answer and timeout counts, and `guard` drops both once the
// store is gone.
void runJob(QKeychain::Job* job, QObject* guard, int timeoutMs, std::function<void(const JobOutcome&)> then)
{
    auto settled = std::make_shared<bool>(false);
    QObject::connect(job, &QKeychain::Job::finished, guard, [settled, then](QKeychain::Job* finished) {
        if (std::exchange(*settled, true)) {
            qCDebug(lcSecrets) << "a keychain job answered after its timeout:" << finished->errorString();
            return;
        }
        const auto* read = qobject_cast<const QKeychain::ReadPasswordJob*>(finished);
        then({ finished->error(), finished->errorString(), read ? read->textData() : QString() });
    });
    QTimer::singleShot(timeoutMs, guard, [settled, then, timeoutMs] {
        if (std::exchange(*settled, true))
            return;
        then({ QKeychain::OtherError, QStringLiteral("no answer within %1 ms").arg(timeoutMs), {} });
    });
    job->start();
}

QString invalidPart(const QString& name, const QString& value)
{
    if (value.isEmpty())
        return QStringLiteral("the %1 is empty").arg(name);
    if (value.contains(u'/'))
        return QStringLiteral("the %1 contains '/'").arg(name);
    for (const QChar c : value) {
        if (c.category() == QChar::Other_Control)
            return QStringLiteral("the %1 contains a control character").arg(name);
    }
    return {};
}

QString invalidSpecError(const SecretSpec& spec)
{
    const std::pair<QString, const QString&> parts[] = {
        { QStringLiteral("kind"), spec.kind },
        { QStringLiteral("target"), spec.target },
        { QStringLiteral("account"), spec.account },
    };
    for (const auto& [name, value] : parts) {
        if (const QString problem = invalidPart(name, value); !problem.isEmpty())
            return QStringLiteral("invalid secret key: %1").arg(problem);
    }
    return {};
}

QString noSecretError(const SecretSpec& spec, const QString& key, bool keychainWorks)
{
    if (keychainWorks) {
        return spec.envVar.isEmpty()
            ? QStringLiteral("no secret for %1: store it in the keychain").arg(key)
            : QStringLiteral("no secret for %1: set %2 or store it in the keychain").arg(key, spec.envVar);
    }
    return spec.envVar.isEmpty()
        ? QStringLiteral("no secret for %1: the OS keychain is unavailable and there is no prompt to ask").arg(key)
        : QStringLiteral("no secret for %1: set %2 (the OS keychain is unavailable)").arg(key, spec.envVar);
}

SecretResult success(const QString& secret, SecretResult::Source source, bool remembered)
{
    SecretResult result;
    result.ok = true;
    result.secret = secret;
    result.source = source;
    result.remembered = remembered;
    return result;
}

SecretResult failure(const QString& error)
{
    SecretResult result;
    result.error = error;
    return result;
}

} // namespace

CredentialStore::CredentialStore(QObject* parent)
    : QObject(parent)
    , m_backend(keychainBroken ? Backend::MemoryOnly : Backend::Unknown)
{
}

QString CredentialStore::keyFor(const SecretSpec& spec)
{
    if (!invalidSpecError(spec).isEmpty())
        return {};
    return QStringLiteral("opsdeck/%1/%2/%3").arg(spec.kind, spec.target, spec.account);
}

void CredentialStore::setTimeout(int ms)
{
    m_timeoutMs = ms;
}

void CredentialStore::setPrompter(SecretPrompter* prompter)
{
    m_prompter = prompter;
}

CredentialStore::Backend CredentialStore::backend() const
{
    return m_backend;
}

void CredentialStore::lookup(const SecretSpec& spec, QObject* context, Callback done)
{
    const Waiter waiter { context ? context : this, std::move(done) };
    if (forwardToOwnThread([this, spec, waiter] {
            if (waiter.context)
                lookup(spec, waiter.context, waiter.done);
        }))
        return;

    const QString key = keyFor(spec);
    if (key.isEmpty())
        return deliver(waiter, failure(invalidSpecError(spec)));

    if (!spec.envVar.isEmpty()) {
        const QString fromEnvironment = qEnvironmentVariable(spec.envVar.toLocal8Bit().constData());
        if (!fromEnvironment.isEmpty())
            return deliver(waiter, success(fromEnvironment, SecretResult::Source::Environment, false));
    }

    if (const auto cached = m_memory.constFind(key); cached != m_memory.cend())
        return deliver(waiter, success(*cached, SecretResult::Source::Memory, false));

    QList<Waiter>& waiting = m_lookups[key];
    waiting.append(waiter);
    if (waiting.size() > 1)
        return; // answered with the lookup already in flight

    if (!m_invalidated.contains(key) && keychainUsable())
        readKeychain(spec, key);
    else
        prompt(spec, key);
}

void CredentialStore::store(const SecretSpec& spec, const QString& secret, QObject* context, Callback done)
{
    const Waiter waiter { context ? context : this, std::move(done) };
    if (forwardToOwnThread([this, spec, secret, waiter] {
            if (waiter.context)
                store(spec, secret, waiter.context, waiter.done);
        }))
        return;

    const QString key = keyFor(spec);
    if (key.isEmpty())
        return deliver(waiter, failure(invalidSpecError(spec)));

    SecretScrubber::remember(secret);
    m_invalidated.remove(key);
    if (!keychainUsable()) {
        m_memory.insert(key, secret);
        return deliver(waiter, success({}, SecretResult::Source::Memory, false));
    }
    writeKeychain(key, secret, [waiter](bool remembered) {
        const auto source = remembered ? SecretResult::Source::Keychain : SecretResult::Source::Memory;
        deliver(waiter, success({}, source, remembered));
    });
}

void CredentialStore::forget(const SecretSpec& spec, QObject* context, Callback done)
{
    const Waiter waiter { context ? context : this, std::move(done) };
    if (forwardToOwnThread([this, spec, waiter] {
            if (waiter.context)
                forget(spec, waiter.context, waiter.done);
        }))
        return;

    const QString key = keyFor(spec);
    if (key.isEmpty())
        return deliver(waiter, failure(invalidSpecError(spec)));

    m_memory.remove(key);
    m_invalidated.remove(key);
    if (!keychainUsable())
        return deliver(waiter, success({}, SecretResult::Source::Memory, false));

    auto* job = new QKeychain::DeletePasswordJob(serviceName);
    job->setKey(key);
    runJob(job, this, m_timeoutMs, [this, waiter, key](const JobOutcome& outcome) {
        if (outcome.error == QKeychain::NoError || outcome.error == QKeychain::EntryNotFound) {
            if (outcome.error == QKeychain::NoError)
                setBackend(Backend::Keychain);
            return deliver(waiter, success({}, SecretResult::Source::Keychain, false));
        }
        markKeychainBroken(outcome.message);
        deliver(waiter,
            failure(QStringLiteral("could not remove %1 from the OS keychain (%2): remove it with the "
                                   "keyring's own tool, e.g. secret-tool clear user %1 server %3")
                        .arg(key, outcome.message, serviceName)));
    });
}

void CredentialStore::invalidate(const SecretSpec& spec)
{
    if (forwardToOwnThread([this, spec] { invalidate(spec); }))
        return;

    const QString key = keyFor(spec);
    if (key.isEmpty())
        return;
    m_memory.remove(key);
    m_invalidated.insert(key);
}

void CredentialStore::deliver(const Waiter& waiter, const SecretResult& result)
{
    // Every secret this process resolves passes here: from now on it is scrubbed from whatever is kept or logged.
    SecretScrubber::remember(result.secret);
    // Queued even on the same thread, so a caller never sees its callback run inside its own call.
    if (waiter.context)
        QMetaObject::invokeMethod(
            waiter.context.data(), [done = waiter.done, result] { done(result); }, Qt::QueuedConnection);
}

// All state lives on the store's thread; a worker (say, an SSH session whose password was refused) may still call.
bool CredentialStore::forwardToOwnThread(std::function<void()> call)
{
    if (QThread::currentThread() == thread())
        return false;
    QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
    return true;
}

// Also picks up a failure that another store in this process ran into.
bool CredentialStore::keychainUsable()
{
    if (keychainBroken) {
        setBackend(Backend::MemoryOnly);
        return false;
    }
    return true;
}

void CredentialStore::markKeychainBroken(const QString& why)
{
    if (!keychainBroken.exchange(true))
        qCWarning(lcSecrets) << "OS keychain unavailable, secrets are kept in memory for this process only:" << why;
    setBackend(Backend::MemoryOnly);
}

void CredentialStore::setBackend(Backend backend)
{
    if (m_backend == backend)
        return;
    m_backend = backend;
    emit backendChanged(backend);
}

void CredentialStore::readKeychain(const SecretSpec& spec, const QString& key)
{
    auto* job = new QKeychain::ReadPasswordJob(serviceName);
    job->setKey(key);
    runJob(job, this, m_timeoutMs, [this, spec, key](const JobOutcome& outcome) {
        switch (outcome.error) {
        case QKeychain::NoError:
            setBackend(Backend::Keychain);
            return finishLookup(key, success(outcome.text, SecretResult::Source::Keychain, true));
        case QKeychain::EntryNotFound:
            // Not proof that the keychain works: a locked keyring also reads as "not found" (its writes fail).
            return prompt(spec, key);
        default:
            markKeychainBroken(outcome.message);
            return prompt(spec, key);
        }
    });
}

void CredentialStore::prompt(const SecretSpec& spec, const QString& key)
{
    const bool willBeRemembered = keychainUsable();
    if (!m_prompter)
        return finishLookup(key, failure(noSecretError(spec, key, willBeRemembered)));

    qCDebug(lcSecrets) << "asking for" << key;
    m_prompter->ask({ key, spec.label, willBeRemembered },
        [self = QPointer(this), key, willBeRemembered, answered = std::make_shared<bool>(false)](
            std::optional<QString> answer) {
            if (self && !std::exchange(*answered, true))
                self->promptAnswered(key, willBeRemembered, answer);
        });
}

void CredentialStore::promptAnswered(const QString& key, bool willBeRemembered, const std::optional<QString>& answer)
{
    if (!answer)
        return finishLookup(key,
            failure(QStringLiteral("no secret for %1: none was entered (the prompt was cancelled, or there is no "
                                   "terminal or window to ask in)")
                        .arg(key)));

    m_invalidated.remove(key);
    if (!willBeRemembered || !keychainUsable()) {
        m_memory.insert(key, *answer);
        return finishLookup(key, success(*answer, SecretResult::Source::Prompt, false));
    }
    writeKeychain(key, *answer, [this, key, secret = *answer](bool remembered) {
        finishLookup(key, success(secret, SecretResult::Source::Prompt, remembered));
    });
}

void CredentialStore::writeKeychain(const QString& key, const QString& secret, std::function<void(bool)> then)
{
    auto* job = new QKeychain::WritePasswordJob(serviceName);
    job->setKey(key);
    job->setTextData(secret);
    runJob(job, this, m_timeoutMs, [this, key, secret, then](const JobOutcome& outcome) {
        if (outcome.error == QKeychain::NoError) {
            setBackend(Backend::Keychain);
            m_memory.remove(key);
            return then(true);
        }
        markKeychainBroken(outcome.message);
        m_memory.insert(key, secret);
        then(false);
    });
}

void CredentialStore::finishLookup(const QString& key, const SecretResult& result)
{
    for (const Waiter& waiter : m_lookups.take(key))
        deliver(waiter, result);
}

} // namespace opsdeck
