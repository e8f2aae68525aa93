// A detached job's start, poll and stop scripts, run here by /bin/sh as the datamon host would run them.
#include "datamon/DetachedJob.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestDetachedJob : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void runsToItsExitStatusAndOutput();
    void pollsFromOffsetsWithinALimit();
    void aStepStartsOnce();
    void stopReachesTheCommandAndTheStatusSaysSo();
    void aKilledSupervisorIsVanishedNotRunning();
    void survivesTheShellThatStartedIt();
    void stopAfterTheEndSignalsNothing();
    void pollOfNoJob();
    void aWaitingPollReturnsWhenTheJobChanges();
    void anEndedJobWaitsForItsSessionNotForZombies();
    void findListsTheJobsOfSteps();
    void parsePollRefusesWhatThePollDoesNotPrint_data();
    void parsePollRefusesWhatThePollDoesNotPrint();

private:
    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    static Run sh(const QStringList& argv, QProcess::ProcessChannelMode mode = QProcess::SeparateChannels);
    DetachedJob::State poll(const DetachedJob& job, qint64 outOffset = 0, qint64 errOffset = 0, qint64 limit = 1 << 20);
    DetachedJob::State waitUntil(const DetachedJob& job, const std::function<bool(const DetachedJob::State&)>& done);

    std::unique_ptr<QTemporaryDir> m_dir;
};

TestDetachedJob::Run TestDetachedJob::sh(const QStringList& argv, QProcess::ProcessChannelMode mode)
{
    QProcess p;
    p.setProcessChannelMode(mode);
    p.start(argv.front(), argv.mid(1));
    Run run;
    if (!p.waitForFinished(20000))
        return run;
    run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    return run;
}

DetachedJob::State TestDetachedJob::poll(const DetachedJob& job, qint64 outOffset, qint64 errOffset, qint64 limit)
{
    const Run run = sh(job.pollArgv(outOffset, errOffset, limit));
    QString error;
    const auto state = DetachedJob::parsePoll(run.out, &error);
    if (!state)
        qWarning() << error;
    return state.value_or(DetachedJob::State {});
}

DetachedJob::State TestDetachedJob::waitUntil(
    const DetachedJob& job, const std::function<bool(const DetachedJob::State&)>& done)
{
    const QDeadlineTimer deadline(20000);
    DetachedJob::State state = poll(job);
    while (!done(state) && !deadline.hasExpired()) {
        QThread::msleep(50);
        state = poll(job);
    }
    return state;
}

void TestDetachedJob::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestDetachedJob::runsToItsExitStatusAndOutput()
{
    const DetachedJob job(m_dir->filePath(u"jobs/run-1-build"_s));
    // Arguments arrive as they are: spaces, quotes, a glob, a dollar.
    const Run start
        = sh(job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"printf '%s|' \"$@\"; pwd; echo 'to stderr' >&2; exit 3"_s, u"x"_s,
                               u"a b"_s, u"\"q\""_s, u"*"_s, u"$HOME"_s },
            m_dir->path()));
    QCOMPARE(start.exitCode, 0);
    QVERIFY2(start.out.trimmed().toLongLong() > 1, start.out.constData());
    const DetachedJob::State state = waitUntil(job, [](const auto& s) { return s.exitCode.has_value(); });
    QVERIFY(state.exists);
    QCOMPARE(state.exitCode, 3);
    QCOMPARE(state.out, "a b|\"q\"|*|$HOME|" + m_dir->path().toUtf8() + '\n');
    QCOMPARE(state.err, QByteArray("to stderr\n"));
    QCOMPARE(state.outSize, state.out.size());
    QVERIFY(!state.vanished());
    QFile argv(job.dir() + u"/argv"_s);
    QVERIFY(argv.open(QIODevice::ReadOnly));
    QVERIFY(argv.readAll().startsWith("/bin/sh\n-c\n"));
    // The job's files are the admin's only: logs of a purge name the buckets.
    QCOMPARE(QFile::permissions(job.dir()) & QFileDevice::ReadOther, QFileDevice::Permissions {});
}

void TestDetachedJob::pollsFromOffsetsWithinALimit()
{
    const DetachedJob job(m_dir->filePath(u"jobs/offsets"_s));
    QCOMPARE(
        sh(job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"printf 0123456789; printf abcdef >&2"_s }, m_dir->path())).exitCode,
        0);
    waitUntil(job, [](const auto& s) { return s.exitCode.has_value(); });
    const DetachedJob::State part = poll(job, 4, 2, 3);
    QCOMPARE(part.out, QByteArray("456"));
    QCOMPARE(part.err, QByteArray("cde"));
    QCOMPARE(part.outSize, 10);
    QCOMPARE(part.errSize, 6);
    const DetachedJob::State past = poll(job, 50, 50, 3);
    QVERIFY(past.out.isEmpty() && past.err.isEmpty());
}

