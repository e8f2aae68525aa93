#include "packit/PackitConnection.h"

#include "config/CommandTemplates.h"
#include "core/Logging.h"
#include "packit/PackitQueries.h"
#include "ssh/ShellQuote.h"

#include <QMutexLocker>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace opsdeck {

namespace {

QSqlDatabase connect(const QString& name, const PackitTarget& target, quint16 port)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    db.setHostName(QStringLiteral("127.0.0.1"));
    db.setPort(port);
    db.setDatabaseName(target.database.database);
    db.setUserName(target.database.user);
    db.setPassword(target.databasePassword);
    db.setConnectOptions(QStringLiteral("connect_timeout=15"));
    return db;
}

} // namespace

PackitConnection::PackitConnection(PackitTarget target)
    : m_target(std::move(target))
    , m_session(std::make_unique<SshSession>(SshTarget::fromHost(m_target.host)))
    , m_connectionName(QStringLiteral("packit-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    m_session->setSecret(m_target.sshSecret);
}

PackitConnection::~PackitConnection()
{
    if (QSqlDatabase::contains(m_connectionName)) {
        QSqlDatabase::database(m_connectionName, false).close();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

ExecResult PackitConnection::run(const QStringList& argv, int timeoutMs)
{
    std::unique_ptr<SshCommand> command(m_session->exec(argv, timeoutMs));
    {
        QMutexLocker lock(&m_mutex);
        m_running = command.get();
    }
    command->waitForFinished();
    {
        QMutexLocker lock(&m_mutex);
        m_running = nullptr;
    }
    return command->result();
}

ExecResult PackitConnection::runTemplate(const QString& name, const QMap<QString, QStringList>& values, int timeoutMs)
{
    QString error;
    const QStringList argv = CommandTemplates::expand(m_target.host.commands.value(name), values, &error);
    if (argv.isEmpty()) {
        ExecResult result;
        result.error = { SshError::Kind::InvalidRequest,
            QStringLiteral("command template %1 of %2: %3").arg(name, m_target.host.name, error) };
        return result;
    }
    return run(argv, timeoutMs);
}

bool PackitConnection::openDatabase(QString* error)
{
    if (QSqlDatabase::contains(m_connectionName) && QSqlDatabase::database(m_connectionName, false).isOpen())
        return true;
    const Database& config = m_target.database;
    QString tunnelError;
    if (!m_tunnel) {
        m_tunnel.reset(config.socket.isEmpty() ? m_session->openTcpTunnel(config.address, config.port, &tunnelError)
                                               : m_session->openUnixTunnel(config.socket, &tunnelError));
    }
    if (!m_tunnel) {
        *error = tunnelError;
        return false;
    }
    QSqlDatabase db = connect(m_connectionName, m_target, m_tunnel->localPort());
    if (!db.open()) {
        const SshError ssh = m_session->lastError();
        *error = QStringLiteral("cannot open database %1 of %2 through the SSH tunnel: %3")
                     .arg(config.database, m_target.id(), ssh.isError() ? ssh.message : db.lastError().text());
        return false;
    }
    QSqlQuery pid(db);
    if (pid.exec(QStringLiteral("SELECT pg_backend_pid()")) && pid.next()) {
        QMutexLocker lock(&m_mutex);
        m_backendPid = pid.value(0).toLongLong();
    }
    return true;
}

QSqlDatabase PackitConnection::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

void PackitConnection::interrupt()
{
    QPointer<SshCommand> running;
    qint64 backend = 0;
    {
        QMutexLocker lock(&m_mutex);
        running = m_running;
        backend = m_backendPid;
    }
    if (running)
        QMetaObject::invokeMethod(running, &SshCommand::cancel, Qt::QueuedConnection);
    if (backend <= 0 || !m_tunnel)
        return;
    // A query blocks its own connection, so the cancel goes through a second one.
    const QString name = m_connectionName + QStringLiteral("-cancel-")
        + QString::number(reinterpret_cast<quintptr>(QThread::currentThreadId()));
    {
        QSqlDatabase db = connect(name, m_target, m_tunnel->localPort());
        if (db.open()) {
            QSqlQuery cancel(db);
            cancel.prepare(QStringLiteral("SELECT pg_cancel_backend(?)"));
            cancel.addBindValue(backend);
            if (!cancel.exec())
                qCWarning(lcPackit) << "cancelling the query on" << m_target.id()
                                    << "failed:" << cancel.lastError().text();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

QString PackitConnection::unitState(const QString& unit, QString* error)
{
    const ExecResult result = runTemplate(QStringLiteral("unitState"), { { QStringLiteral("unit"), { unit } } }, 30000);
    if (result.error.isError() || result.exitStatus != 0) {
        *error
            = QStringLiteral("cannot read the state of %1 on %2: %3").arg(unit, m_target.host.name, result.describe());
        return {};
    }
    for (const QByteArray& line : result.stdoutData.split('\n')) {
        if (line.startsWith("ActiveState="))
            return QString::fromUtf8(line.mid(12)).trimmed();
    }
    *error = QStringLiteral("%1 on %2 reported no ActiveState").arg(unit, m_target.host.name);
    return {};
}

std::optional<PackitConnection::RootStats> PackitConnection::rootStats(const QString& path, QString* error)
{
    // Fixed script text; the path travels as an argument, never as code. Bytes are the files' sizes, as the
    // runbook's "rm -r" frees them, not the directories' blocks.
    const ExecResult result = run({ QStringLiteral("sh"), QStringLiteral("-c"),
                                      QStringLiteral("if [ -e \"$1\" ]; then find \"$1\" -type f -printf '%s\\n' | "
                                                     "awk '{ n++; s += $1 } END { print n + 0; print s + 0 }'; "
                                                     "else echo missing; fi"),
                                      QStringLiteral("sh"), path },
        300000);
    if (!result.succeeded()) {
        *error = QStringLiteral("cannot measure %1 on %2: %3").arg(path, m_target.host.name, result.describe());
        return std::nullopt;
    }
    const QList<QByteArray> lines = result.stdoutData.trimmed().split('\n');
    RootStats stats;
    if (lines.value(0) == "missing")
        return stats;
    stats.exists = true;
    stats.files = lines.value(0).trimmed().toLongLong();
    stats.bytes = lines.value(1).trimmed().toLongLong();
    return stats;
}

QJsonObject PackitConnection::instanceState()
{
    QJsonObject state;
    QStringList errors;
    QString error;
    for (const QString& unit : m_target.units()) {
        const QString value = unitState(unit, &error);
        state.insert(unit == m_target.outpackUnit() ? QStringLiteral("outpackState") : QStringLiteral("apiState"),
            value.isEmpty() ? QJsonValue() : QJsonValue(value));
        if (value.isEmpty())
            errors << error;
    }
    if (const auto root = rootStats(m_target.instance.outpackRoot, &error)) {
        state.insert(QStringLiteral("rootFiles"), root->files);
        state.insert(QStringLiteral("rootBytes"), root->bytes);
    } else {
        errors << error;
    }
    std::optional<QJsonObject> counts;
    if (openDatabase(&error)) {
        QSqlDatabase db = database();
        counts = PackitQueries::counts(db, &error);
    }
    if (counts) {
        for (auto it = counts->begin(); it != counts->end(); ++it)
            state.insert(it.key(), it.value());
    } else {
        errors << error;
    }
    state.insert(
        QStringLiteral("error"), errors.isEmpty() ? QJsonValue() : QJsonValue(errors.join(QStringLiteral("; "))));
    return state;
}

std::optional<bool> PackitConnection::exists(const QString& path, QString* error)
{
    const ExecResult result = run({ QStringLiteral("test"), QStringLiteral("-e"), path }, 60000);
    if (!result.error.isError() && (result.exitStatus == 0 || result.exitStatus == 1))
        return result.exitStatus == 0;
    *error = QStringLiteral("cannot check %1 on %2: %3").arg(path, m_target.host.name, result.describe());
    return std::nullopt;
}

} // namespace opsdeck
