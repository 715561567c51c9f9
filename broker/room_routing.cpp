// Room requests: which worker serves them, when a room moves, and what happens to requests a dead worker
// took with it. The broker's copy of the room (RoomMirror) is what moves; workers only compute.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "clock.hpp"
#include "socket_util.hpp"
#include "worker_messages.hpp"

namespace chatbus {

void Broker::dispatch(std::uint64_t bid) {
    PendingRequest* p = pending_.find(bid);
    if (!p) return;  // answered with an error meanwhile
    RoomState* rs = rooms_.find(p->room);
    const WorkerState* owner = workers_.owner(p->room);
    if ((!rs || !owner) && recovering_until_ms_ > 0) {
        // Just restarted: the room may still come back from a worker that has not reconnected yet.
        recovery_parked_.push_back(bid);
        return;
    }
    if (!owner) return fail_request(bid, Status::no_worker);
    if (!rs) rs = &rooms_.get(p->room);
    if (rs->holder != owner->routing_id) {
        // The previous holder may still be changing the room: let it finish before the state moves.
        if (!rs->holder.empty() && rs->inflight > 0) {
            rs->waiting.push_back(bid);
            return;
        }
        hand_over(p->room, *rs, *owner);
    }
    scratch_.clear();
    encode_into(scratch_, WRequest{bid});
    if (!send_frames(worker_, {owner->routing_id, scratch_, p->request})) {
        // ROUTER_MANDATORY: the worker's connection is gone (it died). Waiting for its heartbeats to stop
        // would only delay the failover; treat it as dead now and send the request to the next owner.
        spdlog::warn("worker {} unreachable, removed", owner->id);
        std::string gone = owner->routing_id;
        worker_gone(gone);
        return dispatch(bid);
    }
    p->worker = owner->routing_id;
    ++rs->inflight;
}

void Broker::hand_over(const std::string& room, RoomState& rs, const WorkerState& to) {
    if (!rs.holder.empty() && workers_.find(rs.holder)) send_to_worker(rs.holder, encode(WRelease{room}));
    // A room that never had an event has nothing to hand over; a worker holds no stale copy of it either
    // (it drops every room it held when it reconnects).
    if (rs.seq > 0) {
        send_to_worker(to.routing_id, encode(rooms_.state_of(room)));
        ++moved_;
        spdlog::debug("room {} (seq {}) handed to {}", room, rs.seq, to.id);
    }
    rs.holder = to.routing_id;
}

void Broker::release_parked(RoomState& rs) {
    if (rs.inflight > 0 || rs.waiting.empty()) return;
    std::deque<std::uint64_t> waiting;
    waiting.swap(rs.waiting);
    for (std::uint64_t bid : waiting) dispatch(bid);
}

void Broker::fail_request(std::uint64_t bid, Status s) {
    PendingRequest* p = pending_.find(bid);
    if (!p || p->answered) return;
    if (!p->client.empty()) reply_error(p->client, p->type, p->rid, s);
    if (p->worker.empty()) {
        pending_.erase(bid);
    } else {
        // Still in flight: kept until its worker answers or dies, so the room does not move under it.
        p->answered = true;
    }
}

void Broker::expire_requests(std::int64_t now) {
    for (std::uint64_t bid : pending_.overdue(now)) {
        ++dropped_["worker_timeout"];
        fail_request(bid, Status::timeout);
    }
}

void Broker::end_recovery(std::int64_t now) {
    if (recovering_until_ms_ == 0 || now < recovering_until_ms_) return;
    recovering_until_ms_ = 0;
    std::vector<std::uint64_t> parked;
    parked.swap(recovery_parked_);
    spdlog::info("recovery window over; {} rooms known, {} requests released", rooms_.rooms_with_members(),
                 parked.size());
    for (std::uint64_t bid : parked) dispatch(bid);
}

void Broker::worker_gone(std::string routing_id) {
    std::vector<std::uint64_t> in_flight = pending_.at_worker(routing_id);
    std::sort(in_flight.begin(), in_flight.end());  // retried in the order they were accepted
    workers_.remove(routing_id);
    std::vector<std::string> rooms_with_waiting;
    rooms_.for_each([&](const std::string& name, RoomState& rs) {
        if (rs.holder != routing_id) return;
        rs.holder.clear();
        rs.inflight = 0;
        if (!rs.waiting.empty()) rooms_with_waiting.push_back(name);
    });
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
        ++retried_;
        dispatch(bid);
    }
    for (const auto& room : rooms_with_waiting) {
        if (RoomState* rs = rooms_.find(room)) release_parked(*rs);
    }
}

}  // namespace chatbus
