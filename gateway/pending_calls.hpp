#pragma once
// Requests the gateway sent to the broker and not yet answered, by rid. Each has a deadline: a broker that
// never answers costs a `timeout` to the one caller, never a stuck session.
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

#include "common/codec.hpp"
#include "common/status.hpp"

namespace chatbus::gateway {

class PendingCalls {
  public:
    // `d` is the reply (its type unchecked) when `s` is ok; null otherwise.
    using Callback = std::function<void(Status s, const Decoded* d)>;

    void add(std::uint64_t rid, std::int64_t deadline_ms, Callback cb) {
        by_deadline_.emplace(deadline_ms, rid);
        calls_.emplace(rid, Call{deadline_ms, std::move(cb)});
    }
    // Runs and forgets the call of `rid`; false when there is none (late, or not ours).
    bool answer(std::uint64_t rid, Status s, const Decoded* d) {
        auto it = calls_.find(rid);
        if (it == calls_.end()) return false;
        Callback cb = std::move(it->second.cb);
        erase_deadline(it->second.deadline_ms, rid);
        calls_.erase(it);
        cb(s, d);
        return true;
    }
    // Fails every call whose deadline is before `now_ms` with `timeout`.
    void expire(std::int64_t now_ms) {
        while (!by_deadline_.empty() && by_deadline_.begin()->first < now_ms) {
            std::uint64_t rid = by_deadline_.begin()->second;
            answer(rid, Status::timeout, nullptr);
        }
    }
    std::size_t size() const { return calls_.size(); }

  private:
    struct Call {
        std::int64_t deadline_ms;
        Callback cb;
    };
    void erase_deadline(std::int64_t deadline, std::uint64_t rid) {
        auto [lo, hi] = by_deadline_.equal_range(deadline);
        for (auto it = lo; it != hi; ++it)
            if (it->second == rid) {
                by_deadline_.erase(it);
                return;
            }
    }
    std::unordered_map<std::uint64_t, Call> calls_;
    std::multimap<std::int64_t, std::uint64_t> by_deadline_;
};

}  // namespace chatbus::gateway
