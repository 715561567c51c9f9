// The worker endpoint: worker lifecycle, answers to forwarded requests and the events they carry.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "clock.hpp"
#include "msgpack_peek.hpp"
#include "names.hpp"
#include "socket_util.hpp"
#include "worker_messages.hpp"

namespace chatbus {

void Broker::send_to_worker(const std::string& routing_id, std::string_view frame) {
    if (!send_frames(worker_, {routing_id, frame})) ++dropped_["unroutable"];
}

void Broker::on_worker_message(std::vector<zmq::message_t>& parts) {
    if (parts.size() < 2) {
        ++dropped_["malformed"];
        return;
    }
    std::string routing_id(view(parts[0]));
    Decoded d;
    // A W_STATE carries a whole room, whose members and history may exceed the network's array limit.
    std::string_view first = view(parts[1]);
    const bool state = first.size() > 3 && static_cast<std::uint8_t>(first[3]) ==
                                               static_cast<std::uint8_t>(MsgType::w_state);
    if ((state ? decode_sized(first, d) : decode(first, d)) != Status::ok) {
        ++dropped_["malformed"];
        return;
    }
    std::int64_t now = mono_ms();
    if (d.type == MsgType::w_ready) {
        WReady r;
        if (body_as(d, r) != Status::ok || r.worker.empty()) {
            ++dropped_["malformed"];
            return;
        }
        return on_worker_ready(routing_id, r, now);
    }
    WorkerState* w = workers_.find(routing_id);
    if (!w) {
        // A worker we do not know (we restarted, or declared it dead): make it start over with READY.
        if (d.type != MsgType::w_disconnect) send_to_worker(routing_id, encode(WDisconnect{"unknown worker"}));
        return;
    }
    switch (d.type) {
        case MsgType::w_heartbeat:
            if (workers_.heard(*w, now)) spdlog::info("worker {} live", w->id);
            return;
        case MsgType::w_disconnect:
            return on_worker_disconnect(*w);
        case MsgType::w_reply:
            workers_.heard(*w, now);
            return on_worker_reply(*w, d, parts);
        case MsgType::w_state: {
            WState s;
            if (body_as(d, s) != Status::ok || !valid_room(s.room)) {
                ++dropped_["malformed"];
                return;
            }
            workers_.heard(*w, now);
            return on_worker_state(*w, s);
        }
        default:
            ++dropped_["malformed"];
            return;
    }
}

void Broker::on_worker_ready(const std::string& routing_id, const WReady& r, std::int64_t now) {
    // The same worker on a new socket: its old incarnation is gone, with everything it held.
    std::vector<std::string> stale;
    for (const auto& [rid, w] : workers_.all()) {
        if (w.id == r.worker && rid != routing_id) stale.push_back(rid);
    }
    for (const auto& rid : stale) worker_gone(rid);
    if (!workers_.find(routing_id)) {
        spdlog::info("worker {} ({} pid {}) ready", r.worker, r.host, r.pid);
        workers_.ready(routing_id, r.worker, r.host, r.pid, now);
    }
    send_to_worker(routing_id, encode(WWelcome{boot_, static_cast<std::uint64_t>(cfg_.heartbeat_ms),
                                               static_cast<std::uint64_t>(cfg_.liveness), cfg_.max_text,
                                               cfg_.max_batch, cfg_.history}));
}

void Broker::on_worker_reply(WorkerState& w, const Decoded& d, std::vector<zmq::message_t>& parts) {
    WReply r;
    if (parts.size() < 3 || body_as(d, r) != Status::ok) {
        ++dropped_["malformed"];
        return;
    }
    PendingRequest* p = pending_.find(r.bid);
    if (!p || p->worker != w.routing_id) {
        // Not a request this worker has: whatever it claims happened did not, and is not published.
        ++dropped_["malformed"];
        return;
    }
    ++w.served;
    // Events first (into the room's copy and out to subscribers), then the reply, then MEMBERSHIP: a client
    // that is also the nick's listener learns the outcome before the notification.
    std::vector<std::pair<std::string, Membership>> notices;
    if (parts.size() > 3) {
        // Every event of a request is about its room: look the room and its topic up once per reply.
        std::string topic = room_topic(p->room);
        RoomState& rs = rooms_.get(p->room);
        for (std::size_t i = 3; i < parts.size(); ++i) apply_event(p->room, topic, rs, parts[i], notices);
    }
    if (!p->answered && !p->client.empty() && !send_routed(client_, p->client, parts[2])) ++dropped_["unroutable"];
    std::string room = std::move(p->room);
    pending_.erase(r.bid);
    if (RoomState* rs = rooms_.find(room)) {
        if (rs->inflight > 0) --rs->inflight;
        // A WHO or LEAVE about a room that never existed leaves nothing worth keeping.
        if (rs->seq == 0 && rs->inflight == 0 && rs->waiting.empty()) {
            rooms_.erase(room);
        } else {
            release_parked(*rs);
        }
    }
    for (const auto& [listener, m] : notices) send_to_client(listener, encode(m));
    if (w.draining) finish_drain_if_idle(w.routing_id);
}

void Broker::apply_event(const std::string& room, std::string_view topic, RoomState& rs, zmq::message_t& frame,
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
        ++dropped_["malformed"];
        return;
    }
    bool seq_break = false;
    auto change = rooms_.apply(rs, e, bytes, seq_break);
    if (seq_break) {
        ++dropped_["seq_break"];
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

void Broker::on_worker_state(WorkerState& w, const WState& s) {
    if (!rooms_.adopt(s, w.routing_id)) {
        // Ours is as new or newer: the worker's copy is stale.
        send_to_worker(w.routing_id, encode(WRelease{s.room}));
        return;
    }
    spdlog::info("room {} (seq {}) taken back from worker {}", s.room, s.seq, w.id);
    for (const auto& nick : s.members) {
        NickEntry* n = registry_.find(nick);
        if (!n || !n->rooms.insert(s.room).second) continue;
        if (n->listener) send_to_client(*n->listener, encode(Membership{n->display, s.room, true, s.seq}));
    }
    // Requests parked for this room while we waited for it can go now.
    std::vector<std::uint64_t> parked;
    std::erase_if(recovery_parked_, [&](std::uint64_t bid) {
        PendingRequest* p = pending_.find(bid);
        if (!p || p->room != s.room) return false;
        parked.push_back(bid);
        return true;
    });
    for (std::uint64_t bid : parked) dispatch(bid);
}

void Broker::on_worker_disconnect(WorkerState& w) {
    spdlog::info("worker {} draining", w.id);
    workers_.drain(w);
    finish_drain_if_idle(w.routing_id);
}

void Broker::finish_drain_if_idle(std::string routing_id) {
    if (!pending_.at_worker(routing_id).empty()) return;
    send_to_worker(routing_id, encode(WDisconnect{"drained"}));
    if (const WorkerState* w = workers_.find(routing_id)) spdlog::info("worker {} drained and gone", w->id);
    worker_gone(routing_id);
}

void Broker::check_workers(std::int64_t now) {
    for (const auto& w : workers_.expire(now - cfg_.heartbeat_ms * cfg_.liveness)) {
        spdlog::warn("worker {} silent for {} heartbeats, removed", w.id, cfg_.liveness);
        worker_gone(w.routing_id);
    }
    if (now - last_heartbeat_ms_ >= cfg_.heartbeat_ms) {
        last_heartbeat_ms_ = now;
        std::string hb = encode(WHeartbeat{});
        for (const auto& [rid, w] : workers_.all()) send_to_worker(rid, hb);
    }
}

}  // namespace chatbus
