#include "PackitSandbox.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>

namespace opsdeck::test {

QString PackitSandbox::hostRoot(const QString& host) const
{
    return m_sandbox.host(host).value(QStringLiteral("root")).toString();
}

QString PackitSandbox::outpackBase(const QString& host) const
{
    return hostRoot(host) + QStringLiteral("/var/lib/outpack");
}

QString PackitSandbox::instanceRoot(const QString& host, const QString& instance) const
{
    return outpackBase(host) + u'/' + instance;
}

QStringList PackitSandbox::keptPaths(const QString& host, const QString& instance, const QString& kind) const
{
    const QRegularExpression pattern(
        QStringLiteral("^\\.opsdeck-(%1)-%2-")
            .arg(kind.isEmpty() ? QStringLiteral("wipe|restore") : kind, QRegularExpression::escape(instance)));
    QStringList paths
        = QDir(outpackBase(host)).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).filter(pattern);
    paths.sort();
    return paths;
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

QString PackitSandbox::sequences(const QString& instance) const
{
    QStringList values;
    for (const QString& sequence : { QStringLiteral("packet_group_id_seq"), QStringLiteral("role_permission_id_seq"),
             QStringLiteral("packet_tag_id_seq") }) {
        QSqlQuery query(database(instance));
        if (!query.exec(QStringLiteral("SELECT last_value, is_called FROM %1").arg(sequence)) || !query.next())
            return {};
        values << QStringLiteral("%1=%2/%3")
                      .arg(sequence, query.value(0).toString(),
                          query.value(1).toBool() ? QStringLiteral("t") : QStringLiteral("f"));
    }
    return values.join(u',');
}

QString PackitSandbox::treeDigest(const QString& dir)
{
    if (!QFileInfo(dir).isDir())
        return QStringLiteral("missing");
    QStringList lines;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        QFile file(it.filePath());
        QCryptographicHash content(QCryptographicHash::Sha256);
        if (!file.open(QIODevice::ReadOnly) || !content.addData(&file))
            return QStringLiteral("unreadable ") + it.filePath();
        lines << it.filePath().mid(dir.size()) + u' ' + QString::fromLatin1(content.result().toHex());
    }
    lines.sort();
    return QString::fromLatin1(
        QCryptographicHash::hash(lines.join(u'\n').toUtf8(), QCryptographicHash::Sha256).toHex());
}

QString PackitSandbox::fullFingerprint(const QString& host, const QString& instance) const
{
    const QString rows = fingerprint(host, instance);
    const QString sequenceValues = sequences(instance);
    if (rows.startsWith(QStringLiteral("query failed")) || sequenceValues.isEmpty())
        return {};
    return QStringLiteral("rows+files:%1 sequences:%2 contents:%3")
        .arg(rows, sequenceValues, treeDigest(instanceRoot(host, instance)));
}

QString PackitSandbox::rowsAndContents(const QString& host, const QString& instance) const
{
    return fingerprint(host, instance) + QStringLiteral(" contents:") + treeDigest(instanceRoot(host, instance));
}

