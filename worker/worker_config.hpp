#pragma once
// Everything a worker needs to start: the broker's worker endpoint is the only address it is given; the
// rest of the topology arrives in W_WELCOME.
#include <cstddef>
#include <cstdint>
#include <string>

namespace chatbus {

struct WorkerConfig {
    std::string broker = "tcp://127.0.0.1:5556";
    std::string id;  // empty: "HOSTNAME-PID"
    std::size_t history = 1000;
    std::size_t max_batch = 64;
    std::string log_level = "info";
    // Interval for W_READY retries until W_WELCOME brings the broker's heartbeat_ms.
    std::uint64_t ready_interval_ms = 1000;
    // Generous so bursts of events queue instead of dropping; PUB-side drops are counted elsewhere.
    int publish_hwm = 100000;
};

}  // namespace chatbus
