#pragma once

#include "Sandbox.h"

#include <QStringList>

#include <atomic>
#include <thread>

namespace opsdeck::test {

// A second MariaDB session (the sandbox's `pulumi` database) that runs long statements one after another on a
// thread of its own, as a stuck client would: a killed statement returns at once and the next one starts.
class SqlSleeper
{
public:
    SqlSleeper(const Sandbox::Server& server, const QStringList& statements);
    ~SqlSleeper(); // waits for the statements to end

    // The session's CONNECTION_ID(), once connected; 0 before (or if it could not connect).
    qint64 id() const { return m_id; }
    bool done() const { return m_done; }

private:
    std::thread m_thread;
    std::atomic<qint64> m_id = 0;
    std::atomic_bool m_done = false;
};

} // namespace opsdeck::test
