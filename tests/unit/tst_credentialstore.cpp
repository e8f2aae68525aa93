// CredentialStore without a keyring (no session bus, no display): secrets come from the environment or a prompt and
// live in memory only. The store with a working keyring is tested in tests/keyring/tst_keyringstore.cpp.
#include "SecretTestSupport.h"
#include "secrets/CredentialStore.h"
#include "secrets/SecretPrompter.h"
#include "secrets/TerminalPrompter.h"

#include <QElapsedTimer>
#include <QLocalServer>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <memory>
#include <thread>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {

constexpr int waitMs = 5000;

} // namespace

class TestCredentialStore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void keyForBuildsScopedKey();
    void invalidSpecIsRejected_data();
    void invalidSpecIsRejected();
    void environmentVariableWins();
    void promptedAnswerIsKeptInMemory();
    void secondLookupIsServedFromMemory();
    void invalidateForcesNewPrompt();
    void cancelledPromptFails();
    void missWithoutPrompterFails();
    void concurrentLookupsShareOnePrompt();
    void storeWithoutKeychainLastsForThisProcess();
    void newStoreIsMemoryOnlyAfterAFailure();
    void destroyedContextIsNotCalledBack();
    void callFromWorkerThreadIsAnsweredOnContextThread();
    void stalledKeychainTimesOut();
    void stalledKeychainChild();
    void terminalPrompterWithoutTerminalAnswersNothing();
    void terminalPrompterReadsLineWithEchoOff();

private:
    QTemporaryDir m_runtimeDir;
};

void TestCredentialStore::initTestCase()
{
    // No keyring: no session bus, nothing to autolaunch one with, no display for an unlock prompt. GLib would also
    // find a systemd user bus at $XDG_RUNTIME_DIR/bus, so that points at an empty directory.
    QVERIFY(m_runtimeDir.isValid());
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtimeDir.path()));
}

void TestCredentialStore::keyForBuildsScopedKey()
{
    QCOMPARE(CredentialStore::keyFor(bastionSpec(QStringLiteral("root"))), QStringLiteral("opsdeck/ssh/bastion/root"));
}

void TestCredentialStore::invalidSpecIsRejected_data()
{
    QTest::addColumn<SecretSpec>("bad");
    QTest::addColumn<QString>("part");
    const SecretSpec good = bastionSpec(QStringLiteral("root"));
    SecretSpec s = good;
    s.kind.clear();
    QTest::newRow("empty kind") << s << QStringLiteral("kind");
    s = good;
    s.target = QStringLiteral("bastion/../other");
    QTest::newRow("slash in target") << s << QStringLiteral("target");
    s = good;
    s.account = QStringLiteral("root\nopsdeck/ssh/other/root");
    QTest::newRow("newline in account") << s << QStringLiteral("account");
    s = good;
    s.account = QStringLiteral("ro\tot");
    QTest::newRow("tab in account") << s << QStringLiteral("account");
}

void TestCredentialStore::invalidSpecIsRejected()
{
    QFETCH(SecretSpec, bad);
    QFETCH(QString, part);
    QVERIFY(CredentialStore::keyFor(bad).isEmpty());

    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("never used");
    store.setPrompter(&prompter);

    const auto looked = lookupSecret(store, bad);
    QVERIFY(looked);
    QVERIFY(!looked->ok);
    QVERIFY2(looked->error.contains(part), qPrintable(looked->error));

    const auto stored = awaitSecret([&](QObject* context, CredentialStore::Callback done) {
        store.store(bad, QStringLiteral("secret"), context, done);
    });
    QVERIFY(stored);
    QVERIFY(!stored->ok);
    QVERIFY(prompter.requests.isEmpty());
}

