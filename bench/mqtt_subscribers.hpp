#pragma once
// MQTT subscriber connections read by one thread, as SubGroup (bench/subscribers.hpp) reads ZeroMQ SUBs:
// counts per subscriber, sequence checks on the payload's number, optional latency samples from its time. The
// same for both servers; only where the payload sits differs (raw, or the "text" of a gateway event).
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "bench/mqtt_conn.hpp"

namespace bench {

struct MqttSubConfig {
    std::string topic;            // PUBLISHes on other topics are not counted (chatbus/error is, as an error)
    bool gateway_json = false;    // the payload is a gateway event whose text is what was published
    bool sample_latency = false;  // one sample per message stamped at or after the warm-up bound
};

class MqttSubGroup {
  public:
    // `conns`: sessions already subscribed (open_sessions).
    MqttSubGroup(std::vector<MqttConn> conns, MqttSubConfig cfg);
    ~MqttSubGroup();
    MqttSubGroup(const MqttSubGroup&) = delete;
    MqttSubGroup& operator=(const MqttSubGroup&) = delete;

    // Samples stamped before `ns` are warm-up and ignored (at first: none is sampled). May be called while
    // the group runs.
    void set_warmup(std::int64_t ns) { warmup_ns_.store(ns, std::memory_order_relaxed); }
    void start();
    // The publisher is done: stop once every subscriber has `per_sub` messages, or nothing came for idle_ms.
    void finish(std::uint64_t per_sub, int idle_ms = 2000);
    void join();

    // Lowest count over subscribers: the publisher's end-to-end credit.
    std::uint64_t min_count() const { return min_count_.load(std::memory_order_relaxed); }
    std::uint64_t delivered() const;
    // Sequence gaps and repeats, connections lost, and errors the server published (chatbus/error).
    std::uint64_t faults() const { return gaps_ + lost_conns_ + errors_; }
    std::int64_t last_delivery_ns() const { return last_ns_; }
    std::vector<std::int64_t>& samples() { return samples_; }

  private:
    void loop();
    void on_publish(std::size_t i, const std::string& topic, const std::string& payload);

    MqttSubConfig cfg_;
    std::vector<MqttConn> conns_;
    std::vector<std::uint64_t> count_, last_seq_;
    std::uint64_t gaps_ = 0, lost_conns_ = 0, errors_ = 0;
    std::int64_t last_ns_ = 0;
    bool got_ = false;
    std::vector<std::int64_t> samples_;
    std::atomic<std::uint64_t> min_count_{0}, expect_{0};
    std::atomic<std::int64_t> warmup_ns_{INT64_MAX};
    std::atomic<int> idle_ms_{0};
    std::atomic<bool> finishing_{false};
    std::thread thread_;
};

}  // namespace bench