void TestDetachedJob::aStepStartsOnce()
{
    const DetachedJob job(m_dir->filePath(u"jobs/once"_s));
    QCOMPARE(sh(job.startArgv({ u"true"_s }, m_dir->path())).exitCode, 0);
    waitUntil(job, [](const auto& s) { return s.exitCode.has_value(); });
    const Run again = sh(job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"echo second > second"_s }, m_dir->path()));
    QVERIFY(again.exitCode != 0);
    QVERIFY2(again.err.contains("File exists"), again.err.constData());
    QThread::msleep(200);
    QVERIFY(!QFile::exists(m_dir->filePath(u"second"_s)));
    QCOMPARE(poll(job).exitCode, 0);
}

void TestDetachedJob::stopReachesTheCommandAndTheStatusSaysSo()
{
    const DetachedJob job(m_dir->filePath(u"jobs/stop"_s));
    // SIGINT, as Ctrl-C would send datamon (which has no handler: it dies at once).
    QCOMPARE(sh(job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"echo started; exec sleep 60"_s }, m_dir->path())).exitCode, 0);
    DetachedJob::State state = waitUntil(job, [](const auto& s) { return s.out == "started\n"; });
    QVERIFY(state.alive);
    QVERIFY(!state.exitCode);
    const Run stop = sh(job.stopArgv(u"INT"_s));
    QCOMPARE(stop.exitCode, 0);
    state = waitUntil(job, [](const auto& s) { return s.exitCode.has_value() && !s.alive; });
    QCOMPARE(state.exitCode, 128 + SIGINT);
    QVERIFY(!state.alive);
    // An unknown signal name becomes TERM, never text pasted into the script.
    QVERIFY(job.stopArgv(u"INT; rm -rf /"_s).endsWith(u"TERM"_s));
}

void TestDetachedJob::aKilledSupervisorIsVanishedNotRunning()
{
    const DetachedJob job(m_dir->filePath(u"jobs/vanish"_s));
    QCOMPARE(sh(job.startArgv({ u"sleep"_s, u"60"_s }, m_dir->path())).exitCode, 0);
    DetachedJob::State state = waitUntil(job, [](const auto& s) { return s.pid > 0; });
    QVERIFY(state.alive);
    ::kill(-static_cast<pid_t>(state.pid), SIGKILL);
    state = waitUntil(job, [](const auto& s) { return !s.alive; });
    QVERIFY(!state.exitCode);
    QVERIFY(state.vanished());
}

// The start returns while the job runs on, in its own session: the shell (an SSH channel) that started it ends.
void TestDetachedJob::survivesTheShellThatStartedIt()
{
    const DetachedJob job(m_dir->filePath(u"jobs/survive"_s));
    QProcess starter;
    const QStringList argv = job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"sleep 1; echo done"_s }, m_dir->path());
    starter.start(argv.front(), argv.mid(1));
    QVERIFY(starter.waitForFinished(10000));
    QCOMPARE(starter.exitCode(), 0);
    const qint64 starterPid = starter.processId();
    const DetachedJob::State state = waitUntil(job, [](const auto& s) { return s.exitCode.has_value(); });
    QCOMPARE(state.exitCode, 0);
    QCOMPARE(state.out, QByteArray("done\n"));
    QVERIFY(state.pid != starterPid);
}

void TestDetachedJob::stopAfterTheEndSignalsNothing()
{
    const DetachedJob job(m_dir->filePath(u"jobs/ended"_s));
    QCOMPARE(sh(job.startArgv({ u"true"_s }, m_dir->path())).exitCode, 0);
    waitUntil(job, [](const auto& s) { return s.exitCode.has_value(); });
    const Run stop = sh(job.stopArgv(u"KILL"_s));
    QCOMPARE(stop.exitCode, 0);
    QCOMPARE(stop.out, QByteArray("the job has already ended\n"));
}

void TestDetachedJob::pollOfNoJob()
{
    const DetachedJob::State state = poll(DetachedJob(m_dir->filePath(u"jobs/never"_s)));
    QVERIFY(!state.exists);
    QVERIFY(!state.vanished());
    const Run stop = sh(DetachedJob(m_dir->filePath(u"jobs/never"_s)).stopArgv(u"INT"_s));
    QCOMPARE(stop.exitCode, 1);
}

