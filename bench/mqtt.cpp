// mqtt: chatbus-gateway (a process, in front of a broker and workers started as the other workloads start
// them) beside Mosquitto 2.0 (a process, started here with a generated config), both driven by the same MQTT
// client; three rows, each chatbus measurement followed by its peer's (docs/benchmarks.md):
//   fanout   deliveries/s to N subscribers of one room/topic, QoS 0        peer: mosquitto
//   latency  send→delivery, one publisher and one subscriber, paced        peer: zmq-sub (chatctl-style
//   client) idle     the server's VmRSS with 10k connected idle sessions           peer: mosquitto
// Every chatbus measurement gets a fresh cluster and a fresh gateway, every Mosquitto one a fresh Mosquitto.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/mqtt.hpp"
#include "bench/options.hpp"
#include "bench/proc.hpp"

namespace bench {

namespace {

constexpr std::size_t kSize = 100;
constexpr int kIdleSessions = 10000;

std::string room_filter(const std::string& room) {
    return "chatbus/room/" + room;
}

Result fanout_chatbus(const Options& o, const std::string& link, int n, const FanoutPlan& p) {
    Cluster c(o, link);
    zmq::context_t ctx(1);
    Dealer d(ctx, c.client_endpoint());
    // Registered nicks: subscribing joins the room (docs/mqtt.md, "Rooms"); the publisher is a member
    // already.
    std::vector<Identity> nicks = register_nicks(d, "mf", static_cast<std::size_t>(n) + 1);
    const Identity& publisher = nicks.back();
    const std::string room = unique_name("mqttfan");
    join_room(d, publisher, room);
    MqttServer gw = MqttServer::gateway(c.client_endpoint());
    FanoutTarget t{gw, room_filter(room), true, {}, {unique_name("c"), publisher.nick, publisher.token, ""}};
    for (int i = 0; i < n; ++i)
        t.subscribers.push_back({unique_name("c"), nicks[i].nick, nicks[i].token, t.topic});
    Result r = mqtt_fanout(t, p);
    r.system = "chatbus";
    return c.tag(r);
}

Result fanout_mosquitto(int n, const FanoutPlan& p) {
    MqttServer m = MqttServer::mosquitto();
    const std::string topic = "bench/" + unique_name("fanout");
    FanoutTarget t{m, topic, false, {}, {unique_name("c"), "", "", ""}};
    for (int i = 0; i < n; ++i) t.subscribers.push_back({unique_name("c"), "", "", topic});
    Result r = mqtt_fanout(t, p);
    r.system = "mosquitto";
    return r;
}

std::vector<Result> latency_chatbus(const Options& o, const std::string& link, const LatencyPlan& p) {
    Cluster c(o, link);
    MqttServer gw = MqttServer::gateway(c.client_endpoint());
    return mqtt_latency(c, gw, p);
}

// The gateway with `sessions` idle sessions: each its own registered nick (the case of real users: one
// LISTEN at the broker and the nick's state in the gateway per session), or anonymous (the connection and
// its MQTT session alone). Registering 10k nicks takes about a second with many REGISTERs in flight.
Result idle_chatbus(const Options& o, const std::string& link, int sessions, bool nicks) {
    Cluster c(o, link);
    zmq::context_t ctx(1);
    Dealer d(ctx, c.client_endpoint());
    std::vector<SessionPlan> plans;
    if (nicks) {
        for (const Identity& id : register_nicks(d, "mi", static_cast<std::size_t>(sessions)))
            plans.push_back({unique_name("c"), id.nick, id.token, ""});
    } else {
        for (int i = 0; i < sessions; ++i) plans.push_back({unique_name("c"), "", "", ""});
    }
    MqttServer gw = MqttServer::gateway(c.client_endpoint());
    Result r = mqtt_idle(gw, plans);
    r.system = "chatbus";
    if (!nicks) r.variant = "idle-anonymous";
    r.extra.emplace_back("sessions", nicks ? "nicks" : "anonymous");
    return c.tag(r);
}

Result idle_mosquitto(int sessions) {
    MqttServer m = MqttServer::mosquitto();
    std::vector<SessionPlan> plans;
    for (int i = 0; i < sessions; ++i) plans.push_back({unique_name("c"), "", "", ""});
    Result r = mqtt_idle(m, plans);
    r.system = "mosquitto";
    r.extra.emplace_back("sessions", "anonymous");
    return r;
}

// Each idle session costs the bench one descriptor and the server one: stay under the limit both inherit.
int idle_sessions(const Options& o) {
    const long limit = raise_fd_limit();
    const int want = o.quick ? 200 : kIdleSessions;
    const int can = static_cast<int>(std::max(0L, limit - 1000));
    if (can < want)
        spdlog::warn("mqtt idle: RLIMIT_NOFILE is {}, measuring {} sessions instead of {}", limit, can, want);
    return std::min(want, can);
}

}  // namespace

void run_mqtt(const Options& o, Report& rep) {
    const int idle = idle_sessions(o);  // raises the descriptor limit before any server starts
    const FanoutPlan fan{kSize, o.quick ? 0.3 : 4.0, o.mqtt_credit};
    const LatencyPlan lat{1000, o.quick ? 0.3 : 3.0, o.quick ? 0.05 : 0.5};
    for (int run = 0; run < o.runs; ++run) {
        for (int n : {10, 100}) {
            if ((o.only_subs && n != o.only_subs) || !o.mqtt_row("fanout")) continue;
            if (o.chatbus())
                for (const auto& link : o.links()) rep.add(fanout_chatbus(o, link, n, fan));
            if (o.raw()) rep.add(fanout_mosquitto(n, fan));
        }
        if (o.chatbus() && o.mqtt_row("latency"))
            for (const auto& link : o.links())
                for (Result& r : latency_chatbus(o, link, lat)) rep.add(std::move(r));
        if (!o.mqtt_row("idle")) continue;
        // RSS does not depend on how the workers reach the broker: the gateway is the same process either
        // way.
        if (o.chatbus()) {
            rep.add(idle_chatbus(o, o.links().front(), idle, true));
            rep.add(idle_chatbus(o, o.links().front(), idle, false));
        }
        if (o.raw()) rep.add(idle_mosquitto(idle));
    }
}

}  // namespace bench
