#pragma once
// The broker's per-client state for limits, keyed by the ZeroMQ routing id of the client ROUTER: a request
// rate bucket, when the identity was last heard from, and whether it is a gateway. Memory is bounded: at most
// `max_clients` entries, and entries idle longer than `idle_ms` are evicted, oldest first, a few per admit()
// (no full scans). libzmq accepts every TCP connection itself, so this limits active client identities, not
// connections.
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.hpp"
#include "common/token_bucket.hpp"

namespace chatbus {

struct ClientLimits {
    RateLimit rate;               // per client identity
    std::size_t max_clients = 0;  // 0: no bound
    std::int64_t idle_ms = 60000;
    // A table with no bound and no rate keeps only gateways (whose mark must be remembered somewhere).
    bool active() const { return max_clients > 0 || !rate.unlimited(); }
};

class ClientTable {
  public:
    explicit ClientTable(ClientLimits lim) : lim_(lim) {}

    // Records a frame from `id` at `now_ms`: ok, too_many_clients (a new identity while the table is full;
    // it gets no entry) or rate_limited (charge: the frame takes a token and there is none). A gateway's
    // frames are never charged: it carries many users, each limited by their nick's own bucket.
    Status admit(std::string_view id, std::int64_t now_ms, bool charge);
    // Makes `id` a gateway or an ordinary client again (docs/protocol.md, "Gateways"). The mark lives in the
    // identity's entry: it lasts while the identity is heard from at least every idle_ms, and is forgotten
    // with the entry when it is evicted, so an identity that went quiet must claim it again. Call after
    // admit() for the same frame, which made the entry (unless the table keeps only gateways).
    void set_gateway(std::string_view id, bool gateway, std::int64_t now_ms);
    bool is_gateway(std::string_view id) const;
    std::size_t size() const { return index_.size(); }
    std::size_t gateways() const { return gateways_; }

  private:
    struct Entry {
        std::string id;
        TokenBucket bucket;
        std::int64_t seen_ms = 0;
        bool gateway = false;
    };
    // Evicts up to `max` entries idle at `now_ms`. The list is in last-seen order: only its front is read.
    void evict_idle(std::int64_t now_ms, std::size_t max);
    std::list<Entry>::iterator add(std::string_view id, std::int64_t now_ms);

    ClientLimits lim_;
    std::list<Entry> by_age_;  // least recently seen first; nodes never move, so index_ keys stay valid
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
    std::size_t gateways_ = 0;
};

}  // namespace chatbus
