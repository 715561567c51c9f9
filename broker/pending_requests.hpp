#pragma once
// Requests forwarded to workers and not yet answered, by broker request id (bid).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "msg_type.hpp"

namespace chatbus {

struct PendingRequest {
    std::string client;  // routing id; empty for the broker's own requests (UNREGISTER's leaves)
    std::uint64_t rid = 0;
    MsgType type{};
    std::string nick;    // folded, for JOIN/LEAVE bookkeeping
    std::string room;    // folded
    std::string worker;  // routing id of the worker asked
    std::int64_t deadline_ms = 0;
};

class PendingRequests {
  public:
    std::uint64_t add(PendingRequest p);
    // Removes and returns the request, if still pending.
    bool take(std::uint64_t bid, PendingRequest& out);
    // Removes and returns requests past their deadline, or sent to the given worker.
    std::vector<PendingRequest> take_expired(std::int64_t now_ms);
    std::vector<PendingRequest> take_for_worker(const std::string& worker);
    std::size_t size() const { return pending_.size(); }

  private:
    template <class Pred>
    std::vector<PendingRequest> take_if(Pred&& pred);

    std::uint64_t next_bid_ = 1;
    std::unordered_map<std::uint64_t, PendingRequest> pending_;
};

}  // namespace chatbus
