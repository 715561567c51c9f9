#include "gateway/hub.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "common/codec.hpp"
#include "common/names.hpp"

namespace chatbus::gateway {

namespace {

constexpr auto kConnackUnavailable = mqtt::ConnectReturnCode::server_unavailable;
constexpr auto kConnackNotAuthorized = mqtt::ConnectReturnCode::not_authorized;
constexpr std::int64_t kHelloRetryMs = 200;
constexpr std::int64_t kDefaultHeartbeatMs = 1000;
constexpr std::int64_t kLiveness = 3;

std::string session_key(std::string_view folded_nick, std::string_view client_id) {
    std::string k(folded_nick);
    k.push_back('\0');
    k.append(client_id);
    return k;
}

}  // namespace

Hub::Hub(BrokerPort& broker, HubOptions opt) : broker_(broker), opt_(opt) {}
Hub::~Hub() = default;

void Hub::call(std::uint64_t rid, const std::string& frame, PendingCalls::Callback cb) {
    pending_.add(rid, now_ms_ + opt_.request_timeout_ms, std::move(cb));
    // Not sent: no connection to the broker now; the caller gets `timeout` at once rather than a late send.
    if (!broker_.send(frame)) pending_.answer(rid, Status::timeout, nullptr);
}

void Hub::start(std::int64_t now_ms) {
    now_ms_ = now_ms;
    next_hello_ms_ = now_ms;
    tick(now_ms);
}

void Hub::tick(std::int64_t now_ms) {
    now_ms_ = now_ms;
    pending_.expire(now_ms);
    std::int64_t hb = limits_.heartbeat_ms ? static_cast<std::int64_t>(limits_.heartbeat_ms) : kDefaultHeartbeatMs;
    if (!hello_done_ && now_ms >= next_hello_ms_) {
        next_hello_ms_ = now_ms + kHelloRetryMs;
        Hello h;
        // A gateway carries many users: the broker charges their requests to their nicks, not to this socket.
        h.gateway = true;
        ask(h, [this](const HelloReply& r) {
            if (r.status != 0) {
                if (r.status != static_cast<std::uint64_t>(Status::timeout))
                    spdlog::error("broker refused HELLO: {}", r.error);
                return;
            }
            if (hello_done_) return;
            hello_done_ = true;
            if (!r.gateway) spdlog::warn("the broker did not accept this gateway's claim: its users share one rate limit");
            limits_ = r.limits;
            broker_.connect_events(r.events);
            bool restarted = !boot_.empty() && boot_ != r.boot;
            boot_ = r.boot;
            up_ = true;
            last_pong_ms_ = now_ms_;
            spdlog::info("broker reached (boot {}){}", boot_, restarted ? ", it restarted" : "");
            if (restarted) listen_all();
            if (on_first_up_) std::exchange(on_first_up_, nullptr)();
        });
    }
    if (hello_done_ && now_ms >= next_ping_ms_) {
        next_ping_ms_ = now_ms + hb;
        ask(Ping{}, [this](const PingReply& r) {
            if (r.status != 0) return;
            last_pong_ms_ = now_ms_;
            if (!up_) spdlog::info("broker answers again");
            up_ = true;
            if (r.boot != boot_) {
                // A new broker: claim the gateway role again, then attach every nick and refill every room.
                spdlog::info("broker restarted (boot {} -> {})", boot_, r.boot);
                hello_done_ = false;
                next_hello_ms_ = now_ms_;
                boot_ = r.boot;
                listen_all();
            } else if (r.nicks < attached_nicks()) {
                // The broker lost some of this socket's nicks (detached as silent while the link stalled).
                listen_all();
            }
        });
    }
    if (up_ && now_ms - last_pong_ms_ > kLiveness * hb) {
        spdlog::warn("broker silent for {} ms", now_ms - last_pong_ms_);
        up_ = false;
    }
    for (auto it = kept_.begin(); it != kept_.end();)
        it = it->second.expires_ms < now_ms ? kept_.erase(it) : std::next(it);
}

std::size_t Hub::attached_nicks() const {
    std::size_t n = 0;
    for (const auto& [folded, st] : nicks_) n += st.attached;
    return n;
}

void Hub::listen_all() {
    for (auto& [key, n] : nicks_) {
        std::string folded = key;  // a structured binding cannot be captured (clang 14)
        ask(Listen{0, n.display, n.token}, [this, folded](const ListenReply& r) {
            if (r.status == 0) return on_listen_ok(folded, r);
            auto it = nicks_.find(folded);
            if (it == nicks_.end()) return;
            Status s = status_from_wire(r.status);
            if (s == Status::not_registered || s == Status::bad_token) close_sessions(it->second, CloseReason::unregistered);
        });
    }
    std::vector<std::string> all;
    for (auto& [room, st] : rooms_) {
        st.synced = false;
        all.push_back(room);
    }
    sync_rooms(std::move(all));
}

void Hub::on_listen_ok(const std::string& folded, const ListenReply& r) {
    auto it = nicks_.find(folded);
    if (it == nicks_.end()) return;
    it->second.attached = true;
    std::set<std::string> now(r.rooms.begin(), r.rooms.end());
    auto before = it->second.rooms;
    for (const auto& room : before)
        if (!now.contains(room)) remove_member(it->second, room);
    for (const auto& room : now)
        if (!it->second.rooms.contains(room)) add_member(it->second, room, 0);
}

void Hub::connect(MqttSession& s, std::string_view nick, const std::string& token) {
    if (!up_) return s.refuse(kConnackUnavailable);
    std::string folded = fold_name(nick);
    auto attach = [this, folded, &s] {
        NickState& n = nicks_[folded];
        std::string key = session_key(folded, s.client_id());
        if (auto old = by_key_.find(key); old != by_key_.end() && old->second != &s)
            old->second->close(CloseReason::taken_over);  // MQTT-3.1.4-2
        bool present = false;
        if (auto k = kept_.find(key); k != kept_.end()) {
            if (!s.clean()) {
                s.subscriptions() = std::move(k->second.subs);
                s.restore_room_seqs(std::move(k->second.room_seqs));
                present = true;
            }
            kept_.erase(k);
        }
        by_key_[key] = &s;
        n.sessions.push_back(&s);
        accepted_.insert(&s);
        s.accept(n.display, present);
        if (present && s.subscriptions().dm_qos()) dms_wanted(s);
        if (present)
            for (const auto& [room, last] : s.room_seqs())
                if (n.rooms.contains(room) && s.subscriptions().room_qos(room)) start_replay(s, room, last);
    };
    auto known = nicks_.find(folded);
    if (known != nicks_.end() && known->second.token == token && known->second.attached) return attach();
    // The session may be gone when the answer comes.
    std::weak_ptr<bool> alive = s.liveness();
    auto* sp = &s;
    ask(Listen{0, std::string(nick), token}, [this, folded, nick = std::string(nick), token, alive, sp, attach](
                                                 const ListenReply& r) {
        if (auto a = alive.lock(); !a || !*a || sp->closed()) return;
        if (r.status != 0) {
            Status st = status_from_wire(r.status);
            sp->refuse(st == Status::timeout || st == Status::no_worker ? kConnackUnavailable : kConnackNotAuthorized);
            return;
        }
        NickState& n = nicks_[folded];
        if (n.display.empty()) n.display = nick;
        n.token = token;
        on_listen_ok(folded, r);
        attach();
    });
}

void Hub::connect_anonymous(MqttSession& s) {
    if (!up_) return s.refuse(kConnackUnavailable);
    accepted_.insert(&s);
    s.accept({}, false);
}

void Hub::close_sessions(NickState& n, CloseReason why) {
    auto sessions = n.sessions;  // closing detaches them, which erases `n` with the last
    for (MqttSession* s : sessions) s->close(why);
}

Hub::NickState* Hub::nick_of(const MqttSession& s) {
    if (s.nick().empty()) return nullptr;
    auto it = nicks_.find(fold_name(s.nick()));
    return it == nicks_.end() ? nullptr : &it->second;
}

void Hub::session_ended(MqttSession& s, CloseReason why) {
    if (why == CloseReason::slow_consumer) ++counters_.slow_consumer;
    if (why == CloseReason::malformed) ++counters_.malformed;
    if (why == CloseReason::flood) ++counters_.flood;
    if (why == CloseReason::keepalive) ++counters_.keepalive;
    if (accepted_.erase(&s) == 0) return;
    if (NickState* n = nick_of(s)) detach(*n, s);
}

void Hub::detach(NickState& n, MqttSession& s) {
    auto it = std::find(n.sessions.begin(), n.sessions.end(), &s);
    if (it == n.sessions.end()) return;
    n.sessions.erase(it);
    std::string folded = fold_name(n.display);
    std::string key = session_key(folded, s.client_id());
    if (auto k = by_key_.find(key); k != by_key_.end() && k->second == &s) by_key_.erase(k);
    if (!s.clean()) keep_session(s, key);
    for (auto r = replays_.lower_bound({&s, std::string()}); r != replays_.end() && r->first.first == &s;)
        r = replays_.erase(r);
    if (!n.sessions.empty()) return;
    // Nobody here needs the nick any more: its DMs wait in its broker inbox for the next session.
    broker_.send(encode(Unlisten{n.display}));
    auto rooms = n.rooms;
    for (const auto& room : rooms) remove_member(n, room);
    nicks_.erase(folded);
}

}  // namespace chatbus::gateway

namespace chatbus::gateway {

void Hub::on_broker_frame(std::string_view frame) {
    Decoded d;
    if (decode(frame, d) != Status::ok) {
        spdlog::warn("undecodable frame from the broker ({} bytes), dropped", frame.size());
        return;
    }
    switch (d.type) {
        case MsgType::dm_deliver: {
            DmDeliver m;
            if (body_as(d, m) == Status::ok) on_dm(std::move(m));
            return;
        }
        case MsgType::membership: {
            Membership m;
            if (body_as(d, m) == Status::ok) on_membership(m);
            return;
        }
        case MsgType::listen_end: {
            ListenEnd m;
            if (body_as(d, m) == Status::ok) on_listen_end(m);
            return;
        }
        default:
            // A reply: its rid says whose. One nobody waits for (timed out) is dropped.
            pending_.answer(peek_rid(d), Status::ok, &d);
    }
}

}  // namespace chatbus::gateway
