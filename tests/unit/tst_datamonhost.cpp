// DatamonHost on this machine (a context without a host): the command's environment is the allowlist plus the
// context's own names, its stdin is empty, its output streams, a timeout and an interrupt stop its process group.
#include "datamon/DatamonHost.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTest>
#include <QThread>

#include <atomic>
#include <csignal>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestDatamonHost : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void runsWithTheAllowlistAndNoStdin();
    void streamsOutputAsItComes();
    void timeoutStopsTheGroup();
    void interruptFromAnotherThread();
    void missingProgramIsNamed();
    void runsCommandsTogether();
    void togetherFailsAsAWhole();
    void parseTogetherRefusesWhatItsScriptDoesNotPrint_data();
    void parseTogetherRefusesWhatItsScriptDoesNotPrint();

private:
    DatamonContext m_context;
};

void TestDatamonHost::initTestCase()
{
    // What datamon would read through viper, and a secret of the console.
    qputenv("CONTEXT", "dm-prod");
    qputenv("DATAMON_CONTEXT", "dm-prod");
    qputenv("OPSDECK_SECRET_TOKEN", "planted-7d1e");
    qputenv("GOOGLE_APPLICATION_CREDENTIALS", "/etc/datamon/sa.json");
    m_context.name = u"local"_s;
    m_context.context = u"dm-dev"_s;
    m_context.config = u"dm-config"_s;
    m_context.environment = { u"GOOGLE_APPLICATION_CREDENTIALS"_s };
}

void TestDatamonHost::runsWithTheAllowlistAndNoStdin()
{
    DatamonHost host(m_context, nullptr, {});
    QCOMPARE(host.where(), u"this machine"_s);
    const ExecResult result = host.run({ u"/bin/sh"_s, u"-c"_s, u"env; echo stdin=$(wc -c)"_s }, 10000);
    QVERIFY2(result.succeeded(), qPrintable(result.describe()));
    const QList<QByteArray> lines = result.stdoutData.split('\n');
    QVERIFY(lines.contains("GOOGLE_APPLICATION_CREDENTIALS=/etc/datamon/sa.json"));
    QVERIFY(lines.contains("stdin=0"));
    for (const QByteArray& line : lines) {
        QVERIFY2(!line.startsWith("CONTEXT=") && !line.startsWith("DATAMON_CONTEXT="), line.constData());
        QVERIFY2(!line.contains("planted-7d1e"), line.constData());
    }
}

void TestDatamonHost::streamsOutputAsItComes()
{
    DatamonHost host(m_context, nullptr, {});
    QElapsedTimer clock;
    clock.start();
    qint64 firstAt = -1;
    QByteArray streamed;
    const ExecResult result = host.run({ u"/bin/sh"_s, u"-c"_s, u"echo first; echo oops >&2; sleep 1; echo second"_s },
        10000, [&](int stream, const QByteArray& data) {
            if (stream == 0 && firstAt < 0)
                firstAt = clock.elapsed();
            streamed += data;
        });
    QVERIFY(result.succeeded());
    QVERIFY2(firstAt >= 0 && firstAt < 800, qPrintable(QString::number(firstAt)));
    QVERIFY(streamed.contains("first") && streamed.contains("oops") && streamed.contains("second"));
    QCOMPARE(result.stdoutData, QByteArray("first\nsecond\n"));
    QCOMPARE(result.stderrData, QByteArray("oops\n"));
}

void TestDatamonHost::timeoutStopsTheGroup()
{
    DatamonHost host(m_context, nullptr, {});
    QElapsedTimer clock;
    clock.start();
    // A child of the command goes too: the whole group is stopped.
    const ExecResult result = host.run({ u"/bin/sh"_s, u"-c"_s, u"sleep 31.7 & sleep 32.3; wait"_s }, 500);
    QCOMPARE(result.error.kind, SshError::Kind::Timeout);
    QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(QTest::qWaitFor(
        [] {
            QProcess pgrep;
            pgrep.start(u"pgrep"_s, { u"-f"_s, u"sleep 31.7"_s });
            pgrep.waitForFinished(5000);
            return pgrep.exitCode() == 1; // none
        },
        5000));
}

void TestDatamonHost::interruptFromAnotherThread()
{
    DatamonHost host(m_context, nullptr, {});
    const auto interrupt = host.interrupter();
    std::unique_ptr<QThread> stopper(QThread::create([interrupt] {
        QThread::msleep(300);
        interrupt();
    }));
    stopper->start();
    QElapsedTimer clock;
    clock.start();
    const ExecResult result = host.run({ u"sleep"_s, u"30"_s }, 60000);
    stopper->wait();
    QCOMPARE(result.error.kind, SshError::Kind::Cancelled);
    QVERIFY(clock.elapsed() < 10000);
}

