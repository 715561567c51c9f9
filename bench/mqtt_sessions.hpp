#pragma once
// Opening many MQTT sessions from one thread: CONNECT, wait for CONNACK, then optionally SUBSCRIBE one filter
// and wait for its SUBACK, with a bounded number of handshakes under way. Used for the fan-out subscribers,
// the latency clients and the 10k idle sessions alike, against either server.
#include <cstddef>
#include <string>
#include <vector>

#include "bench/mqtt_conn.hpp"

namespace bench {

struct SessionPlan {
    std::string client_id, user, password;  // user empty: an anonymous CONNECT
    std::string subscribe;                  // a filter to SUBSCRIBE at QoS 0 after CONNACK; empty: none
};

struct OpenedSessions {
    std::vector<MqttConn> conns;  // one per plan, in its order; closed where the handshake failed
    std::size_t ok = 0;
};

// At most `window` handshakes at once: Mosquitto listens with a backlog of 100, and SYNs dropped by a full
// backlog come back only after the kernel's 1 s retry, which would be measured as the server's slowness.
// Handshakes not done within timeout_ms fail.
OpenedSessions open_sessions(int port, const std::vector<SessionPlan>& plans, std::size_t window = 64,
                             int timeout_ms = 30000);

}  // namespace bench
