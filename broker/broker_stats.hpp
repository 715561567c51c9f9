#pragma once
// The broker's counters (STATUS, docs/protocol.md): typed fields for the code that counts, and the map form
// STATUS carries made in one place, so a counter cannot be misspelt where it is written.
#include <array>
#include <cstdint>
#include <limits>

#include "common/messages.hpp"
#include "common/status.hpp"

namespace chatbus {

// What the broker dropped, by cause (STATUS `dropped`).
struct DropCounters {
    std::uint64_t malformed = 0;        // frames that did not decode or broke the protocol
    std::uint64_t worker_timeout = 0;   // requests answered `timeout` because no worker answered in time
    std::uint64_t unroutable = 0;       // sends to a peer whose connection was gone
    std::uint64_t seq_break = 0;        // events that did not follow the broker's copy of their room
    std::uint64_t slow_subscriber = 0;  // events listeners reported missing on the events socket
};

struct BrokerStats {
    std::uint64_t requests = 0;  // client frames received
    std::uint64_t retried = 0;   // requests run again on a room's next owner after their worker died
    std::uint64_t moved = 0;     // room handovers (W_STATE sent)
    DropCounters dropped;
    std::array<std::uint64_t, 32> refused{};  // requests refused by a limit, by status code

    void count_refused(Status s) {
        if (auto i = static_cast<std::size_t>(s); i < refused.size()) ++refused[i];
    }
    // Saturating: the count is a client's word, and a huge one must not wrap the counter to a small number.
    void add_slow_subscriber(std::uint64_t n) {
        constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
        dropped.slow_subscriber = n > kMax - dropped.slow_subscriber ? kMax : dropped.slow_subscriber + n;
    }
    // Fills STATUS_REPLY's requests, dropped, retried, moved and refused.
    void fill(StatusReply& rep) const;
};

}  // namespace chatbus
