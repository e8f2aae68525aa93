#include "packit/PackitConnection.h"

#include "packit/PackitQueries.h"

namespace opsdeck {

PackitConnection::PackitConnection(PackitTarget target)
    : m_target(std::move(target))
    , m_host(m_target.host, m_target.sshSecret)
    , m_database(m_target.databaseTarget(), &m_host)
{
}

PackitConnection::~PackitConnection() = default;

ExecResult PackitConnection::run(const QStringList& argv, int timeoutMs)
{
    return m_host.run(argv, timeoutMs);
}

ExecResult PackitConnection::runTemplate(const QString& name, const QMap<QString, QStringList>& values, int timeoutMs)
{
    return m_host.runTemplate(name, values, timeoutMs);
}

bool PackitConnection::openDatabase(QString* error)
{
    return m_database.open(error);
}

QSqlDatabase PackitConnection::database() const
{
    return m_database.database();
}

void PackitConnection::interrupt()
{
    m_host.interrupt();
    m_database.interrupt();
}

std::function<void()> PackitConnection::interrupter() const
{
    return [host = m_host.interrupter(), database = m_database.interrupter()] {
        host();
        database();
    };
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
