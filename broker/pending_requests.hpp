#pragma once
// Room requests the broker has accepted and not yet seen answered, by broker request id (bid). A request is
// parked (no worker yet), in flight at a worker, or answered with `timeout` but still in flight: it stays
// until its worker answers or dies, so the room it touches is not moved under it.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/msg_type.hpp"

namespace chatbus {

struct PendingRequest {
    std::string client;  // routing id; empty for the broker's own requests (UNREGISTER's leaves)
    std::uint64_t rid = 0;
    MsgType type{};
    std::string room;     // folded
    std::string request;  // the frame to forward, kept for a retry on the room's next owner
    std::string worker;   // routing id of the worker asked; empty while parked
    std::int64_t deadline_ms = 0;
    bool answered = false;  // the client already got `timeout`
};

class PendingRequests {
  public:
    std::uint64_t add(PendingRequest p);
    PendingRequest* find(std::uint64_t bid);
    void erase(std::uint64_t bid) { pending_.erase(bid); }
    // Bids of requests past their deadline whose client has not been answered yet.
    std::vector<std::uint64_t> overdue(std::int64_t now_ms) const;
    // Bids of requests in flight at a worker.
    std::vector<std::uint64_t> at_worker(const std::string& worker) const;
    std::size_t size() const { return pending_.size(); }

  private:
    std::uint64_t next_bid_ = 1;
    std::unordered_map<std::uint64_t, PendingRequest> pending_;
};

}  // namespace chatbus
