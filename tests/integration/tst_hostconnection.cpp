// HostConnection against the sandbox's sshd and PostgreSQL: argv, templates, interrupt, tunnels, reconnect.
#include "Sandbox.h"
#include "config/InventoryLoader.h"
#include "sql/DatabaseConnection.h"
#include "ssh/HostConnection.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <thread>

using namespace opsdeck;
using namespace opsdeck::test;

class TestHostConnection : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void argvArrivesVerbatim_data();
    void argvArrivesVerbatim();
    void templateIsExpandedAndRun();
    void badTemplateNamesTheTemplateAndHost();
    void interruptStopsTheRunningCommand();
    void tunnelToPostgresSharesTheSession();
    void interruptStopsTheStatementInFlight();
    void reconnectsAfterSshdIsKilledAndRestarted();

private:
    Host host(const QString& name) const;
    // The sandbox's PostgreSQL as a database of the inventory, reached through `via`.
    DatabaseTarget postgresVia(const QString& via) const;
    QString markerPath(const QString& host, const QString& name) const;

    Sandbox m_sandbox;
    Inventory m_inventory;
};

void TestHostConnection::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    const InventoryLoadResult loaded = InventoryLoader::loadFile(m_sandbox.inventoryPath());
    QVERIFY2(loaded.ok(), qPrintable(loaded.errors.value(0).toString()));
    m_inventory = *loaded.inventory;
}

Host TestHostConnection::host(const QString& name) const
{
    const Host* found = m_inventory.host(name);
    return found ? *found : Host {};
}

DatabaseTarget TestHostConnection::postgresVia(const QString& via) const
{
    const Database* database = m_inventory.database(QStringLiteral("sandbox-postgres"));
    if (!database)
        return {};
    return { *database, host(via), {}, m_sandbox.environment().value(database->passwordEnv) };
}

QString TestHostConnection::markerPath(const QString& hostName, const QString& name) const
{
    return m_sandbox.host(hostName).value(QStringLiteral("root")).toString() + u'/' + name;
}

void TestHostConnection::argvArrivesVerbatim_data()
{
    QTest::addColumn<QString>("argument");
    QTest::newRow("semicolon") << QStringLiteral("a; echo INJECTED");
    QTest::newRow("command substitution") << QStringLiteral("$(echo INJECTED) `echo INJECTED`");
    QTest::newRow("quotes") << QStringLiteral("it's \"$HOME\" '; echo INJECTED '");
    QTest::newRow("pipes, redirects, globs") << QStringLiteral("| echo INJECTED > x < y && z || w & ~/* {a,b}");
    QTest::newRow("newline") << QStringLiteral("line1\necho INJECTED");
    QTest::newRow("empty") << QString();
}

void TestHostConnection::argvArrivesVerbatim()
{
    QFETCH(QString, argument);
    HostConnection connection(host(QStringLiteral("wpia-packit")), {});
    const ExecResult result = connection.run({ QStringLiteral("printf"), QStringLiteral("%s"), argument }, 30000);
    QVERIFY2(result.succeeded(), qPrintable(result.describe()));
    QCOMPARE(QString::fromUtf8(result.stdoutData), argument);
}

void TestHostConnection::templateIsExpandedAndRun()
{
    const Host packit = host(QStringLiteral("wpia-packit"));
    QVERIFY(!packit.instances.isEmpty());
    HostConnection connection(packit, {});
    const QString unit = QStringLiteral("outpack-") + packit.instances.first().name;
    const ExecResult result
        = connection.runTemplate(QStringLiteral("unitState"), { { QStringLiteral("unit"), { unit } } }, 30000);
    QVERIFY2(result.succeeded(), qPrintable(result.describe()));
    QVERIFY2(result.stdoutData.contains("ActiveState=active"), result.stdoutData.constData());
}

void TestHostConnection::badTemplateNamesTheTemplateAndHost()
{
    HostConnection connection(host(QStringLiteral("wpia-packit")), {});
    const ExecResult missing = connection.runTemplate(QStringLiteral("unitState"), {}, 30000);
    QCOMPARE(missing.error.kind, SshError::Kind::InvalidRequest);
    QVERIFY2(missing.error.message.contains(QStringLiteral("unitState"))
            && missing.error.message.contains(QStringLiteral("wpia-packit")),
        qPrintable(missing.error.message));
}

