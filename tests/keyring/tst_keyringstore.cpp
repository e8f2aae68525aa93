// CredentialStore over a real, unlocked gnome-keyring. Run through tests/keyring/with-keyring, which gives the test a
// private session bus and a fresh keyring, so nothing here touches the user's secrets.
#include "secrets/CredentialStore.h"
#include "secrets/SecretPrompter.h"

#include <QSignalSpy>
#include <QTest>
#include <QTimer>

using namespace opsdeck;

namespace {

constexpr int waitMs = 10000;

class FakePrompter : public SecretPrompter
{
public:
    void ask(const Request& request, std::function<void(std::optional<QString>)> done) override
    {
        requests.append(request);
        // Later, as a dialog would.
        QTimer::singleShot(0, [done, reply = answer] { done(reply); });
    }

    std::optional<QString> answer; // std::nullopt: the user cancels
    QList<Request> requests;
};

SecretSpec spec(const QString& account)
{
    return { QStringLiteral("ssh"), QStringLiteral("bastion"), account, {},
        QStringLiteral("Password for %1@bastion").arg(account) };
}

// Starts an operation with a context of its own and waits for its result (std::nullopt if none within waitMs).
template <typename Start> std::optional<SecretResult> await(Start start)
{
    std::optional<SecretResult> result;
    QObject context;
    start(&context, [&result](const SecretResult& r) { result = r; });
    return QTest::qWaitFor([&result] { return result.has_value(); }, waitMs) ? result : std::nullopt;
}

std::optional<SecretResult> lookup(CredentialStore& store, const SecretSpec& s)
{
    return await([&](QObject* context, CredentialStore::Callback done) { store.lookup(s, context, done); });
}

std::optional<SecretResult> store(CredentialStore& credentials, const SecretSpec& s, const QString& secret)
{
    return await(
        [&](QObject* context, CredentialStore::Callback done) { credentials.store(s, secret, context, done); });
}

std::optional<SecretResult> forget(CredentialStore& credentials, const SecretSpec& s)
{
    return await([&](QObject* context, CredentialStore::Callback done) { credentials.forget(s, context, done); });
}

} // namespace

class TestKeyringStore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void storeThenLookupComesFromKeychain();
    void promptedAnswerIsWrittenToKeychain();
    void forgetThenLookupPromptsAgain();
    void invalidatedSecretIsReplacedInKeychain();
};

void TestKeyringStore::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QFAIL("no session bus: run this test through tests/keyring/with-keyring");
    // Never with a display: a keyring that wants unlocking would show a dialog and the jobs would wait for it.
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
}

void TestKeyringStore::storeThenLookupComesFromKeychain()
{
    CredentialStore credentials;
    QSignalSpy backendChanged(&credentials, &CredentialStore::backendChanged);
    FakePrompter prompter;
    credentials.setPrompter(&prompter);

    const auto stored = store(credentials, spec(QStringLiteral("alice")), QStringLiteral("kept"));
    QVERIFY(stored);
    QVERIFY2(stored->ok, qPrintable(stored->error));
    QVERIFY(stored->remembered);
    QCOMPARE(stored->source, SecretResult::Source::Keychain);
    QCOMPARE(credentials.backend(), CredentialStore::Backend::Keychain);
    QCOMPARE(backendChanged.size(), 1);
    QCOMPARE(backendChanged[0][0].value<CredentialStore::Backend>(), CredentialStore::Backend::Keychain);

    const auto found = lookup(credentials, spec(QStringLiteral("alice")));
    QVERIFY(found);
    QVERIFY2(found->ok, qPrintable(found->error));
    QCOMPARE(found->secret, QStringLiteral("kept"));
    QCOMPARE(found->source, SecretResult::Source::Keychain);
    QVERIFY(found->remembered);
    QVERIFY(prompter.requests.isEmpty());
    QCOMPARE(credentials.backend(), CredentialStore::Backend::Keychain);
}

void TestKeyringStore::promptedAnswerIsWrittenToKeychain()
{
    {
        CredentialStore credentials;
        FakePrompter prompter;
        prompter.answer = QStringLiteral("typed once");
        credentials.setPrompter(&prompter);

        const auto result = lookup(credentials, spec(QStringLiteral("bob")));
        QVERIFY(result);
        QVERIFY2(result->ok, qPrintable(result->error));
        QCOMPARE(result->secret, QStringLiteral("typed once"));
        QCOMPARE(result->source, SecretResult::Source::Prompt);
        QVERIFY(result->remembered);
        QCOMPARE(prompter.requests.size(), 1);
        QCOMPARE(prompter.requests[0].key, QStringLiteral("opsdeck/ssh/bastion/bob"));
        QVERIFY(prompter.requests[0].willBeRemembered);
        QCOMPARE(credentials.backend(), CredentialStore::Backend::Keychain);
    }

    // A new store has nothing in memory: the secret can only come from the keychain.
    CredentialStore fresh;
    const auto found = lookup(fresh, spec(QStringLiteral("bob")));
    QVERIFY(found);
    QVERIFY2(found->ok, qPrintable(found->error));
    QCOMPARE(found->secret, QStringLiteral("typed once"));
    QCOMPARE(found->source, SecretResult::Source::Keychain);
    QVERIFY(found->remembered);
}

void TestKeyringStore::forgetThenLookupPromptsAgain()
{
    CredentialStore credentials;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("asked again");
    credentials.setPrompter(&prompter);

    const auto stored = store(credentials, spec(QStringLiteral("carol")), QStringLiteral("old"));
    QVERIFY(stored && stored->ok);
    const auto forgotten = forget(credentials, spec(QStringLiteral("carol")));
    QVERIFY(forgotten);
    QVERIFY2(forgotten->ok, qPrintable(forgotten->error));

    const auto result = lookup(credentials, spec(QStringLiteral("carol")));
    QVERIFY(result);
    QVERIFY2(result->ok, qPrintable(result->error));
    QCOMPARE(result->secret, QStringLiteral("asked again"));
    QCOMPARE(result->source, SecretResult::Source::Prompt);
    QCOMPARE(prompter.requests.size(), 1);
    QCOMPARE(credentials.backend(), CredentialStore::Backend::Keychain);
}

void TestKeyringStore::invalidatedSecretIsReplacedInKeychain()
{
    CredentialStore credentials;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("right");
    credentials.setPrompter(&prompter);

    const auto stored = store(credentials, spec(QStringLiteral("dave")), QStringLiteral("wrong"));
    QVERIFY(stored && stored->ok);
    const auto first = lookup(credentials, spec(QStringLiteral("dave")));
    QVERIFY(first && first->ok);
    QCOMPARE(first->secret, QStringLiteral("wrong"));

    // Authentication failed with it: the keychain's copy must not be served again.
    credentials.invalidate(spec(QStringLiteral("dave")));
    const auto result = lookup(credentials, spec(QStringLiteral("dave")));
    QVERIFY(result);
    QVERIFY2(result->ok, qPrintable(result->error));
    QCOMPARE(result->secret, QStringLiteral("right"));
    QCOMPARE(result->source, SecretResult::Source::Prompt);
    QVERIFY(result->remembered);
    QCOMPARE(prompter.requests.size(), 1);

    CredentialStore fresh;
    const auto found = lookup(fresh, spec(QStringLiteral("dave")));
    QVERIFY(found && found->ok);
    QCOMPARE(found->secret, QStringLiteral("right"));
    QCOMPARE(found->source, SecretResult::Source::Keychain);
}

QTEST_GUILESS_MAIN(TestKeyringStore)
#include "tst_keyringstore.moc"
