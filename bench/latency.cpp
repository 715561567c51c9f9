// latency: a sender paced at 1k and 10k msg/s, 10 subscribers; send→delivery percentiles. Each text carries
// the time the message was *scheduled* (not when it left), so a stalled sender shows up in the numbers
// instead of hiding (coordinated omission). The first part of each run is warm-up and not counted.
#include <algorithm>
#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/options.hpp"
#include "bench/pacing.hpp"
#include "bench/subscribers.hpp"

namespace bench {

using namespace chatbus;

namespace {

constexpr int kSubs = 10;
constexpr std::size_t kSize = 100;
constexpr std::size_t kMaxBatch = 32;  // a late sender sends what is overdue in one SEND

struct Plan {
    int rate;
    double seconds, warmup_s;
    std::uint64_t total() const { return static_cast<std::uint64_t>(rate * seconds); }
    std::int64_t due_ns(std::int64_t t0, std::uint64_t i) const {
        return t0 + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
    }
};

Result make_result(const char* system, const Plan& p, std::uint64_t sent, SubGroup& subs, std::int64_t t0) {
    Result r;
    r.system = system;
    r.workload = "latency";
    r.subs = kSubs;
    r.size = kSize;
    r.offered = std::to_string(p.rate);
    r.sent = sent;
    r.delivered = subs.delivered();
    std::uint64_t expected = sent * kSubs;
    r.lost = (expected > r.delivered ? expected - r.delivered : 0) + subs.gaps();
    r.wall_s = static_cast<double>(subs.last_delivery_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    r.unit = "deliveries/s";
    r.extra.emplace_back("samples", std::to_string(subs.samples().size()));
    r.lat = percentiles(subs.samples());
    return r;
}

Result chatbus_latency(const Cluster& c, const Plan& p) {
    zmq::context_t ctx(1), sub_ctx(1);
    Dealer d(ctx, c.client_endpoint());
    Identity me = register_nick(d, "lat");
    std::string room = unique_name("latency");
    join_room(d, me, room);
    SubGroup subs(
        sub_ctx,
        {.n = kSubs, .endpoint = events_endpoint(d), .topic = room_topic(room), .sample_latency = true});
    const std::int64_t t0 = now_ns() + 20'000'000;
    subs.set_warmup(t0 + static_cast<std::int64_t>(p.warmup_s * 1e9));
    subs.start();
    CpuMeter cpu;

    Send req{.nick = me.nick, .token = me.token, .room = room};
    std::string frame;
    auto& s = d.socket();
    zmq::message_t m;
    std::uint64_t i = 0, acked = 0, total = p.total();
    auto drain = [&] {
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            SendReply r;
            if (decode_as(view(m), r) == Status::ok && r.status == 0) acked += r.last_seq - r.first_seq + 1;
        }
    };
    while (i < total) {
        wait_until(p.due_ns(t0, i));
        std::int64_t now = now_ns();
        req.texts.clear();
        while (i < total && req.texts.size() < kMaxBatch && p.due_ns(t0, i) <= now)
            req.texts.push_back(stamped_text(p.due_ns(t0, i++), kSize));
        req.rid = d.next_rid();
        frame.clear();
        encode_into(frame, req);
        s.send(zmq::buffer(frame), zmq::send_flags::none);
        drain();
    }
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (acked < total && Clock::now() < deadline) {
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(10));
        drain();
    }
    subs.finish(total);
    subs.join();
    Result r = make_result("chatbus", p, acked, subs, t0);
    add_cpu(r, cpu);
    return r;
}

// The raw baselines' subscribers: raw frames, latency sampled.
SubConfig raw_subs(zmq::socket_t& pub, const std::string& topic) {
    return {
        .n = kSubs, .endpoint = last_endpoint(pub), .topic = topic, .chatbus = false, .sample_latency = true};
}

// Raw frames sent through `out` on the plan's schedule to `subs` (reading `topic`), which are started here.
Result raw_paced(const Plan& p, zmq::socket_t& out, const std::string& topic, SubGroup& subs) {
    const std::int64_t t0 = now_ns() + 20'000'000;
    subs.set_warmup(t0 + static_cast<std::int64_t>(p.warmup_s * 1e9));
    subs.start();
    std::string frame = raw_frame(topic, kSize);
    std::uint64_t total = p.total();
    CpuMeter cpu;
    for (std::uint64_t i = 0; i < total;) {
        wait_until(p.due_ns(t0, i));
        std::int64_t now = now_ns();
        while (i < total && p.due_ns(t0, i) <= now) {
            raw_stamp(frame, topic.size(), i + 1, p.due_ns(t0, i));
            out.send(zmq::buffer(frame), zmq::send_flags::none);
            ++i;
        }
    }
    subs.finish(total);
    subs.join();
    Result r = make_result("zmq-raw", p, total, subs, t0);
    add_cpu(r, cpu);
    return r;
}

Result raw_latency(const Plan& p) {
    zmq::context_t pub_ctx(1), sub_ctx(1);
    zmq::socket_t pub = bind_raw_xpub(pub_ctx);
    const std::string topic = room_topic("latency");
    SubGroup subs(sub_ctx, raw_subs(pub, topic));
    if (!await_subscribers(pub, kSubs)) spdlog::error("raw latency: not every subscriber arrived");
    return raw_paced(p, pub, topic, subs);
}

// The floor for any design in which a sender reaches subscribers through a server: raw libzmq with one relay
// in between (PUSH -> PULL, XPUB -> SUBs, the relay on its own thread and context as a separate process
// would be), doing nothing but forwarding. Two socket hops, as chatbus has with local workers.
Result raw_relay_latency(const Plan& p) {
    zmq::context_t relay_ctx(1), send_ctx(1), sub_ctx(1);
    zmq::socket_t pull(relay_ctx, zmq::socket_type::pull);
    pull.set(zmq::sockopt::linger, 0);
    pull.bind("tcp://127.0.0.1:*");
    zmq::socket_t pub = bind_raw_xpub(relay_ctx);
    const std::string topic = room_topic("latency");
    SubGroup subs(sub_ctx, raw_subs(pub, topic));
    if (!await_subscribers(pub, kSubs)) spdlog::error("raw relay latency: not every subscriber arrived");
    std::atomic<bool> stop{false};
    std::thread relay([&] {
        zmq::message_t m;
        while (!stop.load(std::memory_order_relaxed)) {
            zmq::pollitem_t item{pull.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(10));
            while (pull.recv(m, zmq::recv_flags::dontwait)) pub.send(m, zmq::send_flags::none);
        }
    });
    zmq::socket_t push(send_ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    push.connect(last_endpoint(pull));
    Result r = raw_paced(p, push, topic, subs);
    stop = true;
    relay.join();
    r.variant = "relay";
    return r;
}

}  // namespace

void run_latency(const Options& o, Report& rep) {
    for (int run = 0; run < o.runs; ++run) {
        for (int rate : {1000, 10000}) {
            Plan p{rate, o.quick ? 0.3 : 3.0, o.quick ? 0.05 : 0.5};
            if (o.chatbus()) {
                for (const auto& link : o.links()) {
                    Cluster c(o, link);
                    rep.add(c.tag(chatbus_latency(c, p)));
                }
            }
            if (o.raw()) {
                rep.add(raw_latency(p));
                rep.add(raw_relay_latency(p));
            }
        }
    }
}

}  // namespace bench
