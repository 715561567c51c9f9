#include "broker/worker_pool.hpp"

#include "common/rendezvous.hpp"

namespace chatbus {

KnownWorker& WorkerPool::ready(const std::string& routing_id, std::string id, std::string host,
                               std::uint64_t pid, std::int64_t now_ms) {
    for (auto it = workers_.begin(); it != workers_.end();) {
        it = (it->second.id == id && it->first != routing_id) ? workers_.erase(it) : std::next(it);
    }
    KnownWorker& w = workers_[routing_id];
    w = KnownWorker{routing_id, std::move(id), std::move(host), pid, false, false, now_ms, 0};
    refresh_live();
    return w;
}

KnownWorker* WorkerPool::find(const std::string& routing_id) {
    auto it = workers_.find(routing_id);
    return it == workers_.end() ? nullptr : &it->second;
}

bool WorkerPool::heard(KnownWorker& w, std::int64_t now_ms) {
    w.last_seen_ms = now_ms;
    if (w.live) return false;
    w.live = true;
    refresh_live();
    return true;
}

void WorkerPool::drain(KnownWorker& w) {
    w.draining = true;
    refresh_live();
}

void WorkerPool::remove(const std::string& routing_id) {
    workers_.erase(routing_id);
    refresh_live();
}

std::vector<KnownWorker> WorkerPool::expire(std::int64_t deadline_ms) {
    std::vector<KnownWorker> dead;
    for (const auto& [rid, w] : workers_) {
        if (w.last_seen_ms < deadline_ms) dead.push_back(w);
    }
    for (const auto& w : dead) workers_.erase(w.routing_id);
    if (!dead.empty()) refresh_live();
    return dead;
}

const KnownWorker* WorkerPool::owner(const std::string& room) const {
    int i = rendezvous_owner(live_ids_, room);
    return i < 0 ? nullptr : live_[static_cast<std::size_t>(i)];
}

void WorkerPool::refresh_live() {
    live_ids_.clear();
    live_.clear();
    for (const auto& [rid, w] : workers_) {
        if (!w.live || w.draining) continue;
        live_ids_.push_back(w.id);
        live_.push_back(&w);
    }
}

}  // namespace chatbus
