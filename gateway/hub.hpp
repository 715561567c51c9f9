#pragma once
// The gateway's chat logic between its MQTT sessions and the broker (docs/mqtt.md): which nicks are attached
// and by which sessions, which rooms they are members of, room events fanned out to following sessions in seq
// order (filled from HISTORY after a gap), DMs handed to sessions and acknowledged once taken, and requests.
// All sessions share one broker connection (a BrokerPort); no socket here, so tests drive it directly.
#include <cstdint>
#include <list>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/codec.hpp"
#include "common/messages.hpp"
#include "common/status.hpp"
#include "gateway/broker_port.hpp"
#include "gateway/mqtt_session.hpp"
#include "gateway/pending_calls.hpp"

namespace chatbus::gateway {

struct HubOptions {
    std::int64_t request_timeout_ms = 5000;
    std::int64_t session_expiry_ms = 3600 * 1000;
};

// Counters shown in the `status` request's `gateway` part.
struct GatewayCounters {
    std::uint64_t slow_consumer = 0, malformed = 0, flood = 0, keepalive = 0;
};

class Hub {
  public:
    using Done = std::function<void(Status, std::string detail)>;

    Hub(BrokerPort& broker, HubOptions opt);
    ~Hub();

    // The broker connection's life.
    void start(std::int64_t now_ms);
    void on_broker_frame(std::string_view frame);
    void on_event_frame(std::string_view frame);
    // Deadlines: request timeouts, the heartbeat to the broker, kept sessions' expiry.
    void tick(std::int64_t now_ms);
    bool broker_up() const { return up_; }
    // Runs once, when the broker first answers HELLO (the gateway's --ready-file is written then).
    void on_first_up(std::function<void()> f) { on_first_up_ = std::move(f); }

    // From sessions (each answers through the session's own methods or the callback).
    void connect(MqttSession& s, std::string_view nick, const std::string& token);
    void connect_anonymous(MqttSession& s);
    void follow(MqttSession& s, const std::string& room, std::function<void(Status)> done);
    void dms_wanted(MqttSession& s);
    void publish(MqttSession& s, const std::string& topic, std::string payload, Done done);
    void session_ended(MqttSession& s, CloseReason why);

    const GatewayCounters& counters() const { return counters_; }
    std::size_t session_count() const { return accepted_.size(); }
    std::size_t kept_count() const { return kept_.size(); }
    std::size_t nick_count() const { return nicks_.size(); }
    std::size_t room_count() const { return rooms_.size(); }
    const Limits& limits() const { return limits_; }

  private:
    struct HeldDm {
        DmDeliver d;
        bool taken = false;
    };
    struct NickState {
        std::string display, token;
        std::vector<MqttSession*> sessions;
        std::set<std::string> rooms;  // folded names of the rooms it is a member of
        std::list<HeldDm> dms;  // delivered by the broker, not yet acknowledged (a list: empty, it takes no memory)
        std::uint64_t seen = 0;       // highest DM id received
        bool attached = false;        // this gateway is the nick's listener (false once another took it)
        bool unregistering = false;   // a session asked to unregister it: its sessions close after the reply
    };
    struct RoomState {
        std::set<std::string> nicks;  // attached nicks (folded) that are members
        std::uint64_t last = 0;       // seq of the last event delivered
        bool known = false;           // `last` is set; otherwise the first fill only finds the newest seq
        bool filling = false;         // a HISTORY fill is in flight: live events wait in `held`
        bool synced = false;          // the events socket's subscription is known to be active
        std::map<std::uint64_t, Event> held;
    };
    struct Kept {
        Subscriptions subs;
        std::int64_t expires_ms;
        std::unordered_map<std::string, std::uint64_t> room_seqs;  // the session's last seq delivered per room
    };
    // A resumed persistent session's room being caught up from HISTORY: live events wait in `held`.
    struct Replay {
        std::uint64_t after;
        std::vector<Event> held;
    };

