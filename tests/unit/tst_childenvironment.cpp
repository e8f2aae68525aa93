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

QTEST_GUILESS_MAIN(TestChildEnvironment)
#include "tst_childenvironment.moc"
