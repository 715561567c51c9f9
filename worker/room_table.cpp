#include "worker/room_table.hpp"

#include <algorithm>

#include "common/event_kind.hpp"
#include "common/names.hpp"
#include "common/status.hpp"

namespace chatbus {
namespace {

std::string error_text(Status s, std::string_view detail = {}) {
    std::string out(status_message(s));
    if (!detail.empty()) {
        out.append(": ").append(detail);
    }
    return out;
}

// Every reply type carries rid/status/error under the same names.
template <class Reply>
Reply failure(std::uint64_t rid, Status s, std::string_view detail = {}) {
    Reply r;
    r.rid = rid;
    r.status = static_cast<std::uint64_t>(s);
    r.error = error_text(s, detail);
    return r;
}

}  // namespace

RoomTable::RoomTable(RoomLimits limits) : limits_(limits) {}

const ServedRoom* RoomTable::find(std::string_view room) const {
    auto it = rooms_.find(std::string(room));
    return it == rooms_.end() ? nullptr : &it->second;
}

ServedRoom* RoomTable::find_mut(const std::string& folded) {
    auto it = rooms_.find(folded);
    return it == rooms_.end() ? nullptr : &it->second;
}

bool RoomTable::import(const WState& state) {
    if (!valid_room(state.room)) {
        return false;
    }
    std::string folded = fold_name(state.room);
    // A fresh ServedRoom, so nothing of a previous copy survives the replacement.
    auto [it, created] = rooms_.insert_or_assign(folded, ServedRoom(folded, limits_.history));
    it->second.restore(state.seq, state.members, state.history);
    return true;
}

std::optional<WState> RoomTable::export_state(std::string_view room) const {
    const ServedRoom* r = find(fold_name(room));
    if (!r) {
        return std::nullopt;
    }
    return WState{r->name(), r->last_seq(), r->members(), r->history(0, 0)};
}

bool RoomTable::release(std::string_view room) {
    return rooms_.erase(fold_name(room)) > 0;
}

std::vector<std::string> RoomTable::room_names() const {
    std::vector<std::string> out;
    out.reserve(rooms_.size());
    for (const auto& [name, room] : rooms_) {
        out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

JoinReply RoomTable::join(const Join& req, std::vector<Event>& events) {
    if (!valid_room(req.room)) {
        return failure<JoinReply>(req.rid, Status::invalid_room);
    }
    // The broker should never forward a bad nick; refusing keeps a broker bug from creating odd members.
    if (!valid_nick(req.nick)) {
        return failure<JoinReply>(req.rid, Status::bad_request, "nick");
    }
    std::string folded = fold_name(req.room);
    auto [it, created] = rooms_.try_emplace(folded, folded, limits_.history);
    ServedRoom& room = it->second;

    JoinReply r;
    r.rid = req.rid;
    r.room = folded;
    if (!room.add_member(req.nick)) {
        return r;  // already a member: ok, joined=false, seq=0, no event
    }
    r.joined = true;
    r.seq = events.emplace_back(room.append(event_kind::join, req.nick, {})).seq;
    return r;
}

LeaveReply RoomTable::leave(const Leave& req, std::vector<Event>& events) {
    if (!valid_room(req.room)) {
        return failure<LeaveReply>(req.rid, Status::invalid_room);
    }
    std::string folded = fold_name(req.room);
    ServedRoom* room = find_mut(folded);
    // The document lists not_member, not no_such_room, for LEAVE: a room that never existed has no members.
    if (!room || !room->is_member(req.nick)) {
        return failure<LeaveReply>(req.rid, Status::not_member);
    }
    std::string spelled = room->spelling(req.nick);
    room->remove_member(req.nick);

    LeaveReply r;
    r.rid = req.rid;
    r.room = folded;
    r.seq = events.emplace_back(room->append(event_kind::leave, spelled, {})).seq;
    return r;
}

SendReply RoomTable::send(const Send& req, std::vector<Event>& events) {
    return send_texts(req, events);
}

SendReply RoomTable::send(const SendView& req, std::vector<Event>& events) {
    return send_texts(req, events);
}

template <class Req>
SendReply RoomTable::send_texts(const Req& req, std::vector<Event>& events) {
    if (!valid_room(req.room)) {
        return failure<SendReply>(req.rid, Status::invalid_room);
    }
    if (req.texts.empty()) {
        return failure<SendReply>(req.rid, Status::invalid_text, "no texts");
    }
    if (req.texts.size() > limits_.max_batch) {
        return failure<SendReply>(req.rid, Status::batch_too_large,
                                  "at most " + std::to_string(limits_.max_batch));
    }
    // The batch is validated as a whole before anything is published.
    for (std::size_t i = 0; i < req.texts.size(); ++i) {
        if (Status s = text_status(req.texts[i], limits_.max_text); s != Status::ok) {
            return failure<SendReply>(req.rid, s, "text " + std::to_string(i + 1));
        }
    }
    std::string folded = fold_name(req.room);
    ServedRoom* room = find_mut(folded);
    if (!room) {
        return failure<SendReply>(req.rid, Status::no_such_room);
    }
    if (!room->is_member(req.nick)) {
        return failure<SendReply>(req.rid, Status::not_member);
    }
    std::string spelled = room->spelling(req.nick);

    SendReply r;
    r.rid = req.rid;
    r.room = folded;
    for (const auto& text : req.texts) {
        const Event& e = events.emplace_back(room->append(event_kind::message, spelled, text));
        if (r.first_seq == 0) {
            r.first_seq = e.seq;
        }
        r.last_seq = e.seq;
    }
    return r;
}

WhoReply RoomTable::who(const Who& req) const {
    if (!valid_room(req.room)) {
        return failure<WhoReply>(req.rid, Status::invalid_room);
    }
    std::string folded = fold_name(req.room);
    const ServedRoom* room = find(folded);
    if (!room) {
        return failure<WhoReply>(req.rid, Status::no_such_room);
    }
    WhoReply r;
    r.rid = req.rid;
    r.room = folded;
    r.members = room->members();
    return r;
}

HistoryReply RoomTable::history(const History& req) const {
    if (!valid_room(req.room)) {
        return failure<HistoryReply>(req.rid, Status::invalid_room);
    }
    std::string folded = fold_name(req.room);
    const ServedRoom* room = find(folded);
    if (!room) {
        return failure<HistoryReply>(req.rid, Status::no_such_room);
    }
    HistoryReply r;
    r.rid = req.rid;
    r.room = folded;
    r.events = room->history(req.last, req.since);
    // One page: within the 1,024-element decode limit and far below any frame limit; the client asks again
    // from the last seq for the rest (docs/protocol.md, HISTORY).
    std::size_t n = 0, bytes = 0;
    for (; n < r.events.size() && n < kHistoryPageEvents; ++n) {
        const Event& e = r.events[n];
        bytes += e.room.size() + e.kind.size() + e.nick.size() + e.text.size() + 64;
        if (n > 0 && bytes > kHistoryPageBytes) break;
    }
    if (n < r.events.size()) {
        r.events.resize(n);
        r.more = true;
    }
    return r;
}

}  // namespace chatbus