void TestCredentialStore::environmentVariableWins()
{
    qputenv("OPSDECK_TST_SECRET", "from-env");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_SECRET"); });
    CredentialStore store;
    FakePrompter prompter;
    store.setPrompter(&prompter);

    std::optional<SecretResult> result;
    store.lookup(bastionSpec(QStringLiteral("env"), QStringLiteral("OPSDECK_TST_SECRET")), this,
        [&result](const SecretResult& r) { result = r; });
    QVERIFY2(!result, "the callback must not run inside lookupSecret()");
    QTRY_VERIFY_WITH_TIMEOUT(result, waitMs);
    QVERIFY(result->ok);
    QCOMPARE(result->secret, QStringLiteral("from-env"));
    QCOMPARE(result->source, SecretResult::Source::Environment);
    QVERIFY(!result->remembered);
    QVERIFY(prompter.requests.isEmpty());
}

void TestCredentialStore::promptedAnswerIsKeptInMemory()
{
    CredentialStore store;
    const bool startedUnknown = store.backend() == CredentialStore::Backend::Unknown;
    QSignalSpy backendChanged(&store, &CredentialStore::backendChanged);
    FakePrompter prompter;
    prompter.answer = QStringLiteral("hunter2");
    store.setPrompter(&prompter);

    const auto result = lookupSecret(store, bastionSpec(QStringLiteral("alice"), QStringLiteral("OPSDECK_TST_UNSET")));
    QVERIFY(result);
    QVERIFY2(result->ok, qPrintable(result->error));
    QCOMPARE(result->secret, QStringLiteral("hunter2"));
    QCOMPARE(result->source, SecretResult::Source::Prompt);
    QVERIFY(!result->remembered);

    QCOMPARE(prompter.requests.size(), 1);
    QCOMPARE(prompter.requests[0].key, QStringLiteral("opsdeck/ssh/bastion/alice"));
    QCOMPARE(prompter.requests[0].label, QStringLiteral("Password for alice@bastion"));
    QVERIFY(!prompter.requests[0].willBeRemembered);

    QCOMPARE(store.backend(), CredentialStore::Backend::MemoryOnly);
    // Only the first store in this process sees the keychain fail; later ones start out MemoryOnly.
    if (startedUnknown) {
        QCOMPARE(backendChanged.size(), 1);
        QCOMPARE(backendChanged[0][0].value<CredentialStore::Backend>(), CredentialStore::Backend::MemoryOnly);
    } else {
        QCOMPARE(backendChanged.size(), 0);
    }
}

void TestCredentialStore::secondLookupIsServedFromMemory()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("s3cret");
    store.setPrompter(&prompter);

    const auto first = lookupSecret(store, bastionSpec(QStringLiteral("bob")));
    QVERIFY(first && first->ok);
    QCOMPARE(first->source, SecretResult::Source::Prompt);

    const auto second = lookupSecret(store, bastionSpec(QStringLiteral("bob")));
    QVERIFY(second && second->ok);
    QCOMPARE(second->secret, QStringLiteral("s3cret"));
    QCOMPARE(second->source, SecretResult::Source::Memory);
    QVERIFY(!second->remembered);
    QCOMPARE(prompter.requests.size(), 1);
}

void TestCredentialStore::invalidateForcesNewPrompt()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("wrong");
    store.setPrompter(&prompter);

    const auto first = lookupSecret(store, bastionSpec(QStringLiteral("carol")));
    QVERIFY(first && first->ok);
    QCOMPARE(first->secret, QStringLiteral("wrong"));
    store.invalidate(bastionSpec(QStringLiteral("carol")));
    prompter.answer = QStringLiteral("right");

    const auto again = lookupSecret(store, bastionSpec(QStringLiteral("carol")));
    QVERIFY(again && again->ok);
    QCOMPARE(again->secret, QStringLiteral("right"));
    QCOMPARE(again->source, SecretResult::Source::Prompt);
    QCOMPARE(prompter.requests.size(), 2);

    const auto cached = lookupSecret(store, bastionSpec(QStringLiteral("carol")));
    QVERIFY(cached && cached->ok);
    QCOMPARE(cached->secret, QStringLiteral("right"));
    QCOMPARE(cached->source, SecretResult::Source::Memory);
    QCOMPARE(prompter.requests.size(), 2);
}

