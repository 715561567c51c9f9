#include "broker/room_router.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/codec.hpp"

namespace chatbus {

RoomRouter::RoomRouter(RoomMirror& rooms, BrokerStats& stats, RouterOutbox& out, RouterConfig cfg)
    : rooms_(rooms), stats_(stats), out_(out), cfg_(cfg) {}

std::uint64_t RoomRouter::submit(PendingRequest p) {
    std::uint64_t bid = pending_.add(std::move(p));
    dispatch(bid);
    return bid;
}

void RoomRouter::dispatch(std::uint64_t bid) {
    PendingRequest* p = pending_.find(bid);
    if (!p) return;  // answered with an error meanwhile
    const KnownWorker* owner = workers_.owner(p->room);
    if (recovering() && (!owner || !rooms_.find(p->room))) {
        // Just restarted: the room may still come back from a worker that has not reconnected yet.
        recovery_parked_.push_back(bid);
        return;
    }
    if (!owner) return fail(bid, Status::no_worker);
    RoomRoute& route = routes_[p->room];
    if (route.holder != owner->routing_id) {
        // The previous holder may still be changing the room: let it finish before the state moves.
        if (!route.holder.empty() && route.inflight > 0) {
            route.waiting.push_back(bid);
            return;
        }
        hand_over(p->room, route, *owner);
    }
    if (!out_.forward(owner->routing_id, bid, p->request)) {
        // The worker's connection is gone (it died). Waiting for its heartbeats to stop would only delay the
        // failover; treat it as dead now and send the request to the next owner.
        spdlog::warn("worker {} unreachable, removed", owner->id);
        worker_gone(owner->routing_id);
        return dispatch(bid);
    }
    p->worker = owner->routing_id;
    ++route.inflight;
}

void RoomRouter::hand_over(const std::string& room, RoomRoute& route, const KnownWorker& to) {
    if (!route.holder.empty() && workers_.find(route.holder)) {
        scratch_.clear();
        encode_into(scratch_, WRelease{room});
        out_.to_worker(route.holder, scratch_);
    }
    // A room that never had an event has nothing to hand over; a worker holds no stale copy of it either
    // (it drops every room it held when it reconnects).
    const RoomCopy* copy = rooms_.find(room);
    if (copy && copy->seq > 0) {
        out_.to_worker(to.routing_id, encode(rooms_.state_of(room)));
        ++stats_.moved;
        spdlog::debug("room {} (seq {}) handed to {}", room, copy->seq, to.id);
    }
    route.holder = to.routing_id;
}

void RoomRouter::release_parked(RoomRoute& route) {
    if (route.inflight > 0 || route.waiting.empty()) return;
    std::deque<std::uint64_t> waiting;
    waiting.swap(route.waiting);
    for (std::uint64_t bid : waiting) dispatch(bid);
}

void RoomRouter::fail(std::uint64_t bid, Status s) {
    PendingRequest* p = pending_.find(bid);
    if (!p || p->answered) return;
    if (!p->client.empty()) out_.fail(*p, s);
    if (p->worker.empty()) {
        pending_.erase(bid);
    } else {
        // Still in flight: kept until its worker answers or dies, so the room does not move under it.
        p->answered = true;
    }
}

void RoomRouter::worker_ready(const std::string& routing_id, const WReady& r, std::int64_t now_ms) {
    // The same worker on a new socket: its old incarnation is gone, with everything it held.
    std::vector<std::string> stale;
    for (const auto& [rid, w] : workers_.all()) {
        if (w.id == r.worker && rid != routing_id) stale.push_back(rid);
    }
    for (const auto& rid : stale) worker_gone(rid);
    if (!workers_.find(routing_id)) {
        spdlog::info("worker {} ({} pid {}) ready", r.worker, r.host, r.pid);
        workers_.ready(routing_id, r.worker, r.host, r.pid, now_ms);
    }
}

KnownWorker* RoomRouter::heard(const std::string& routing_id, std::int64_t now_ms) {
    KnownWorker* w = workers_.find(routing_id);
    if (w && workers_.heard(*w, now_ms)) spdlog::info("worker {} live", w->id);
    return w;
}

const PendingRequest* RoomRouter::reply_from(const std::string& routing_id, std::uint64_t bid) {
    PendingRequest* p = pending_.find(bid);
    if (!p || p->worker != routing_id) return nullptr;
    if (KnownWorker* w = workers_.find(routing_id)) ++w->served;
    return p;
}

void RoomRouter::finish(std::uint64_t bid) {
    PendingRequest* p = pending_.find(bid);
    if (!p) return;
    const std::string room = std::move(p->room);
    const std::string worker = std::move(p->worker);
    pending_.erase(bid);
    if (auto it = routes_.find(room); it != routes_.end()) {
        RoomRoute& route = it->second;
        if (route.inflight > 0) --route.inflight;
        // A LEAVE about a room that never existed leaves nothing worth keeping.
        const RoomCopy* copy = rooms_.find(room);
        if ((!copy || copy->seq == 0) && route.inflight == 0 && route.waiting.empty()) {
            routes_.erase(it);
            rooms_.erase(room);
        } else {
            release_parked(route);
        }
    }
    if (const KnownWorker* w = workers_.find(worker); w && w->draining) finish_drain_if_idle(worker);
}

bool RoomRouter::room_state(const std::string& routing_id, const WState& s) {
    if (!rooms_.adopt(s)) {
        // Ours is as new or newer: the worker's copy is stale.
        scratch_.clear();
        encode_into(scratch_, WRelease{s.room});
        out_.to_worker(routing_id, scratch_);
        return false;
    }
    routes_[s.room].holder = routing_id;
    if (const KnownWorker* w = workers_.find(routing_id)) {
        spdlog::info("room {} (seq {}) taken back from worker {}", s.room, s.seq, w->id);
    }
    // Requests parked for this room while we waited for it can go now.
    std::vector<std::uint64_t> parked;
    std::erase_if(recovery_parked_, [&](std::uint64_t bid) {
        const PendingRequest* p = pending_.find(bid);
        if (!p || p->room != s.room) return false;
        parked.push_back(bid);
        return true;
    });
    for (std::uint64_t bid : parked) dispatch(bid);
    return true;
}

void RoomRouter::worker_draining(const std::string& routing_id) {
    KnownWorker* w = workers_.find(routing_id);
    if (!w) return;
    spdlog::info("worker {} draining", w->id);
    workers_.drain(*w);
    finish_drain_if_idle(routing_id);
}

void RoomRouter::finish_drain_if_idle(std::string routing_id) {
    if (!pending_.at_worker(routing_id).empty()) return;
    scratch_.clear();
    encode_into(scratch_, WDisconnect{"drained"});
    out_.to_worker(routing_id, scratch_);
    if (const KnownWorker* w = workers_.find(routing_id)) spdlog::info("worker {} drained and gone", w->id);
    worker_gone(routing_id);
}

void RoomRouter::worker_gone(std::string routing_id) {
    std::vector<std::uint64_t> in_flight = pending_.at_worker(routing_id);
    std::sort(in_flight.begin(), in_flight.end());  // retried in the order they were accepted
    workers_.remove(routing_id);
    std::vector<std::string> rooms_with_waiting;
    for (auto& [name, route] : routes_) {
        if (route.holder != routing_id) continue;
        route.holder.clear();
        route.inflight = 0;
        if (!route.waiting.empty()) rooms_with_waiting.push_back(name);
    }
    // Nothing these requests did at the dead worker reached us (replies and events arrive together or not
    // at all), so running them again on the room's next owner cannot publish anything twice.
    for (std::uint64_t bid : in_flight) {
        PendingRequest* p = pending_.find(bid);
        if (!p) continue;
        p->worker.clear();
        if (p->answered) {
            pending_.erase(bid);
            continue;
        }
        ++stats_.retried;
        dispatch(bid);
    }
    for (const auto& room : rooms_with_waiting) {
        if (auto it = routes_.find(room); it != routes_.end()) release_parked(it->second);
    }
}

void RoomRouter::tick(std::int64_t now_ms) {
    for (const auto& w : workers_.expire(now_ms - cfg_.heartbeat_ms * cfg_.liveness)) {
        spdlog::warn("worker {} silent for {} heartbeats, removed", w.id, cfg_.liveness);
        worker_gone(w.routing_id);
    }
    if (now_ms - last_heartbeat_ms_ >= cfg_.heartbeat_ms) {
        last_heartbeat_ms_ = now_ms;
        const std::string hb = encode(WHeartbeat{});
        for (const auto& [rid, w] : workers_.all()) out_.to_worker(rid, hb);
    }
    for (std::uint64_t bid : pending_.overdue(now_ms)) {
        ++stats_.dropped.worker_timeout;
        fail(bid, Status::timeout);
    }
    end_recovery(now_ms);
}

void RoomRouter::end_recovery(std::int64_t now_ms) {
    if (!recovering() || now_ms < recovering_until_ms_) return;
    recovering_until_ms_ = 0;
    std::vector<std::uint64_t> parked;
    parked.swap(recovery_parked_);
    spdlog::info("recovery window over; {} rooms known, {} requests released", rooms_.rooms_with_members(),
                 parked.size());
    for (std::uint64_t bid : parked) dispatch(bid);
}

void RoomRouter::stop() {
    const std::string bye = encode(WDisconnect{"broker stopping"});
    for (const auto& [rid, w] : workers_.all()) out_.to_worker(rid, bye);
}

std::map<std::string, std::uint64_t> RoomRouter::rooms_held() const {
    std::map<std::string, std::uint64_t> held;
    for (const auto& [name, route] : routes_) {
        if (!route.holder.empty()) ++held[route.holder];
    }
    return held;
}

}  // namespace chatbus
