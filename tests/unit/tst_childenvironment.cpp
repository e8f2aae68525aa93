// The one environment child processes get: an allowlist, never the console's own environment.
#include "core/ChildEnvironment.h"

#include <QProcess>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestChildEnvironment : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void keepsOnlyTheAllowlist();
    void aChildSeesNoPlantedSecret();
    void remoteWrapperCleansWhatTheHostSets();
};

namespace {
const QByteArray kPlanted = "planted-secret-8f31d0c2a7";
}

void TestChildEnvironment::initTestCase()
{
    // What an inventory's tokenEnv / passwordEnv / secretEnv would name, and something the admin's shell holds.
    qputenv("GITHUB_TOKEN", kPlanted + "-token");
    qputenv("OPSDECK_SANDBOX_PG_PASSWORD", kPlanted + "-password");
    qputenv("AWS_SECRET_ACCESS_KEY", kPlanted + "-aws");
    qputenv("LANG", "C.UTF-8");
    qputenv("LC_TIME", "en_GB.UTF-8");
    qputenv("TZ", "Europe/London");
    qputenv("SSH_AUTH_SOCK", "/tmp/agent.sock");
}

void TestChildEnvironment::keepsOnlyTheAllowlist()
{
    const QProcessEnvironment base = ChildEnvironment::allowlisted();
    QCOMPARE(base.value(u"PATH"_s), qEnvironmentVariable("PATH"));
    QCOMPARE(base.value(u"HOME"_s), qEnvironmentVariable("HOME"));
    QCOMPARE(base.value(u"LANG"_s), u"C.UTF-8"_s);
    QCOMPARE(base.value(u"LC_TIME"_s), u"en_GB.UTF-8"_s);
    QCOMPARE(base.value(u"TZ"_s), u"Europe/London"_s);
    QVERIFY(!base.contains(u"SSH_AUTH_SOCK"_s));
    const QStringList allowed = { u"PATH"_s, u"HOME"_s, u"USER"_s, u"LOGNAME"_s, u"LANG"_s, u"LANGUAGE"_s, u"TZ"_s };
    for (const QString& name : base.keys())
        QVERIFY2(allowed.contains(name) || name.startsWith(u"LC_"_s), qPrintable(name));

    const QProcessEnvironment asked = ChildEnvironment::allowlisted({ u"SSH_AUTH_SOCK"_s, u"NOT_SET_ANYWHERE"_s });
    QCOMPARE(asked.value(u"SSH_AUTH_SOCK"_s), u"/tmp/agent.sock"_s);
    QVERIFY(!asked.contains(u"NOT_SET_ANYWHERE"_s));
    QVERIFY(!asked.contains(u"GITHUB_TOKEN"_s));
}

// Through a real child: what it can read of its environment holds no planted value.
void TestChildEnvironment::aChildSeesNoPlantedSecret()
{
    QProcess child;
    child.setProcessEnvironment(ChildEnvironment::allowlisted({ u"SSH_AUTH_SOCK"_s }));
    child.start(u"env"_s, {});
    QVERIFY(child.waitForFinished(10000));
    const QByteArray seen = child.readAllStandardOutput();
    QVERIFY2(seen.contains("PATH="), seen.constData());
    QVERIFY2(!seen.contains(kPlanted), seen.constData());
    QVERIFY2(!seen.contains("GITHUB_TOKEN"), seen.constData());
}

// The wrapper run by a local sh standing in for the remote login shell, whose environment holds the console's
// secrets (as a host's would hold its own) and a value with spaces and quotes: the command sees the allowlist and
// the pass-through names only, each value intact, and an empty stdin.
void TestChildEnvironment::remoteWrapperCleansWhatTheHostSets()
{
    qputenv("OPSDECK_PASSED", "a \"quoted\" value with $dollar and 'single' quotes");
    QProcess child;
    child.setProcessEnvironment(QProcessEnvironment::systemEnvironment());
    const QStringList argv = ChildEnvironment::remoteWrapper({ u"OPSDECK_PASSED"_s, u"UNSET_HERE"_s, u"BAD;NAME"_s })
        + QStringList { u"sh"_s, u"-c"_s, u"env; echo stdin=$(cat | wc -c)"_s };
    QCOMPARE(argv.mid(0, 2), (QStringList { u"/bin/sh"_s, u"-c"_s }));
    QVERIFY(!argv[2].contains(u"BAD"_s));
    child.start(argv.front(), argv.mid(1));
    QVERIFY(child.waitForStarted(10000));
    child.write("typed into stdin\n"); // never reaches the command
    child.closeWriteChannel();
    QVERIFY(child.waitForFinished(10000));
    const QList<QByteArray> lines = child.readAllStandardOutput().split('\n');
    QVERIFY(lines.contains("PATH=" + qgetenv("PATH")));
    QVERIFY(lines.contains("LANG=C.UTF-8"));
    QVERIFY(lines.contains("LC_TIME=en_GB.UTF-8"));
    QVERIFY(lines.contains("OPSDECK_PASSED=a \"quoted\" value with $dollar and 'single' quotes"));
    QVERIFY(lines.contains("stdin=0"));
    for (const QByteArray& line : lines) {
        QVERIFY2(!line.contains(kPlanted), line.constData());
        QVERIFY2(!line.startsWith("SSH_AUTH_SOCK=") && !line.startsWith("UNSET_HERE"), line.constData());
    }
}

QTEST_GUILESS_MAIN(TestChildEnvironment)
#include "tst_childenvironment.moc"
