#include "Sandbox.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlQuery>
#include <QTest>

#include <csignal>

namespace opsdeck::test {

Sandbox::Sandbox()
    : m_dir(qEnvironmentVariable("OPSDECK_SANDBOX_DIR", QStringLiteral(OPSDECK_SANDBOX_DIR)))
{
    QFile file(m_dir + QStringLiteral("/sandbox.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral("no sandbox at %1 (%2): run tests/sandbox/sandbox up %1, or run the tests with ctest")
                      .arg(m_dir, file.errorString());
        return;
    }
    QJsonParseError parseError;
    m_json = QJsonDocument::fromJson(file.readAll(), &parseError).object();
    if (parseError.error != QJsonParseError::NoError)
        m_error = QStringLiteral("%1/sandbox.json: %2").arg(m_dir, parseError.errorString());
}

QStringList Sandbox::hostNames() const
{
    QStringList names;
    for (const QJsonValue& value : m_json.value(QStringLiteral("hosts")).toArray())
        names << value.toObject().value(QStringLiteral("name")).toString();
    return names;
}

QJsonObject Sandbox::host(const QString& name) const
{
    for (const QJsonValue& value : m_json.value(QStringLiteral("hosts")).toArray()) {
        if (value.toObject().value(QStringLiteral("name")).toString() == name)
            return value.toObject();
    }
    return {};
}

SshTarget Sandbox::target(const QString& name) const
{
    const QJsonObject object = host(name);
    SshTarget target;
    target.name = name;
    target.address = object.value(QStringLiteral("address")).toString();
    target.port = quint16(object.value(QStringLiteral("port")).toInt());
    target.user = object.value(QStringLiteral("user")).toString();
    target.method = AuthMethod::Key;
    target.identityFile = object.value(QStringLiteral("identityFile")).toString();
    target.knownHostsFile = object.value(QStringLiteral("knownHostsFile")).toString();
    return target;
}

SshTarget Sandbox::passwordTarget() const
{
    const QJsonObject auth = m_json.value(QStringLiteral("passwordAuth")).toObject();
    SshTarget result = target(auth.value(QStringLiteral("host")).toString());
    result.user = auth.value(QStringLiteral("user")).toString();
    result.method = AuthMethod::Password;
    result.identityFile.clear();
    return result;
}

QString Sandbox::password() const
{
    return m_json.value(QStringLiteral("passwordAuth")).toObject().value(QStringLiteral("password")).toString();
}

namespace {
Sandbox::Server server(const QJsonObject& object, const QString& socketKey)
{
    return { object.value(QStringLiteral("host")).toString(), quint16(object.value(QStringLiteral("port")).toInt()),
        object.value(QStringLiteral("user")).toString(), object.value(QStringLiteral("password")).toString(),
        object.value(socketKey).toString() };
}
} // namespace

Sandbox::Server Sandbox::postgres() const
{
    return server(m_json.value(QStringLiteral("postgres")).toObject(), QStringLiteral("socketDir"));
}

QSqlDatabase Sandbox::Server::addConnection(const QString& driver, const QString& name, const QString& database) const
{
    QSqlDatabase db = QSqlDatabase::addDatabase(driver, name);
    db.setHostName(host);
    db.setPort(port);
    db.setUserName(user);
    db.setPassword(password);
    db.setDatabaseName(database);
    return db;
}

QSqlDatabase Sandbox::Server::addMysqlConnection(const QString& name, const QString& database) const
{
    return addConnection(QStringLiteral("QMYSQL"), name, database);
}

QSqlDatabase Sandbox::Server::addPostgresConnection(const QString& name, const QString& database) const
{
    return addConnection(QStringLiteral("QPSQL"), name, database);
}

Sandbox::Server Sandbox::mariadb() const
{
    return server(m_json.value(QStringLiteral("mariadb")).toObject(), QStringLiteral("socket"));
}

QStringList Sandbox::secretLeaks(const QStringList& files, const QList<QByteArray>& outputs) const
{
    const QProcessEnvironment env = environment();
    const QStringList secretVariables
        = { QStringLiteral("OPSDECK_SANDBOX_PASSWORD"), QStringLiteral("OPSDECK_SANDBOX_PG_PASSWORD"),
              QStringLiteral("OPSDECK_SANDBOX_MARIADB_PASSWORD"), QStringLiteral("OPSDECK_SANDBOX_GITHUB_TOKEN"),
              QStringLiteral("OPSDECK_SANDBOX_JOURNAL_PASSWORD"), QStringLiteral("OPSDECK_SANDBOX_JOURNAL_KEY") };
    QList<std::pair<QString, QByteArray>> places;
    QStringList paths = files;
    for (const QFileInfo& journal :
        QDir(m_dir).entryInfoList({ QStringLiteral("journal.sqlite*") }, QDir::Files | QDir::Hidden))
        paths << journal.filePath();
    for (const QString& path : std::as_const(paths)) {
        QFile file(path);
        places << std::pair(path, file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray());
    }
    for (qsizetype i = 0; i < outputs.size(); ++i)
        places << std::pair(QStringLiteral("output %1").arg(i), outputs[i]);
    QStringList leaks;
    for (const QString& variable : secretVariables) {
        const QByteArray secret = env.value(variable).toUtf8();
        if (secret.isEmpty()) {
            leaks << QStringLiteral("DIR/env has no %1").arg(variable);
            continue;
        }
        for (const auto& [where, bytes] : std::as_const(places)) {
            if (bytes.contains(secret))
                leaks << QStringLiteral("%1 holds %2").arg(where, variable);
        }
    }
    return leaks;
}

QJsonObject Sandbox::postToGithubStandin(const QString& path, const QJsonObject& body) const
{
    const QJsonObject github = m_json.value(QStringLiteral("github")).toObject();
    QProcess curl;
    curl.start(QStringLiteral("curl"),
        { QStringLiteral("-sS"), QStringLiteral("--cacert"), github.value(QStringLiteral("caFile")).toString(),
            QStringLiteral("-H"),
            QStringLiteral("Authorization: Bearer ") + github.value(QStringLiteral("token")).toString(),
            QStringLiteral("-H"), QStringLiteral("User-Agent: opsdeck-test"), QStringLiteral("-X"),
            QStringLiteral("POST"), QStringLiteral("--data"),
            QString::fromUtf8(QJsonDocument(body).toJson(QJsonDocument::Compact)),
            github.value(QStringLiteral("apiUrl")).toString() + path });
    curl.waitForFinished(10000);
    return QJsonDocument::fromJson(curl.readAllStandardOutput()).object();
}

QJsonObject Sandbox::standinRequest(
    const QString& url, const QString& caFile, const QString& token, const QJsonObject& body)
{
    QStringList arguments { QStringLiteral("-sS"), QStringLiteral("--cacert"), caFile, QStringLiteral("-H"),
        QStringLiteral("Authorization: Bearer ") + token };
    if (!body.isEmpty()) {
        arguments << QStringLiteral("-X") << QStringLiteral("POST") << QStringLiteral("--data")
                  << QString::fromUtf8(QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    arguments << url;
    QProcess curl;
    curl.start(QStringLiteral("curl"), arguments);
    curl.waitForFinished(10000);
    return QJsonDocument::fromJson(curl.readAllStandardOutput()).object();
}

QList<QJsonObject> Sandbox::standinRequests(const QString& standin, qsizetype from) const
{
    QFile log(m_json.value(standin).toObject().value(QStringLiteral("requestLog")).toString());
    QList<QJsonObject> requests;
    if (!log.open(QIODevice::ReadOnly))
        return requests;
    const QList<QByteArray> lines = log.readAll().split('\n');
    for (qsizetype i = from; i < lines.size(); ++i) {
        if (!lines[i].trimmed().isEmpty())
            requests << QJsonDocument::fromJson(lines[i]).object();
    }
    return requests;
}

QJsonObject Sandbox::kubernetesStandin(const QString& path, const QJsonObject& body) const
{
    const QJsonObject kubernetes = m_json.value(QStringLiteral("kubernetes")).toObject();
    QFile stateFile(kubernetes.value(QStringLiteral("stateDir")).toString() + QStringLiteral("/state.json"));
    if (!stateFile.open(QIODevice::ReadOnly))
        return {};
    const QString token
        = QJsonDocument::fromJson(stateFile.readAll()).object().value(QStringLiteral("controlToken")).toString();
    return standinRequest(kubernetes.value(QStringLiteral("apiUrl")).toString() + path,
        kubernetes.value(QStringLiteral("caFile")).toString(), token, body);
}

QList<QJsonObject> Sandbox::kubernetesRequests(qsizetype from) const
{
    return standinRequests(QStringLiteral("kubernetes"), from);
}

QString Sandbox::gcsEndpoint() const
{
    return m_json.value(QStringLiteral("gcs")).toObject().value(QStringLiteral("endpoint")).toString();
}

QJsonObject Sandbox::gcsStandin(const QString& path, const QJsonObject& body) const
{
    const QJsonObject gcs = m_json.value(QStringLiteral("gcs")).toObject();
    return standinRequest(gcs.value(QStringLiteral("endpoint")).toString() + path,
        gcs.value(QStringLiteral("caFile")).toString(), gcs.value(QStringLiteral("controlToken")).toString(), body);
}

QList<QJsonObject> Sandbox::gcsRequests(qsizetype from) const
{
    return standinRequests(QStringLiteral("gcs"), from);
}

bool Sandbox::writeInventoryWith(const QString& path, const QString& entry, const QString& line) const
{
    QFile original(inventoryPath());
    if (!original.open(QIODevice::ReadOnly))
        return false;
    QString text = QString::fromUtf8(original.readAll());
    const QString nameLine = QStringLiteral("  - name: %1\n").arg(entry);
    const qsizetype at = text.indexOf(nameLine);
    if (at < 0)
        return false;
    text.insert(at + nameLine.size(), QStringLiteral("    %1\n").arg(line));
    QFile copy(path);
    return copy.open(QIODevice::WriteOnly) && copy.write(text.toUtf8()) == text.toUtf8().size();
}

QVariantList Sandbox::gcsColumn(const QString& sql, const QVariantList& values) const
{
    const QString name = QStringLiteral("gcs-store");
    QVariantList column;
    {
        QSqlDatabase db = QSqlDatabase::contains(name) ? QSqlDatabase::database(name)
                                                       : QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_dir + QStringLiteral("/gcs/gcs.sqlite"));
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        if (db.open()) {
            QSqlQuery query(db);
            query.prepare(sql);
            for (const QVariant& value : values)
                query.addBindValue(value);
            if (query.exec()) {
                while (query.next())
                    column << query.value(0);
            }
        }
        db.close();
    }
    return column;
}

qint64 Sandbox::gcsObjectCount(const QString& bucket, const QString& prefix) const
{
    // A null QString binds NULL, which equals nothing: the empty prefix is bound as "".
    const QVariantList count
        = gcsColumn(QStringLiteral("SELECT count(*) FROM objects WHERE bucket = ? AND substr(name, 1, ?) = ?"),
            { bucket, prefix.size(), prefix.isNull() ? QStringLiteral("") : prefix });
    return count.isEmpty() ? -1 : count.first().toLongLong();
}

QSet<QString> Sandbox::gcsObjectNames(const QString& bucket) const
{
    QSet<QString> names;
    for (const QVariant& name : gcsColumn(QStringLiteral("SELECT name FROM objects WHERE bucket = ?"), { bucket }))
        names.insert(name.toString());
    return names;
}

QSet<QString> Sandbox::datamonUnreferencedOld(const QString& blobBucket) const
{
    QFile file(m_dir + QStringLiteral("/datamon/unreferenced-%1.txt").arg(blobBucket));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QStringList keys = QString::fromLatin1(file.readAll()).split(u'\n', Qt::SkipEmptyParts);
    return QSet<QString>(keys.cbegin(), keys.cend());
}

void Sandbox::exportToThisProcess() const
{
    const QProcessEnvironment variables = environment();
    for (const QString& key : variables.keys()) {
        if (key.startsWith(QStringLiteral("OPSDECK_")))
            qputenv(key.toUtf8().constData(), variables.value(key).toUtf8());
    }
}

QProcessEnvironment Sandbox::environment() const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QFile file(m_dir + QStringLiteral("/env"));
    if (!file.open(QIODevice::ReadOnly))
        return environment;
    // Lines are `export NAME='value'` with values that never contain a quote.
    for (const QByteArray& raw : file.readAll().split('\n')) {
        QString line = QString::fromUtf8(raw).trimmed();
        if (!line.startsWith(QStringLiteral("export ")))
            continue;
        line = line.mid(7);
        const qsizetype equals = line.indexOf(u'=');
        if (equals < 0)
            continue;
        QString value = line.mid(equals + 1);
        if (value.size() >= 2 && value.startsWith(u'\'') && value.endsWith(u'\''))
            value = value.mid(1, value.size() - 2);
        environment.insert(line.left(equals), value);
    }
    return environment;
}

QString Sandbox::inventoryWithKnownHosts(const QString& destination, const QString& knownHosts) const
{
    return inventoryWithReplaced(destination, QRegularExpression(QStringLiteral("knownHostsFile: .*")),
        QStringLiteral("knownHostsFile: ") + knownHosts);
}

QString Sandbox::inventoryWithDeployCommand(const QString& destination, const QString& command) const
{
    return inventoryWithReplaced(destination, QRegularExpression(QStringLiteral("(?m)^  command: \\[.*$")),
        QStringLiteral("  command: ") + command);
}

QString Sandbox::inventoryWithReplaced(
    const QString& destination, const QRegularExpression& pattern, const QString& replacement) const
{
    QFile source(inventoryPath());
    if (!source.open(QIODevice::ReadOnly))
        return {};
    QString text = QString::fromUtf8(source.readAll());
    if (!text.contains(pattern))
        return {};
    text.replace(pattern, replacement);
    QFile target(destination);
    if (!target.open(QIODevice::WriteOnly) || target.write(text.toUtf8()) < 0)
        return {};
    return destination;
}

int Sandbox::script(const QString& subcommand, const QStringList& arguments) const
{
    QProcess process;
    process.setProcessChannelMode(QProcess::ForwardedChannels);
    process.start(
        QStringLiteral(OPSDECK_TEST_DATA_DIR "/../sandbox/sandbox"), QStringList { subcommand, m_dir } + arguments);
    if (!process.waitForFinished(120000))
        return -1;
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

QStringList Sandbox::reachableHostNames() const
{
    QStringList names = hostNames();
    for (const QJsonValue& m : m_json.value(QStringLiteral("machines")).toArray()) {
        if (m.toObject().value(QStringLiteral("initialState")).toString() == QStringLiteral("unreachable"))
            names.removeAll(m.toObject().value(QStringLiteral("host")).toString());
    }
    return names;
}

QJsonObject Sandbox::machine(const QString& name) const
{
    for (const QJsonValue& m : m_json.value(QStringLiteral("machines")).toArray()) {
        if (m.toObject().value(QStringLiteral("name")).toString() == name)
            return m.toObject();
    }
    return {};
}

CliRun runCli(const QStringList& arguments, const QProcessEnvironment& environment, int timeoutMs)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(OPSDECK_BINARY), arguments);
    process.closeWriteChannel();
    CliRun run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() == QProcess::NormalExit) {
        run.exitCode = process.exitCode();
    }
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

BackgroundCli::BackgroundCli(const QStringList& arguments, const QProcessEnvironment& environment)
{
    m_process.setProcessEnvironment(environment);
    m_process.start(QStringLiteral(OPSDECK_BINARY), arguments);
    m_process.closeWriteChannel();
}

BackgroundCli::~BackgroundCli()
{
    if (m_process.state() != QProcess::NotRunning)
        kill();
}

bool BackgroundCli::runsUntil(const std::function<bool()>& ready, int timeoutMs)
{
    bool held = false;
    const bool decided = QTest::qWaitFor(
        [&] {
            output(); // keeps its pipes drained
            held = m_process.state() == QProcess::Running && ready();
            return held || m_process.state() == QProcess::NotRunning;
        },
        timeoutMs);
    return decided && held;
}

void BackgroundCli::kill()
{
    m_process.kill();
    m_process.waitForFinished(10000);
}

bool BackgroundCli::interrupt()
{
    // processId() is 0 once it has ended, and kill(0, ...) would signal the test's own process group.
    const qint64 pid = m_process.processId();
    return pid > 0 && ::kill(pid_t(pid), SIGINT) == 0;
}

int BackgroundCli::wait(int timeoutMs)
{
    if (!m_process.waitForFinished(timeoutMs) || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

QByteArray BackgroundCli::output()
{
    m_out += m_process.readAllStandardOutput();
    m_err += m_process.readAllStandardError();
    return m_out + m_err;
}

QByteArray BackgroundCli::out()
{
    output();
    return m_out;
}

} // namespace opsdeck::test
