#pragma once

#include "packit/PackitTarget.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QThread>

#include <memory>

namespace opsdeck {

class PackitConnection;

// Live reads of one Packit instance for the console, on a thread of its own that keeps the SSH session and the
// database connection open between requests. Requests are queued; every answer carries the request's tag so
// that a model can drop answers it no longer wants.
class PackitWorker : public QObject
{
    Q_OBJECT
public:
    explicit PackitWorker(PackitTarget target, QObject* parent = nullptr);
    ~PackitWorker() override;

    const PackitTarget& target() const { return m_target; }

    // Unit states, counts and the root's size -> stateReady.
    void requestState(quint64 tag);
    // A page of packets (id, name, displayName, startTime, endTime) -> packetsReady, at once; the first page is
    // followed by the number of matching packets -> packetCountReady.
    void requestPackets(
        quint64 tag, int offset, int limit, const QString& filter, const QString& orderBy, bool descending);
    // Packet groups with their packet counts -> groupsReady.
    void requestGroups(quint64 tag);
    // A packet's metadata from the outpack root -> metadataReady.
    void requestMetadata(quint64 tag, const QString& packetId);

signals:
    void stateReady(quint64 tag, const QJsonObject& state);
    void packetsReady(quint64 tag, int offset, const QJsonArray& rows, const QString& error);
    void packetCountReady(quint64 tag, qint64 total);
    void groupsReady(quint64 tag, const QJsonArray& rows, const QString& error);
    void metadataReady(quint64 tag, const QJsonObject& metadata, const QString& error);

private:
    PackitConnection* connection(QString* error);

    PackitTarget m_target;
    QThread m_thread;
    QObject* m_context; // lives on m_thread, with the connection
    std::unique_ptr<PackitConnection> m_connection;
};

} // namespace opsdeck
