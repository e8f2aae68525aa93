#pragma once

#include <optional>

#include <sys/types.h>

namespace opsdeck {

// Who is on the other end of an accepted loopback TCP connection. A tunnel listens on 127.0.0.1, which every local
// user can reach, and the databases behind it trust the host's loopback: so a tunnel serves only connections
// whose client socket belongs to this process's own user. TCP has no SO_PEERCRED; the kernel's socket table
// (/proc/net/tcp) names the owner of the client's end, found by its address and port.
namespace LoopbackPeer {

// The uid owning the client end of the accepted connection `fd`, or nullopt if it cannot be found (the client
// already closed, or the table is unreadable): the caller then refuses the connection.
std::optional<uid_t> uid(int fd);

} // namespace LoopbackPeer
} // namespace opsdeck