void TestCredentialStore::cancelledPromptFails()
{
    CredentialStore store;
    FakePrompter prompter;
    store.setPrompter(&prompter);

    const auto result = lookupSecret(store, bastionSpec(QStringLiteral("dave")));
    QVERIFY(result);
    QVERIFY(!result->ok);
    QVERIFY(result->secret.isEmpty());
    QVERIFY2(result->error.contains(QStringLiteral("opsdeck/ssh/bastion/dave")), qPrintable(result->error));

    // A cancel is not remembered: the next lookup asks again.
    QVERIFY(lookupSecret(store, bastionSpec(QStringLiteral("dave"))));
    QCOMPARE(prompter.requests.size(), 2);
}

void TestCredentialStore::missWithoutPrompterFails()
{
    CredentialStore store;
    const auto result = lookupSecret(store, bastionSpec(QStringLiteral("erin"), QStringLiteral("OPSDECK_TST_UNSET")));
    QVERIFY(result);
    QVERIFY(!result->ok);
    QVERIFY2(result->error.contains(QStringLiteral("opsdeck/ssh/bastion/erin")), qPrintable(result->error));
    QVERIFY2(result->error.contains(QStringLiteral("OPSDECK_TST_UNSET")), qPrintable(result->error));
}

void TestCredentialStore::concurrentLookupsShareOnePrompt()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.deferred = true;
    store.setPrompter(&prompter);

    QList<SecretResult> results;
    const auto collect = [&results](const SecretResult& r) { results.append(r); };
    store.lookup(bastionSpec(QStringLiteral("frank")), this, collect);
    store.lookup(bastionSpec(QStringLiteral("frank")), this, collect);
    QTRY_COMPARE_WITH_TIMEOUT(prompter.requests.size(), 1, waitMs);
    QTest::qWait(50);
    QCOMPARE(prompter.requests.size(), 1);

    prompter.pending(QStringLiteral("shared"));
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 2, waitMs);
    for (const SecretResult& r : results) {
        QVERIFY(r.ok);
        QCOMPARE(r.secret, QStringLiteral("shared"));
    }
}

void TestCredentialStore::storeWithoutKeychainLastsForThisProcess()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = QStringLiteral("prompted");
    store.setPrompter(&prompter);

    const auto stored = awaitSecret([&](QObject* context, CredentialStore::Callback done) {
        store.store(bastionSpec(QStringLiteral("grace")), QStringLiteral("stored"), context, done);
    });
    QVERIFY(stored);
    QVERIFY(stored->ok);
    QVERIFY(!stored->remembered);
    QCOMPARE(store.backend(), CredentialStore::Backend::MemoryOnly);

    const auto found = lookupSecret(store, bastionSpec(QStringLiteral("grace")));
    QVERIFY(found && found->ok);
    QCOMPARE(found->secret, QStringLiteral("stored"));
    QCOMPARE(found->source, SecretResult::Source::Memory);
    QVERIFY(prompter.requests.isEmpty());

    const auto forgotten = awaitSecret([&](QObject* context, CredentialStore::Callback done) {
        store.forget(bastionSpec(QStringLiteral("grace")), context, done);
    });
    QVERIFY(forgotten && forgotten->ok);
    const auto afterForget = lookupSecret(store, bastionSpec(QStringLiteral("grace")));
    QVERIFY(afterForget && afterForget->ok);
    QCOMPARE(afterForget->secret, QStringLiteral("prompted"));
    QCOMPARE(prompter.requests.size(), 1);
}

void TestCredentialStore::newStoreIsMemoryOnlyAfterAFailure()
{
    {
        CredentialStore first;
        QVERIFY(lookupSecret(first, bastionSpec(QStringLiteral("heidi"))));
        QCOMPARE(first.backend(), CredentialStore::Backend::MemoryOnly);
    }
    CredentialStore second;
    QSignalSpy backendChanged(&second, &CredentialStore::backendChanged);
    QCOMPARE(second.backend(), CredentialStore::Backend::MemoryOnly);
    QVERIFY(lookupSecret(second, bastionSpec(QStringLiteral("heidi"))));
    QCOMPARE(backendChanged.size(), 0);
}

