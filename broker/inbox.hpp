#pragma once
// A nick's direct messages, kept until its listener acknowledges them (at-least-once delivery).
#include <cstdint>
#include <deque>
#include <memory>

#include "common/messages.hpp"

namespace chatbus {

class Inbox {
  public:
    explicit Inbox(std::size_t limit = 0) : limit_(limit) {}

    bool full() const { return size() >= limit_; }
    // Stamps the DM with the next id and keeps it.
    const DmDeliver& push(DmDeliver dm);
    // Drops every DM with id <= upto.
    void ack(std::uint64_t upto);
    // DMs not yet handed to the current listener, in order; marks them handed over.
    template <class F>
    void deliver_pending(F&& send) {
        while (next_unsent_ < size()) {
            if (!send((*queue_)[next_unsent_])) return;
            ++next_unsent_;
        }
    }
    // A new listener must get everything still unacknowledged.
    void rewind() { next_unsent_ = 0; }
    std::size_t size() const { return queue_ ? queue_->size() : 0; }

  private:
    std::size_t limit_;
    std::uint64_t next_id_ = 1;
    // Made on the first DM: an empty std::deque already allocates ~600 bytes, which was most of what an
    // idle registered nick cost (docs/benchmarks.md, scale), and most nicks never hold a DM.
    std::unique_ptr<std::deque<DmDeliver>> queue_;
    std::size_t next_unsent_ = 0;
};

}  // namespace chatbus
