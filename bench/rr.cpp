// rr: WHO requests with 1 and 100 in flight (client → broker → worker → broker → client). Baseline: a raw
// ROUTER/DEALER zmq_proxy with an echo worker behind it, the same two hops each way.
#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include <spdlog/spdlog.h>

#include "client.hpp"
#include "cluster.hpp"
#include "options.hpp"

namespace bench {

using namespace chatbus;

namespace {

struct Plan {
    int inflight;
    double seconds, warmup_s;
};

// Keeps `inflight` requests outstanding for the plan's duration; latency per request by rid.
Result drive(const char* system, const Plan& p, zmq::socket_t& s,
             const std::function<void(std::uint64_t)>& send,
             const std::function<bool(const zmq::message_t&, std::uint64_t&)>& parse) {
    constexpr std::size_t kRing = 1 << 12;
    CpuMeter cpu;
    std::vector<std::int64_t> sent_at(kRing), samples;
    samples.reserve(1 << 20);
    std::uint64_t next = 1, done = 0, failed = 0;
    const std::int64_t t0 = now_ns(), warm = t0 + static_cast<std::int64_t>(p.warmup_s * 1e9),
                       end = t0 + static_cast<std::int64_t>(p.seconds * 1e9);
    std::int64_t last = t0;
    zmq::message_t m;
    while (true) {
        std::int64_t now = now_ns();
        std::uint64_t outstanding = next - 1 - done - failed;
        if (now < end && outstanding < static_cast<std::uint64_t>(p.inflight)) {
            sent_at[next % kRing] = now;
            send(next++);
            continue;
        }
        if (outstanding == 0) break;
        if (now - last > 5'000'000'000) {
            spdlog::error("rr: no reply for 5 s");
            failed += outstanding;
            break;
        }
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(100));
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            std::uint64_t rid = 0;
            if (!parse(m, rid)) {
                ++failed;
                continue;
            }
            last = now_ns();
            ++done;
            if (sent_at[rid % kRing] >= warm) samples.push_back(last - sent_at[rid % kRing]);
        }
    }
    Result r;
    r.system = system;
    r.workload = "rr";
    r.inflight = p.inflight;
    r.sent = next - 1;
    r.delivered = done;
    r.lost = r.sent - done;
    r.wall_s = static_cast<double>(last - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(done) / r.wall_s : 0;
    r.unit = "replies/s";
    r.lat = percentiles(samples);
    add_cpu(r, cpu);
    return r;
}

Result chatbus_rr(const Cluster& c, const Plan& p) {
    zmq::context_t ctx(1);
    Dealer d(ctx, c.client_endpoint());
    Identity me = register_nick(d, "rr");
    std::string room = unique_name("rr");
    join_room(d, me, room);
    Who who{.room = room};
    std::string frame;
    Result r = drive(
        "chatbus", p, d.socket(),
        [&](std::uint64_t rid) {
            who.rid = rid;
            frame.clear();
            encode_into(frame, who);
            d.socket().send(zmq::buffer(frame), zmq::send_flags::none);
        },
        [](const zmq::message_t& m, std::uint64_t& rid) {
            WhoReply w;
            if (decode_as(view(m), w) != Status::ok || w.status != 0 || w.members.size() != 1) return false;
            rid = w.rid;
            return true;
        });
    r.size = frame.size();
    r.extra.emplace_back("request", "WHO");
    return r;
}

Result raw_rr(const Plan& p, std::size_t size) {
    zmq::context_t proxy_ctx(1), echo_ctx(1), client_ctx(1);
    zmq::socket_t front(proxy_ctx, zmq::socket_type::router), back(proxy_ctx, zmq::socket_type::dealer),
        control(proxy_ctx, zmq::socket_type::pair);
    for (auto* s : {&front, &back}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::sndhwm, 100000);
        s->set(zmq::sockopt::rcvhwm, 100000);
        s->bind("tcp://127.0.0.1:*");
    }
    control.bind("inproc://rr-control");
    std::thread proxy([&] { zmq::proxy_steerable(front, back, zmq::socket_ref(), control); });

    std::atomic<bool> stop{false};
    zmq::socket_t echo(echo_ctx, zmq::socket_type::dealer);
    echo.set(zmq::sockopt::linger, 0);
    echo.connect(last_endpoint(back));
    std::thread worker([&] {
        std::vector<zmq::message_t> parts;
        while (!stop.load()) {
            zmq::pollitem_t item{echo.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(50));
            while (recv_multipart(echo, parts))
                for (std::size_t i = 0; i < parts.size(); ++i)
                    echo.send(parts[i],
                              i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
    });

    zmq::socket_t client(client_ctx, zmq::socket_type::dealer);
    client.set(zmq::sockopt::linger, 0);
    client.connect(last_endpoint(front));
    std::string payload(std::max<std::size_t>(size, 8), 'w');
    Result r = drive(
        "zmq-raw", p, client,
        [&](std::uint64_t rid) {
            std::memcpy(payload.data(), &rid, 8);
            client.send(zmq::buffer(payload), zmq::send_flags::none);
        },
        [](const zmq::message_t& m, std::uint64_t& rid) {
            if (m.size() < 8) return false;
            std::memcpy(&rid, m.data(), 8);
            return true;
        });
    r.size = size;
    stop = true;
    worker.join();
    zmq::socket_t ctl(proxy_ctx, zmq::socket_type::pair);
    ctl.connect("inproc://rr-control");
    ctl.send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
    proxy.join();
    return r;
}

}  // namespace

void run_rr(const Options& o, Report& rep) {
    for (int run = 0; run < o.runs; ++run) {
        for (int k : {1, 100}) {
            Plan p{k, o.quick ? 0.2 : 3.0, o.quick ? 0.02 : 0.3};
            std::size_t size = 31;  // a WHO frame with this benchmark's room names
            if (o.chatbus()) {
                for (const auto& link : o.links()) {
                    Cluster c(o, link);
                    Result r = c.tag(chatbus_rr(c, p));
                    size = r.size;
                    rep.add(std::move(r));
                }
            }
            if (o.raw()) rep.add(raw_rr(p, size));
        }
    }
}

}  // namespace bench
