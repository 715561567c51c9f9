#include "broker/client_table.hpp"

namespace chatbus {

namespace {
// Per admit(): enough to keep pace with arrivals (each admit adds at most one entry), small enough that no
// single frame pays for a large backlog.
constexpr std::size_t kEvictPerAdmit = 4;
}  // namespace

void ClientTable::evict_idle(std::int64_t now_ms, std::size_t max) {
    while (max-- > 0 && !by_age_.empty() && now_ms - by_age_.front().seen_ms >= lim_.idle_ms) {
        if (by_age_.front().gateway) --gateways_;
        index_.erase(by_age_.front().id);
        by_age_.pop_front();
    }
}

std::list<ClientTable::Entry>::iterator ClientTable::add(std::string_view id, std::int64_t now_ms) {
    by_age_.push_back(Entry{std::string(id), {}, now_ms});
    auto e = std::prev(by_age_.end());
    index_.emplace(e->id, e);
    return e;
}

Status ClientTable::admit(std::string_view id, std::int64_t now_ms, bool charge) {
    // Nothing to limit and no gateway to remember: touch no memory.
    if (!lim_.active() && index_.empty()) return Status::ok;
    evict_idle(now_ms, kEvictPerAdmit);
    auto it = index_.find(id);
    std::list<Entry>::iterator e;
    if (it != index_.end()) {
        e = it->second;
        by_age_.splice(by_age_.end(), by_age_, e);  // now the most recent; no allocation
    } else {
        if (!lim_.active()) return Status::ok;  // only gateways are kept, and this is none
        if (lim_.max_clients > 0 && index_.size() >= lim_.max_clients) {
            evict_idle(now_ms, index_.size());
            if (index_.size() >= lim_.max_clients) return Status::too_many_clients;
        }
        e = add(id, now_ms);
    }
    e->seen_ms = now_ms;
    if (charge && !e->gateway && !e->bucket.take(lim_.rate, now_ms)) return Status::rate_limited;
    return Status::ok;
}

void ClientTable::set_gateway(std::string_view id, bool gateway, std::int64_t now_ms) {
    auto it = index_.find(id);
    std::list<Entry>::iterator e;
    if (it != index_.end()) {
        e = it->second;
    } else if (gateway) {
        // Only a table that keeps gateways alone has no entry yet: admit() made one otherwise.
        e = add(id, now_ms);
    } else {
        return;
    }
    if (e->gateway == gateway) return;
    e->gateway = gateway;
    if (gateway) {
        ++gateways_;
    } else {
        --gateways_;
    }
}

bool ClientTable::is_gateway(std::string_view id) const {
    auto it = index_.find(id);
    return it != index_.end() && it->second->gateway;
}

}  // namespace chatbus