QStringList PackitSandbox::pushPackets(const QString& host, const QString& instance, int n, QString* error) const
{
    const QString name = QStringLiteral("opsdeck-test-pushed");
    const QString dot = instanceRoot(host, instance) + QStringLiteral("/.outpack");
    if (!QFileInfo::exists(dot + QStringLiteral("/config.json"))) {
        *error = QStringLiteral("%1 has no outpack root").arg(instance);
        return {};
    }
    const auto write = [](const QString& path, const QByteArray& data) {
        if (!QDir().mkpath(QFileInfo(path).path()))
            return false;
        QFile file(path);
        return file.open(QIODevice::WriteOnly | QIODevice::NewOnly) && file.write(data) == data.size();
    };
    QSqlDatabase db = database(instance);
    if (!db.transaction()) {
        *error = db.lastError().text();
        return {};
    }
    const auto fail = [&](const QString& what) {
        *error = what;
        db.rollback();
        return QStringList();
    };
    // Packit's import names the group when it first sees it (the id from the sequence, as the app's insert does).
    QSqlQuery group(db);
    group.prepare(QStringLiteral("INSERT INTO packet_group (name) SELECT :name WHERE NOT EXISTS (SELECT 1 FROM "
                                 "packet_group WHERE name = :name)"));
    group.bindValue(QStringLiteral(":name"), name);
    if (!group.exec())
        return fail(QStringLiteral("packet_group: ") + group.lastError().text());
    // Now, a second apart each: after every seeded packet (the seed's end before 2025-11), and in id order.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList ids;
    for (int i = 0; i < n; ++i) {
        const QDateTime at = now.addSecs(i);
        const QString id = at.toString(QStringLiteral("yyyyMMdd-HHmmss-"))
            + QStringLiteral("%1").arg(QRandomGenerator::global()->generate(), 8, 16, QChar(u'0'));
        const double start = static_cast<double>(at.toMSecsSinceEpoch()) / 1000.0;
        const double end = start + 0.5;
        const double imported = end + 0.25;
        const QByteArray script
            = QStringLiteral("# orderly.R for %1 (pushed by the test as %2)\n").arg(name, id).toUtf8();
        const QString hash = QString::fromLatin1(QCryptographicHash::hash(script, QCryptographicHash::Sha256).toHex());
        const QJsonObject metadata { { QStringLiteral("schema_version"), QStringLiteral("0.1.1") },
            { QStringLiteral("name"), name }, { QStringLiteral("id"), id },
            { QStringLiteral("time"),
                QJsonObject { { QStringLiteral("start"), start }, { QStringLiteral("end"), end } } },
            { QStringLiteral("parameters"), QJsonValue::Null },
            { QStringLiteral("files"),
                QJsonArray { QJsonObject { { QStringLiteral("path"), QStringLiteral("orderly.R") },
                    { QStringLiteral("size"), script.size() },
                    { QStringLiteral("hash"), QStringLiteral("sha256:") + hash } } } },
            { QStringLiteral("depends"), QJsonArray {} },
            { QStringLiteral("script"), QJsonArray { QStringLiteral("orderly.R") } },
            { QStringLiteral("git"), QJsonValue::Null } };
        const QByteArray metadataBytes = QJsonDocument(metadata).toJson(QJsonDocument::Compact);
        const QByteArray location = QJsonDocument(
            QJsonObject { { QStringLiteral("packet"), id }, { QStringLiteral("time"), imported },
                { QStringLiteral("hash"),
                    QStringLiteral("sha256:")
                        + QString::fromLatin1(
                            QCryptographicHash::hash(metadataBytes, QCryptographicHash::Sha256).toHex()) } })
                                        .toJson(QJsonDocument::Compact);
        const QString blob = dot + QStringLiteral("/files/sha256/") + hash.left(2) + u'/' + hash.mid(2);
        if (!write(dot + QStringLiteral("/metadata/") + id, metadataBytes)
            || !write(dot + QStringLiteral("/location/local/") + id, location)
            || (!QFileInfo::exists(blob) && !write(blob, script)))
            return fail(QStringLiteral("cannot write the files of packet %1 under %2").arg(id, dot));
        QSqlQuery packet(db);
        packet.prepare(QStringLiteral("INSERT INTO packet (id, name, display_name, parameters, import_time, "
                                      "start_time, end_time, description) VALUES (:id, :name, :name, NULL, "
                                      ":imported, :start, :end, NULL)"));
        packet.bindValue(QStringLiteral(":id"), id);
        packet.bindValue(QStringLiteral(":name"), name);
        packet.bindValue(QStringLiteral(":imported"), imported);
        packet.bindValue(QStringLiteral(":start"), start);
        packet.bindValue(QStringLiteral(":end"), end);
        if (!packet.exec())
            return fail(QStringLiteral("packet %1: ").arg(id) + packet.lastError().text());
        ids << id;
    }
    if (!db.commit())
        return fail(QStringLiteral("commit: ") + db.lastError().text());
    return ids;
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
    // What wipes and restores kept (roots and their .restore bundles).
    for (const QString& left :
        QDir(base).entryList({ QStringLiteral(".opsdeck-wipe-") + instance + QStringLiteral("-*"),
                                 QStringLiteral(".opsdeck-restore-") + instance + QStringLiteral("-*") },
            QDir::AllEntries | QDir::Hidden))
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
