// dm: DMs between 100 nick pairs. Senders share one DEALER (requests carry nick and token); the 100
// recipients are listeners (LISTEN on their own DEALERs) read by one thread, acknowledging what they drained.
// Baseline: a raw ROUTER relay that forwards [to][payload] to the addressed DEALER and answers the sender.
#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/options.hpp"

namespace bench {

using namespace chatbus;

namespace {

constexpr int kPairs = 100;
constexpr std::size_t kSize = 100;
constexpr std::uint64_t kCredit =
    5000;  // DMs sent but not yet at a listener: keeps inboxes (1,000) from filling

struct Plan {
    int inflight;
    std::uint64_t total;
    double seconds, warmup_s;
};

// What one delivered frame was, as the listener loop needs it.
struct Delivery {
    bool counted = false;       // a new message (not a repeat, not a ping reply)
    std::int64_t stamp_ns = 0;  // when it was sent
};

struct ListenerStats {
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<bool> stop{false};
    std::vector<std::int64_t> samples;
    std::int64_t last_ns = 0;
    double cpu_s = 0;
};

// One thread reads every listener socket; after draining one it acknowledges (a listener acks what it read).
void listen_loop(std::vector<zmq::socket_t*> socks, ListenerStats& st, std::int64_t warm,
                 const std::function<Delivery(std::size_t, const zmq::message_t&)>& on_frame,
                 const std::function<void(std::size_t)>& after_drain,
                 const std::function<void()>& every_300ms) {
    std::vector<zmq::pollitem_t> items;
    for (auto* s : socks) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
    std::int64_t next_tick = now_ns();
    zmq::message_t m;
    while (!st.stop.load()) {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
        for (std::size_t i = 0; i < socks.size(); ++i) {
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            bool any = false;
            while (socks[i]->recv(m, zmq::recv_flags::dontwait)) {
                Delivery d = on_frame(i, m);
                if (!d.counted) continue;
                any = true;
                st.last_ns = now_ns();
                if (d.stamp_ns >= warm) st.samples.push_back(st.last_ns - d.stamp_ns);
                st.delivered.fetch_add(1, std::memory_order_relaxed);
            }
            if (any) after_drain(i);
        }
        if (now_ns() >= next_tick) {
            every_300ms();
            next_tick = now_ns() + 300'000'000;
        }
    }
}

// Sends with a window of `inflight` unanswered requests until the plan's count or time is reached, then waits
// for every delivery. Returns [sent_ok, refused].
std::pair<std::uint64_t, std::uint64_t> drive(const Plan& p, zmq::socket_t& s, ListenerStats& st,
                                              const std::function<void(std::uint64_t)>& send,
                                              const std::function<bool(const zmq::message_t&)>& reply_ok,
                                              std::int64_t t0) {
    const std::int64_t end = t0 + static_cast<std::int64_t>(p.seconds * 1e9);
    CpuMeter cpu;
    std::uint64_t sent = 0, ok = 0, refused = 0;
    zmq::message_t m;
    std::int64_t last = now_ns();
    while (true) {
        std::int64_t now = now_ns();
        bool more = sent < p.total && now < end;
        if (more && sent - ok - refused < static_cast<std::uint64_t>(p.inflight) &&
            sent - std::min(sent, st.delivered.load(std::memory_order_relaxed)) < kCredit) {
            send(sent++);
            continue;
        }
        if (!more && sent == ok + refused) break;
        if (now - last > 5'000'000'000) {
            spdlog::error("dm: no reply for 5 s");
            break;
        }
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(1));
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            last = now_ns();
            (reply_ok(m) ? ok : refused) += 1;
        }
    }
    auto deadline = now_ns() + 3'000'000'000LL;
    while (st.delivered.load() < ok && now_ns() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    st.cpu_s = cpu.seconds();
    return {ok, refused};
}

Result make_result(const char* system, const Plan& p, std::uint64_t ok, std::uint64_t refused,
                   ListenerStats& st, std::int64_t t0) {
    Result r;
    r.system = system;
    r.workload = "dm";
    r.subs = kPairs;
    r.size = kSize;
    r.inflight = p.inflight;
    r.sent = ok + refused;
    r.delivered = st.delivered.load();
    r.lost = (ok > r.delivered ? ok - r.delivered : 0) + refused;
    r.wall_s = static_cast<double>(st.last_ns - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    r.unit = "dms/s";
    r.lat = percentiles(st.samples);
    r.extra.emplace_back("cpu_s", fmt::format("{:.2f}", st.cpu_s));
    if (r.sent)
        r.extra.emplace_back("cpu_us_per_msg",
                             fmt::format("{:.2f}", st.cpu_s * 1e6 / static_cast<double>(r.sent)));
    return r;
}

Result chatbus_dm(const Cluster& c, const Plan& p) {
    zmq::context_t ctx(1), listen_ctx(1);
    Dealer d(ctx, c.client_endpoint());
    std::vector<Identity> from, to;
    for (int i = 0; i < kPairs; ++i) {
        from.push_back(register_nick(d, "from"));
        to.push_back(register_nick(d, "to"));
    }
    std::vector<std::unique_ptr<Dealer>> listeners;
    std::vector<zmq::socket_t*> socks;
    for (int i = 0; i < kPairs; ++i) {
        listeners.push_back(std::make_unique<Dealer>(listen_ctx, c.client_endpoint()));
        auto rep = listeners.back()->call(Listen{.nick = to[i].nick, .token = to[i].token});
        if (rep.status != 0) throw std::runtime_error("LISTEN failed: " + rep.error);
        socks.push_back(&listeners.back()->socket());
    }
    ListenerStats st;
    st.samples.reserve(1 << 20);
    std::vector<std::uint64_t> last_id(kPairs, 0);
    const std::int64_t t0 = now_ns(), warm = t0 + static_cast<std::int64_t>(p.warmup_s * 1e9);
    std::string scratch;
    std::thread lt([&] {
        listen_loop(
            socks, st, warm,
            [&](std::size_t i, const zmq::message_t& m) {
                DmDeliver dm;
                if (decode_as(view(m), dm) != Status::ok || dm.id <= last_id[i]) return Delivery{};
                last_id[i] = dm.id;
                return Delivery{true, read_stamp(dm.text)};
            },
            [&](std::size_t i) {
                scratch.clear();
                encode_into(scratch, DmAck{.nick = to[i].nick, .upto = last_id[i]});
                socks[i]->send(zmq::buffer(scratch), zmq::send_flags::dontwait);
            },
            [&] {
                for (std::size_t i = 0; i < socks.size(); ++i) {
                    scratch.clear();
                    encode_into(scratch, Ping{.rid = 1});
                    socks[i]->send(zmq::buffer(scratch), zmq::send_flags::dontwait);
                }
            });
    });
    Dm dm;
    std::string frame;
    auto [ok, refused] = drive(
        p, d.socket(), st,
        [&](std::uint64_t n) {
            const auto& a = from[n % kPairs];
            dm = Dm{.rid = d.next_rid(),
                    .nick = a.nick,
                    .token = a.token,
                    .to = to[n % kPairs].nick,
                    .text = stamped_text(now_ns(), kSize)};
            frame.clear();
            encode_into(frame, dm);
            d.socket().send(zmq::buffer(frame), zmq::send_flags::none);
        },
        [](const zmq::message_t& m) {
            DmReply r;
            return decode_as(view(m), r) == Status::ok && r.status == 0;
        },
        t0);
    st.stop = true;
    lt.join();
    return make_result("chatbus", p, ok, refused, st, t0);
}

Result raw_dm(const Plan& p) {
    zmq::context_t relay_ctx(1), ctx(1), listen_ctx(1);
    zmq::socket_t router(relay_ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::sndhwm, 100000);
    router.set(zmq::sockopt::rcvhwm, 100000);
    router.bind("tcp://127.0.0.1:*");
    std::string ep = last_endpoint(router);
    std::atomic<bool> relay_stop{false};
    std::thread relay([&] {
        std::vector<zmq::message_t> parts;
        while (!relay_stop.load()) {
            zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(50));
            while (recv_multipart(router, parts)) {
                if (parts.size() ==
                    3) {  // [sender][to][payload]: forward, then answer with the payload's rid
                    send_frames(router, {view(parts[1]), view(parts[2])});
                    send_frames(router, {view(parts[0]), view(parts[2]).substr(0, 8)});
                } else if (parts.size() == 2 && view(parts[1]) == "H") {
                    send_frames(router, {view(parts[0]), "H"});
                }  // anything else is an ack: dropped, as the broker only records it
            }
        }
    });
    std::vector<zmq::socket_t> ls;
    std::vector<zmq::socket_t*> socks;
    for (int i = 0; i < kPairs; ++i) {
        ls.emplace_back(listen_ctx, zmq::socket_type::dealer);
        ls.back().set(zmq::sockopt::linger, 0);
        ls.back().set(zmq::sockopt::routing_id, "L" + std::to_string(i));
        ls.back().connect(ep);
        ls.back().send(zmq::str_buffer("H"), zmq::send_flags::none);
        zmq::message_t m;
        (void)ls.back().recv(m);  // the relay knows this listener now
    }
    for (auto& s : ls) socks.push_back(&s);
    zmq::socket_t sender(ctx, zmq::socket_type::dealer);
    sender.set(zmq::sockopt::linger, 0);
    sender.set(zmq::sockopt::routing_id, "S");
    sender.connect(ep);

    ListenerStats st;
    st.samples.reserve(1 << 20);
    std::vector<std::uint64_t> last_id(kPairs, 0);
    const std::int64_t t0 = now_ns(), warm = t0 + static_cast<std::int64_t>(p.warmup_s * 1e9);
    std::thread lt([&] {
        listen_loop(
            socks, st, warm,
            [&](std::size_t i, const zmq::message_t& m) {
                std::uint64_t id = 0;
                std::int64_t ts = 0;
                if (m.size() < 16) return Delivery{};
                std::memcpy(&id, m.data(), 8);
                std::memcpy(&ts, m.data<char>() + 8, 8);
                if (id <= last_id[i]) return Delivery{};
                last_id[i] = id;
                return Delivery{true, ts};
            },
            [&](std::size_t i) {
                char ack[9] = {'A'};
                std::memcpy(ack + 1, &last_id[i], 8);
                socks[i]->send(zmq::buffer(ack, 9), zmq::send_flags::dontwait);
            },
            [] {});
    });
    std::string payload(kSize, 'd');
    auto [ok, refused] = drive(
        p, sender, st,
        [&](std::uint64_t n) {
            std::uint64_t id = n + 1;
            std::int64_t ts = now_ns();
            std::memcpy(payload.data(), &id, 8);
            std::memcpy(payload.data() + 8, &ts, 8);
            std::string to = "L" + std::to_string(n % kPairs);
            send_frames(sender, {to, payload});
        },
        [](const zmq::message_t& m) { return m.size() == 8; }, t0);
    st.stop = true;
    lt.join();
    relay_stop = true;
    relay.join();
    return make_result("zmq-raw", p, ok, refused, st, t0);
}

}  // namespace

void run_dm(const Options& o, Report& rep) {
    for (int run = 0; run < o.runs; ++run) {
        Plan p{100, o.quick ? 500u : 1'000'000u, 3.0, o.quick ? 0.0 : 0.3};
        if (o.chatbus()) {
            for (const auto& link : o.links()) {
                Cluster c(o, link);
                rep.add(c.tag(chatbus_dm(c, p)));
            }
        }
        if (o.raw()) rep.add(raw_dm(p));
    }
}

}  // namespace bench
