#include "ssh/LoopbackPeer.h"

#include <QByteArrayList>
#include <QFile>

#include <netinet/in.h>
#include <sys/socket.h>

namespace opsdeck::LoopbackPeer {

namespace {

// An endpoint as /proc/net/tcp prints it: the address as the hex of its raw (network order) 32 bits, the port in
// host order, "0100007F:1F90" for 127.0.0.1:8080.
QByteArray endpoint(const sockaddr_in& address)
{
    return QByteArray::number(address.sin_addr.s_addr, 16).rightJustified(8, '0').toUpper() + ':'
        + QByteArray::number(ntohs(address.sin_port), 16).rightJustified(4, '0').toUpper();
}

} // namespace

std::optional<uid_t> uid(int fd)
{
    sockaddr_in local {};
    sockaddr_in peer {};
    socklen_t localLength = sizeof local;
    socklen_t peerLength = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0
        || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peerLength) != 0 || local.sin_family != AF_INET
        || peer.sin_family != AF_INET)
        return std::nullopt;
    QFile table(QStringLiteral("/proc/net/tcp"));
    if (!table.open(QIODevice::ReadOnly))
        return std::nullopt;
    // The client's own entry: its local end is our peer, its remote end is us.
    const QByteArray client = endpoint(peer);
    const QByteArray us = endpoint(local);
    table.readLine(); // the header
    for (QByteArray line = table.readLine(); !line.isEmpty(); line = table.readLine()) {
        const QByteArrayList fields = line.simplified().split(' ');
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
        if (fields.size() > 7 && fields[1] == client && fields[2] == us) {
            bool ok = false;
            const uint owner = fields[7].toUInt(&ok);
            return ok ? std::optional<uid_t>(owner) : std::nullopt;
        }
    }
    return std::nullopt;
}

} // namespace opsdeck::LoopbackPeer
