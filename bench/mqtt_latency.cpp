// mqtt row 2: send→delivery at a fixed rate, one publisher and one subscriber, on one cluster:
//  - through the gateway: MQTT PUBLISH → gateway → broker → worker → broker → gateway → MQTT subscriber; a
//  SUB on
//    the broker's events endpoint reads the same messages, which splits the gateway's two legs apart;
//  - a chatctl-style client of the same broker: DEALER SEND → broker → worker → broker → SUB, as `latency`
//  does.
// Payloads carry the time each message was scheduled (not sent), so a stalled publisher counts against the
// system; the first warmup_s are not counted.
#include <poll.h>

#include <variant>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/mqtt.hpp"
#include "bench/mqtt_payload.hpp"
#include "bench/mqtt_subscribers.hpp"
#include "bench/pacing.hpp"
#include "bench/subscribers.hpp"

namespace bench {

using namespace chatbus;

namespace {

constexpr std::size_t kSize = 100;
constexpr std::size_t kMaxBatch = 32;  // a late publisher sends what is overdue at once

std::uint64_t total_of(const LatencyPlan& p) {
    return static_cast<std::uint64_t>(p.rate * p.seconds);
}
std::int64_t due_ns(const LatencyPlan& p, std::int64_t t0, std::uint64_t i) {
    return t0 + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / p.rate);
}

Result base(const char* system, const LatencyPlan& p) {
    Result r;
    r.system = system;
    r.workload = "mqtt";
    r.variant = "latency";
    r.subs = 1;
    r.size = kSize;
    r.offered = std::to_string(p.rate);
    r.unit = "deliveries/s";
    return r;
}

// Reads and drops what the server sends a publisher; false once the connection failed.
bool service(MqttConn& c) {
    pollfd pf{c.fd(), static_cast<short>(POLLIN | (c.wants_write() ? POLLOUT : 0)), 0};
    bool ok = true;
    if (::poll(&pf, 1, 0) > 0 && (pf.revents & (POLLIN | POLLERR | POLLHUP)))
        ok = c.read([](mqtt::Packet& pk) {
            if (auto* pub = std::get_if<mqtt::Publish>(&pk); pub && pub->topic == "chatbus/error")
                spdlog::warn("latency publisher refused: {}", pub->payload);
        });
    return c.flush() && ok;
}

Result through_gateway(Dealer& d, const std::string& events, const MqttServer& gw, const LatencyPlan& p) {
    Result r = base("chatbus", p);
    Identity pub_id = register_nick(d, "mlp"), sub_id = register_nick(d, "mls");
    const std::string room = unique_name("mqttlat");
    join_room(d, pub_id, room);
    const std::string topic = "chatbus/room/" + room;
    OpenedSessions sub_open =
        open_sessions(gw.port(), {{unique_name("c"), sub_id.nick, sub_id.token, topic}});
    OpenedSessions pub_open = open_sessions(gw.port(), {{unique_name("c"), pub_id.nick, pub_id.token, ""}});
    if (sub_open.ok != 1 || pub_open.ok != 1) {
        r.lost = 2 - sub_open.ok - pub_open.ok;
        return r;
    }
    zmq::context_t sub_ctx(1);
    // Made after the MQTT subscriber joined, so the SUB sees only the messages.
    SubGroup inbound(sub_ctx, {.n = 1,
                               .endpoint = events,
                               .topic = room_topic(room),
                               .sample_latency = true,
                               .warmup_ns = INT64_MAX});
    MqttSubGroup subs(std::move(sub_open.conns),
                      {.topic = topic, .gateway_json = true, .sample_latency = true});
    MqttConn& pub = pub_open.conns[0];
    inbound.start();
    subs.start();

    // Message 0 first, as in fan-out: the gateway follows a room once the broker confirmed its subscription.
    pub.queue(mqtt::Publish{false, 0, false, topic, 0, mqtt_payload(0, 0, kSize)});
    const std::int64_t warm_deadline = now_ns() + 10'000'000'000;
    bool ok = true;
    while ((subs.min_count() < 1 || inbound.min_count() < 1) && now_ns() < warm_deadline && ok) {
        ok = service(pub);
        wait_until(now_ns() + 1'000'000);
    }
    const std::uint64_t total = total_of(p);
    const std::int64_t t0 = now_ns() + 20'000'000;
    subs.set_warmup(t0 + static_cast<std::int64_t>(p.warmup_s * 1e9));
    inbound.set_warmup(t0 + static_cast<std::int64_t>(p.warmup_s * 1e9));
    CpuMeter cpu;
    for (std::uint64_t i = 0; i < total && ok;) {
        wait_until(due_ns(p, t0, i));
        std::int64_t now = now_ns();
        for (std::size_t k = 0; i < total && k < kMaxBatch && due_ns(p, t0, i) <= now; ++k, ++i)
            pub.queue(mqtt::Publish{false, 0, false, topic, 0, mqtt_payload(i + 1, due_ns(p, t0, i), kSize)});
        ok = service(pub);
    }
    for (int i = 0; i < 1000 && ok && pub.wants_write(); ++i) {
        ok = service(pub);
        wait_until(now_ns() + 1'000'000);
    }
    subs.finish(total + 1);
    inbound.finish(total + 1);
    subs.join();
    inbound.join();

    r.sent = total;
    r.delivered = subs.delivered() > 0 ? subs.delivered() - 1 : 0;
    std::uint64_t in = inbound.delivered() > 0 ? inbound.delivered() - 1 : 0;
    r.lost = (total - std::min(total, r.delivered)) + (total - std::min(total, in)) + subs.faults() +
             inbound.gaps() + (ok ? 0 : 1);
    r.wall_s = static_cast<double>(subs.last_delivery_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    r.extra.emplace_back("samples", std::to_string(subs.samples().size()));
    r.lat = percentiles(subs.samples());
    add_cpu(r, cpu);
    // The same messages read at the broker's events endpoint: MQTT PUBLISH → gateway → broker (→ worker →
    // broker) → SUB. What the gateway path adds beyond it is its outbound leg.
    Percentiles in_lat = percentiles(inbound.samples());
    r.extra.emplace_back("path", "mqtt-gateway-broker-gateway-mqtt");
    r.extra.emplace_back("inbound_p50_us", fmt::format("{:.1f}", in_lat.p50_us));
    r.extra.emplace_back("inbound_p99_us", fmt::format("{:.1f}", in_lat.p99_us));
    return r;
}

// latency.cpp's chatbus side with one subscriber: what a chatctl user sees on the same broker.
Result sub_client(Dealer& d, const std::string& events, const LatencyPlan& p) {
    Result r = base("zmq-sub", p);
    Identity me = register_nick(d, "mln");
    const std::string room = unique_name("mqttlat");
    join_room(d, me, room);
    zmq::context_t sub_ctx(1);
    SubGroup subs(sub_ctx, {.n = 1, .endpoint = events, .topic = room_topic(room), .sample_latency = true});
    const std::int64_t t0 = now_ns() + 20'000'000;
    subs.set_warmup(t0 + static_cast<std::int64_t>(p.warmup_s * 1e9));
    subs.start();
    CpuMeter cpu;
    Send req{.nick = me.nick, .token = me.token, .room = room};
    std::string frame;
    auto& s = d.socket();
    zmq::message_t m;
    std::uint64_t i = 0, acked = 0;
    const std::uint64_t total = total_of(p);
    auto drain = [&] {
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            SendReply rep;
            if (decode_as(view(m), rep) == Status::ok && rep.status == 0)
                acked += rep.last_seq - rep.first_seq + 1;
        }
    };
    while (i < total) {
        wait_until(due_ns(p, t0, i));
        std::int64_t now = now_ns();
        req.texts.clear();
        while (i < total && req.texts.size() < kMaxBatch && due_ns(p, t0, i) <= now) {
            req.texts.push_back(mqtt_payload(i + 1, due_ns(p, t0, i), kSize));
            ++i;
        }
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
    r.sent = acked;
    r.delivered = subs.delivered();
    r.lost = (total - std::min(total, r.delivered)) + subs.gaps();
    r.wall_s = static_cast<double>(subs.last_delivery_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(r.delivered) / r.wall_s : 0;
    r.extra.emplace_back("samples", std::to_string(subs.samples().size()));
    r.lat = percentiles(subs.samples());
    add_cpu(r, cpu);
    r.extra.emplace_back("path", "dealer-broker-sub");
    return r;
}

}  // namespace

std::vector<Result> mqtt_latency(const Cluster& c, const MqttServer& gateway, const LatencyPlan& p) {
    zmq::context_t ctx(1);
    Dealer d(ctx, c.client_endpoint());
    const std::string events = events_endpoint(d);
    std::vector<Result> out;
    out.push_back(c.tag(through_gateway(d, events, gateway, p)));
    out.push_back(c.tag(sub_client(d, events, p)));
    return out;
}

}  // namespace bench
