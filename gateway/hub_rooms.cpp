// Room events: one events-socket subscription per room with an attached member here, fanned out to the
// sessions that follow the room, in seq order and without repeats (docs/mqtt.md, "Rooms").
#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/codec.hpp"
#include "common/names.hpp"
#include "gateway/hub.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "common/json_forms.hpp"
#include "gateway/topic_scheme.hpp"

namespace chatbus::gateway {

namespace {
constexpr std::size_t kLastDeliveredKept = 100000;
}  // namespace

void Hub::add_member(NickState& n, const std::string& room, std::uint64_t joined_seq) {
    if (!n.rooms.insert(room).second) return;
    spdlog::debug("{} is a member of {} (seq {})", n.display, room, joined_seq);
    auto [it, fresh] = rooms_.try_emplace(room);
    RoomState& st = it->second;
    st.nicks.insert(fold_name(n.display));
    if (fresh) {
        // The join's own event is the first to deliver: start just before it, or after the last event delivered
        // when the room was followed before (a broker restart can take a membership away for a moment).
        std::uint64_t before = 0;
        if (auto l = last_delivered_.find(room); l != last_delivered_.end()) {
            before = l->second;
            last_delivered_.erase(l);
        }
        if (joined_seq > 0 || before > 0) {
            st.last = std::max(before, joined_seq > 0 ? joined_seq - 1 : 0);
            st.known = true;
        }
        broker_.subscribe(room_topic(room));
        sync_rooms({room});
    }
}

void Hub::remove_member(NickState& n, const std::string& room) {
    if (n.rooms.erase(room) == 0) return;
    spdlog::debug("{} is no longer a member of {}", n.display, room);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    it->second.nicks.erase(fold_name(n.display));
    if (!it->second.nicks.empty()) return;
    broker_.unsubscribe(room_topic(room));
    if (it->second.known) {
        // Bounded: forgetting only costs a repeat after a membership that comes back.
        if (last_delivered_.size() >= kLastDeliveredKept) last_delivered_.clear();
        last_delivered_[room] = it->second.last;
    }
    rooms_.erase(it);
}

// Until the broker has seen the subscription, events of the room may be missed: the SYNC that follows it
// (protocol.md, "Knowing when subscriptions are active") starts a fill from HISTORY.
void Hub::sync_rooms(std::vector<std::string> rooms) {
    if (rooms.empty()) return;
    std::string nonce = "gw" + std::to_string(++next_nonce_);
    syncs_[nonce] = std::move(rooms);
    broker_.subscribe(sync_topic(nonce));
}

void Hub::on_sync(std::string_view nonce) {
    auto it = syncs_.find(std::string(nonce));
    if (it == syncs_.end()) return;
    std::vector<std::string> rooms = std::move(it->second);
    syncs_.erase(it);
    broker_.unsubscribe(sync_topic(nonce));
    for (const auto& room : rooms) {
        auto r = rooms_.find(room);
        if (r == rooms_.end()) continue;
        r->second.synced = true;
        fill(room);
    }
}

void Hub::fill(const std::string& room) {
    RoomState& st = rooms_.at(room);
    if (st.filling) return;
    st.filling = true;
    History h{0, room, 0, 0};
    if (st.known) h.since = st.last;
    else h.last = 1;  // only the newest seq is wanted: a session follows a room from now on
    spdlog::debug("room {}: filling after seq {}", room, st.known ? std::to_string(st.last) : "(unknown)");
    ask(h, [this, room](const HistoryReply& r) { on_fill(room, r); });
}

void Hub::on_fill(const std::string& room, const HistoryReply& r) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    RoomState& st = it->second;
    st.filling = false;
    if (r.status != 0) {
        // no_such_room: nothing to fill yet. Otherwise the held events go out with the gap left as it is,
        // rather than waiting on a broker that does not answer.
        if (status_from_wire(r.status) != Status::no_such_room)
            spdlog::warn("room {}: history fill failed ({}), delivering what arrived", room, r.error);
        if (!st.held.empty() && (!st.known || st.held.begin()->first > st.last + 1))
            st.last = st.held.begin()->first - 1;
        st.known = true;
        return release_held(st, room);
    }
    if (!st.known) {
        st.known = true;
        st.last = r.events.empty() ? 0 : r.events.back().seq;
    } else {
        for (const Event& e : r.events) {
            if (e.seq != st.last + 1) continue;
            st.last = e.seq;
            fan_out(room, e);
        }
        if (r.more) return fill(room);
    }
    release_held(st, room);
}

void Hub::release_held(RoomState& st, const std::string& room) {
    while (!st.held.empty()) {
        auto first = st.held.begin();
        if (first->first <= st.last) {
            st.held.erase(first);
            continue;
        }
        if (first->first != st.last + 1) return fill(room);
        Event e = std::move(first->second);
        st.held.erase(first);
        st.last = e.seq;
        fan_out(room, e);
    }
}

void Hub::on_event_frame(std::string_view frame) {
    Decoded d;
    if (decode_topic_frame(frame, d) != Status::ok) return;
    if (d.type == MsgType::sync) {
        if (auto nonce = field_str(d, "nonce")) on_sync(*nonce);
        return;
    }
    Event e;
    if (d.type != MsgType::event || body_as(d, e) != Status::ok) return;
    on_live_event(std::move(e));
}

void Hub::on_live_event(Event e) {
    auto it = rooms_.find(e.room);
    if (it == rooms_.end()) return;
    RoomState& st = it->second;
    if (st.known && e.seq <= st.last) return;  // a repeat: already delivered (or filled)
    if (st.filling || !st.synced || !st.known || e.seq != st.last + 1) {
        st.held.emplace(e.seq, std::move(e));
        if (st.synced) fill(it->first);
        return;
    }
    st.last = e.seq;
    fan_out(it->first, e);
}

void Hub::fan_out(const std::string& room, const Event& e) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    std::string topic = room_topic_of(room);
    std::string json = json_text(event_json(e));
    std::string qos0;
    mqtt::encode(qos0, mqtt::Publish{false, 0, false, topic, 0, json});
    // Who gets it is settled first: a session closed as a slow consumer while delivering detaches its nick,
    // which may end the room's entry here.
    struct Target {
        MqttSession* s;
        std::uint8_t qos;
    };
    std::vector<Target> targets;
    for (const auto& folded : it->second.nicks) {
        auto n = nicks_.find(folded);
        if (n == nicks_.end()) continue;
        for (MqttSession* s : n->second.sessions)
            if (auto q = s->subscriptions().room_qos(room)) targets.push_back({s, *q});
    }
    for (const Target& t : targets) {
        if (!replays_.empty() && held_for_replay(*t.s, room, e)) continue;
        if (!t.s->take_seq(room, e.seq)) continue;
        if (t.qos == 0) t.s->deliver_encoded(qos0);
        else t.s->deliver(topic, json, 1);
    }
}

}  // namespace chatbus::gateway

namespace chatbus::gateway {

void Hub::follow(MqttSession& s, const std::string& room, std::function<void(Status)> done) {
    NickState* n = nick_of(s);
    if (!n) return done(Status::not_authorized);
    if (n->rooms.contains(room)) return done(Status::ok);
    std::string folded = fold_name(n->display);
    ask(Join{0, s.nick(), s.token(), room}, [this, folded, room, done](const JoinReply& r) {
        Status st = status_from_wire(r.status);
        if (st == Status::ok)
            if (auto it = nicks_.find(folded); it != nicks_.end()) add_member(it->second, room, r.joined ? r.seq : 0);
        done(st);
    });
}

}  // namespace chatbus::gateway
