// `opsdeck check` and `opsdeck hosts`, run as an admin would: the real executable against the sandbox.
#include "Sandbox.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace opsdeck::test;

class TestCliHosts : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void checkAcceptsTheSandboxInventory();
    void checkRejectsABadInventory();
    void unknownSubcommandAndBadOptionsAreUsageErrors();
    void hostsReportsEveryHostWithItsFingerprint();
    void hostsTextTable();
    void changedKeyIsReportedAndNothingRuns();
    void unknownKeyIsRefusedThenAcceptedByFingerprint();
    void malformedAcceptedFingerprintIsRejected_data();
    void malformedAcceptedFingerprintIsRejected();

private:
    QJsonArray hostsJson(const QStringList& extra, int* exitCode = nullptr);
    QString fingerprintOf(const QString& host) const;
    int acceptedLogins(const QString& host) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestCliHosts::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
}

QJsonArray TestCliHosts::hostsJson(const QStringList& extra, int* exitCode)
{
    const CliRun run
        = runCli(QStringList { QStringLiteral("hosts"), QStringLiteral("--json") } + extra, m_sandbox.environment());
    if (exitCode)
        *exitCode = run.exitCode;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(run.out, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning(
            "not JSON (%s): %s\nstderr: %s", qPrintable(error.errorString()), run.out.constData(), run.err.constData());
    return document.array();
}

QString TestCliHosts::fingerprintOf(const QString& host) const
{
    QProcess keygen;
    keygen.start(QStringLiteral("ssh-keygen"),
        { QStringLiteral("-lf"), m_sandbox.host(host).value(QStringLiteral("hostKeyFile")).toString() });
    keygen.waitForFinished();
    return QString::fromUtf8(keygen.readAllStandardOutput()).section(u' ', 1, 1);
}

// sshd logs every successful login; counting them shows whether anything ran.
int TestCliHosts::acceptedLogins(const QString& host) const
{
    QFile log(m_sandbox.host(host).value(QStringLiteral("logFile")).toString());
    if (!log.open(QIODevice::ReadOnly))
        return -1;
    return int(log.readAll().count("Accepted "));
}

void TestCliHosts::checkAcceptsTheSandboxInventory()
{
    const CliRun run = runCli(
        { QStringLiteral("check"), QStringLiteral("--inventory"), m_sandbox.inventoryPath() }, m_sandbox.environment());
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.contains(": ok ("));
    // OPSDECK_INVENTORY from DIR/env is used when --inventory is absent.
    QCOMPARE(runCli({ QStringLiteral("check") }, m_sandbox.environment()).exitCode, 0);
}

