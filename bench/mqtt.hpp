#pragma once
// The `mqtt` workload's parts (docs/benchmarks.md): chatbus-gateway in front of a chatbus cluster beside
// Mosquitto 2.0, driven by the same MQTT client (bench/mqtt_conn.hpp). mqtt.cpp sets each server up and runs
// the three rows; each file below measures one row against whichever server it is given.
#include <cstdint>
#include <string>
#include <vector>

#include "bench/mqtt_servers.hpp"
#include "bench/mqtt_sessions.hpp"
#include "bench/report.hpp"

namespace bench {

class Cluster;

// Row 1 (mqtt_fanout.cpp): one publisher, `subscribers.size()` subscribers of one topic, QoS 0.
struct FanoutTarget {
    const MqttServer& server;
    std::string topic;  // published to and subscribed to
    bool gateway_json;  // deliveries are gateway events (JSON) rather than the payload as published
    std::vector<SessionPlan> subscribers;
    SessionPlan publisher;
};
struct FanoutPlan {
    std::size_t size;
    double seconds;
    // Messages the publisher may be ahead of the slowest subscriber, the same for both servers. The gateway
    // closes a session with 1,000 packets queued for it and a connection with 1,000 PUBLISHes awaiting the
    // broker (docs/mqtt.md, "Limits"), so this stays below: nothing is dropped, and a loss is a real one.
    std::uint64_t credit;
};
Result mqtt_fanout(const FanoutTarget& t, const FanoutPlan& p);

// Row 2 (mqtt_latency.cpp): on one cluster, a publisher and a subscriber through the gateway, and a
// chatctl-style client (DEALER SEND, SUB on the events endpoint) of the same broker; paced, send time in the
// payload.
struct LatencyPlan {
    int rate;
    double seconds, warmup_s;
};
// Two results: the gateway path (system chatbus) and the SUB client's (system zmq-sub).
std::vector<Result> mqtt_latency(const Cluster& c, const MqttServer& gateway, const LatencyPlan& p);

// Row 3 (mqtt_idle.cpp): the server's VmRSS with every plan's session connected and idle.
Result mqtt_idle(const MqttServer& s, const std::vector<SessionPlan>& plans);

}  // namespace bench
