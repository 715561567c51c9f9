#include "broker/room_mirror.hpp"

#include "common/codec.hpp"
#include "common/event_kind.hpp"
#include "common/names.hpp"

namespace chatbus {

std::string_view KeptEvent::body() const {
    const std::string_view f = frame;
    const std::size_t topic_end = f.find('\0');
    if (topic_end == std::string_view::npos || f.size() < topic_end + 1 + kHeaderSize) return {};
    return f.substr(topic_end + 1 + kHeaderSize);
}

RoomCopy* RoomMirror::find(const std::string& room) {
    auto it = rooms_.find(room);
    return it == rooms_.end() ? nullptr : &it->second;
}

const RoomCopy* RoomMirror::find(const std::string& room) const {
    auto it = rooms_.find(room);
    return it == rooms_.end() ? nullptr : &it->second;
}

std::optional<MembershipChange> RoomMirror::apply(RoomCopy& r, const EventView& e, std::string_view frame,
                                                  bool& seq_break) {
    seq_break = e.seq != r.seq + 1;
    r.seq = e.seq;
    if (history_limit_ == 0) {
        // Nothing kept: HISTORY answers no events, as a worker configured the same way does.
    } else if (r.history.size() >= history_limit_) {
        // Reuse the oldest string's buffer: no allocation once the ring is full.
        KeptEvent oldest = std::move(r.history.front());
        r.history.pop_front();
        oldest.seq = e.seq;
        oldest.frame.assign(frame);
        r.history.push_back(std::move(oldest));
    } else {
        r.history.push_back(KeptEvent{e.seq, std::string(frame)});
    }
    if (e.kind == event_kind::join) {
        std::string key = fold_name(e.nick);
        r.members[key] = std::string(e.nick);
        return MembershipChange{std::move(key), true};
    }
    if (e.kind == event_kind::leave) {
        std::string key = fold_name(e.nick);
        r.members.erase(key);
        return MembershipChange{std::move(key), false};
    }
    return std::nullopt;
}

WState RoomMirror::state_of(const std::string& room) const {
    WState s{room};
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return s;
    s.seq = it->second.seq;
    for (const auto& [key, nick] : it->second.members) s.members.push_back(nick);
    for (const auto& kept : it->second.history) {
        Event e;
        Decoded d;
        if (decode_topic_frame(kept.frame, d) == Status::ok && body_as(d, e) == Status::ok) {
            s.history.push_back(std::move(e));
        }
    }
    return s;
}

bool RoomMirror::adopt(const WState& s) {
    RoomCopy& r = rooms_[s.room];
    if (r.seq >= s.seq && r.seq > 0) return false;
    r.seq = s.seq;
    r.members.clear();
    for (const auto& nick : s.members) r.members[fold_name(nick)] = nick;
    r.history.clear();
    const std::string topic = room_topic(s.room);
    for (const auto& e : s.history) r.history.push_back(KeptEvent{e.seq, encode_with_topic(topic, e)});
    while (r.history.size() > history_limit_) r.history.pop_front();
    return true;
}

std::vector<RoomInfo> RoomMirror::list(std::string_view after, std::size_t max, bool& more) const {
    std::vector<RoomInfo> out;
    more = false;
    auto it = after.empty() ? rooms_.begin() : rooms_.upper_bound(std::string(after));
    for (; it != rooms_.end(); ++it) {
        if (it->second.members.empty()) continue;
        if (out.size() == max) {
            more = true;
            break;
        }
        out.push_back({it->first, it->second.members.size()});
    }
    return out;
}

std::size_t RoomMirror::rooms_with_members() const {
    std::size_t n = 0;
    for (const auto& [name, r] : rooms_) n += r.members.empty() ? 0 : 1;
    return n;
}

}  // namespace chatbus
