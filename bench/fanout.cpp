// fanout: one sender pipelining room messages (64 texts per SEND, a window of unacknowledged texts) to N
// subscribers; deliveries per second summed over subscribers. Baseline: one raw XPUB sending one frame per
// message to the same N SUB sockets, under the same end-to-end credit.
#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/options.hpp"
#include "bench/subscribers.hpp"

namespace bench {

using namespace chatbus;

namespace {

constexpr int kBatch = 64;               // texts per SEND: the broker's max-batch, as a bulk sender would
constexpr std::uint64_t kWindow = 4096;  // unacknowledged texts; below the broker's HWM (100,000)

// Messages the sender may be ahead of the slowest subscriber: bounds queued bytes (and keeps every queue
// under its high-water mark, so a drop would be a real loss).
std::uint64_t credit_for(std::size_t size) {
    return std::max<std::uint64_t>(1000, 2'000'000 / size);
}

struct Plan {
    int subs;
    std::size_t size;
    std::uint64_t messages;
    double max_s;
};

Result finish_result(const char* system, const Plan& p, std::uint64_t sent, SubGroup& subs, std::int64_t t0) {
    Result r;
    r.system = system;
    r.workload = "fanout";
    r.subs = p.subs;
    r.size = p.size;
    r.sent = sent;
    r.delivered = subs.delivered();
    std::uint64_t expected = sent * static_cast<std::uint64_t>(p.subs);
    r.lost = (expected > r.delivered ? expected - r.delivered : 0) + subs.gaps();
    r.wall_s = static_cast<double>(subs.last_delivery_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    r.unit = "deliveries/s";
    return r;
}

Result chatbus_fanout(const Cluster& c, const Plan& p) {
    zmq::context_t ctx(1), sub_ctx(1);
    Dealer d(ctx, c.client_endpoint());
    Identity me = register_nick(d, "fan");
    std::string room = unique_name("fanout");
    join_room(d, me, room);
    SubGroup subs(sub_ctx, {.n = p.subs, .endpoint = events_endpoint(d), .topic = room_topic(room)});
    subs.start();

    Send req{.nick = me.nick, .token = me.token, .room = room};
    req.texts.assign(kBatch, std::string(p.size, 'm'));
    const std::uint64_t credit = credit_for(p.size);
    std::string frame;
    std::uint64_t sent = 0, acked = 0, refused = 0, messages = p.messages;
    CpuMeter cpu;
    auto& s = d.socket();
    const std::int64_t t0 = now_ns(), stop_at = t0 + static_cast<std::int64_t>(p.max_s * 1e9);
    std::int64_t last_ack = t0;
    zmq::message_t m;
    while (acked + refused < sent || sent < messages) {
        std::int64_t now = now_ns();
        if (now > stop_at) messages = sent;  // bounded in time: whatever was sent is what counts
        if (now - last_ack > 5'000'000'000) {
            spdlog::error("fanout: no SEND_REPLY for 5 s, giving up");
            break;
        }
        bool room_for_more = sent < messages && sent - acked - refused + kBatch <= kWindow &&
                             sent - std::min(sent, subs.min_count()) < credit;
        if (room_for_more) {
            std::size_t n = std::min<std::uint64_t>(kBatch, messages - sent);
            if (req.texts.size() != n) req.texts.resize(n, std::string(p.size, 'm'));
            req.rid = d.next_rid();
            frame.clear();
            encode_into(frame, req);
            if (s.send(zmq::buffer(frame), zmq::send_flags::dontwait)) sent += n;
        } else {
            zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(1));
        }
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            SendReply r;
            if (decode_as(view(m), r) != Status::ok) continue;
            last_ack = now_ns();
            if (r.status == 0) {
                acked += r.last_seq - r.first_seq + 1;
            } else {
                spdlog::warn("SEND refused: {}", r.error);
                refused += kBatch;  // counted lost below: never published
            }
        }
    }
    subs.finish(acked);
    subs.join();
    Result r = finish_result("chatbus", p, sent, subs, t0);
    add_cpu(r, cpu);
    r.inflight = static_cast<int>(kWindow);
    r.extra.emplace_back("batch", std::to_string(kBatch));
    return r;
}

Result raw_fanout(const Plan& p) {
    zmq::context_t pub_ctx(1), sub_ctx(1);
    zmq::socket_t pub = bind_raw_xpub(pub_ctx);
    const std::string topic = room_topic("fanout");
    SubGroup subs(sub_ctx, {.n = p.subs, .endpoint = last_endpoint(pub), .topic = topic, .chatbus = false});
    if (!await_subscribers(pub, p.subs)) spdlog::error("raw fanout: not every subscriber arrived");
    subs.start();
    std::string frame = raw_frame(topic, p.size);
    const std::uint64_t credit = credit_for(p.size);
    CpuMeter cpu;
    const std::int64_t t0 = now_ns(), stop_at = t0 + static_cast<std::int64_t>(p.max_s * 1e9);
    std::uint64_t sent = 0;
    while (sent < p.messages) {
        if (sent - std::min(sent, subs.min_count()) >= credit) {
            if (now_ns() > stop_at) break;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
        }
        raw_stamp(frame, topic.size(), sent + 1, 0);
        pub.send(zmq::buffer(frame), zmq::send_flags::none);
        ++sent;
        if ((sent & 1023) == 0 && now_ns() > stop_at) break;
    }
    subs.finish(sent);
    subs.join();
    Result r = finish_result("zmq-raw", p, sent, subs, t0);
    add_cpu(r, cpu);
    return r;
}

}  // namespace

void run_fanout(const Options& o, Report& rep) {
    for (int run = 0; run < o.runs; ++run) {
        for (int n : {1, 10, 100}) {
            for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
                if ((o.only_subs && n != o.only_subs) || (o.only_size && size != o.only_size)) continue;
                std::uint64_t deliveries = size <= 100 ? 3'000'000 : 1'000'000;
                Plan p{n, size, o.quick ? 300 : deliveries / static_cast<std::uint64_t>(n),
                       o.quick ? 5.0 : 6.0};
                if (o.chatbus()) {
                    for (const auto& link : o.links()) {
                        Cluster c(o, link);
                        rep.add(c.tag(chatbus_fanout(c, p)));
                    }
                }
                if (o.raw()) rep.add(raw_fanout(p));
            }
        }
    }
}

}  // namespace bench
