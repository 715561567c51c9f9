// The worker endpoint: decoding what workers send, passing it to the router, and publishing the events their
// replies carry. Also the RouterOutbox: what the router decides to send goes out here.
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "common/clock.hpp"
#include "common/msgpack_peek.hpp"
#include "common/names.hpp"
#include "common/socket_util.hpp"
#include "common/worker_messages.hpp"

namespace chatbus {

void Broker::to_worker(const std::string& worker, std::string_view frame) {
    if (!send_frames(worker_, {worker, frame})) ++stats_.dropped.unroutable;
}

bool Broker::forward(const std::string& worker, std::uint64_t bid, std::string_view request) {
    scratch_.clear();
    encode_into(scratch_, WRequest{bid});
    // ROUTER_MANDATORY: false when the worker's connection is gone.
    return send_frames(worker_, {worker, scratch_, request});
}

void Broker::fail(const PendingRequest& p, Status s) {
    reply_error(p.client, p.type, p.rid, s);
}

void Broker::on_worker_message(std::vector<zmq::message_t>& parts) {
    if (parts.size() < 2) {
        ++stats_.dropped.malformed;
        return;
    }
    std::string routing_id(view(parts[0]));
    Decoded d;
    // A W_STATE carries a whole room, whose members and history may exceed the network's array limit.
    std::string_view first = view(parts[1]);
    const bool state = first.size() > 3 &&
                       static_cast<std::uint8_t>(first[3]) == static_cast<std::uint8_t>(MsgType::w_state);
    if ((state ? decode_sized(first, d) : decode(first, d)) != Status::ok) {
        ++stats_.dropped.malformed;
        return;
    }
    std::int64_t now = mono_ms();
    if (d.type == MsgType::w_ready) {
        WReady r;
        if (body_as(d, r) != Status::ok || r.worker.empty()) {
            ++stats_.dropped.malformed;
            return;
        }
        router_.worker_ready(routing_id, r, now);
        to_worker(routing_id, encode(WWelcome{boot_, static_cast<std::uint64_t>(cfg_.heartbeat_ms),
                                              static_cast<std::uint64_t>(cfg_.liveness), cfg_.max_text,
                                              cfg_.max_batch, cfg_.history}));
        return;
    }
    if (!router_.knows(routing_id)) {
        // A worker we do not know (we restarted, or declared it dead): make it start over with READY.
        if (d.type != MsgType::w_disconnect) to_worker(routing_id, encode(WDisconnect{"unknown worker"}));
        return;
    }
    switch (d.type) {
        case MsgType::w_heartbeat:
            router_.heard(routing_id, now);
            return;
        case MsgType::w_disconnect:
            return router_.worker_draining(routing_id);
        case MsgType::w_reply:
            router_.heard(routing_id, now);
            return on_worker_reply(routing_id, d, parts);
        case MsgType::w_state: {
            WState s;
            if (body_as(d, s) != Status::ok || !valid_room(s.room)) {
                ++stats_.dropped.malformed;
                return;
            }
            router_.heard(routing_id, now);
            return on_worker_state(routing_id, s);
        }
        default:
            ++stats_.dropped.malformed;
            return;
    }
}

void Broker::on_worker_reply(const std::string& worker, const Decoded& d,
                             std::vector<zmq::message_t>& parts) {
    WReply r;
    if (parts.size() < 3 || body_as(d, r) != Status::ok) {
        ++stats_.dropped.malformed;
        return;
    }
    const PendingRequest* p = router_.reply_from(worker, r.bid);
    if (!p) {
        // Not a request this worker has: whatever it claims happened did not, and is not published.
        ++stats_.dropped.malformed;
        return;
    }
    // Events first (into the room's copy and out to subscribers), then the reply, then MEMBERSHIP: a client
    // that is also the nick's listener learns the outcome before the notification.
    std::vector<std::pair<std::string, Membership>> notices;
    if (parts.size() > 3) {
        // Every event of a request is about its room: look the room and its topic up once per reply.
        std::string topic = room_topic(p->room);
        RoomCopy& rc = rooms_.get(p->room);
        for (std::size_t i = 3; i < parts.size(); ++i) apply_event(p->room, topic, rc, parts[i], notices);
    }
    if (!p->answered && !p->client.empty() && !send_routed(client_, p->client, parts[2])) {
        ++stats_.dropped.unroutable;
    }
    router_.finish(r.bid);
    for (const auto& [listener, m] : notices) send_to_client(listener, encode(m));
}

void Broker::apply_event(const std::string& room, std::string_view topic, RoomCopy& rc, zmq::message_t& frame,
                         std::vector<std::pair<std::string, Membership>>& notices) {
    std::string_view bytes = view(frame);
    // A request touches one room: an event about another, or under another topic, is not accepted. The body
    // is checked as decode() would and read in place: unpacking it costs more than everything else here.
    EventView e;
    std::string_view body = bytes.substr(std::min(bytes.size(), topic.size()));
    if (!bytes.starts_with(topic) || body.size() < kHeaderSize || body[0] != kSignature0 ||
        body[1] != kSignature1 || static_cast<std::uint8_t>(body[2]) != kProtocolVersion ||
        static_cast<std::uint8_t>(body[3]) != static_cast<std::uint8_t>(MsgType::event) ||
        !peek_event(body.substr(kHeaderSize), e) || !e.have_room || e.room != room || !e.have_kind ||
        !e.have_nick || !e.have_seq) {
        ++stats_.dropped.malformed;
        return;
    }
    bool seq_break = false;
    auto change = rooms_.apply(rc, e, bytes, seq_break);
    if (seq_break) {
        ++stats_.dropped.seq_break;
        spdlog::warn("room {}: event #{} does not follow the broker's copy", room, e.seq);
    }
    // The worker built the frame exactly as subscribers get it: pass it on without copying.
    xpub_.send(frame, zmq::send_flags::dontwait);
    if (!change) return;
    NickEntry* n = registry_.find(change->folded_nick);
    if (!n) return;
    if (change->joined) {
        n->rooms.insert(room);
    } else {
        n->rooms.erase(room);
    }
    if (n->listener) notices.emplace_back(*n->listener, Membership{n->display, room, change->joined, e.seq});
}

void Broker::on_worker_state(const std::string& worker, const WState& s) {
    if (!router_.room_state(worker, s)) return;
    for (const auto& nick : s.members) {
        NickEntry* n = registry_.find(nick);
        if (!n || !n->rooms.insert(s.room).second) continue;
        if (n->listener) send_to_client(*n->listener, encode(Membership{n->display, s.room, true, s.seq}));
    }
}

}  // namespace chatbus
