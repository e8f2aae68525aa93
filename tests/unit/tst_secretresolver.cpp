// SecretResolver over a CredentialStore without a keyring: secrets come from the environment or a (fake) prompt.
#include "SecretTestSupport.h"
#include "secrets/CredentialStore.h"
#include "secrets/SecretResolver.h"

#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {

constexpr int waitMs = 5000;

struct Answer
{
    QStringList secrets;
    QString error;
    int calls = 0;
};

} // namespace

class TestSecretResolver : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void everySecretInSpecOrder();
    void emptyListIsAnsweredAfterTheCall();
    void stopsAtTheFirstFailure();
    void resolveEachGoesOnPastAFailure();
    void asksOneAtATime();

private:
    QTemporaryDir m_runtimeDir;
};

void TestSecretResolver::initTestCase()
{
    // No keyring, as in tst_credentialstore: the store falls back to memory and the prompter.
    QVERIFY(m_runtimeDir.isValid());
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtimeDir.path()));
}

void TestSecretResolver::everySecretInSpecOrder()
{
    qputenv("OPSDECK_TST_FIRST", "one");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_FIRST"); });
    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("two");
    store.setPrompter(&prompter);

    Answer answer;
    SecretResolver::resolve(&store,
        { bastionSpec(QStringLiteral("first"), QStringLiteral("OPSDECK_TST_FIRST")),
            bastionSpec(QStringLiteral("second")) },
        this, [&answer](const QStringList& secrets, const QString& error) {
            answer.secrets = secrets;
            answer.error = error;
            ++answer.calls;
        });
    QTRY_COMPARE_WITH_TIMEOUT(answer.calls, 1, waitMs);
    QVERIFY2(answer.error.isEmpty(), qPrintable(answer.error));
    QCOMPARE(answer.secrets, QStringList({ QStringLiteral("one"), QStringLiteral("two") }));
    QCOMPARE(prompter.requests.size(), 1);
    QCOMPARE(prompter.requests[0].key, QStringLiteral("opsdeck/ssh/bastion/second"));
    QTest::qWait(50);
    QCOMPARE(answer.calls, 1);
}

void TestSecretResolver::emptyListIsAnsweredAfterTheCall()
{
    CredentialStore store;
    Answer answer;
    SecretResolver::resolve(&store, {}, this, [&answer](const QStringList& secrets, const QString& error) {
        answer.secrets = secrets;
        answer.error = error;
        ++answer.calls;
    });
    QCOMPARE(answer.calls, 0);
    QTRY_COMPARE_WITH_TIMEOUT(answer.calls, 1, waitMs);
    QVERIFY(answer.secrets.isEmpty());
    QVERIFY(answer.error.isEmpty());
}

void TestSecretResolver::stopsAtTheFirstFailure()
{
    CredentialStore store;
    FakePrompter prompter; // no answer: the admin cancels
    store.setPrompter(&prompter);

    Answer answer;
    SecretResolver::resolve(&store, { bastionSpec(QStringLiteral("cancelled")), bastionSpec(QStringLiteral("never")) },
        this, [&answer](const QStringList& secrets, const QString& error) {
            answer.secrets = secrets;
            answer.error = error;
            ++answer.calls;
        });
    QTRY_COMPARE_WITH_TIMEOUT(answer.calls, 1, waitMs);
    QVERIFY(answer.secrets.isEmpty());
    QVERIFY2(answer.error.contains(QStringLiteral("opsdeck/ssh/bastion/cancelled")), qPrintable(answer.error));
    // The second secret is not asked for once the first is missing.
    QCOMPARE(prompter.requests.size(), 1);
}

void TestSecretResolver::resolveEachGoesOnPastAFailure()
{
    qputenv("OPSDECK_TST_LAST", "last");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_LAST"); });
    CredentialStore store; // no prompter: a miss fails
    QList<SecretResult> results;
    int calls = 0;
    SecretResolver::resolveEach(&store,
        { bastionSpec(QStringLiteral("missing")),
            bastionSpec(QStringLiteral("last"), QStringLiteral("OPSDECK_TST_LAST")) },
        this, [&](const QList<SecretResult>& r) {
            results = r;
            ++calls;
        });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, waitMs);
    QCOMPARE(results.size(), 2);
    QVERIFY(!results[0].ok);
    QVERIFY2(results[0].error.contains(QStringLiteral("opsdeck/ssh/bastion/missing")), qPrintable(results[0].error));
    QVERIFY(results[1].ok);
    QCOMPARE(results[1].secret, QStringLiteral("last"));
}

void TestSecretResolver::asksOneAtATime()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.deferred = true;
    store.setPrompter(&prompter);

    Answer answer;
    SecretResolver::resolve(&store, { bastionSpec(QStringLiteral("a")), bastionSpec(QStringLiteral("b")) }, this,
        [&answer](const QStringList& secrets, const QString& error) {
            answer.secrets = secrets;
            answer.error = error;
            ++answer.calls;
        });
    QTRY_COMPARE_WITH_TIMEOUT(prompter.requests.size(), 1, waitMs);
    QTest::qWait(50);
    QCOMPARE(prompter.requests.size(), 1); // the second prompt waits for the first answer
    std::exchange(prompter.pending, {})(QStringLiteral("secret-a"));
    QTRY_COMPARE_WITH_TIMEOUT(prompter.requests.size(), 2, waitMs);
    QCOMPARE(prompter.requests[1].key, QStringLiteral("opsdeck/ssh/bastion/b"));
    std::exchange(prompter.pending, {})(QStringLiteral("secret-b"));
    QTRY_COMPARE_WITH_TIMEOUT(answer.calls, 1, waitMs);
    QCOMPARE(answer.secrets, QStringList({ QStringLiteral("secret-a"), QStringLiteral("secret-b") }));
}

QTEST_GUILESS_MAIN(TestSecretResolver)
#include "tst_secretresolver.moc"
