#pragma once

#include "config/Inventory.h"
#include "ssh/HostConnection.h"
#include "ssh/SshTypes.h"

#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace opsdeck {

// Where one datamon context's commands run: its host over SSH (a bastion near GCS), or this machine. Every command
// is an argv (never shell text) under ChildEnvironment's rule plus the context's `environment` (datamon reads
// generic variables such as CONTEXT or CREDENTIAL through viper's AutomaticEnv), with stdin from /dev/null, so a
// prompt it was not meant to reach ends at EOF instead of waiting. Make, use and destroy it on one worker thread;
// only the interrupter may be called from others.
class DatamonHost
{
public:
    // `host`: the context's inventory host, or null for this machine. `sshSecret`: what that host's auth needs.
    DatamonHost(const DatamonContext& context, const Host* host, const QString& sshSecret);
    ~DatamonHost();
    DatamonHost(const DatamonHost&) = delete;
    DatamonHost& operator=(const DatamonHost&) = delete;

    const DatamonContext& context() const { return m_context; }
    // "host bastion" or "this machine", for messages.
    QString where() const;

    // Runs argv and waits (spinning this thread's event loop); output also goes to `sink` as it comes. A timeout or
    // an interrupt stops the command's process group; the result says which (SshError Timeout / Cancelled).
    ExecResult run(const QStringList& argv, int timeoutMs, const HostConnection::OutputSink& sink = {});
    // Runs every argv at once, in one round trip (one SSH exec, or one local process), and waits for all of them: for
    // independent reads that each start a slow program (gcloud takes a second to start). A result per argv, in order,
    // with that command's exit status and output; when the round trip itself fails, every result has its error.
    QList<ExecResult> runTogether(const QList<QStringList>& argvs, int timeoutMs);
    // Reads runTogether's framed output for `count` commands; nullopt with *error when it is not what its script
    // prints.
    static std::optional<QList<ExecResult>> parseTogether(const QByteArray& out, qsizetype count, QString* error);
    // Thread-safe; stops the command in flight, if any. Does nothing once this host is gone.
    std::function<void()> interrupter() const;

private:
    struct Local;
    ExecResult runLocally(const QStringList& argv, int timeoutMs, const HostConnection::OutputSink& sink);

    DatamonContext m_context;
    std::unique_ptr<HostConnection> m_connection; // null: this machine
    std::shared_ptr<Local> m_local;
};

} // namespace opsdeck
