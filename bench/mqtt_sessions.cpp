#include "bench/mqtt_sessions.hpp"

#include <poll.h>

#include <chrono>
#include <variant>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"

namespace bench {

namespace mqtt = chatbus::mqtt;

namespace {

enum class Step { connack, suback, done, failed };

// Handles what one connection received; returns its next step.
Step on_packets(MqttConn& c, const SessionPlan& plan, Step step) {
    bool ok = c.read([&](mqtt::Packet& p) {
        if (auto* a = std::get_if<mqtt::Connack>(&p); a && step == Step::connack) {
            if (a->return_code != mqtt::ConnectReturnCode::accepted) {
                spdlog::warn("MQTT CONNACK {} for client {}", static_cast<int>(a->return_code),
                             plan.client_id);
                step = Step::failed;
            } else if (plan.subscribe.empty()) {
                step = Step::done;
            } else {
                c.queue(mqtt::Subscribe{1, {{plan.subscribe, 0}}});
                step = Step::suback;
            }
        } else if (auto* s = std::get_if<mqtt::Suback>(&p); s && step == Step::suback) {
            bool granted = !s->codes.empty() && s->codes[0] != mqtt::kSubackFailure;
            if (!granted)
                spdlog::warn("MQTT SUBACK refused {} for client {}", plan.subscribe, plan.client_id);
            step = granted ? Step::done : Step::failed;
        }
    });
    if (!ok) return Step::failed;
    if (step != Step::failed && !c.flush()) return Step::failed;
    return step;
}

}  // namespace

OpenedSessions open_sessions(int port, const std::vector<SessionPlan>& plans, std::size_t window,
                             int timeout_ms) {
    OpenedSessions out;
    out.conns.resize(plans.size());
    std::vector<Step> step(plans.size(), Step::connack);
    std::vector<std::size_t> active;  // indexes of handshakes under way
    std::size_t next = 0;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<pollfd> fds;
    while ((next < plans.size() || !active.empty()) && Clock::now() < deadline) {
        while (next < plans.size() && active.size() < window) {
            MqttConn& c = out.conns[next];
            c.open(port);
            const SessionPlan& p = plans[next];
            c.queue(mqtt_connect(p.client_id, p.user, p.password));
            c.flush();  // connecting: EAGAIN, written once writable
            active.push_back(next++);
        }
        fds.clear();
        for (std::size_t i : active) {
            const MqttConn& c = out.conns[i];
            fds.push_back({c.fd(), static_cast<short>(POLLIN | (c.wants_write() ? POLLOUT : 0)), 0});
        }
        if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
        std::vector<std::size_t> still;
        for (std::size_t k = 0; k < active.size(); ++k) {
            std::size_t i = active[k];
            if (fds[k].revents) step[i] = on_packets(out.conns[i], plans[i], step[i]);
            if (step[i] == Step::done) {
                ++out.ok;
            } else if (step[i] == Step::failed) {
                out.conns[i].close();
            } else {
                still.push_back(i);
            }
        }
        active.swap(still);
    }
    for (std::size_t i : active) out.conns[i].close();
    for (std::size_t i = next; i < plans.size(); ++i) out.conns[i].close();
    if (out.ok < plans.size())
        spdlog::error("MQTT: {} of {} sessions opened on port {}", out.ok, plans.size(), port);
    return out;
}

}  // namespace bench
