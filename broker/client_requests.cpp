// The client endpoint: requests and notifications from chatctl and other clients.
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "broker/client_replies.hpp"
#include "common/clock.hpp"
#include "common/curve.hpp"
#include "common/names.hpp"
#include "common/requests.hpp"
#include "common/socket_util.hpp"
#include "broker/with_nick.hpp"

namespace chatbus {

void Broker::on_client_message(std::vector<zmq::message_t>& parts) {
    // [routing id][frame]: a DEALER sending one frame. A multipart message is answered as its first frame,
    // with bad_request (docs/protocol.md, "How errors are answered").
    if (parts.size() < 2) {
        ++stats_.dropped.malformed;
        return;
    }
    std::string client(view(parts[0]));
    std::string_view frame = view(parts[1]);
    ++stats_.requests;
    if (zap_) {
        const CurvePeer peer = curve_peer(curve_user_id(parts[1]));
        caller_gateway_key_ = peer.gateway;
        if (registry_.binds_keys()) registry_.set_caller(peer.key, peer.gateway);
    }
    // Only the header and a bounded prefix of an oversized frame are read, to find its reply type and rid.
    const bool oversized = frame.size() > cfg_.max_frame;
    std::string_view readable = oversized ? frame.substr(0, cfg_.max_frame) : frame;
    std::optional<MsgType> type = frame_type(frame);
    const bool notification = type && is_client_notification(*type);
    if (Status gate = admit_client(client, type.value_or(MsgType::error), mono_ms()); gate != Status::ok) {
        if (notification) return;  // counted as refused; a notification is never answered
        return reply_error_to(client, readable, gate);
    }
    Decoded d;
    Status s = Status::ok;
    std::string_view detail;
    if (parts.size() > 2) {
        s = Status::bad_request;
        detail = "a message must be one frame";
    } else if (oversized) {
        s = Status::too_large;
        detail = "over max_frame";
    } else {
        s = decode(frame, d);
    }
    if (s != Status::ok) {
        if (s == Status::too_large) {
            stats_.count_refused(s);
        } else {
            ++stats_.dropped.malformed;
        }
        if (notification) return;  // notifications get no reply, even to say they were bad
        return reply_error_to(client, readable, s, detail);
    }
    handle_request(client, d, frame);
}

void Broker::handle_request(const std::string& client, Decoded& d, std::string_view raw) {
    // Runs `handle` on the body as request type Req, or answers bad_request in Req's reply type.
    auto on = [&]<class Req>(std::type_identity<Req>, auto&& handle) {
        Req req;
        if (body_as(d, req) == Status::ok) return handle(req);
        ++stats_.dropped.malformed;
        if (!is_client_notification(d.type)) reply_error(client, d.type, peek_rid(d), Status::bad_request);
    };
    auto route = [&](const auto& r) { accept_room_request(client, r, raw); };
    switch (d.type) {
        case MsgType::hello:
            return on(std::type_identity<Hello>{}, [&](const Hello& r) { on_hello(client, r); });
        case MsgType::register_nick:
            return on(std::type_identity<Register>{}, [&](const Register& r) { on_register(client, r); });
        case MsgType::unregister:
            return on(std::type_identity<Unregister>{},
                      [&](const Unregister& r) { on_unregister(client, r); });
        case MsgType::join:
            return on(std::type_identity<Join>{}, route);
        case MsgType::leave:
            return on(std::type_identity<Leave>{}, route);
        case MsgType::send:
            return on(std::type_identity<SendHead>{}, route);
        case MsgType::who:
            return on(std::type_identity<Who>{}, [&](const Who& r) { on_who(client, r, raw); });
        case MsgType::history:
            return on(std::type_identity<History>{}, [&](const History& r) { on_history(client, r, raw); });
        case MsgType::dm:
            return on(std::type_identity<Dm>{}, [&](const Dm& r) { on_dm(client, r); });
        case MsgType::rooms:
            return on(std::type_identity<Rooms>{}, [&](const Rooms& r) { on_rooms(client, r); });
        case MsgType::listen:
            return on(std::type_identity<Listen>{}, [&](const Listen& r) { on_listen(client, r); });
        case MsgType::ping:
            return on(std::type_identity<Ping>{}, [&](const Ping& r) { on_ping(client, r); });
        case MsgType::status:
            return on(std::type_identity<StatusRequest>{},
                      [&](const StatusRequest& r) { on_status(client, r); });
        case MsgType::dm_ack:
            return on(std::type_identity<DmAck>{}, [&](const DmAck& a) { on_dm_ack(client, a); });
        case MsgType::unlisten:
            return on(std::type_identity<Unlisten>{}, [&](const Unlisten& u) { on_unlisten(client, u); });
        default:
            // A known type that clients never send (a reply, an event, a worker message).
            ++stats_.dropped.malformed;
            return reply(client, ErrorReply{peek_rid(d)}, Status::unknown_type);
    }
}

void Broker::on_hello(const std::string& client, const Hello& r) {
    // Without CURVE no connection is authenticated, and a claim gives no more than opening more connections
    // would (docs/security.md); with it, only a gateway key may claim.
    if (r.gateway && zap_ && !caller_gateway_key_) {
        spdlog::info("gateway claim from a connection without a gateway key refused");
        clients_.set_gateway(client, false, mono_ms());
        return reply(client, HelloReply{r.rid}, Status::not_authorized, "not a gateway key");
    }
    clients_.set_gateway(client, r.gateway, mono_ms());
    Limits lim{cfg_.max_text, cfg_.max_batch, cfg_.max_frame,
               cfg_.history,  cfg_.inbox,     static_cast<std::uint64_t>(cfg_.heartbeat_ms)};
    std::string events = cfg_.events_advertise.empty() ? bound_.events : cfg_.events_advertise;
    reply(client, HelloReply{r.rid, 0, {}, kProtocolVersion, events, lim, boot_, r.gateway});
}

void Broker::on_ping(const std::string& client, const Ping& r) {
    // A listening socket's PING is the heartbeat of every nick it listens for.
    ListenerSocket* s = registry_.listener_socket(client);
    if (s) {
        s->seen_ms = mono_ms();
        // Only listeners (token holders) report what their events socket lost: one SUB socket, one report,
        // however many nicks it listens for.
        stats_.add_slow_subscriber(r.missed);
    }
    reply(client, PingReply{r.rid, 0, {}, boot_, s != nullptr, s ? s->nicks.size() : 0});
}

void Broker::on_register(const std::string& client, const Register& r) {
    RegisterReply rep{r.rid};
    if (valid_nick(r.nick) && reserved_nick(r.nick)) {
        stats_.count_refused(Status::reserved_name);
        return reply(client, std::move(rep), Status::reserved_name, r.nick);
    }
    Status s = registry_.register_nick(r.nick, rep.token);
    if (s == Status::ok) {
        rep.nick = r.nick;
        // Written (and synced, by default) before the token is handed out: a registration the client saw
        // survives a broker crash.
        if (store_) {
            const NickEntry* e = registry_.find(r.nick);
            store_->record_register(r.nick, e->token_hash, e->key);
        }
        spdlog::info("registered {}", r.nick);
    }
    reply(client, std::move(rep), s);
}

void Broker::on_unregister(const std::string& client, const Unregister& r) {
    NickEntry* e = nullptr;
    Status s = registry_.authenticate(r.nick, r.token, e);
    if (s != Status::ok) return reply(client, UnregisterReply{r.rid}, s);
    // The nick leaves its rooms through their owners, so members see leave events.
    std::int64_t deadline = mono_ms() + cfg_.request_timeout_ms;
    for (const std::string& room : e->rooms) {
        Leave leave{0, e->display, {}, room};
        router_.submit(PendingRequest{{}, 0, MsgType::leave, room, encode(leave), {}, deadline});
    }
    if (e->listener) send_to_client(*e->listener, encode(ListenEnd{e->display, "unregistered"}));
    if (store_) store_->record_unregister(e->display);
    spdlog::info("unregistered {}", e->display);
    registry_.remove(r.nick);
    reply(client, UnregisterReply{r.rid});
}

template <class Req>
void Broker::accept_room_request(const std::string& client, const Req& r, std::string_view raw) {
    using Reply = reply_of_t<Req>;
    std::string request;
    NickEntry* actor = nullptr;
    if constexpr (requires { r.token; }) {
        NickEntry* e = nullptr;
        Status s = registry_.authenticate(r.nick, r.token, e);
        if (s != Status::ok) return reply(client, Reply{r.rid}, s);
        actor = e;
        // Workers show the nick as they get it; give them the registered spelling (rarely differs).
        if (r.nick != e->display) request = with_nick(r, raw, e->display);
    }
    if (!valid_room(r.room)) return reply(client, Reply{r.rid}, Status::invalid_room);
    if (actor) {
        if (Status ls = admit_acting(*actor, Req::kType, r.room, mono_ms()); ls != Status::ok) {
            return reply(client, Reply{r.rid}, ls);
        }
    }
    if (!router_.can_route()) return reply(client, Reply{r.rid}, Status::no_worker);
    if (request.empty()) request = raw;
    router_.submit(PendingRequest{client, r.rid, Req::kType, fold_name(r.room), std::move(request), {},
                                  mono_ms() + cfg_.request_timeout_ms});
}

// WHO and HISTORY reach a worker only while a restarted broker waits for its rooms (room_reads.cpp).
template void Broker::accept_room_request<Who>(const std::string&, const Who&, std::string_view);
template void Broker::accept_room_request<History>(const std::string&, const History&, std::string_view);

void Broker::on_dm(const std::string& client, const Dm& r) {
    NickEntry* from = nullptr;
    Status s = registry_.authenticate(r.nick, r.token, from);
    if (s != Status::ok) return reply(client, DmReply{r.rid}, s);
    if (Status ls = admit_acting(*from, MsgType::dm, {}, mono_ms()); ls != Status::ok) {
        return reply(client, DmReply{r.rid}, ls);
    }
    NickEntry* to = registry_.find(r.to);
    if (!to) return reply(client, DmReply{r.rid}, Status::unknown_nick, r.to);
    if (Status s = text_status(r.text, cfg_.max_text); s != Status::ok) return reply(client, DmReply{r.rid}, s);
    if (to->inbox.full()) return reply(client, DmReply{r.rid}, Status::inbox_full, to->display);
    const DmDeliver& dm = to->inbox.push(DmDeliver{0, from->display, to->display, r.text, wall_ms()});
    DmReply rep{r.rid, 0, {}, to->display, dm.id, false};
    rep.delivered = to->listener.has_value();
    deliver_inbox(*to);
    reply(client, std::move(rep));
}

void Broker::deliver_inbox(NickEntry& e) {
    if (!e.listener) return;
    bool ok = true;
    e.inbox.deliver_pending([&](const DmDeliver& dm) {
        scratch_.clear();
        encode_into(scratch_, dm);
        ok = send_to_client(*e.listener, scratch_);
        return ok;
    });
    if (!ok) {
        // The socket is gone or full, for all its nicks alike: detaching them all makes its next PING say
        // `listening` false, so it attaches again. The DMs stay in the inbox for the next listener.
        spdlog::info("listener of {} unreachable, detached from all its nicks", e.display);
        std::string socket = *e.listener;
        registry_.detach_socket(socket);
    }
}

void Broker::on_listen(const std::string& client, const Listen& r) {
    NickEntry* e = nullptr;
    Status s = registry_.authenticate(r.nick, r.token, e);
    if (s != Status::ok) return reply(client, ListenReply{r.rid}, s);
    if (e->listener && *e->listener != client) {
        send_to_client(*e->listener, encode(ListenEnd{e->display, "replaced"}));
    }
    registry_.attach_listener(*e, client, mono_ms());
    ListenReply rep{r.rid};
    rep.rooms.assign(e->rooms.begin(), e->rooms.end());
    reply(client, std::move(rep));
    deliver_inbox(*e);
}

void Broker::on_dm_ack(const std::string& client, const DmAck& a) {
    // Only the nick's own listener may acknowledge: anyone else could empty an inbox unread.
    NickEntry* e = registry_.listened_by(client, a.nick);
    if (!e) {
        ++stats_.dropped.malformed;
        return;
    }
    registry_.listener_socket(client)->seen_ms = mono_ms();
    e->inbox.ack(a.upto);
}

void Broker::on_unlisten(const std::string& client, const Unlisten& u) {
    if (NickEntry* e = registry_.listened_by(client, u.nick)) registry_.detach_listener(*e);
}

void Broker::expire_listeners(std::int64_t now) {
    registry_.expire_listeners(now - cfg_.heartbeat_ms * cfg_.liveness,
                               [&](const std::string& socket, NickEntry& e) {
                                   spdlog::info("listener of {} silent, detached", e.display);
                                   send_to_client(socket, encode(ListenEnd{e.display, "silent"}));
                               });
}

void Broker::on_status(const std::string& client, const StatusRequest& r) {
    StatusReply rep{r.rid};
    rep.nicks = registry_.size();
    rep.rooms = rooms_.rooms_with_members();
    rep.listeners = registry_.listener_count();
    rep.listener_sockets = registry_.listener_socket_count();
    rep.gateways = clients_.gateways();
    rep.inboxed = registry_.inboxed();
    stats_.fill(rep);
    if (zap_) rep.dropped["refused.unknown_key"] = zap_->refused_unknown_key();
    rep.boot = boot_;
    std::int64_t now = mono_ms();
    rep.uptime_ms = static_cast<std::uint64_t>(now - started_ms_);
    std::map<std::string, std::uint64_t> held = router_.rooms_held();
    for (const auto& [rid, w] : router_.workers().all()) {
        if (!w.live || w.draining) continue;
        rep.workers.push_back({w.id, w.host, w.pid, held[rid], w.served,
                               static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - w.last_seen_ms))});
    }
    reply(client, std::move(rep));
}

}  // namespace chatbus
