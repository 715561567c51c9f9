#pragma once
// The broker's per-client state for limits, keyed by the ZeroMQ routing id of the client ROUTER: a request
// rate bucket and when the identity was last heard from. Memory is bounded: at most `max_clients` entries,
// and entries idle longer than `idle_ms` are evicted, oldest first, a few per admit() (no full scans).
// libzmq accepts every TCP connection itself, so this limits active client identities, not connections.
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.hpp"
#include "broker/token_bucket.hpp"

namespace chatbus {

struct ClientLimits {
    RateLimit rate;               // per client identity
    std::size_t max_clients = 0;  // 0: no bound
    std::int64_t idle_ms = 60000;
    // A table with no bound and no rate has nothing to do: admit() answers ok without touching memory.
    bool active() const { return max_clients > 0 || !rate.unlimited(); }
};

class ClientTable {
  public:
    explicit ClientTable(ClientLimits lim) : lim_(lim) {}

    // Records a frame from `id` at `now_ms`: ok, too_many_clients (a new identity while the table is full;
    // it gets no entry) or rate_limited (charge: the frame takes a token and there is none).
    Status admit(std::string_view id, std::int64_t now_ms, bool charge);
    std::size_t size() const { return index_.size(); }

  private:
    struct Entry {
        std::string id;
        TokenBucket bucket;
        std::int64_t seen_ms = 0;
    };
    // Evicts up to `max` entries idle at `now_ms`. The list is in last-seen order: only its front is read.
    void evict_idle(std::int64_t now_ms, std::size_t max);

    ClientLimits lim_;
    std::list<Entry> by_age_;  // least recently seen first; nodes never move, so index_ keys stay valid
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace chatbus
