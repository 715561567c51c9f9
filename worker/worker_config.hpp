#pragma once
// Everything a worker needs to start: the broker's worker endpoint is the only address it is given; the
// rest arrives in W_WELCOME.
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
    // CURVE (docs/protocol.md "CURVE"): both empty: off.
    std::string curve_key;   // this worker's key pair file (chatctl keygen)
    std::string broker_key;  // the broker's public key file
    // Interval for W_READY retries until W_WELCOME brings the broker's heartbeat_ms.
    std::uint64_t ready_interval_ms = 1000;
    // Draining after stop() waits for the broker's W_DISCONNECT at most max(min_drain_ms, 2 x liveness x
    // heartbeat_ms). Tests lower it.
    std::uint64_t min_drain_ms = 5000;
};

}  // namespace chatbus
