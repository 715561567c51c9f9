#pragma once
// What the listener keeps of each room it follows: where printing stands, where a catch-up after an outage
// starts, and what the events socket delivered (docs/architecture.md, "Slow subscribers").
#include <cstdint>
#include <optional>

namespace chatbus::cli {

// Events `from`..`to` of a room, both included.
struct SeqRange {
    std::uint64_t from = 0, to = 0;
    std::uint64_t size() const { return to - from + 1; }
    bool operator==(const SeqRange&) const = default;
};

struct FollowedRoom {
    // The last seq printed; none yet: the first event sets it.
    std::optional<std::uint64_t> printed;
    // While nothing is printed: the room's latest seq just after set-up, where a catch-up starts.
    std::optional<std::uint64_t> floor;
    // The last seq read from the events socket.
    std::optional<std::uint64_t> received;
    // First seen in a LISTEN reply after a broker restart: its catch-up starts at the nick's own join.
    bool unanchored = false;

    // Notes `seq` as read from the events socket, in arrival order, and returns what the socket lost just
    // before it: the queue is FIFO, so a jump means the events in between are not coming any more.
    std::optional<SeqRange> receive(std::uint64_t seq);
};

}  // namespace chatbus::cli