void TestCliHosts::checkRejectsABadInventory()
{
    const QString path = m_temp.filePath(QStringLiteral("bad.yaml"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("hosts:\n"
               "  - name: Bad_Host\n"
               "    address: 127.0.0.1\n"
               "    colour: blue\n");
    file.close();
    const CliRun run
        = runCli({ QStringLiteral("check"), QStringLiteral("--inventory"), path }, m_sandbox.environment());
    QCOMPARE(run.exitCode, 2);
    const QString err = QString::fromUtf8(run.err);
    QVERIFY2(err.contains(path + QStringLiteral(":2:")), qPrintable(err));
    QVERIFY2(err.contains(path + QStringLiteral(":4:5:")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("colour")), qPrintable(err));

    const CliRun missing = runCli(
        { QStringLiteral("check"), QStringLiteral("--inventory"), m_temp.filePath(QStringLiteral("nope.yaml")) },
        m_sandbox.environment());
    QCOMPARE(missing.exitCode, 2);
}

void TestCliHosts::unknownSubcommandAndBadOptionsAreUsageErrors()
{
    QCOMPARE(
        runCli({ QStringLiteral("hosts"), QStringLiteral("--no-such-option") }, m_sandbox.environment()).exitCode, 2);
    QCOMPARE(runCli({ QStringLiteral("check"), QStringLiteral("extra") }, m_sandbox.environment()).exitCode, 2);
    const CliRun help = runCli({ QStringLiteral("help") }, m_sandbox.environment());
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("opsdeck hosts"));
}

void TestCliHosts::hostsReportsEveryHostWithItsFingerprint()
{
    int exitCode = -1;
    const QJsonArray hosts = hostsJson({}, &exitCode);
    QCOMPARE(exitCode, 0);
    QCOMPARE(hosts.size(), m_sandbox.hostNames().size());
    for (const QJsonValue& value : hosts) {
        const QJsonObject host = value.toObject();
        const QString name = host.value(QStringLiteral("name")).toString();
        if (!m_sandbox.reachableHostNames().contains(name)) {
            // Its sshd is down: reported, with the reason, and the others go on.
            QVERIFY(!host.value(QStringLiteral("reachable")).toBool());
            QVERIFY(!host.value(QStringLiteral("error")).toString().isEmpty());
            continue;
        }
        QVERIFY2(host.value(QStringLiteral("reachable")).toBool(),
            qPrintable(name + QStringLiteral(": ") + host.value(QStringLiteral("error")).toString()));
        QCOMPARE(host.value(QStringLiteral("hostKeySha256")).toString(), fingerprintOf(name));
        QCOMPARE(host.value(QStringLiteral("address")).toString(),
            m_sandbox.host(name).value(QStringLiteral("address")).toString());
        QVERIFY(host.value(QStringLiteral("error")).isNull());
        QVERIFY(!host.value(QStringLiteral("auth")).toString().isEmpty());
    }
}

void TestCliHosts::hostsTextTable()
{
    const CliRun run = runCli({ QStringLiteral("hosts") }, m_sandbox.environment());
    QCOMPARE(run.exitCode, 0);
    const QString out = QString::fromUtf8(run.out);
    // The Hosts pane's column names.
    QVERIFY2(out.section(u'\n', 0, 0).simplified() == QStringLiteral("HOST ADDRESS REACHABILITY HOST KEY AUTH ERROR"),
        qPrintable(out.section(u'\n', 0, 0)));
    for (const QString& name : m_sandbox.reachableHostNames())
        QVERIFY2(out.contains(QRegularExpression(
                     QStringLiteral("^%1 .* yes .*SHA256:").arg(name), QRegularExpression::MultilineOption)),
            qPrintable(out));
    // A host whose sshd is down is a row that says so, with the reason.
    for (const QString& name : m_sandbox.hostNames()) {
        if (!m_sandbox.reachableHostNames().contains(name))
            QVERIFY2(out.contains(QRegularExpression(QStringLiteral("^%1 .* no .*Connection refused").arg(name),
                         QRegularExpression::MultilineOption)),
                qPrintable(out));
    }
}

void TestCliHosts::changedKeyIsReportedAndNothingRuns()
{
    // known_hosts where wpia-packit-dev's line carries another host's key.
    QFile original(m_sandbox.host(QStringLiteral("wpia-packit")).value(QStringLiteral("knownHostsFile")).toString());
    QVERIFY(original.open(QIODevice::ReadOnly));
    const QString dev = QStringLiteral("wpia-packit-dev");
    const QString devAddress = m_sandbox.host(dev).value(QStringLiteral("address")).toString();
    QFile bastionKey(m_sandbox.host(QStringLiteral("bastion")).value(QStringLiteral("hostKeyFile")).toString());
    QVERIFY(bastionKey.open(QIODevice::ReadOnly));
    const QString foreignKey = QString::fromUtf8(bastionKey.readAll()).section(u' ', 0, 1);
    QStringList lines;
    for (const QString& line : QString::fromUtf8(original.readAll()).split(u'\n', Qt::SkipEmptyParts)) {
        if (line.startsWith(QStringLiteral("[%1]:").arg(devAddress)))
            lines << line.section(u' ', 0, 0) + u' ' + foreignKey;
        else
            lines << line;
    }
    const QString knownHosts = m_temp.filePath(QStringLiteral("changed_known_hosts"));
    QFile changed(knownHosts);
    QVERIFY(changed.open(QIODevice::WriteOnly));
    changed.write((lines.join(u'\n') + u'\n').toUtf8());
    changed.close();
    const QString inventory
        = m_sandbox.inventoryWithKnownHosts(m_temp.filePath(QStringLiteral("changed.yaml")), knownHosts);

    const int loginsBefore = acceptedLogins(dev);
    QVERIFY(loginsBefore >= 0);
    int exitCode = -1;
    const QJsonArray hosts = hostsJson({ QStringLiteral("--inventory"), inventory }, &exitCode);
    QCOMPARE(exitCode, 0);
    QCOMPARE(hosts.size(), m_sandbox.hostNames().size());
    for (const QJsonValue& value : hosts) {
        const QJsonObject host = value.toObject();
        const QString name = host.value(QStringLiteral("name")).toString();
        if (name != dev) {
            QCOMPARE(host.value(QStringLiteral("reachable")).toBool(), m_sandbox.reachableHostNames().contains(name));
            continue;
        }
        QVERIFY(!host.value(QStringLiteral("reachable")).toBool());
        QCOMPARE(host.value(QStringLiteral("errorKind")).toString(), QStringLiteral("host-key-changed"));
        QCOMPARE(host.value(QStringLiteral("hostKeySha256")).toString(), fingerprintOf(dev));
        QCOMPARE(host.value(QStringLiteral("knownHostKeySha256")).toString(), fingerprintOf(QStringLiteral("bastion")));
        const QString error = host.value(QStringLiteral("error")).toString();
        QVERIFY2(error.contains(fingerprintOf(dev)) && error.contains(fingerprintOf(QStringLiteral("bastion"))),
            qPrintable(error));
    }
    // Refused before authentication: sshd logged no login.
    QCOMPARE(acceptedLogins(dev), loginsBefore);
    // --accept-host-key never overrides a changed key.
    const QJsonArray again = hostsJson({ QStringLiteral("--inventory"), inventory, QStringLiteral("--accept-host-key"),
        dev + u'=' + fingerprintOf(dev) });
    for (const QJsonValue& value : again) {
        if (value.toObject().value(QStringLiteral("name")).toString() == dev)
            QVERIFY(!value.toObject().value(QStringLiteral("reachable")).toBool());
    }
    QCOMPARE(acceptedLogins(dev), loginsBefore);
}

void TestCliHosts::unknownKeyIsRefusedThenAcceptedByFingerprint()
{
    const QString knownHosts = m_temp.filePath(QStringLiteral("fresh/known_hosts"));
    const QString inventory
        = m_sandbox.inventoryWithKnownHosts(m_temp.filePath(QStringLiteral("fresh.yaml")), knownHosts);
    const QString dev = QStringLiteral("wpia-packit-dev");
    const int loginsBefore = acceptedLogins(dev);
    for (const QJsonValue& value : hostsJson({ QStringLiteral("--inventory"), inventory })) {
        const QJsonObject host = value.toObject();
        QVERIFY(!host.value(QStringLiteral("reachable")).toBool());
        if (!m_sandbox.reachableHostNames().contains(host.value(QStringLiteral("name")).toString()))
            continue; // no key to see while its sshd is down
        QCOMPARE(host.value(QStringLiteral("errorKind")).toString(), QStringLiteral("host-key-unknown"));
        QCOMPARE(host.value(QStringLiteral("hostKeySha256")).toString(),
            fingerprintOf(host.value(QStringLiteral("name")).toString()));
    }
    QCOMPARE(acceptedLogins(dev), loginsBefore);

    // A fingerprint accepted for one host trusts no other host, even one that presents exactly that key.
    const QString prod = QStringLiteral("wpia-packit");
    int exitCode = -1;
    const QJsonArray misapplied = hostsJson({ QStringLiteral("--inventory"), inventory,
                                                QStringLiteral("--accept-host-key"), prod + u'=' + fingerprintOf(dev) },
        &exitCode);
    QCOMPARE(exitCode, 0);
    QCOMPARE(misapplied.size(), m_sandbox.hostNames().size());
    for (const QJsonValue& value : misapplied)
        QVERIFY(!value.toObject().value(QStringLiteral("reachable")).toBool());
    QVERIFY(!QFile::exists(knownHosts) || QFileInfo(knownHosts).size() == 0);

    // Accepting a host's fingerprint trusts exactly that host.
    for (const QJsonValue& value : hostsJson({ QStringLiteral("--inventory"), inventory,
             QStringLiteral("--accept-host-key"), dev + u'=' + fingerprintOf(dev) })) {
        const QJsonObject host = value.toObject();
        QCOMPARE(
            host.value(QStringLiteral("reachable")).toBool(), host.value(QStringLiteral("name")).toString() == dev);
    }
    QFile file(knownHosts);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray written = file.readAll();
    QVERIFY(written.contains(m_sandbox.host(dev).value(QStringLiteral("address")).toString().toUtf8()));
    QCOMPARE(written.count('\n'), 1);
    file.close();

    // Repeated, one per host.
    const QString bastion = QStringLiteral("bastion");
    for (const QJsonValue& value : hostsJson({ QStringLiteral("--inventory"), inventory,
             QStringLiteral("--accept-host-key"), prod + u'=' + fingerprintOf(prod),
             QStringLiteral("--accept-host-key"), bastion + u'=' + fingerprintOf(bastion) })) {
        const QString name = value.toObject().value(QStringLiteral("name")).toString();
        QCOMPARE(value.toObject().value(QStringLiteral("reachable")).toBool(),
            name == dev || name == prod || name == bastion);
    }
}

void TestCliHosts::malformedAcceptedFingerprintIsRejected_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("said");
    const QString fingerprint = fingerprintOf(QStringLiteral("wpia-packit-dev"));
    QTest::newRow("shell syntax") << QStringLiteral("wpia-packit-dev=SHA256:abc;rm -rf /")
                                  << QStringLiteral("is not HOST=SHA256:...");
    // The old form, a fingerprint for every host of the run.
    QTest::newRow("no host") << fingerprint << QStringLiteral("is not HOST=SHA256:...");
    QTest::newRow("empty host") << u'=' + fingerprint << QStringLiteral("is not HOST=SHA256:...");
    QTest::newRow("md5") << QStringLiteral("wpia-packit-dev=MD5:aa:bb") << QStringLiteral("is not HOST=SHA256:...");
    QTest::newRow("unknown host") << QStringLiteral("nosuchhost=") + fingerprint
                                  << QStringLiteral("no host \"nosuchhost\"");
}

void TestCliHosts::malformedAcceptedFingerprintIsRejected()
{
    QFETCH(QString, value);
    QFETCH(QString, said);
    const CliRun run
        = runCli({ QStringLiteral("hosts"), QStringLiteral("--accept-host-key"), value }, m_sandbox.environment());
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("--accept-host-key"), run.err.constData());
    QVERIFY2(run.err.contains(said.toUtf8()), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestCliHosts)
#include "tst_clihosts.moc"
