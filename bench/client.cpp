#include "bench/client.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

namespace bench {

using namespace chatbus;

std::string unique_name(std::string_view what) {
    static const std::string tag = [] {
        std::mt19937_64 rng(std::random_device{}() ^ static_cast<std::uint64_t>(getpid()));
        return fmt::format("b{:06x}", rng() & 0xffffff);
    }();
    static std::atomic<std::uint64_t> counter{0};
    return fmt::format("{}-{}{}", tag, what, counter.fetch_add(1));
}

Dealer::Dealer(zmq::context_t& ctx, const std::string& endpoint) : s_(ctx, zmq::socket_type::dealer) {
    s_.set(zmq::sockopt::linger, 0);
    s_.set(zmq::sockopt::sndhwm, 100000);
    s_.set(zmq::sockopt::rcvhwm, 100000);
    s_.connect(endpoint);
}

Identity register_nick(Dealer& d, std::string_view what) {
    auto rep = d.call(Register{.nick = unique_name(what)});
    if (rep.status != 0) throw std::runtime_error("REGISTER failed: " + rep.error);
    return {rep.nick, rep.token};
}

std::vector<Identity> register_nicks(Dealer& d, std::string_view what, std::size_t n) {
    constexpr std::size_t kWindow = 256;
    std::vector<Identity> out(n);
    std::unordered_map<std::uint64_t, std::size_t> index;  // rid -> nick awaiting its reply
    std::size_t next = 0, done = 0;
    auto& s = d.socket();
    zmq::message_t m;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (done < n) {
        while (next < n && index.size() < kWindow) {
            Register req{.rid = d.next_rid(), .nick = unique_name(what)};
            out[next].nick = req.nick;
            index[req.rid] = next++;
            s.send(zmq::buffer(encode(req)), zmq::send_flags::none);
        }
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(50));
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            RegisterReply rep;
            if (decode_as(view(m), rep) != Status::ok) continue;
            auto it = index.find(rep.rid);
            if (it == index.end()) continue;
            if (rep.status != 0) throw std::runtime_error("REGISTER failed: " + rep.error);
            out[it->second].token = rep.token;
            index.erase(it);
            ++done;
        }
        if (Clock::now() > deadline) throw std::runtime_error("REGISTERs unanswered for 30 s");
    }
    return out;
}

void join_room(Dealer& d, const Identity& id, const std::string& room) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (true) {
        auto rep = d.call(Join{.nick = id.nick, .token = id.token, .room = room});
        if (rep.status == 0) return;
        if (rep.status != static_cast<std::uint64_t>(Status::no_worker) || Clock::now() > deadline)
            throw std::runtime_error("JOIN failed: " + rep.error);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::string events_endpoint(Dealer& d) {
    auto rep = d.call(Hello{});
    if (rep.status != 0) throw std::runtime_error("HELLO failed: " + rep.error);
    return rep.events;
}

bool subscribe_synced(zmq::socket_t& s, const std::string& topic, int timeout_ms) {
    s.set(zmq::sockopt::subscribe, topic);
    std::string nonce = unique_name("sync");
    for (auto& c : nonce) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string st = sync_topic(nonce);
    s.set(zmq::sockopt::subscribe, st);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    bool synced = false;
    while (!synced && Clock::now() < deadline) {
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(20));
        zmq::message_t m;
        while (s.recv(m, zmq::recv_flags::dontwait))
            if (view(m).substr(0, st.size()) == st) synced = true;
    }
    s.set(zmq::sockopt::unsubscribe, st);
    return synced;
}

bool peek_event_frame(std::string_view frame, EventView& out) {
    auto z = frame.find('\0');
    if (z == std::string_view::npos || frame.size() < z + 1 + kHeaderSize) return false;
    std::string_view h = frame.substr(z + 1);
    const bool event = h[0] == kSignature0 && h[1] == kSignature1 &&
                       static_cast<std::uint8_t>(h[3]) == static_cast<std::uint8_t>(MsgType::event);
    return event && peek_event(h.substr(kHeaderSize), out);
}

std::string raw_frame(const std::string& topic, std::size_t size) {
    std::string f = topic;
    f.append(std::max<std::size_t>(size, 16), 'x');
    return f;
}

void raw_stamp(std::string& frame, std::size_t topic_len, std::uint64_t seq, std::int64_t ts_ns) {
    std::memcpy(frame.data() + topic_len, &seq, 8);
    std::memcpy(frame.data() + topic_len + 8, &ts_ns, 8);
}

bool raw_read(std::string_view frame, std::size_t topic_len, std::uint64_t& seq, std::int64_t& ts_ns) {
    if (frame.size() < topic_len + 16) return false;
    std::memcpy(&seq, frame.data() + topic_len, 8);
    std::memcpy(&ts_ns, frame.data() + topic_len + 8, 8);
    return true;
}

std::string stamped_text(std::int64_t ts_ns, std::size_t size) {
    std::string t = std::to_string(ts_ns);
    if (t.size() < size) t.append(size - t.size(), 'x');
    return t;
}

std::int64_t read_stamp(std::string_view text) {
    std::int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') break;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace bench
