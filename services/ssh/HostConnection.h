#pragma once

#include "config/Inventory.h"
#include "ssh/SshTypes.h"

#include <QMap>
#include <QStringList>

#include <functional>
#include <memory>

namespace opsdeck {

class SshSession;
class SshTunnel;

// A worker thread's own SSH connection to one inventory host: commands, as argv lists or as the host's command
// templates, and tunnels to what listens on the host. Make, use and destroy it on one thread (results arrive through
// that thread's event loop); only interrupt() and interrupter() may be called from others. Blocking: never use it on
// the GUI thread. After a drop the session reconnects by itself, with backoff; a command the drop cut off fails with
// Disconnected and is not repeated, because its effect on the host is unknown.
class HostConnection
{
public:
    // `secret`: the key passphrase or password the host's auth needs (SshSecretSpecs), resolved by the caller.
    HostConnection(Host host, const QString& secret);
    ~HostConnection();
    HostConnection(const HostConnection&) = delete;
    HostConnection& operator=(const HostConnection&) = delete;

    const Host& host() const { return m_host; }

    // Output as it arrives, on this thread: stream 0 is stdout, 1 stderr. The result still holds all of it.
    using OutputSink = std::function<void(int stream, const QByteArray& data)>;

    // Runs argv on the host and waits, spinning this thread's event loop. Every argument arrives as it is (the argv
    // is POSIX-quoted as a whole, never pasted into shell text). A timeout stops the command's process group.
    ExecResult run(const QStringList& argv, int timeoutMs = 120000, const OutputSink& sink = {});
    // Expands the host's command template `name` (config/CommandTemplates) with `values` and runs it.
    ExecResult runTemplate(const QString& name, const QMap<QString, QStringList>& values, int timeoutMs = 120000);

    // Thread-safe: stops the command in flight (its process group is killed) and closes its channel; run() then
    // returns Kind::Cancelled. Does nothing between commands.
    void interrupt();
    // interrupt() for a cancel hook, which may run after the step that installed it returned: once this connection
    // is gone, calling it does nothing.
    std::function<void()> interrupter() const;

    // A listener on 127.0.0.1 (its port in localPort()) whose clients are forwarded to remoteHost:remotePort as the
    // host sees it, or to a Unix socket on the host. Null with *error when the listener cannot be made. A tunnel
    // still open when this connection goes is closed with it.
    std::unique_ptr<SshTunnel> openTcpTunnel(const QString& remoteHost, quint16 remotePort, QString* error);
    std::unique_ptr<SshTunnel> openUnixTunnel(const QString& remotePath, QString* error);

    // Why the session's last connect failed or its connection dropped (say, for a tunnel client refused meanwhile).
    SshError lastError() const;

private:
    struct Running;

    Host m_host;
    std::unique_ptr<SshSession> m_session;
    std::shared_ptr<Running> m_running; // shared with interrupters
};

} // namespace opsdeck
