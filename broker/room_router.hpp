#pragma once
// Which worker serves a room request, when a room moves, and what happens to the requests a dead worker took
// with it: the broker's routing logic, with no sockets (as RoomTable is the worker's chat logic). It takes
// decoded inputs (a request, a worker's reply or state, a worker ready, draining or gone, a tick) and says
// what to send through a RouterOutbox; the broker owns the sockets. The room's copy (RoomMirror) is what
// moves; workers only compute.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker_stats.hpp"
#include "broker/pending_requests.hpp"
#include "broker/room_mirror.hpp"
#include "common/status.hpp"
#include "common/worker_messages.hpp"
#include "broker/worker_pool.hpp"

namespace chatbus {

// What the router sends. The broker implements it over its sockets, the unit tests by recording.
class RouterOutbox {
  public:
    virtual ~RouterOutbox() = default;
    // W_REQUEST `bid` with the request frame; false when the worker's connection is gone.
    virtual bool forward(const std::string& worker, std::uint64_t bid, std::string_view request) = 0;
    // Any other worker-channel frame (W_STATE, W_RELEASE, W_HEARTBEAT, W_DISCONNECT).
    virtual void to_worker(const std::string& worker, std::string_view frame) = 0;
    // The request's client gets `s` in the request's reply type.
    virtual void fail(const PendingRequest& p, Status s) = 0;
};

struct RouterConfig {
    std::int64_t heartbeat_ms = 1000;
    std::int64_t liveness = 3;  // heartbeats missed before a worker is declared dead
};

class RoomRouter {
  public:
    RoomRouter(RoomMirror& rooms, BrokerStats& stats, RouterOutbox& out, RouterConfig cfg);

    // After a restart that found earlier state: until `until_ms`, requests for rooms we have no copy of wait
    // for workers to hand them back (docs/protocol.md, "Worker channel").
    void start_recovery(std::int64_t until_ms) { recovering_until_ms_ = until_ms; }
    bool recovering() const { return recovering_until_ms_ > 0; }
    // False when a room request cannot be served now: no live worker and no recovery under way.
    bool can_route() const { return workers_.live_count() > 0 || recovering(); }

    // Accepts a room request (room folded) and sends it to the room's owner, or parks it; returns its bid.
    std::uint64_t submit(PendingRequest p);

    // A worker said READY: any earlier incarnation with the same id is gone, with what it held.
    void worker_ready(const std::string& routing_id, const WReady& r, std::int64_t now_ms);
    // Any message from a worker: nullptr when the worker is unknown (the caller tells it to start over).
    KnownWorker* heard(const std::string& routing_id, std::int64_t now_ms);
    bool knows(const std::string& routing_id) { return workers_.find(routing_id) != nullptr; }
    // The request a W_REPLY answers, when that worker holds it; nullptr for anything else (a forged or stale
    // reply, whose events must not be published). Call finish() once the reply is passed on.
    const PendingRequest* reply_from(const std::string& routing_id, std::uint64_t bid);
    // The answered request is done: its room may move, requests parked behind it go, a draining worker that
    // has nothing left is let go.
    void finish(std::uint64_t bid);
    // A worker handed back a room (after our restart). True when its copy was newer and was adopted; else the
    // worker is told to release it.
    bool room_state(const std::string& routing_id, const WState& s);
    // W_DISCONNECT from a worker: it gets nothing new and leaves once its requests are answered.
    void worker_draining(const std::string& routing_id);
    // Heartbeats, dead workers, overdue requests, the end of the recovery window.
    void tick(std::int64_t now_ms);
    // Tells every worker the broker is going.
    void stop();

    const WorkerPool& workers() const { return workers_; }
    // Rooms held by each worker, by routing id.
    std::map<std::string, std::uint64_t> rooms_held() const;
    std::size_t pending_count() const { return pending_.size(); }

  private:
    // Where a room is served: the worker holding it, requests there not yet answered, and requests parked
    // until it may move.
    struct RoomRoute {
        std::string holder;  // routing id; empty: none
        std::size_t inflight = 0;
        std::deque<std::uint64_t> waiting;
    };

    void dispatch(std::uint64_t bid);
    void hand_over(const std::string& room, RoomRoute& route, const KnownWorker& to);
    void release_parked(RoomRoute& route);
    void fail(std::uint64_t bid, Status s);
    // By value: callers pass ids that live inside the worker entry this removes.
    void worker_gone(std::string routing_id);
    void finish_drain_if_idle(std::string routing_id);
    void end_recovery(std::int64_t now_ms);

    RoomMirror& rooms_;
    BrokerStats& stats_;
    RouterOutbox& out_;
    RouterConfig cfg_;
    WorkerPool workers_;
    PendingRequests pending_;
    std::unordered_map<std::string, RoomRoute> routes_;  // by folded room name
    std::int64_t recovering_until_ms_ = 0;
    std::vector<std::uint64_t> recovery_parked_;
    std::int64_t last_heartbeat_ms_ = 0;
    std::string scratch_;
};

}  // namespace chatbus
