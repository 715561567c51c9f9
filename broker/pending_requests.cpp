#include "broker/pending_requests.hpp"

namespace chatbus {

std::uint64_t PendingRequests::add(PendingRequest p) {
    std::uint64_t bid = next_bid_++;
    pending_.emplace(bid, std::move(p));
    return bid;
}

PendingRequest* PendingRequests::find(std::uint64_t bid) {
    auto it = pending_.find(bid);
    return it == pending_.end() ? nullptr : &it->second;
}

std::vector<std::uint64_t> PendingRequests::overdue(std::int64_t now_ms) const {
    std::vector<std::uint64_t> out;
    for (const auto& [bid, p] : pending_) {
        if (!p.answered && p.deadline_ms <= now_ms) out.push_back(bid);
    }
    return out;
}

std::vector<std::uint64_t> PendingRequests::at_worker(const std::string& worker) const {
    std::vector<std::uint64_t> out;
    for (const auto& [bid, p] : pending_) {
        if (p.worker == worker) out.push_back(bid);
    }
    return out;
}

}  // namespace chatbus
