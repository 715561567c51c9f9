// The worker endpoint: worker lifecycle, forwarded requests and their replies.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "clock.hpp"
#include "socket_util.hpp"
#include "worker_messages.hpp"

namespace chatbus {

void Broker::send_to_worker(const std::string& routing_id, std::string_view frame) {
    if (!send_frames(worker_, {routing_id, frame})) ++dropped_["unroutable"];
}

std::uint64_t Broker::forward(const WorkerState& w, PendingRequest p, std::string_view raw) {
    p.worker = w.routing_id;
    p.deadline_ms = mono_ms() + cfg_.request_timeout_ms;
    std::uint64_t bid = pending_.add(std::move(p));
    scratch_.clear();
    encode_into(scratch_, WRequest{bid});
    if (!send_frames(worker_, {w.routing_id, scratch_, raw})) {
        PendingRequest lost;
        if (pending_.take(bid, lost)) fail_pending({std::move(lost)}, Status::no_worker);
    }
    return bid;
}

void Broker::on_worker_message(std::vector<zmq::message_t>& parts) {
    if (parts.size() < 2) {
        ++dropped_["malformed"];
        return;
    }
    std::string routing_id(view(parts[0]));
    Decoded d;
    if (decode(view(parts[1]), d) != Status::ok) {
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
        spdlog::info("worker {} ({} pid {}) ready", r.worker, r.host, r.pid);
        workers_.ready(routing_id, r.worker, r.host, r.pid, now);
        std::string xsub = cfg_.xsub_advertise.empty() ? bound_.xsub : cfg_.xsub_advertise;
        send_to_worker(routing_id, encode(WWelcome{xsub, static_cast<std::uint64_t>(cfg_.heartbeat_ms),
                                                   static_cast<std::uint64_t>(cfg_.liveness), cfg_.max_text,
                                                   cfg_.max_batch}));
        return;
    }
    WorkerState* w = workers_.find(routing_id);
    if (!w) {
        // A worker we do not know (we restarted, or it expired): make it start over with READY.
        if (d.type != MsgType::w_disconnect)
            send_to_worker(routing_id, encode(WDisconnect{"unknown worker"}));
        return;
    }
    switch (d.type) {
        case MsgType::w_heartbeat:
            if (workers_.heard(*w, now)) spdlog::info("worker {} live", w->id);
            return;
        case MsgType::w_disconnect: {
            spdlog::info("worker {} disconnected", w->id);
            std::string rid = w->routing_id;
            workers_.remove(rid);
            fail_pending(pending_.take_for_worker(rid), Status::timeout);
            return;
        }
        case MsgType::w_reply: {
            WReply r;
            if (parts.size() != 3 || body_as(d, r) != Status::ok) {
                ++dropped_["malformed"];
                return;
            }
            workers_.heard(*w, now);
            on_worker_reply(*w, r.bid, view(parts[2]));
            return;
        }
        default:
            ++dropped_["malformed"];
            return;
    }
}

void Broker::on_worker_reply(WorkerState& w, std::uint64_t bid, std::string_view reply) {
    PendingRequest p;
    if (!pending_.take(bid, p)) return;  // answered too late: the client already got `timeout`
    ++w.served;
    // The reply first: a client that is also the listener must learn the outcome before the notification.
    if (!p.client.empty()) send_to_client(p.client, reply);
    if (p.type == MsgType::join || p.type == MsgType::leave) note_membership(p, reply);
}

void Broker::note_membership(const PendingRequest& p, std::string_view reply) {
    bool joined = p.type == MsgType::join;
    std::uint64_t seq = 0;
    if (joined) {
        // An ok JOIN counts even when the worker says "already a member": after a broker restart that is
        // how the broker relearns memberships it forgot.
        JoinReply r;
        if (decode_as(reply, r) != Status::ok || r.status != 0) return;
        seq = r.seq;
    } else {
        LeaveReply r;
        if (decode_as(reply, r) != Status::ok || r.status != 0) return;
        seq = r.seq;
    }
    NickEntry* e = registry_.find(p.nick);
    if (!e) return;
    bool changed = joined ? e->rooms.insert(p.room).second : e->rooms.erase(p.room) > 0;
    if (joined) {
        rooms_.add(p.room, p.nick);
    } else {
        rooms_.remove(p.room, p.nick);
    }
    if (changed && e->listener)
        send_to_client(*e->listener, encode(Membership{e->display, p.room, joined, seq}));
}

void Broker::fail_pending(std::vector<PendingRequest> failed, Status s) {
    for (const auto& p : failed) {
        if (s == Status::timeout) ++dropped_["worker_timeout"];
        if (p.client.empty()) continue;
        reply_error(p.client, p.type, p.rid, s);
    }
}

void Broker::check_workers(std::int64_t now) {
    for (const auto& w : workers_.expire(now - cfg_.heartbeat_ms * cfg_.liveness)) {
        spdlog::warn("worker {} silent for {} heartbeats, removed", w.id, cfg_.liveness);
        fail_pending(pending_.take_for_worker(w.routing_id), Status::timeout);
    }
    if (now - last_heartbeat_ms_ >= cfg_.heartbeat_ms) {
        last_heartbeat_ms_ = now;
        std::string hb = encode(WHeartbeat{});
        for (const auto& [rid, w] : workers_.all()) send_to_worker(rid, hb);
    }
}

}  // namespace chatbus
