#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>

#include <functional>
#include <optional>

namespace opsdeck {

class SecretPrompter;

// What a secret is for. The parts make its key, "opsdeck/<kind>/<target>/<account>"; each part must be non-empty,
// without '/' and without control characters, so that one key can never be read as another.
struct SecretSpec
{
    QString kind;
    QString target;
    QString account;
    QString envVar; // if non-empty and that variable is set and non-empty, its value wins (automation); never stored
    QString label; // for the prompt, e.g. "Password for opsdeck-sandbox@bastion"
};

struct SecretResult
{
    enum class Source
    {
        Environment,
        Keychain,
        Memory,
        Prompt
    };

    bool ok = false;
    QString secret; // set by lookup only
    Source source = Source::Memory; // meaningful only when ok
    bool remembered = false; // true only when the secret is in the OS keychain
    QString error; // when !ok: what failed and what to do
};

// Secrets over QtKeychain, with no plaintext fallback ever: when the OS keychain does not work (no session bus, no
// secrets service, a locked keyring, a job that never answers) secrets live in this process's memory only, and
// backendChanged(MemoryOnly) lets the UI say they will not be remembered.
//
// Use the store from the thread it lives in; calls from other threads are forwarded to it. Callbacks run on the
// thread of their context object, always after the call has returned, and never once the context is destroyed.
// Destroying the store drops the callbacks still pending.
class CredentialStore : public QObject
{
    Q_OBJECT
public:
    enum class Backend
    {
        Unknown,
        Keychain,
        MemoryOnly
    };
    Q_ENUM(Backend)

    using Callback = std::function<void(const SecretResult&)>;

    explicit CredentialStore(QObject* parent = nullptr);

    // Empty when a part is invalid.
    static QString keyFor(const SecretSpec& spec);

    void setTimeout(int ms); // for every keychain job; default 5000
    void setPrompter(SecretPrompter* prompter); // not owned; may be null, then a miss is an error
    Backend backend() const;

    // Environment variable, then this process's memory, then the keychain, then the prompter. A prompted answer is
    // written to the keychain when the keychain works, otherwise kept in memory for this process only.
    void lookup(const SecretSpec& spec, QObject* context, Callback done);
    // Writes to the keychain; without a working keychain the secret is kept in memory (ok, remembered == false).
    void store(const SecretSpec& spec, const QString& secret, QObject* context, Callback done);
    void forget(const SecretSpec& spec, QObject* context, Callback done);
    // For a secret that turned out wrong (authentication failed): the next lookup serves it neither from memory nor
    // from the keychain but asks again, and the new answer replaces the keychain entry.
    void invalidate(const SecretSpec& spec);

signals:
    void backendChanged(opsdeck::CredentialStore::Backend backend);

private:
    struct Waiter
    {
        QPointer<QObject> context;
        Callback done;
    };

    static void deliver(const Waiter& waiter, const SecretResult& result);
    bool forwardToOwnThread(std::function<void()> call);
    bool keychainUsable();
    void markKeychainBroken(const QString& why);
    void setBackend(Backend backend);

    void readKeychain(const SecretSpec& spec, const QString& key);
    void prompt(const SecretSpec& spec, const QString& key);
    void promptAnswered(const QString& key, bool willBeRemembered, const std::optional<QString>& answer);
    void writeKeychain(const QString& key, const QString& secret, std::function<void(bool remembered)> then);
    void finishLookup(const QString& key, const SecretResult& result);

    int m_timeoutMs = 5000;
    SecretPrompter* m_prompter = nullptr;
    Backend m_backend;
    QHash<QString, QString> m_memory; // secrets that are not in the keychain
    QSet<QString> m_invalidated;
    QHash<QString, QList<Waiter>> m_lookups; // lookups in flight per key, so one prompt answers them all
};

} // namespace opsdeck
