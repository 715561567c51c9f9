#pragma once
// chatbus-gateway's options (gateway_main.cpp parses them; deploy/gateway.conf lists each with its default).
#include <cstdint>
#include <string>

namespace chatbus::gateway {

struct GatewayConfig {
    std::string listen = "127.0.0.1:1883";  // MQTT over TCP: HOST:PORT (port 0: any free port)
    std::string broker = "tcp://127.0.0.1:5555";
    std::string curve_key, broker_key;  // the gateway's key pair file and the broker's public key: CURVE on
    std::string ready_file;             // once listening and the broker answered: mqtt=HOST:PORT
    std::size_t max_packet = 65536;
    std::size_t session_queue = 1000;
    std::size_t packet_rate = 1000;  // per connection and second, in bursts of up to twice as many
    std::size_t max_sessions = 100000;
    std::int64_t session_expiry_s = 3600;
    std::int64_t request_timeout_ms = 5000;
};

}  // namespace chatbus::gateway
