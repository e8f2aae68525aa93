#include "PackitSandbox.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>

namespace opsdeck::test {

QString PackitSandbox::hostRoot(const QString& host) const
{
    return m_sandbox.host(host).value(QStringLiteral("root")).toString();
}

QString PackitSandbox::instanceRoot(const QString& host, const QString& instance) const
{
    return hostRoot(host) + QStringLiteral("/var/lib/outpack/") + instance;
}

QJsonObject PackitSandbox::seeded(const QString& instance) const
{
    QFile file(m_sandbox.dir() + QStringLiteral("/packit/") + instance + QStringLiteral(".json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QSqlDatabase PackitSandbox::database(const QString& instance) const
{
    if (QSqlDatabase::contains(instance))
        return QSqlDatabase::database(instance);
    const Sandbox::Server pg = m_sandbox.postgres();
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), instance);
    db.setHostName(pg.host);
    db.setPort(pg.port);
    db.setUserName(pg.user);
    db.setPassword(pg.password);
    db.setDatabaseName(instance);
    if (!db.open())
        qWarning("cannot open %s: %s", qPrintable(instance), qPrintable(db.lastError().text()));
    return db;
}

qint64 PackitSandbox::count(const QString& instance, const QString& sql) const
{
    QSqlQuery query(database(instance));
    if (!query.exec(sql) || !query.next())
        return -1;
    return query.value(0).toLongLong();
}

QString PackitSandbox::fingerprint(const QString& host, const QString& instance) const
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const QString& table :
        { QStringLiteral("packet"), QStringLiteral("packet_group"), QStringLiteral("role_permission"),
            QStringLiteral("packet_tag"), QStringLiteral("tag"), QStringLiteral("pin"),
            QStringLiteral("one_time_token"), QStringLiteral("run_info"), QStringLiteral("\"user\""),
            QStringLiteral("role"), QStringLiteral("user_role"), QStringLiteral("permission") }) {
        QSqlQuery query(database(instance));
        if (!query.exec(QStringLiteral("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %1 t").arg(table))
            || !query.next())
            return QStringLiteral("query failed on ") + table;
        hash.addData((table + u'=' + query.value(0).toString() + u'\n').toUtf8());
    }
    QStringList files;
    const QString root = instanceRoot(host, instance);
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        files << it.filePath().mid(root.size()) + u' ' + QString::number(it.fileInfo().size());
    }
    files.sort();
    hash.addData(files.join(u'\n').toUtf8());
    return QString::fromLatin1(hash.result().toHex());
}

int PackitSandbox::ssh(const QString& host, const QStringList& argv, QByteArray* output) const
{
    const QJsonObject h = m_sandbox.host(host);
    QProcess ssh;
    ssh.start(QStringLiteral("ssh"),
        QStringList { QStringLiteral("-i"), h.value(QStringLiteral("identityFile")).toString(), QStringLiteral("-o"),
            QStringLiteral("UserKnownHostsFile=") + h.value(QStringLiteral("knownHostsFile")).toString(),
            QStringLiteral("-o"), QStringLiteral("StrictHostKeyChecking=yes"), QStringLiteral("-o"),
            QStringLiteral("BatchMode=yes"), QStringLiteral("-p"),
            QString::number(h.value(QStringLiteral("port")).toInt()),
            QStringLiteral("root@") + h.value(QStringLiteral("address")).toString() }
            + argv);
    if (!ssh.waitForFinished(60000))
        return -1;
    if (output)
        *output = ssh.readAllStandardOutput();
    return ssh.exitStatus() == QProcess::NormalExit ? ssh.exitCode() : -1;
}

QString PackitSandbox::unitState(const QString& host, const QString& unit) const
{
    QByteArray output;
    ssh(host, { QStringLiteral("systemctl"), QStringLiteral("is-active"), unit }, &output);
    return QString::fromUtf8(output).trimmed();
}

bool PackitSandbox::reseed(const QString& host, const QString& instance, QString* error) const
{
    const QStringList units = { QStringLiteral("outpack-") + instance, QStringLiteral("packit-api-") + instance };
    if (ssh(host, QStringList { QStringLiteral("systemctl"), QStringLiteral("stop") } + units) != 0) {
        *error = QStringLiteral("cannot stop the units of %1").arg(instance);
        return false;
    }
    const QString base = hostRoot(host) + QStringLiteral("/var/lib/outpack");
    QDir(instanceRoot(host, instance)).removeRecursively();
    for (const QString& left : QDir(base).entryList(
             { QStringLiteral(".opsdeck-wipe-") + instance + QStringLiteral("-*") }, QDir::AllEntries | QDir::Hidden))
        QDir(base + u'/' + left).removeRecursively();
    // The seed is a pure function of (instance, packets): the same rows and files as `sandbox up` made.
    QTemporaryDir out;
    const QString packets = QString::number(seeded(instance).value(QStringLiteral("packets")).toInteger());
    const QString scripts = QStringLiteral(OPSDECK_TEST_DATA_DIR "/../sandbox/packit/");
    QProcess seed;
    seed.start(QStringLiteral("python3"),
        { scripts + QStringLiteral("seed.py"), QStringLiteral("--out"), out.path(),
            QStringList { instance, packets, host, instanceRoot(host, instance) }.join(u':') });
    if (!seed.waitForFinished(120000) || seed.exitCode() != 0) {
        *error = QStringLiteral("seed.py failed: ") + QString::fromUtf8(seed.readAllStandardError());
        return false;
    }
    if (QSqlDatabase::contains(instance)) {
        QSqlDatabase::database(instance, false).close();
        QSqlDatabase::removeDatabase(instance);
    }
    const Sandbox::Server pg = m_sandbox.postgres();
    QProcess psql;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("PGPASSWORD"), pg.password);
    psql.setProcessEnvironment(environment);
    psql.start(QStringLiteral("psql"),
        { QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
            QStringLiteral("-h"), pg.socket.isEmpty() ? pg.host : pg.socket, QStringLiteral("-p"),
            QString::number(pg.port), QStringLiteral("-U"), pg.user, QStringLiteral("-d"), QStringLiteral("postgres"),
            QStringLiteral("-c"), QStringLiteral("DROP DATABASE \"%1\" WITH (FORCE)").arg(instance),
            QStringLiteral("-c"), QStringLiteral("CREATE DATABASE \"%1\"").arg(instance), QStringLiteral("-c"),
            QStringLiteral("\\c \"%1\"").arg(instance), QStringLiteral("-f"), scripts + QStringLiteral("schema.sql"),
            QStringLiteral("-c"), QStringLiteral("BEGIN"), QStringLiteral("-f"),
            out.filePath(instance + QStringLiteral(".sql")), QStringLiteral("-c"), QStringLiteral("COMMIT") });
    if (!psql.waitForFinished(120000) || psql.exitCode() != 0) {
        *error = QStringLiteral("loading %1 failed: ").arg(instance) + QString::fromUtf8(psql.readAllStandardError());
        return false;
    }
    if (ssh(host, QStringList { QStringLiteral("systemctl"), QStringLiteral("start") } + units) != 0) {
        *error = QStringLiteral("cannot start the units of %1").arg(instance);
        return false;
    }
    return true;
}

} // namespace opsdeck::test
