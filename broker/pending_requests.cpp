#include "pending_requests.hpp"

namespace chatbus {

std::uint64_t PendingRequests::add(PendingRequest p) {
    std::uint64_t bid = next_bid_++;
    pending_.emplace(bid, std::move(p));
    return bid;
}

bool PendingRequests::take(std::uint64_t bid, PendingRequest& out) {
    auto it = pending_.find(bid);
    if (it == pending_.end()) return false;
    out = std::move(it->second);
    pending_.erase(it);
    return true;
}

template <class Pred>
std::vector<PendingRequest> PendingRequests::take_if(Pred&& pred) {
    std::vector<PendingRequest> out;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (pred(it->second)) {
            out.push_back(std::move(it->second));
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::vector<PendingRequest> PendingRequests::take_expired(std::int64_t now_ms) {
    return take_if([now_ms](const PendingRequest& p) { return p.deadline_ms <= now_ms; });
}

std::vector<PendingRequest> PendingRequests::take_for_worker(const std::string& worker) {
    return take_if([&worker](const PendingRequest& p) { return p.worker == worker; });
}

}  // namespace chatbus
