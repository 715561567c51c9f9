#pragma once
// The workers the broker knows, their liveness, and which one owns a room.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chatbus {

// A worker as the broker knows it: its connection, identity and liveness.
struct KnownWorker {
    std::string routing_id;
    std::string id, host;
    std::uint64_t pid = 0;
    bool live = false;      // set by the first heartbeat
    bool draining = false;  // said W_DISCONNECT: finishes what it has, gets nothing new
    std::int64_t last_seen_ms = 0;
    std::uint64_t served = 0;
};

class WorkerPool {
  public:
    // A READY: replaces any earlier incarnation with the same id (it restarted).
    KnownWorker& ready(const std::string& routing_id, std::string id, std::string host, std::uint64_t pid,
                       std::int64_t now_ms);
    KnownWorker* find(const std::string& routing_id);
    // Returns true when the worker just became live.
    bool heard(KnownWorker& w, std::int64_t now_ms);
    void remove(const std::string& routing_id);
    void drain(KnownWorker& w);
    // Removes workers silent since before `deadline_ms` and returns them.
    std::vector<KnownWorker> expire(std::int64_t deadline_ms);

    // Routing id of the room's owner among live workers, or nullptr.
    const KnownWorker* owner(const std::string& room) const;
    const std::map<std::string, KnownWorker>& all() const { return workers_; }
    std::size_t live_count() const { return live_ids_.size(); }

  private:
    void refresh_live();

    std::map<std::string, KnownWorker> workers_;  // by routing id
    std::vector<std::string> live_ids_;           // worker ids, for rendezvous
    std::vector<const KnownWorker*> live_;        // parallel to live_ids_
};

}  // namespace chatbus
