// mqtt row 3: memory. The server's VmRSS once every planned session has connected (and the server has
// answered CONNACK) and sits idle; the RSS before the first connection is reported beside it.
#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/mqtt.hpp"

namespace bench {

Result mqtt_idle(const MqttServer& s, const std::vector<SessionPlan>& plans) {
    Result r;
    r.workload = "mqtt";
    r.variant = "idle";
    r.unit = "MiB_rss";
    r.sent = plans.size();
    r.subs = static_cast<int>(plans.size());  // sessions asked for; those that failed count as lost
    const long before = s.rss_kib();
    const auto t0 = std::chrono::steady_clock::now();
    OpenedSessions opened = open_sessions(s.port(), plans, 64, 120000);
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Whatever a server does after CONNACK (the gateway's bookkeeping, Mosquitto's) has settled by then.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const long after = s.rss_kib();
    r.delivered = opened.ok;
    r.lost = plans.size() - opened.ok;
    r.rate = static_cast<double>(after) / 1024.0;
    r.extra.emplace_back("rss_before_mib", fmt::format("{:.1f}", static_cast<double>(before) / 1024.0));
    if (opened.ok)
        r.extra.emplace_back("kib_per_session", fmt::format("{:.2f}", static_cast<double>(after - before) /
                                                                          static_cast<double>(opened.ok)));
    r.extra.emplace_back("connects_per_s",
                         fmt::format("{:.0f}", r.wall_s > 0 ? static_cast<double>(opened.ok) / r.wall_s : 0));
    return r;
}

}  // namespace bench
