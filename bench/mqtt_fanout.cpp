// mqtt row 1: fan-out. One publisher sends QoS 0 PUBLISHes of `size` bytes as fast as the server takes them,
// staying at most `credit` messages ahead of the slowest of N subscribers; deliveries per second summed over
// subscribers. The same loop for the gateway and for Mosquitto.
#include <poll.h>

#include <algorithm>
#include <thread>
#include <variant>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/mqtt.hpp"
#include "bench/mqtt_payload.hpp"
#include "bench/mqtt_subscribers.hpp"
#include "bench/proc.hpp"

namespace bench {

namespace mqtt = chatbus::mqtt;

namespace {

constexpr std::uint64_t kBatch =
    64;  // PUBLISHes per write: a bulk publisher fills its socket, not one per call

struct Publisher {
    MqttConn conn;
    std::string topic;
    std::size_t size;
    std::uint64_t errors = 0;
    bool broken = false;

    void queue(std::uint64_t seq) {
        conn.queue(mqtt::Publish{false, 0, false, topic, 0, mqtt_payload(seq, 0, size)});
    }
    // Writes what is queued and reads what the server sent (errors on chatbus/error, for the gateway).
    void service(int wait_ms) {
        pollfd p{conn.fd(), static_cast<short>(POLLIN | (conn.wants_write() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, wait_ms) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
            bool ok = conn.read([&](mqtt::Packet& pk) {
                if (auto* pub = std::get_if<mqtt::Publish>(&pk); pub && pub->topic == "chatbus/error") {
                    if (errors++ == 0) spdlog::warn("publisher refused: {}", pub->payload);
                }
            });
            if (!ok) broken = true;
        }
        if (!conn.flush()) broken = true;
    }
};

}  // namespace

Result mqtt_fanout(const FanoutTarget& t, const FanoutPlan& p) {
    const int n = static_cast<int>(t.subscribers.size());
    Result r;
    r.workload = "mqtt";
    r.variant = "fanout";
    r.subs = n;
    r.size = p.size;
    r.inflight = static_cast<int>(p.credit);
    r.unit = "deliveries/s";
    r.extra.emplace_back("qos", "0");

    OpenedSessions opened = open_sessions(t.server.port(), t.subscribers);
    OpenedSessions pub_open = open_sessions(t.server.port(), {t.publisher});
    if (opened.ok < t.subscribers.size() || pub_open.ok != 1) {
        r.lost = t.subscribers.size() - opened.ok + 1 - pub_open.ok;
        return r;
    }
    MqttSubGroup subs(std::move(opened.conns), {.topic = t.topic, .gateway_json = t.gateway_json});
    Publisher pub{std::move(pub_open.conns[0]), t.topic, p.size};
    subs.start();

    // Message 0 reaches every subscriber before the clock starts: the gateway follows a room once the
    // broker has confirmed its subscription, and no server is measured while it still sets up.
    pub.queue(0);
    const std::int64_t warm_deadline = now_ns() + 10'000'000'000;
    while (subs.min_count() < 1 && now_ns() < warm_deadline && !pub.broken) pub.service(1);
    if (subs.min_count() < 1)
        spdlog::error("mqtt fanout ({}): warm-up message never reached every subscriber", t.server.name());

    CpuMeter cpu;
    const double server_cpu0 = cpu_s(t.server.pid());
    const std::int64_t t0 = now_ns(), stop_at = t0 + static_cast<std::int64_t>(p.seconds * 1e9);
    std::uint64_t sent = 0;  // after message 0
    while (!pub.broken && now_ns() < stop_at) {
        // Counts include message 0.
        std::uint64_t ahead = sent + 1 - std::min(sent + 1, subs.min_count());
        if (ahead < p.credit) {
            std::uint64_t k = std::min(kBatch, p.credit - ahead);
            for (std::uint64_t i = 0; i < k; ++i) pub.queue(++sent);
            pub.service(0);
        } else {
            pub.service(0);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    while (pub.conn.wants_write() && !pub.broken && now_ns() < stop_at + 5'000'000'000) pub.service(1);
    subs.finish(sent + 1);
    subs.join();

    r.sent = sent;
    std::uint64_t all = subs.delivered();
    r.delivered = all >= static_cast<std::uint64_t>(n) ? all - n : 0;
    std::uint64_t expected = sent * static_cast<std::uint64_t>(n);
    r.lost = (expected > r.delivered ? expected - r.delivered : 0) + subs.faults() + pub.errors +
             (pub.broken ? 1 : 0);
    r.wall_s = static_cast<double>(subs.last_delivery_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    add_cpu(r, cpu);
    // The bench process runs the clients (and, for chatbus, the broker and workers); the server is apart.
    double server_cpu = cpu_s(t.server.pid()) - server_cpu0;
    r.extra.emplace_back("server_cpu_s", fmt::format("{:.2f}", server_cpu));
    if (r.delivered) {
        const double per = 1e6 / static_cast<double>(r.delivered);
        r.extra.emplace_back("server_cpu_us_per_delivery", fmt::format("{:.2f}", server_cpu * per));
        // Everything both processes spent: a figure that does not depend on how the scheduler shared the
        // cores between the single-threaded Mosquitto and chatbus's threads.
        r.extra.emplace_back("total_cpu_us_per_delivery",
                             fmt::format("{:.2f}", (cpu.seconds() + server_cpu) * per));
    }
    return r;
}

}  // namespace bench
