#include "bench/subscribers.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "bench/client.hpp"
#include "common/event_kind.hpp"

namespace bench {

SubGroup::SubGroup(zmq::context_t& ctx, SubConfig cfg) : cfg_(std::move(cfg)), warmup_ns_(cfg_.warmup_ns) {
    count_.assign(cfg_.n, 0);
    last_seq_.assign(cfg_.n, 0);
    for (int i = 0; i < cfg_.n; ++i) {
        subs_.emplace_back(ctx, zmq::socket_type::sub);
        auto& s = subs_.back();
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::rcvhwm, 100000);
        s.connect(cfg_.endpoint);
        if (cfg_.chatbus) {
            if (!subscribe_synced(s, cfg_.topic))
                throw std::runtime_error("subscriber never got its sync mark");
        } else {
            s.set(zmq::sockopt::subscribe, cfg_.topic);  // the raw publisher counts subscriptions instead
        }
    }
    if (cfg_.sample_latency) samples_.reserve(1 << 20);
}

SubGroup::~SubGroup() {
    if (thread_.joinable()) {
        finish(0, 0);
        thread_.join();
    }
}

void SubGroup::start() {
    thread_ = std::thread([this] { loop(); });
}

void SubGroup::finish(std::uint64_t per_sub, int idle_ms) {
    expect_.store(per_sub);
    idle_ms_.store(idle_ms);
    finishing_.store(true);
}

void SubGroup::join() {
    if (thread_.joinable()) thread_.join();
}

std::uint64_t SubGroup::delivered() const {
    std::uint64_t t = 0;
    for (auto c : count_) t += c;
    return t;
}

void SubGroup::loop() {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : subs_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    const std::size_t topic_len = cfg_.topic.size();
    last_ns_ = now_ns();
    zmq::message_t m;
    while (true) {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
        bool got = false;
        for (std::size_t i = 0; i < subs_.size(); ++i) {
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            // Drain: polling once per message costs twice as much (hot-path notes).
            while (subs_[i].recv(m, zmq::recv_flags::dontwait)) {
                std::uint64_t seq = 0;
                std::int64_t ts = 0;
                std::string_view f(m.data<char>(), m.size());
                if (cfg_.chatbus) {
                    chatbus::EventView ev;
                    if (!peek_event_frame(f, ev) || ev.kind != chatbus::event_kind::message) continue;
                    seq = ev.seq;
                    if (cfg_.sample_latency) ts = read_stamp(ev.text);
                } else if (!raw_read(f, topic_len, seq, ts)) {
                    continue;
                }
                if (count_[i] && seq != last_seq_[i] + 1) ++gaps_;
                last_seq_[i] = seq;
                ++count_[i];
                got = true;
                // One clock read per message only when latency is measured; throughput runs read it per
                // round.
                if (cfg_.sample_latency && ts >= warmup_ns_.load(std::memory_order_relaxed))
                    samples_.push_back(now_ns() - ts);
            }
        }
        std::int64_t now = now_ns();
        if (got) last_ns_ = now;
        std::uint64_t lo = *std::min_element(count_.begin(), count_.end());
        min_count_.store(lo, std::memory_order_relaxed);
        if (finishing_.load()) {
            std::uint64_t want = expect_.load();
            if (want && lo >= want) break;
            if (now - last_ns_ > std::int64_t(idle_ms_.load()) * 1000000) break;
        }
    }
}

zmq::socket_t bind_raw_xpub(zmq::context_t& ctx) {
    zmq::socket_t pub(ctx, zmq::socket_type::xpub);
    pub.set(zmq::sockopt::linger, 0);
    pub.set(zmq::sockopt::sndhwm, 100000);  // as the broker's
    pub.set(zmq::sockopt::xpub_verbose, 1);
    pub.bind("tcp://127.0.0.1:*");
    return pub;
}

bool await_subscribers(zmq::socket_t& xpub, int n, int timeout_ms) {
    int seen = 0;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    zmq::message_t m;
    while (seen < n && Clock::now() < deadline) {
        if (xpub.recv(m, zmq::recv_flags::dontwait)) {
            if (m.size() > 0 && m.data<char>()[0] == 1) ++seen;
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    return seen >= n;
}

}  // namespace bench
