#include "broker/client_table.hpp"

namespace chatbus {

namespace {
// Per admit(): enough to keep pace with arrivals (each admit adds at most one entry), small enough that no
// single frame pays for a large backlog.
constexpr std::size_t kEvictPerAdmit = 4;
}  // namespace

void ClientTable::evict_idle(std::int64_t now_ms, std::size_t max) {
    while (max-- > 0 && !by_age_.empty() && now_ms - by_age_.front().seen_ms >= lim_.idle_ms) {
        index_.erase(by_age_.front().id);
        by_age_.pop_front();
    }
}

Status ClientTable::admit(std::string_view id, std::int64_t now_ms, bool charge) {
    if (!lim_.active()) return Status::ok;
    evict_idle(now_ms, kEvictPerAdmit);
    auto it = index_.find(id);
    std::list<Entry>::iterator e;
    if (it != index_.end()) {
        e = it->second;
        by_age_.splice(by_age_.end(), by_age_, e);  // now the most recent; no allocation
    } else {
        if (lim_.max_clients > 0 && index_.size() >= lim_.max_clients) {
            evict_idle(now_ms, index_.size());
            if (index_.size() >= lim_.max_clients) return Status::too_many_clients;
        }
        by_age_.push_back(Entry{std::string(id), {}, now_ms});
        e = std::prev(by_age_.end());
        index_.emplace(e->id, e);
    }
    e->seen_ms = now_ms;
    if (charge && !e->bucket.take(lim_.rate, now_ms)) return Status::rate_limited;
    return Status::ok;
}

}  // namespace chatbus
