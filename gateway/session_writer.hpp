#pragma once
// A session's way out to its connection: the TCP connection in the gateway, a recorder in tests.
#include <cstddef>
#include <string_view>

namespace chatbus::gateway {

class SessionWriter {
  public:
    virtual ~SessionWriter() = default;
    // Queues one whole MQTT packet (or several, back to back) for the connection.
    virtual void write(std::string_view bytes) = 0;
    // Packets waiting because the kernel would not take them (not those queued since the last write, which
    // are written at the end of the event loop's turn): the slow-consumer bound is on this.
    virtual std::size_t backlog() const = 0;
    // Closes the connection once what is queued is written (`flush`) or at once.
    virtual void close(bool flush) = 0;
};

}  // namespace chatbus::gateway
