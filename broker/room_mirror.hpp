#pragma once
// The broker's copy of every room: built from the events workers return, handed to whichever worker owns
// the room (W_STATE). It is what lets a room move between workers, and survive one dying, without losing a
// member, a sequence number or an acknowledged message.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "event_view.hpp"
#include "messages.hpp"
#include "worker_messages.hpp"

namespace chatbus {

struct RoomState {
    std::uint64_t seq = 0;
    std::map<std::string, std::string> members;  // folded nick -> spelling
    // Events as published (topic + EVENT frame): copied as bytes on the hot path, decoded only for a handover.
    std::deque<std::string> history;
    std::string holder;  // routing id of the worker holding the room; empty: none
    std::size_t inflight = 0;            // requests at the holder not yet answered
    std::deque<std::uint64_t> waiting;   // bids parked until the room can move
};

// What an applied event changed in the room's membership.
struct MembershipChange {
    std::string folded_nick;
    bool joined = false;
};

class RoomMirror {
  public:
    explicit RoomMirror(std::size_t history_limit) : history_limit_(history_limit) {}

    RoomState* find(const std::string& room);
    RoomState& get(const std::string& room) { return rooms_[room]; }
    void erase(const std::string& room) { rooms_.erase(room); }
    // Appends an event; returns a membership change for join/leave. Sequence breaks are reported in
    // `seq_break` (they mean a worker and the broker disagree; the event still wins).
    std::optional<MembershipChange> apply(const EventView& e, std::string_view frame, bool& seq_break) {
        return apply(rooms_[std::string(e.room)], e, frame, seq_break);
    }
    // The same, for a room already looked up (the broker's hot path: one lookup per reply, not per event).
    std::optional<MembershipChange> apply(RoomState& r, const EventView& e, std::string_view frame,
                                          bool& seq_break);
    WState state_of(const std::string& room) const;
    // Takes a worker's copy when it is newer than ours; returns false (keeping ours) otherwise.
    bool adopt(const WState& s, const std::string& holder);
    // Rooms with members whose name sorts after `after`, at most `max` of them; `more` says others follow.
    std::vector<RoomInfo> list(std::string_view after, std::size_t max, bool& more) const;
    std::size_t rooms_with_members() const;
    template <class F>
    void for_each(F&& f) {
        for (auto& [name, r] : rooms_) f(name, r);
    }

  private:
    std::size_t history_limit_;
    std::map<std::string, RoomState> rooms_;
};

}  // namespace chatbus