void TestDetachedJob::parsePollRefusesWhatThePollDoesNotPrint_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no newline") << QByteArray("job 12 1 - 0 0 0 0");
    QTest::newRow("short line") << QByteArray("job 12 1 - 0 0 0\n");
    QTest::newRow("login noise first") << QByteArray("Welcome\njob 12 1 - 0 0 0 0\n");
    QTest::newRow("alive not 0/1") << QByteArray("job 12 2 - 0 0 0 0\n");
    QTest::newRow("negative pid") << QByteArray("job -5 1 - 0 0 0 0\n");
    QTest::newRow("rc word") << QByteArray("job 12 0 x 0 0 0 0\n");
    QTest::newRow("fewer bytes than said") << QByteArray("job 12 0 0 5 0 5 0\nabc");
    QTest::newRow("more bytes than said") << QByteArray("job 12 0 0 5 0 1 0\nabc");
    QTest::newRow("none with more") << QByteArray("job none\nx");
}

void TestDetachedJob::parsePollRefusesWhatThePollDoesNotPrint()
{
    QFETCH(QByteArray, text);
    QString error;
    QVERIFY(!DetachedJob::parsePoll(text, &error));
    QVERIFY(error.startsWith(u"unexpected answer from the job poll"_s));
}

// A poll with a wait answers once the job has ended, not when the wait is over; with nothing new, after the wait.
void TestDetachedJob::aWaitingPollReturnsWhenTheJobChanges()
{
    const DetachedJob job(m_dir->filePath(u"jobs/wait"_s));
    QCOMPARE(sh(job.startArgv({ u"/bin/sh"_s, u"-c"_s, u"sleep 0.5; echo done"_s }, m_dir->path())).exitCode, 0);
    QElapsedTimer clock;
    clock.start();
    Run run = sh(job.pollArgv(0, 0, 1 << 20, 10000));
    QString error;
    auto state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state, qPrintable(error));
    QCOMPARE(state->exitCode, 0);
    QCOMPARE(state->out, QByteArray("done\n"));
    QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    clock.restart();
    run = sh(job.pollArgv(5, 0, 1 << 20, 10000)); // ended: no wait at all
    QVERIFY(clock.elapsed() < 1000);

    const DetachedJob quiet(m_dir->filePath(u"jobs/quiet"_s));
    QCOMPARE(sh(quiet.startArgv({ u"sleep"_s, u"5"_s }, m_dir->path())).exitCode, 0);
    clock.restart();
    run = sh(quiet.pollArgv(0, 0, 1 << 20, 600));
    QVERIFY2(clock.elapsed() >= 500, qPrintable(QString::number(clock.elapsed())));
    state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state && !state->exitCode && state->alive, qPrintable(error));
    sh(quiet.stopArgv(u"KILL"_s));

    // With a settle time, new output is answered once it has passed; the end at once.
    const DetachedJob chatty(m_dir->filePath(u"jobs/chatty"_s));
    QCOMPARE(sh(chatty.startArgv({ u"/bin/sh"_s, u"-c"_s, u"echo first; sleep 5"_s }, m_dir->path())).exitCode, 0);
    clock.restart();
    run = sh(chatty.pollArgv(0, 0, 1 << 20, 4000, 1000));
    QVERIFY2(clock.elapsed() >= 1000 && clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state && state->alive, qPrintable(error));
    QCOMPARE(state->out, QByteArray("first\n"));
    sh(chatty.stopArgv(u"KILL"_s));
    const DetachedJob quick(m_dir->filePath(u"jobs/quick"_s));
    QCOMPARE(sh(quick.startArgv({ u"/bin/sh"_s, u"-c"_s, u"echo all; sleep 0.2"_s }, m_dir->path())).exitCode, 0);
    clock.restart();
    run = sh(quick.pollArgv(0, 0, 1 << 20, 4000, 3000));
    QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
    state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state && state->exitCode == 0, qPrintable(error));
    QCOMPARE(state->out, QByteArray("all\n"));
}