void TestDatamonHost::missingProgramIsNamed()
{
    DatamonHost host(m_context, nullptr, {});
    const ExecResult result = host.run({ u"/nonexistent/datamon2"_s, u"repo"_s, u"list"_s }, 10000);
    QCOMPARE(result.error.kind, SshError::Kind::ChannelFailed);
    QVERIFY2(result.error.message.contains(u"cannot start /nonexistent/datamon2 on this machine"_s),
        qPrintable(result.error.message));
}

// Each command gets its own words as they are (spaces, quotes, globs, an empty word, a word that is a number: the
// script counts words), its own exit status and output, byte for byte; and they run at the same time.
void TestDatamonHost::runsCommandsTogether()
{
    DatamonHost host(m_context, nullptr, {});
    const QList<QStringList> commands = {
        { u"/bin/sh"_s, u"-c"_s, u"sleep 0.6; printf '%s|' \"$@\"; printf 'no newline' >&2; exit 3"_s, u"x"_s, u"a b"_s,
            u"\"q\" '$HOME'"_s, u"*"_s, u""_s, u"2"_s },
        { u"/bin/sh"_s, u"-c"_s, u"sleep 0.6; printf '\\000@@opsdeck-part 9 0 0 0\\n'"_s },
        { u"/bin/sh"_s, u"-c"_s, u"sleep 0.6"_s },
        { u"/nonexistent/gcloud"_s, u"storage"_s },
    };
    QElapsedTimer clock;
    clock.start();
    const QList<ExecResult> results = host.runTogether(commands, 10000);
    QVERIFY2(clock.elapsed() < 1500, qPrintable(QString::number(clock.elapsed()))); // not 1.8 s one after another
    QCOMPARE(results.size(), 4);
    QCOMPARE(results[0].exitStatus, 3);
    QCOMPARE(results[0].stdoutData, QByteArray("a b|\"q\" '$HOME'|*||2|"));
    QCOMPARE(results[0].stderrData, QByteArray("no newline"));
    QVERIFY(results[1].succeeded());
    QCOMPARE(results[1].stdoutData, QByteArray("\0@@opsdeck-part 9 0 0 0\n", 24));
    QVERIFY(results[2].succeeded());
    QVERIFY(results[2].stdoutData.isEmpty() && results[2].stderrData.isEmpty());
    QCOMPARE(results[3].exitStatus, 127);
    QVERIFY2(results[3].stderrData.contains("/nonexistent/gcloud"), results[3].stderrData.constData());
    QVERIFY(host.runTogether({}, 10000).isEmpty());
}

void TestDatamonHost::togetherFailsAsAWhole()
{
    DatamonHost host(m_context, nullptr, {});
    const QList<ExecResult> results = host.runTogether({ { u"sleep"_s, u"0.1"_s }, { u"sleep"_s, u"31.9"_s } }, 1000);
    QCOMPARE(results.size(), 2);
    for (const ExecResult& result : results)
        QCOMPARE(result.error.kind, SshError::Kind::Timeout);
}

void TestDatamonHost::parseTogetherRefusesWhatItsScriptDoesNotPrint_data()
{
    QTest::addColumn<QByteArray>("out");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("one of two") << QByteArray("@@opsdeck-part 1 0 2 0\nok");
    QTest::newRow("out of order") << QByteArray("@@opsdeck-part 2 0 0 0\n@@opsdeck-part 1 0 0 0\n");
    QTest::newRow("short output") << QByteArray("@@opsdeck-part 1 0 9 0\nok@@opsdeck-part 2 0 0 0\n");
    QTest::newRow("no exit status") << QByteArray("@@opsdeck-part 1  0 0\n@@opsdeck-part 2 0 0 0\n");
    QTest::newRow("negative size") << QByteArray("@@opsdeck-part 1 0 -1 0\n@@opsdeck-part 2 0 0 0\n");
    QTest::newRow("trailing bytes") << QByteArray("@@opsdeck-part 1 0 0 0\n@@opsdeck-part 2 0 0 0\nx");
    QTest::newRow("login noise") << QByteArray("Welcome\n@@opsdeck-part 1 0 0 0\n@@opsdeck-part 2 0 0 0\n");
}

void TestDatamonHost::parseTogetherRefusesWhatItsScriptDoesNotPrint()
{
    QFETCH(QByteArray, out);
    QString error;
    QVERIFY(!DatamonHost::parseTogether(out, 2, &error));
    QVERIFY2(error.contains(u"run together"_s), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestDatamonHost)
#include "tst_datamonhost.moc"
