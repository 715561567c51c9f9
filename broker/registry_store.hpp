#pragma once
// Keeps registrations across broker restarts: an append-only log of register/unregister records plus a
// snapshot it is compacted into. Each record is a 4-byte little-endian length and a msgpack map. A record cut
// short by a crash is found at load and cut off; every record before it counts.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/token.hpp"

namespace chatbus {

enum class FsyncPolicy { always, interval, never };
FsyncPolicy parse_fsync_policy(const std::string& name);  // throws std::invalid_argument

struct StoredNick {
    std::string nick;  // as registered
    TokenHash hash{};
    std::string key;  // Z85 CURVE key the nick is bound to; empty: none
};

class RegistryStore {
  public:
    // Opens (creating) DIR/registry.snapshot and DIR/registry.log; throws std::runtime_error on I/O errors.
    RegistryStore(std::string dir, FsyncPolicy policy);
    ~RegistryStore();
    RegistryStore(const RegistryStore&) = delete;
    RegistryStore& operator=(const RegistryStore&) = delete;

    // Every registration in force, in registration order.
    const std::vector<StoredNick>& loaded() const { return loaded_; }
    // Each returns once the record is written (and synced, with `always`).
    void record_register(const std::string& nick, const TokenHash& hash, const std::string& key = {});
    void record_unregister(const std::string& nick);
    // Called from the broker's timer: syncs with `interval`, and compacts the log once it has grown.
    // `live` lists the registrations in force; it is called only when a compaction is due.
    void tick(std::int64_t now_ms, std::size_t live_count, const std::function<std::vector<StoredNick>()>& live);

  private:
    void append(const std::string& record);
    void compact(const std::vector<StoredNick>& live);

    std::string dir_;
    FsyncPolicy policy_;
    int log_fd_ = -1;
    std::vector<StoredNick> loaded_;
    std::size_t log_records_ = 0;
    bool dirty_ = false;
    std::int64_t last_sync_ms_ = 0;
};

}  // namespace chatbus