// rc is written, but a process the command left behind still runs in the job's session: the job has not ended yet,
// and a waiting poll waits for it on the host. A supervisor that init has not reaped yet (a zombie: some inits reap
// once a second) has ended: kill -0 reaches a zombie, the poll must not count it.
void TestDetachedJob::anEndedJobWaitsForItsSessionNotForZombies()
{
    const DetachedJob lingering(m_dir->filePath(u"jobs/lingering"_s));
    QCOMPARE(sh(lingering.startArgv({ u"/bin/sh"_s, u"-c"_s, u"sleep 1 & echo left"_s }, m_dir->path())).exitCode, 0);
    QElapsedTimer clock;
    clock.start();
    // A settle of 2 s: the poll returns on the job's end, not on its first output ("left" may be there before rc
    // is, on a loaded machine).
    Run run = sh(lingering.pollArgv(0, 0, 1 << 20, 5000, 2000));
    QString error;
    auto state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state, qPrintable(error));
    QCOMPARE(state->exitCode, 0);
    QVERIFY(!state->alive);
    QVERIFY2(clock.elapsed() >= 800 && clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));

    // A session leader this test never reaps stands in for the supervisor an init is slow to reap.
    const pid_t zombie = ::fork();
    QVERIFY(zombie >= 0);
    if (zombie == 0) {
        ::setsid();
        ::_exit(0);
    }
    const auto reap = qScopeGuard([&] { ::waitpid(zombie, nullptr, 0); });
    const QDeadlineTimer deadline(5000);
    QByteArray stat;
    while (!deadline.hasExpired()) {
        QFile file(u"/proc/%1/stat"_s.arg(zombie));
        QVERIFY(file.open(QIODevice::ReadOnly));
        stat = file.readAll();
        if (stat.contains(") Z "))
            break;
        QThread::msleep(10);
    }
    QVERIFY2(stat.contains(") Z "), stat.constData());
    const QString dir = m_dir->filePath(u"jobs/zombie"_s);
    QVERIFY(QDir().mkpath(dir));
    for (const auto& [name, text] :
        { std::pair { u"pid"_s, QByteArray::number(zombie) + '\n' }, std::pair { u"rc"_s, QByteArray("0\n") },
            std::pair { u"out"_s, QByteArray("done\n") }, std::pair { u"err"_s, QByteArray() } }) {
        QFile file(dir + u'/' + name);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(text);
    }
    QCOMPARE(::kill(-zombie, 0), 0); // what the poll tested alone before
    clock.restart();
    run = sh(DetachedJob(dir).pollArgv(0, 0, 1 << 20, 5000));
    state = DetachedJob::parsePoll(run.out, &error);
    QVERIFY2(state, qPrintable(error));
    QCOMPARE(state->exitCode, 0);
    QVERIFY(!state->alive);
    QCOMPARE(state->out, QByteArray("done\n"));
    QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
}

void TestDetachedJob::findListsTheJobsOfSteps()
{
    const QString runs = m_dir->filePath(u"runs"_s);
    const DetachedJob done(runs + u"/run-a/jobs/dry-run"_s);
    const DetachedJob other(runs + u"/run-b/jobs/build-index"_s);
    QCOMPARE(sh(done.startArgv({ u"/bin/sh"_s, u"-c"_s, u"printf 'line one\n\nlast, no newline'"_s }, m_dir->path()))
                 .exitCode,
        0);
    QCOMPARE(sh(other.startArgv({ u"true"_s }, m_dir->path())).exitCode, 0);
    waitUntil(done, [](const auto& s) { return s.exitCode.has_value(); });
    waitUntil(other, [](const auto& s) { return s.exitCode.has_value(); });
    const Run run = sh(DetachedJob::findArgv(runs, { u"dry-run"_s, u"delete-unused"_s }, 1024));
    QString error;
    const auto found = DetachedJob::parseFound(run.out, &error);
    QVERIFY2(found, qPrintable(error));
    QCOMPARE(found->size(), 1);
    const DetachedJob::Found& job = found->first();
    QCOMPARE(job.runId, u"run-a"_s);
    QCOMPARE(job.step, u"dry-run"_s);
    QCOMPARE(job.exitCode, 0);
    QCOMPARE(job.argv, (QStringList { u"/bin/sh"_s, u"-c"_s, u"printf 'line one"_s, u""_s, u"last, no newline'"_s }));
    QCOMPARE(job.out, QByteArray("line one\n\nlast, no newline\n"));
    QVERIFY(job.startedAt.isValid() && job.endedAt >= job.startedAt);
    QVERIFY(qAbs(job.startedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    // Nothing under the runs dir: an empty list, not an error.
    const Run none = sh(DetachedJob::findArgv(m_dir->filePath(u"nothing"_s), { u"dry-run"_s }, 1024));
    QVERIFY(DetachedJob::parseFound(none.out, &error).value_or(QList<DetachedJob::Found> { {} }).isEmpty());
}

QTEST_GUILESS_MAIN(TestDetachedJob)
#include "tst_detachedjob.moc"
