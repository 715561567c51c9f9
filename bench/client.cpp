#include "client.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

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
    auto rep = d.call<Register, RegisterReply>(Register{.nick = unique_name(what)});
    if (rep.status != 0) throw std::runtime_error("REGISTER failed: " + rep.error);
    return {rep.nick, rep.token};
}

void join_room(Dealer& d, const Identity& id, const std::string& room) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (true) {
        auto rep = d.call<Join, JoinReply>(Join{.nick = id.nick, .token = id.token, .room = room});
        if (rep.status == 0) return;
        if (rep.status != static_cast<std::uint64_t>(Status::no_worker) || Clock::now() > deadline)
            throw std::runtime_error("JOIN failed: " + rep.error);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::string events_endpoint(Dealer& d) {
    auto rep = d.call<Hello, HelloReply>(Hello{});
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

namespace {

// A minimal msgpack reader: enough to walk one EVENT map, skipping values it does not need.
struct Reader {
    const unsigned char* p;
    const unsigned char* end;
    bool ok = true;

    std::uint64_t be(int n) {
        if (end - p < n) {
            ok = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
        p += n;
        return v;
    }
    unsigned char byte() { return static_cast<unsigned char>(be(1)); }
    std::string_view str_body(std::uint64_t n) {
        if (static_cast<std::uint64_t>(end - p) < n) {
            ok = false;
            return {};
        }
        std::string_view s(reinterpret_cast<const char*>(p), n);
        p += n;
        return s;
    }
    // Reads a str; false if the next value is not one.
    bool str(std::string_view& out) {
        if (p >= end) return ok = false;
        unsigned char t = *p;
        if ((t & 0xe0) == 0xa0) return ++p, out = str_body(t & 0x1f), ok;
        if (t == 0xd9) return ++p, out = str_body(be(1)), ok;
        if (t == 0xda) return ++p, out = str_body(be(2)), ok;
        if (t == 0xdb) return ++p, out = str_body(be(4)), ok;
        return false;
    }
    bool uint(std::uint64_t& out) {
        if (p >= end) return ok = false;
        unsigned char t = *p;
        if (t < 0x80) return ++p, out = t, true;
        if (t >= 0xcc && t <= 0xcf) return ++p, out = be(1 << (t - 0xcc)), ok;
        return false;
    }
    void skip() {
        unsigned char t = byte();
        if (!ok) return;
        if (t < 0x80 || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return;
        if ((t & 0xe0) == 0xa0) return void(str_body(t & 0x1f));
        if ((t & 0xf0) == 0x90) return skip_n(t & 0x0f);
        if ((t & 0xf0) == 0x80) return skip_n(2 * (t & 0x0f));
        switch (t) {
            case 0xcc:
            case 0xd0:
                return void(be(1));
            case 0xcd:
            case 0xd1:
                return void(be(2));
            case 0xce:
            case 0xd2:
            case 0xca:
                return void(be(4));
            case 0xcf:
            case 0xd3:
            case 0xcb:
                return void(be(8));
            case 0xd9:
            case 0xc4:
                return void(str_body(be(1)));
            case 0xda:
            case 0xc5:
                return void(str_body(be(2)));
            case 0xdb:
            case 0xc6:
                return void(str_body(be(4)));
            case 0xdc:
                return skip_n(be(2));
            case 0xdd:
                return skip_n(be(4));
            case 0xde:
                return skip_n(2 * be(2));
            case 0xdf:
                return skip_n(2 * be(4));
            default:
                ok = false;
        }
    }
    void skip_n(std::uint64_t n) {
        for (std::uint64_t i = 0; i < n && ok; ++i) skip();
    }
};

}  // namespace

bool peek_event(std::string_view frame, EventView& out) {
    auto z = frame.find('\0');
    if (z == std::string_view::npos || frame.size() < z + 1 + kHeaderSize) return false;
    const char* h = frame.data() + z + 1;
    if (h[0] != kSignature0 || h[1] != kSignature1 || static_cast<std::uint8_t>(h[3]) != 0x50) return false;
    Reader r{reinterpret_cast<const unsigned char*>(h + kHeaderSize),
             reinterpret_cast<const unsigned char*>(frame.data() + frame.size())};
    std::uint64_t n = 0;
    unsigned char t = r.byte();
    if ((t & 0xf0) == 0x80)
        n = t & 0x0f;
    else if (t == 0xde)
        n = r.be(2);
    else if (t == 0xdf)
        n = r.be(4);
    else
        return false;
    out = {};
    for (std::uint64_t i = 0; i < n && r.ok; ++i) {
        std::string_view key;
        // Keys are short: a fixstr read inline (the general reader is for anything else).
        if (r.p < r.end && (*r.p & 0xe0) == 0xa0 && static_cast<std::size_t>(r.end - r.p) > (*r.p & 0x1fu)) {
            std::size_t len = *r.p & 0x1fu;
            key = std::string_view(reinterpret_cast<const char*>(r.p + 1), len);
            r.p += 1 + len;
        } else if (!r.str(key)) {
            return false;
        }
        if (key == "seq") {
            if (!r.uint(out.seq)) return false;
        } else if (key == "kind") {
            if (!r.str(out.kind)) return false;
        } else if (key == "text") {
            if (!r.str(out.text)) return false;
        } else {
            r.skip();
        }
    }
    return r.ok;
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
