#pragma once
// The broker's copy of every room: built from the events workers return, handed to whichever worker owns
// the room (W_STATE). It is what lets a room move between workers, and survive one dying, without losing a
// member, a sequence number or an acknowledged message; WHO and HISTORY are answered from it. Which worker
// holds a room is RoomRouter's business, not this copy's.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_view.hpp"
#include "common/messages.hpp"
#include "common/worker_messages.hpp"

namespace chatbus {

// An event as published (topic + EVENT frame), with its seq beside it so HISTORY can select without decoding.
struct KeptEvent {
    std::uint64_t seq = 0;
    std::string frame;
    // The EVENT body (the msgpack map), as HISTORY_REPLY carries it: after the topic's zero byte and the header.
    std::string_view body() const;
};

// One room as the broker keeps it.
struct RoomCopy {
    std::uint64_t seq = 0;
    std::map<std::string, std::string> members;  // folded nick -> spelling
    // Copied as bytes on the hot path, decoded only for a handover.
    std::deque<KeptEvent> history;
};

// What an applied event changed in the room's membership.
struct MembershipChange {
    std::string folded_nick;
    bool joined = false;
};

class RoomMirror {
  public:
    explicit RoomMirror(std::size_t history_limit) : history_limit_(history_limit) {}

    RoomCopy* find(const std::string& room);
    const RoomCopy* find(const std::string& room) const;
    RoomCopy& get(const std::string& room) { return rooms_[room]; }
    void erase(const std::string& room) { rooms_.erase(room); }
    // Appends an event; returns a membership change for join/leave. Sequence breaks are reported in
    // `seq_break` (they mean a worker and the broker disagree; the event still wins).
    std::optional<MembershipChange> apply(const EventView& e, std::string_view frame, bool& seq_break) {
        return apply(rooms_[std::string(e.room)], e, frame, seq_break);
    }
    // The same, for a room already looked up (the broker's hot path: one lookup per reply, not per event).
    std::optional<MembershipChange> apply(RoomCopy& r, const EventView& e, std::string_view frame,
                                          bool& seq_break);
    WState state_of(const std::string& room) const;
    // Takes a worker's copy when it is newer than ours; returns false (keeping ours) otherwise.
    bool adopt(const WState& s);
    // Rooms with members whose name sorts after `after`, at most `max` of them; `more` says others follow.
    std::vector<RoomInfo> list(std::string_view after, std::size_t max, bool& more) const;
    std::size_t rooms_with_members() const;

  private:
    std::size_t history_limit_;
    std::map<std::string, RoomCopy> rooms_;
};

}  // namespace chatbus