    // Sends `req` with a fresh rid; `on_reply` gets its reply, or one with only status and error when the broker
    // refused the frame, did not answer within the request timeout, or could not be reached.
    template <class Req, class F>
    void ask(Req req, F on_reply);
    void call(std::uint64_t rid, const std::string& frame, PendingCalls::Callback cb);
    void listen_all();
    std::size_t attached_nicks() const;
    void on_listen_ok(const std::string& folded, const ListenReply& r);

    // hub_rooms.cpp
    void add_member(NickState& n, const std::string& room, std::uint64_t joined_seq);
    void remove_member(NickState& n, const std::string& room);
    void sync_rooms(std::vector<std::string> rooms);
    void on_sync(std::string_view nonce);
    void fill(const std::string& room);
    void on_fill(const std::string& room, const HistoryReply& r);
    void on_live_event(Event e);
    void release_held(RoomState& st, const std::string& room);
    void fan_out(const std::string& room, const Event& e);

    // hub_replay.cpp
    void keep_session(MqttSession& s, const std::string& key);
    void start_replay(MqttSession& s, const std::string& room, std::uint64_t after);
    void on_replay_page(MqttSession& s, const std::string& room, const HistoryReply& r);
    // True when `e` was held for a replay of its room to `s` (delivered when the replay is done).
    bool held_for_replay(MqttSession& s, const std::string& room, const Event& e);

    // hub_dms.cpp
    void on_dm(DmDeliver d);
    // `d` is a copy, never an element of the nick's held DMs, which taking it may pop.
    void offer_dm(const std::string& folded, MqttSession& s, const DmDeliver& d);
    void dm_taken(const std::string& folded, std::uint64_t id);
    void on_membership(const Membership& m);
    void on_listen_end(const ListenEnd& e);

    // hub_requests.cpp
    void request(MqttSession& s, const std::string& handler, const std::string& msgid, const std::string& payload,
                 Done done);
    void reply(MqttSession& s, const std::string& handler, const std::string& msgid, std::string json);

    NickState* nick_of(const MqttSession& s);
    void detach(NickState& n, MqttSession& s);
    void close_sessions(NickState& n, CloseReason why);

    BrokerPort& broker_;
    HubOptions opt_;
    PendingCalls pending_;
    std::uint64_t next_rid_ = 0, next_nonce_ = 0;
    std::int64_t now_ms_ = 0, next_ping_ms_ = 0, last_pong_ms_ = 0, next_hello_ms_ = 0;
    bool up_ = false, hello_done_ = false;
    std::string boot_;
    Limits limits_;
    std::unordered_map<std::string, NickState> nicks_;  // by folded nick
    std::unordered_map<std::string, RoomState> rooms_;  // by folded room
    std::unordered_map<std::string, std::uint64_t> last_delivered_;  // rooms no longer followed: their last seq
    std::map<std::string, std::vector<std::string>> syncs_;  // nonce -> rooms waiting for it
    std::map<std::string, MqttSession*> by_key_;        // folded nick + '\0' + client id
    std::map<std::string, Kept> kept_;
    std::map<std::pair<const MqttSession*, std::string>, Replay> replays_;
    std::unordered_set<const MqttSession*> accepted_;  // sessions that got CONNACK 0 and have not ended
    GatewayCounters counters_;
    std::function<void()> on_first_up_;
};

template <class Req, class F>
void Hub::ask(Req req, F on_reply) {
    req.rid = ++next_rid_;
    call(req.rid, encode(req), [on_reply = std::move(on_reply)](Status s, const Decoded* d) mutable {
        typename Req::Reply r{};
        if (s == Status::ok && d) {
            // An ERROR frame or a reply that does not convert is the broker refusing the frame itself.
            if (d->type != Req::Reply::kType || body_as(*d, r) != Status::ok) {
                r = {};
                r.status = static_cast<std::uint64_t>(Status::bad_request);
                if (d->type == MsgType::error) r.status = field_u64(*d, "status").value_or(r.status);
            }
        } else {
            r.status = static_cast<std::uint64_t>(s == Status::ok ? Status::internal : s);
        }
        if (r.status != 0 && r.error.empty()) r.error = std::string(status_message(status_from_wire(r.status)));
        on_reply(r);
    });
}

}  // namespace chatbus::gateway
