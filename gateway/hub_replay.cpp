// Persistent sessions (docs/mqtt.md, "Sessions"): what a session with clean session 0 missed in its rooms while
// it had no connection comes from HISTORY when it is back, before any later event of those rooms.
#include <algorithm>

#include "common/json_forms.hpp"
#include "common/names.hpp"
#include "gateway/hub.hpp"
#include "gateway/topic_scheme.hpp"

namespace chatbus::gateway {

void Hub::keep_session(MqttSession& s, const std::string& key) {
    kept_[key] = Kept{s.subscriptions(), now_ms_ + opt_.session_expiry_ms, s.room_seqs()};
}

void Hub::start_replay(MqttSession& s, const std::string& room, std::uint64_t after) {
    replays_[{&s, room}] = Replay{after, {}};
    std::weak_ptr<bool> alive = s.liveness();
    MqttSession* sp = &s;
    ask(History{0, room, 0, after}, [this, alive, sp, room](const HistoryReply& r) {
        if (auto a = alive.lock(); !a || !*a) return;
        on_replay_page(*sp, room, r);
    });
}

void Hub::on_replay_page(MqttSession& s, const std::string& room, const HistoryReply& r) {
    auto it = replays_.find({&s, room});
    if (it == replays_.end()) return;
    Replay& rep = it->second;
    auto qos = s.subscriptions().room_qos(room);
    std::string topic = room_topic_of(room);
    auto deliver = [&](const Event& e) {
        rep.after = std::max(rep.after, e.seq);
        if (qos && s.take_seq(room, e.seq)) s.deliver(topic, json_text(event_json(e)), *qos);
    };
    // A failed page leaves the gap (the session can ask `history` itself); the held events still go out.
    if (r.status == 0) {
        for (const Event& e : r.events) deliver(e);
        if (r.more) {
            std::uint64_t after = rep.after;
            replays_.erase(it);
            return start_replay(s, room, after);
        }
    }
    for (const Event& e : rep.held) deliver(e);
    replays_.erase(it);
}

bool Hub::held_for_replay(MqttSession& s, const std::string& room, const Event& e) {
    auto it = replays_.find({&s, room});
    if (it == replays_.end()) return false;
    it->second.held.push_back(e);
    return true;
}

}  // namespace chatbus::gateway
