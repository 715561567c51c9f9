#pragma once
#include <cstdint>
#include <string>

namespace chatbus {

// Every knob of the broker; main.cpp maps flags and config-file keys of the same names onto it.
struct BrokerConfig {
    std::string client = "tcp://127.0.0.1:5555";  // ROUTER for clients
    std::string worker = "tcp://127.0.0.1:5556";  // ROUTER for workers
    std::string events = "tcp://127.0.0.1:5558";  // XPUB subscribers read from
    std::string events_advertise;                 // told to clients; empty: the bound endpoint
    std::string state_dir;                        // registry persistence; empty: in memory only
    std::string fsync = "always";                 // always | interval | never (see docs/architecture.md)
    std::int64_t heartbeat_ms = 1000;
    std::int64_t liveness = 3;
    std::int64_t request_timeout_ms = 5000;
    std::size_t inbox = 1000;
    std::size_t max_text = 4096;
    std::size_t max_batch = 64;
    std::size_t max_frame = 256 * 1024;
    std::size_t history = 1000;  // advertised to clients; each worker enforces its own
    int hwm = 100000;
    // Events queued per subscriber at the XPUB; a subscriber further behind loses events (docs/security.md).
    // Above chatbus-bench's fan-out window (20,000 events of 100 B), so the benchmark stays lossless.
    int events_hwm = 30000;
};

}  // namespace chatbus
