#pragma once

#include "packit/PackitTarget.h"
#include "sql/DatabaseConnection.h"
#include "ssh/HostConnection.h"

#include <QJsonObject>
#include <QSqlDatabase>

#include <functional>
#include <optional>

namespace opsdeck {

// A worker thread's own way into one Packit instance: a HostConnection to its host for commands, and a
// DatabaseConnection through a tunnel on that same connection. Blocking calls: never use it on the GUI thread.
class PackitConnection
{
public:
    explicit PackitConnection(PackitTarget target);
    ~PackitConnection();

    const PackitTarget& target() const { return m_target; }

    // Runs argv on the host and waits (the wait spins this thread's event loop).
    ExecResult run(const QStringList& argv, int timeoutMs = 120000);
    // Expands the host's command template and runs it.
    ExecResult runTemplate(const QString& name, const QMap<QString, QStringList>& values, int timeoutMs = 120000);

    // Opens (once; again after the server restarted or the tunnel dropped) the database through the tunnel; the
    // returned connection belongs to this thread.
    bool openDatabase(QString* error);
    QSqlDatabase database() const;

    // Thread-safe: interrupts the command and the query in flight (used by cancel).
    void interrupt();
    // interrupt() for a cancel hook, which may run after the step that installed it returned.
    std::function<void()> interrupter() const;

    // "ActiveState" of a unit, e.g. "active", "inactive", "failed"; empty with *error on failure.
    QString unitState(const QString& unit, QString* error);
    struct RootStats
    {
        bool exists = false;
        qint64 files = 0;
        qint64 bytes = 0;
    };
    std::optional<RootStats> rootStats(const QString& path, QString* error);
    // What the console shows of an instance: outpackState and apiState (null when unknown), rootFiles, rootBytes,
    // every PackitQueries::counts key, and error (null, or what could not be read).
    QJsonObject instanceState();
    // Whether the path exists on the host, without walking it.
    std::optional<bool> exists(const QString& path, QString* error);

private:
    PackitTarget m_target;
    HostConnection m_host;
    DatabaseConnection m_database; // tunnels through m_host, so it goes first
};

} // namespace opsdeck
