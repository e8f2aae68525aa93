#pragma once

#include "sql/DatabaseTarget.h"
#include "ssh/SshTypes.h"

#include <QString>

#include <memory>

namespace opsdeck {

// One SSH tunnel to a database through its via host, shared by every thread of the process that connects to it: one
// login to the via host, however many threads keep a connection (the team journal: each thread that journals keeps
// its own, and the watcher one more). Its session lives on a thread of its own, which runs until the application
// ends; its listener outlives a dropped session (the next client makes it log in again, with backoff).
class SharedTunnel
{
public:
    // The tunnel to `target` (which must have a via host), made on first use with its via host's secret; a tunnel
    // made with another secret is not shared. Null, with *error, if its listener cannot be made.
    static std::shared_ptr<SharedTunnel> to(const DatabaseTarget& target, QString* error);

    ~SharedTunnel();
    SharedTunnel(const SharedTunnel&) = delete;
    SharedTunnel& operator=(const SharedTunnel&) = delete;

    // Where the database is reached: a port on 127.0.0.1.
    quint16 port() const { return m_port; }
    // Why the session's last login failed or its connection dropped. Thread-safe.
    SshError lastError() const;

private:
    class Owner;
    SharedTunnel() = default;

    std::unique_ptr<Owner> m_owner;
    quint16 m_port = 0;
};

} // namespace opsdeck
