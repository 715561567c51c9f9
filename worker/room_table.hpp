#pragma once
// The chat logic of a worker, with no sockets: a decoded request in, the reply and the events to publish out.
// Rules are those of docs/protocol.md ("JOIN / LEAVE", "SEND", "WHO / ROOMS / HISTORY").
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/messages.hpp"
#include "worker/served_room.hpp"
#include "common/send_views.hpp"
#include "common/worker_messages.hpp"

namespace chatbus {

struct RoomLimits {
    std::size_t history = 1000;   // events kept per room
    std::size_t max_text = 4096;  // bytes per text; the broker's WELCOME overrides it
    std::size_t max_batch = 64;   // texts per SEND
};

class RoomTable {
  public:
    explicit RoomTable(RoomLimits limits = {});

    void set_max_text(std::size_t max_text) { limits_.max_text = max_text; }
    void set_max_batch(std::size_t max_batch) { limits_.max_batch = max_batch; }
    // For rooms created or handed over from now on (the broker sets it at W_WELCOME, before it hands any).
    void set_history(std::size_t history) { limits_.history = history; }
    const RoomLimits& limits() const { return limits_; }

    // Mutating requests append the events to publish, in seq order, to `events`. The nick is trusted: the
    // broker has checked the token before forwarding.
    JoinReply join(const Join& req, std::vector<Event>& events);
    LeaveReply leave(const Leave& req, std::vector<Event>& events);
    SendReply send(const Send& req, std::vector<Event>& events);
    // The same for a SEND whose texts are views into the decoded frame (no copy until the history keeps them).
    SendReply send(const SendView& req, std::vector<Event>& events);
    WhoReply who(const Who& req) const;
    // The oldest events of the selection, one page of them (`more` says others follow).
    HistoryReply history(const History& req) const;

    std::size_t room_count() const { return rooms_.size(); }
    // By folded name; nullptr when the room is not held here.
    const ServedRoom* find(std::string_view room) const;

    // Room handover (docs/protocol.md, "Worker channel"). import() creates or replaces the room with exactly
    // the state given (see ServedRoom::restore); false, changing nothing, when the room name is invalid.
    bool import(const WState& state);
    // The room's whole state, as W_STATE carries it; nullopt when the room is not held here. export_state()
    // and release() fold the name they are given.
    std::optional<WState> export_state(std::string_view room) const;
    // Drops the room entirely; false when it was not held here.
    bool release(std::string_view room);
    // Drops every room.
    void clear() { rooms_.clear(); }
    // Folded names of the rooms held, sorted.
    std::vector<std::string> room_names() const;

  private:
    template <class Req>
    SendReply send_texts(const Req& req, std::vector<Event>& events);
    ServedRoom* find_mut(const std::string& folded);

    RoomLimits limits_;
    // Rooms outlive their last member so HISTORY and the seq counter survive an empty spell.
    std::unordered_map<std::string, ServedRoom> rooms_;
};

}  // namespace chatbus
