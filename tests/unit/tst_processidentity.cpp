// ProcessIdentity: /proc/PID/stat read right whatever the command's name, a process told apart from a later one
// with its pid, and a process group followed after its leader has gone.
#include "core/ProcessIdentity.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>
#include <unistd.h>

using namespace opsdeck;

class TestProcessIdentity : public QObject
{
    Q_OBJECT

private slots:
    void readsItsOwnProcess();
    void aNameWithParenthesesAndSpacesIsParsed();
    void aLaterProcessWithThePidIsNotTheRecordedOne();
    void aGroupRunsOnAfterItsLeaderEnded();
    void jsonRoundTripRefusesPidOneAndBadTicks();
};

void TestProcessIdentity::readsItsOwnProcess()
{
    const auto self = ProcessIdentity::of(::getpid());
    QVERIFY(self);
    QVERIFY(self->startTicks > 0);
    QCOMPARE(ProcessIdentity::stat(::getpid())->processGroup, qint64(::getpgrp()));
    QVERIFY(self->groupIsRunning());
    QVERIFY(!ProcessIdentity::of(0));
    QVERIFY(!ProcessIdentity::of(-1));
}

void TestProcessIdentity::aNameWithParenthesesAndSpacesIsParsed()
{
    // The kernel shows the command's name in parentheses, unescaped: "PID (a) b (c) S ...".
    QTemporaryDir dir;
    const QString link = dir.filePath(QStringLiteral("a) b (c"));
    QVERIFY(QFile::link(QStringLiteral("/bin/sleep"), link));
    QProcess sleeper;
    sleeper.start(link, { QStringLiteral("30") });
    QVERIFY(sleeper.waitForStarted());
    const auto stat = ProcessIdentity::stat(sleeper.processId());
    QVERIFY(stat);
    QVERIFY(stat->state == 'S' || stat->state == 'R');
    QCOMPARE(stat->processGroup, qint64(::getpgrp()));
    QVERIFY(stat->startTicks >= ProcessIdentity::of(::getpid())->startTicks);
    sleeper.kill();
    sleeper.waitForFinished();
}

void TestProcessIdentity::aLaterProcessWithThePidIsNotTheRecordedOne()
{
    const auto self = ProcessIdentity::of(::getpid());
    QVERIFY(self);
    // The same pid with another start time is another process: the recorded one (and its group) ended.
    const ProcessIdentity earlier { self->pid, self->startTicks - 1 };
    QVERIFY(!earlier.groupIsRunning());
}

void TestProcessIdentity::aGroupRunsOnAfterItsLeaderEnded()
{
    QProcess leader;
    leader.setChildProcessModifier([] { ::setpgid(0, 0); });
    // The leader starts a child in its group and ends, as `nix run` hands over to what it runs. It ends only once
    // told (its stdin closed), after its identity was read: ending at once, it could be a zombie before the read.
    leader.start(QStringLiteral("/bin/sh"),
        { QStringLiteral("-c"), QStringLiteral("sleep 30 >/dev/null & echo $!; read -r _ || true") });
    QVERIFY(leader.waitForStarted());
    const auto identity = ProcessIdentity::of(leader.processId());
    QVERIFY(identity);
    leader.closeWriteChannel();
    QVERIFY(leader.waitForFinished());
    const qint64 child = leader.readAllStandardOutput().trimmed().toLongLong();
    QVERIFY(child > 1);
    QVERIFY(!ProcessIdentity::of(identity->pid));
    QVERIFY(identity->groupIsRunning());
    QCOMPARE(::kill(static_cast<pid_t>(child), SIGKILL), 0);
    // The killed child is reaped by init; until then it is a zombie, which does not count.
    QTRY_VERIFY(!identity->groupIsRunning());
}

void TestProcessIdentity::jsonRoundTripRefusesPidOneAndBadTicks()
{
    const ProcessIdentity identity { 4242, 18446744073709551000ull };
    const auto back = ProcessIdentity::fromJson(identity.toJson());
    QVERIFY(back);
    QCOMPARE(back->pid, identity.pid);
    QCOMPARE(back->startTicks, identity.startTicks);
    QVERIFY(!ProcessIdentity::fromJson(
        { { QStringLiteral("pid"), 1 }, { QStringLiteral("startTicks"), QStringLiteral("5") } }));
    QVERIFY(!ProcessIdentity::fromJson({ { QStringLiteral("pid"), 4242 }, { QStringLiteral("startTicks"), 5 } }));
    QVERIFY(!ProcessIdentity::fromJson({ { QStringLiteral("pid"), 4242 } }));
}

QTEST_GUILESS_MAIN(TestProcessIdentity)
#include "tst_processidentity.moc"