void TestCredentialStore::destroyedContextIsNotCalledBack()
{
    CredentialStore store;
    FakePrompter prompter;
    prompter.deferred = true;
    store.setPrompter(&prompter);

    bool called = false;
    auto context = std::make_unique<QObject>();
    store.lookup(bastionSpec(QStringLiteral("ivan")), context.get(), [&called](const SecretResult&) { called = true; });
    QTRY_COMPARE_WITH_TIMEOUT(prompter.requests.size(), 1, waitMs);
    context.reset();
    prompter.pending(QStringLiteral("too late"));
    QTest::qWait(100);
    QVERIFY(!called);
}

void TestCredentialStore::callFromWorkerThreadIsAnsweredOnContextThread()
{
    qputenv("OPSDECK_TST_SECRET", "from-env");
    const auto unset = qScopeGuard([] { qunsetenv("OPSDECK_TST_SECRET"); });
    CredentialStore store;

    std::optional<SecretResult> result;
    QThread* answeredOn = nullptr;
    std::thread worker([&] {
        store.lookup(
            bastionSpec(QStringLiteral("env"), QStringLiteral("OPSDECK_TST_SECRET")), this, [&](const SecretResult& r) {
                result = r;
                answeredOn = QThread::currentThread();
            });
    });
    worker.join();
    QTRY_VERIFY_WITH_TIMEOUT(result, waitMs);
    QVERIFY(result->ok);
    QCOMPARE(answeredOn, thread());
}

// A keychain that never answers (a locked keyring whose unlock prompt nobody can see) must cost one timeout, not a
// hang. The keychain state is per process, so this runs stalledKeychainChild in a fresh process.
void TestCredentialStore::stalledKeychainTimesOut()
{
    QProcess child;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("OPSDECK_TST_STALLED_KEYCHAIN"), QStringLiteral("1"));
    child.setProcessEnvironment(environment);
    child.setProcessChannelMode(QProcess::MergedChannels);
    child.start(QCoreApplication::applicationFilePath(), { QStringLiteral("stalledKeychainChild") });
    QVERIFY(child.waitForFinished(3 * waitMs));
    const QByteArray output = child.readAll();
    QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0, output.constData());
    QVERIFY2(output.contains("PASS   : TestCredentialStore::stalledKeychainChild()"), output.constData());
}

void TestCredentialStore::stalledKeychainChild()
{
    if (qEnvironmentVariableIsEmpty("OPSDECK_TST_STALLED_KEYCHAIN"))
        QSKIP("runs in its own process, started by stalledKeychainTimesOut");

    // A "session bus" that accepts connections and never says a word.
    auto silentBus = std::make_unique<QLocalServer>();
    QVERIFY(silentBus->listen(m_runtimeDir.filePath(QStringLiteral("silent-bus"))));
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + QFile::encodeName(silentBus->fullServerName()));

    CredentialStore store;
    store.setTimeout(200);
    FakePrompter prompter;
    prompter.answer = QStringLiteral("typed");
    store.setPrompter(&prompter);
    QCOMPARE(store.backend(), CredentialStore::Backend::Unknown);

    int calls = 0;
    std::optional<SecretResult> result;
    QElapsedTimer elapsed;
    elapsed.start();
    store.lookup(bastionSpec(QStringLiteral("judy")), this, [&](const SecretResult& r) {
        ++calls;
        result = r;
    });
    QTRY_VERIFY_WITH_TIMEOUT(result, waitMs);
    const qint64 ms = elapsed.elapsed();
    QVERIFY2(ms >= 190 && ms < 2000, qPrintable(QStringLiteral("answered after %1 ms").arg(ms)));
    QVERIFY(result->ok);
    QCOMPARE(result->secret, QStringLiteral("typed"));
    QVERIFY(!result->remembered);
    QCOMPARE(prompter.requests.size(), 1);
    QVERIFY(!prompter.requests[0].willBeRemembered);
    QCOMPARE(store.backend(), CredentialStore::Backend::MemoryOnly);

    // MemoryOnly for good: the keychain is not tried again (with this timeout, another try would outlast the wait),
    // and the stalled job, failing late when the bus goes away, calls nobody back.
    store.setTimeout(3 * waitMs);
    const auto stored = awaitSecret([&](QObject* context, CredentialStore::Callback done) {
        store.store(bastionSpec(QStringLiteral("judy")), QStringLiteral("other"), context, done);
    });
    QVERIFY(stored && stored->ok);
    QVERIFY(!stored->remembered);
    silentBus.reset();
    QTest::qWait(200);
    QCOMPARE(calls, 1);
    QCOMPARE(CredentialStore().backend(), CredentialStore::Backend::MemoryOnly);
}

