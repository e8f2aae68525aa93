// The remote pid announcement: only this command's nonce counts, and no pid <= 1 is ever taken.
#include "ssh/PidAnnouncement.h"

#include <QRegularExpression>
#include <QTest>

using namespace opsdeck;

class TestPidAnnouncement : public QObject
{
    Q_OBJECT

private slots:
    void eachCommandHasItsOwnNonce();
    void takesTheAnnouncementAndPassesLoginOutput();
    void loginOutputCannotFakeIt();
    void refusesPidsThatAreNoProcessGroup_data();
    void refusesPidsThatAreNoProcessGroup();
    void noAnnouncementKillsNothing();
};

void TestPidAnnouncement::eachCommandHasItsOwnNonce()
{
    const PidAnnouncement a;
    const PidAnnouncement b;
    QVERIFY2(QRegularExpression(QStringLiteral("^opsdeck-pid-[0-9a-f]{16}:$"))
                 .match(QString::fromLatin1(a.marker()))
                 .hasMatch(),
        a.marker().constData());
    QVERIFY(a.marker() != b.marker());
    QCOMPARE(a.shellPrefix(), "echo " + a.marker() + "$$ >&2; ");
}

void TestPidAnnouncement::takesTheAnnouncementAndPassesLoginOutput()
{
    PidAnnouncement announcement("0123456789abcdef");
    QByteArray data = "Could not chdir to home directory\nopsdeck-pid-0123";
    QVERIFY(!announcement.take(&data));
    QVERIFY(data.isEmpty());
    QVERIFY(!announcement.decided());
    data = "456789abcdef:4242\nthe command's own stderr\n";
    QVERIFY(announcement.take(&data));
    QCOMPARE(announcement.pid(), 4242);
    QCOMPARE(data, QByteArray("Could not chdir to home directory\nthe command's own stderr\n"));
}

// A .bashrc or motd that prints a marker (the old fixed one, or another command's) names no process group.
void TestPidAnnouncement::loginOutputCannotFakeIt()
{
    PidAnnouncement announcement("fedcba9876543210");
    QByteArray data = "opsdeck-pid:1\nopsdeck-pid-0123456789abcdef:777\n";
    QVERIFY(!announcement.take(&data));
    data = "opsdeck-pid-fedcba9876543210:31337\n";
    QVERIFY(announcement.take(&data));
    QCOMPARE(announcement.pid(), 31337);
    QCOMPARE(data, QByteArray("opsdeck-pid:1\nopsdeck-pid-0123456789abcdef:777\n"));
}

void TestPidAnnouncement::refusesPidsThatAreNoProcessGroup_data()
{
    QTest::addColumn<QByteArray>("announced");
    QTest::newRow("init") << QByteArray("1");
    QTest::newRow("zero") << QByteArray("0");
    QTest::newRow("every process") << QByteArray("-1");
    QTest::newRow("negative") << QByteArray("-4242");
    QTest::newRow("not a number") << QByteArray("$$");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("shell syntax") << QByteArray("12; reboot");
}

void TestPidAnnouncement::refusesPidsThatAreNoProcessGroup()
{
    QFETCH(QByteArray, announced);
    PidAnnouncement announcement("00000000deadbeef");
    QByteArray data = announcement.marker() + announced + "\nrest\n";
    QVERIFY(announcement.take(&data));
    QVERIFY(announcement.decided());
    QCOMPARE(announcement.pid(), -1);
    QCOMPARE(data, QByteArray("rest\n"));
}

void TestPidAnnouncement::noAnnouncementKillsNothing()
{
    PidAnnouncement announcement("1111111111111111");
    QByteArray data(PidAnnouncement::kSearchLimit, 'x');
    QVERIFY(announcement.take(&data));
    QCOMPARE(announcement.pid(), -1);
    QCOMPARE(data.size(), PidAnnouncement::kSearchLimit);

    PidAnnouncement ended("2222222222222222");
    data = "partial line without its end";
    QVERIFY(!ended.take(&data));
    QCOMPARE(ended.release(), QByteArray("partial line without its end"));
    QVERIFY(ended.release().isEmpty());
}

QTEST_GUILESS_MAIN(TestPidAnnouncement)
#include "tst_pidannouncement.moc"
