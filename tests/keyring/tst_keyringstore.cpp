// CredentialStore over a real, unlocked gnome-keyring. Run through tests/keyring/with-keyring, which gives the test a
// private session bus and a fresh keyring, so nothing here touches the user's secrets.
#include "SecretTestSupport.h"
#include "core/SecretScrubber.h"
#include "secrets/CredentialStore.h"
#include "secrets/SecretPrompter.h"

#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <qt6keychain/keychain.h>

using namespace opsdeck;
using namespace opsdeck::test;

class TestKeyringStore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void storeThenLookupComesFromKeychain();
    void promptedAnswerIsWrittenToKeychain();
    void forgetThenLookupPromptsAgain();
    void invalidatedSecretIsReplacedInKeychain();
    void secretReadFromTheKeyringIsScrubbed();
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

    const auto stored = storeSecret(credentials, bastionSpec(QStringLiteral("alice")), QStringLiteral("kept"));
    QVERIFY(stored);
    QVERIFY2(stored->ok, qPrintable(stored->error));
    QVERIFY(stored->remembered);
    QCOMPARE(stored->source, SecretResult::Source::Keychain);
    QCOMPARE(credentials.backend(), CredentialStore::Backend::Keychain);
    QCOMPARE(backendChanged.size(), 1);
    QCOMPARE(backendChanged[0][0].value<CredentialStore::Backend>(), CredentialStore::Backend::Keychain);

    const auto found = lookupSecret(credentials, bastionSpec(QStringLiteral("alice")));
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

        const auto result = lookupSecret(credentials, bastionSpec(QStringLiteral("bob")));
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
    const auto found = lookupSecret(fresh, bastionSpec(QStringLiteral("bob")));
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

    const auto stored = storeSecret(credentials, bastionSpec(QStringLiteral("carol")), QStringLiteral("old"));
    QVERIFY(stored && stored->ok);
    const auto forgotten = forgetSecret(credentials, bastionSpec(QStringLiteral("carol")));
    QVERIFY(forgotten);
    QVERIFY2(forgotten->ok, qPrintable(forgotten->error));

    const auto result = lookupSecret(credentials, bastionSpec(QStringLiteral("carol")));
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

    const auto stored = storeSecret(credentials, bastionSpec(QStringLiteral("dave")), QStringLiteral("wrong"));
    QVERIFY(stored && stored->ok);
    const auto first = lookupSecret(credentials, bastionSpec(QStringLiteral("dave")));
    QVERIFY(first && first->ok);
    QCOMPARE(first->secret, QStringLiteral("wrong"));

    // Authentication failed with it: the keychain's copy must not be served again.
    credentials.invalidate(bastionSpec(QStringLiteral("dave")));
    const auto result = lookupSecret(credentials, bastionSpec(QStringLiteral("dave")));
    QVERIFY(result);
    QVERIFY2(result->ok, qPrintable(result->error));
    QCOMPARE(result->secret, QStringLiteral("right"));
    QCOMPARE(result->source, SecretResult::Source::Prompt);
    QVERIFY(result->remembered);
    QCOMPARE(prompter.requests.size(), 1);

    CredentialStore fresh;
    const auto found = lookupSecret(fresh, bastionSpec(QStringLiteral("dave")));
    QVERIFY(found && found->ok);
    QCOMPARE(found->secret, QStringLiteral("right"));
    QCOMPARE(found->source, SecretResult::Source::Keychain);
}

// A secret the store only read from the keyring (put there by an earlier session, here straight through
// QtKeychain) is remembered for scrubbing like one from the environment or a prompt.
void TestKeyringStore::secretReadFromTheKeyringIsScrubbed()
{
    const QString secret = QStringLiteral("keyring-secret-3e8b01f6");
    auto* write = new QKeychain::WritePasswordJob(QStringLiteral("opsdeck"));
    write->setKey(CredentialStore::keyFor(bastionSpec(QStringLiteral("from-keyring"))));
    write->setTextData(secret);
    QSignalSpy written(write, &QKeychain::Job::finished);
    write->start();
    QVERIFY(written.wait(10000));
    QCOMPARE(write->error(), QKeychain::NoError);
    QCOMPARE(SecretScrubber::scrub(secret), secret);

    CredentialStore credentials;
    const auto found = lookupSecret(credentials, bastionSpec(QStringLiteral("from-keyring")));
    QVERIFY(found);
    QVERIFY2(found->ok, qPrintable(found->error));
    QCOMPARE(found->source, SecretResult::Source::Keychain);
    QCOMPARE(SecretScrubber::scrub(QStringLiteral("login with ") + secret), QStringLiteral("login with [secret]"));
}

QTEST_GUILESS_MAIN(TestKeyringStore)
#include "tst_keyringstore.moc"
