#pragma once
// N SUB sockets read by one thread (as a client process holding many subscriptions would): counts per
// subscriber, sequence checks, optional latency samples. Shared by fanout and latency, for both systems.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

namespace bench {

struct SubConfig {
    int n = 1;
    std::string endpoint, topic;
    bool chatbus = true;          // EVENT frames (seq in the body) or raw frames (seq after the topic)
    bool sample_latency = false;  // the timestamp is in the text (chatbus) or after the seq (raw)
    std::int64_t warmup_ns = 0;   // samples stamped before this are ignored
};

class SubGroup {
  public:
    // Connects and subscribes every socket; for chatbus waits for each one's sync mark (throws on timeout).
    SubGroup(zmq::context_t& ctx, SubConfig cfg);
    ~SubGroup();
    // Samples stamped before `ns` are warm-up and ignored. May be called while the group runs.
    void set_warmup(std::int64_t ns) { warmup_ns_.store(ns, std::memory_order_relaxed); }
    void start();
    // The sender is done: stop once every subscriber has `per_sub` messages, or nothing came for idle_ms.
    void finish(std::uint64_t per_sub, int idle_ms = 2000);
    void join();

    // Lowest count over subscribers, for the sender's end-to-end credit (keeps queues under the HWMs).
    std::uint64_t min_count() const { return min_count_.load(std::memory_order_relaxed); }
    std::uint64_t delivered() const;
    std::uint64_t gaps() const { return gaps_; }
    std::int64_t last_delivery_ns() const { return last_ns_; }
    std::vector<std::int64_t>& samples() { return samples_; }

  private:
    void loop();

    SubConfig cfg_;
    std::vector<zmq::socket_t> subs_;
    std::vector<std::uint64_t> count_, last_seq_;
    std::uint64_t gaps_ = 0;
    std::int64_t last_ns_ = 0;
    std::vector<std::int64_t> samples_;
    std::atomic<std::uint64_t> min_count_{0}, expect_{0};
    std::atomic<std::int64_t> warmup_ns_{0};
    std::atomic<int> idle_ms_{0};
    std::atomic<bool> finishing_{false};
    std::thread thread_;
};

// The raw baselines' publisher: an XPUB (what the broker uses) that reports every subscription, so the
// sender can wait until all `n` subscribers are in, as chatbus's sync marks do.
zmq::socket_t bind_raw_xpub(zmq::context_t& ctx);
bool await_subscribers(zmq::socket_t& xpub, int n, int timeout_ms = 5000);

}  // namespace bench