void TestCredentialStore::terminalPrompterWithoutTerminalAnswersNothing()
{
    QTemporaryFile notATerminal;
    QVERIFY(notATerminal.open());
    const QString paths[] = { m_runtimeDir.filePath(QStringLiteral("no-such-tty")), notATerminal.fileName() };
    for (const QString& path : paths) {
        TerminalPrompter prompter(path);
        std::optional<std::optional<QString>> answer;
        prompter.ask({ QStringLiteral("opsdeck/ssh/bastion/root"), {}, true },
            [&answer](std::optional<QString> a) { answer = std::move(a); });
        QVERIFY2(answer, qPrintable(path));
        QVERIFY2(!*answer, qPrintable(path));
    }
}

void TestCredentialStore::terminalPrompterReadsLineWithEchoOff()
{
    const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    QVERIFY(master >= 0);
    const auto closeMaster = qScopeGuard([master] { ::close(master); });
    QVERIFY(grantpt(master) == 0 && unlockpt(master) == 0);
    const QString terminal = QString::fromLocal8Bit(ptsname(master));

    // Reads from the terminal's other end: the user types only once the prompt is shown.
    const auto readAvailable = [master](int timeoutMs) {
        QByteArray bytes;
        pollfd readable {};
        readable.fd = master;
        readable.events = POLLIN;
        while (poll(&readable, 1, timeoutMs) == 1 && (readable.revents & POLLIN)) {
            char buffer[256];
            const ssize_t n = ::read(master, buffer, sizeof buffer);
            if (n <= 0)
                break;
            bytes.append(buffer, n);
        }
        return bytes;
    };
    QByteArray shown;
    std::thread user([&] {
        QElapsedTimer elapsed;
        elapsed.start();
        while (!shown.contains("Password for kim@bastion: ") && elapsed.elapsed() < waitMs)
            shown += readAvailable(50);
        const QByteArray typed = "hunter2\n";
        if (::write(master, typed.constData(), static_cast<std::size_t>(typed.size())) != typed.size())
            shown += "(typing failed)";
    });

    std::optional<QString> answer;
    TerminalPrompter(terminal).ask(
        { QStringLiteral("opsdeck/ssh/bastion/kim"), QStringLiteral("Password for kim@bastion"), false },
        [&answer](std::optional<QString> a) { answer = std::move(a); });
    user.join();
    shown += readAvailable(100);

    QVERIFY(answer);
    QCOMPARE(*answer, QStringLiteral("hunter2"));
    QVERIFY2(shown.startsWith("(no OS keychain"), shown.constData());
    QVERIFY2(!shown.contains("hunter2"), shown.constData());
    QVERIFY2(shown.endsWith("Password for kim@bastion: \r\n"), shown.constData());

    const int slave = ::open(QFile::encodeName(terminal).constData(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    QVERIFY(slave >= 0);
    termios restored {};
    const bool gotAttributes = tcgetattr(slave, &restored) == 0;
    ::close(slave);
    QVERIFY(gotAttributes);
    QVERIFY(restored.c_lflag & ECHO);
}

QTEST_GUILESS_MAIN(TestCredentialStore)
#include "tst_credentialstore.moc"
