#include "bench/mqtt_subscribers.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <variant>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/mqtt_payload.hpp"

namespace bench {

namespace mqtt = chatbus::mqtt;

MqttSubGroup::MqttSubGroup(std::vector<MqttConn> conns, MqttSubConfig cfg)
    : cfg_(std::move(cfg)), conns_(std::move(conns)) {
    count_.assign(conns_.size(), 0);
    last_seq_.assign(conns_.size(), 0);
    if (cfg_.sample_latency) samples_.reserve(1 << 20);
}

MqttSubGroup::~MqttSubGroup() {
    if (thread_.joinable()) {
        finish(0, 0);
        thread_.join();
    }
}

void MqttSubGroup::start() {
    thread_ = std::thread([this] { loop(); });
}

void MqttSubGroup::finish(std::uint64_t per_sub, int idle_ms) {
    expect_.store(per_sub);
    idle_ms_.store(idle_ms);
    finishing_.store(true);
}

void MqttSubGroup::join() {
    if (thread_.joinable()) thread_.join();
}

std::uint64_t MqttSubGroup::delivered() const {
    std::uint64_t t = 0;
    for (auto c : count_) t += c;
    return t;
}

void MqttSubGroup::on_publish(std::size_t i, const std::string& topic, const std::string& payload) {
    if (topic != cfg_.topic) {
        if (topic == "chatbus/error") {
            ++errors_;
            spdlog::warn("subscriber {}: {}", i, payload);
        }
        return;
    }
    std::string_view text = cfg_.gateway_json ? gateway_event_text(payload) : std::string_view(payload);
    std::uint64_t seq = 0;
    std::int64_t ts = 0;
    if (!read_mqtt_payload(text, seq, ts)) return;  // a join event, say
    if (count_[i] && seq != last_seq_[i] + 1) ++gaps_;
    last_seq_[i] = seq;
    ++count_[i];
    got_ = true;
    if (cfg_.sample_latency && ts >= warmup_ns_.load(std::memory_order_relaxed))
        samples_.push_back(now_ns() - ts);
}

void MqttSubGroup::loop() {
    // epoll, not poll: a wake-up costs what is ready, not what is connected. Mosquitto writes every delivery
    // in a segment of its own, so a poll() over 100 sockets per delivery or two would make the client, not
    // the server, what is measured.
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < conns_.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, conns_[i].fd(), &ev);
    }
    std::vector<epoll_event> ready(std::max<std::size_t>(1, conns_.size()));
    last_ns_ = now_ns();
    while (true) {
        int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 10);
        got_ = false;
        for (int k = 0; k < n; ++k) {
            const auto i = static_cast<std::size_t>(ready[k].data.u64);
            bool ok = conns_[i].read([&](mqtt::Packet& p) {
                if (auto* pub = std::get_if<mqtt::Publish>(&p)) on_publish(i, pub->topic, pub->payload);
            });
            if (!ok) {
                spdlog::error("subscriber {}: connection lost", i);
                ++lost_conns_;
                ::epoll_ctl(ep, EPOLL_CTL_DEL, conns_[i].fd(), nullptr);
            }
        }
        std::int64_t now = now_ns();
        if (got_) last_ns_ = now;
        std::uint64_t lo = count_.empty() ? 0 : *std::min_element(count_.begin(), count_.end());
        min_count_.store(lo, std::memory_order_relaxed);
        if (finishing_.load()) {
            std::uint64_t want = expect_.load();
            if (want && lo >= want) break;
            if (now - last_ns_ > std::int64_t(idle_ms_.load()) * 1000000) break;
        }
    }
    ::close(ep);
}

}  // namespace bench
