#pragma once

#include <QIODevice>
#include <QStringList>

namespace opsdeck::KnownHostsFile {

// The SHA-256 fingerprints ("SHA256:...") that an OpenSSH known_hosts file holds for address:port, plain or
// hashed (|1|salt|hmac) host patterns alike. Used to show the old key when a host's key has changed.
QStringList fingerprintsFor(const QString& file, const QString& address, quint16 port);
// The same from an open device: the file's contents (the fuzz target reads from memory).
QStringList fingerprintsIn(QIODevice& known, const QString& address, quint16 port);

} // namespace opsdeck::KnownHostsFile