void TestHostConnection::interruptStopsTheRunningCommand()
{
    const QString hostName = QStringLiteral("wpia-packit");
    const QString marker = markerPath(hostName, QStringLiteral("after-interrupt"));
    QFile::remove(marker);
    std::function<void()> interrupt;
    {
        HostConnection connection(host(hostName), {});
        interrupt = connection.interrupter();
        // Interrupted from another thread, as a cancel hook is.
        std::thread canceller([&connection] {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            connection.interrupt();
        });
        QElapsedTimer clock;
        clock.start();
        const ExecResult result = connection.run(
            { QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("sleep 4; touch \"$0\""), marker }, 30000);
        canceller.join();
        QCOMPARE(result.error.kind, SshError::Kind::Cancelled);
        QVERIFY2(clock.elapsed() < 4000, qPrintable(QString::number(clock.elapsed())));
        // Between commands there is nothing to stop, and the next command runs.
        connection.interrupt();
        QVERIFY(connection.run({ QStringLiteral("true") }, 30000).succeeded());
    }
    // The process group was killed: the command never gets to its touch.
    QTest::qWait(4000);
    QVERIFY(!QFile::exists(marker));
    // A cancel hook may outlive the connection; then it does nothing.
    interrupt();
}

void TestHostConnection::tunnelToPostgresSharesTheSession()
{
    HostConnection connection(host(QStringLiteral("wpia-packit")), {});
    DatabaseConnection database(postgresVia(QStringLiteral("wpia-packit")), &connection);
    QString error;
    QVERIFY2(database.open(&error), qPrintable(error));
    {
        QSqlQuery query(database.database());
        QVERIFY2(query.exec(QStringLiteral("SELECT 40 + 2")) && query.next(), qPrintable(query.lastError().text()));
        QCOMPARE(query.value(0).toInt(), 42);
    }
    // A command on the same connection while the tunnel is open.
    const ExecResult result = connection.run({ QStringLiteral("echo"), QStringLiteral("alongside") }, 30000);
    QVERIFY2(result.succeeded(), qPrintable(result.describe()));
    QCOMPARE(result.stdoutData, QByteArray("alongside\n"));
    QVERIFY2(database.open(&error), qPrintable(error));
    QVERIFY(database.takeReconnectReason().isEmpty());
}

void TestHostConnection::interruptStopsTheStatementInFlight()
{
    HostConnection connection(host(QStringLiteral("wpia-packit")), {});
    DatabaseConnection database(postgresVia(QStringLiteral("wpia-packit")), &connection);
    QString error;
    QVERIFY2(database.open(&error), qPrintable(error));
    std::thread canceller([interrupt = database.interrupter()] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        interrupt();
    });
    QElapsedTimer clock;
    clock.start();
    QSqlQuery query(database.database());
    const bool ran = query.exec(QStringLiteral("SELECT pg_sleep(30)"));
    canceller.join();
    QVERIFY(!ran);
    QVERIFY2(query.lastError().text().contains(QStringLiteral("cancel"), Qt::CaseInsensitive),
        qPrintable(query.lastError().text()));
    QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
}

void TestHostConnection::reconnectsAfterSshdIsKilledAndRestarted()
{
    const QString hostName = QStringLiteral("wpia-packit-private");
    HostConnection connection(host(hostName), {});
    DatabaseConnection database(postgresVia(hostName), &connection);
    QVERIFY(connection.run({ QStringLiteral("true") }, 30000).succeeded());
    QString error;
    QVERIFY2(database.open(&error), qPrintable(error));

    QCOMPARE(m_sandbox.script(QStringLiteral("kill-host"), { hostName }), 0);
    const ExecResult down = connection.run({ QStringLiteral("true") }, 30000);
    QVERIFY2(down.error.isError(), qPrintable(down.describe()));

    QCOMPARE(m_sandbox.script(QStringLiteral("start-host"), { hostName }), 0);
    // The session reconnects by itself (with backoff); the command waits for it.
    const ExecResult back = connection.run({ QStringLiteral("echo"), QStringLiteral("back") }, 60000);
    QVERIFY2(back.succeeded(), qPrintable(back.describe()));
    QCOMPARE(back.stdoutData, QByteArray("back\n"));
    // The database connection went with the old tunnel: open() notices, and opens a new tunnel.
    QVERIFY2(database.open(&error), qPrintable(error));
    QVERIFY(!database.takeReconnectReason().isEmpty());
    QSqlQuery query(database.database());
    QVERIFY2(query.exec(QStringLiteral("SELECT 1")) && query.next(), qPrintable(query.lastError().text()));
}

QTEST_GUILESS_MAIN(TestHostConnection)
#include "tst_hostconnection.moc"
