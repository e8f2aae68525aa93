#pragma once

#include "ssh/HostStatus.h"

#include <QObject>
#include <QPointer>

namespace opsdeck {

class SshConnectionPool;

// Checks that hosts are reachable: connects (host key, auth) and runs `true`. All hosts are probed in
// parallel, so one slow host delays no other beyond its own timeout.
class HostProber : public QObject
{
    Q_OBJECT
public:
    HostProber(const Inventory& inventory, SshConnectionPool* pool, QObject* parent = nullptr);

    void probe(const QStringList& hostNames);
    void probeAll();
    int pending() const { return m_pending; }
    void setTimeout(int ms) { m_timeoutMs = ms; }

signals:
    void statusChanged(const opsdeck::HostStatus& status);
    void finished();

private:
    void probeOne(const Host& host);
    void report(HostStatus status);

    Inventory m_inventory;
    SshConnectionPool* m_pool;
    int m_pending = 0;
    int m_timeoutMs = 20000;
};

} // namespace opsdeck
