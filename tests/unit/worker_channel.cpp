// The worker over real sockets against a fake broker (a ROUTER and an XSUB in the test), following
// docs/protocol.md, "Worker channel". Every wait is a poll with a deadline, never a sleep.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "codec.hpp"
#include "messages.hpp"
#include "socket_util.hpp"
#include "worker.hpp"
#include "worker_messages.hpp"

using namespace chatbus;

namespace {

constexpr int kWaitMs = 5000;  // generous: only reached when the test is failing

std::string port_of(const std::string& endpoint) {
    return endpoint.substr(endpoint.rfind(':') + 1);
}

// One multipart message from `s`, or nothing within timeout_ms. `also` is polled too without being read:
// libzmq attaches a new connection to a socket only when that socket's own thread uses it, and the XSUB
// replays its subscription to a worker's XPUB only then, as the real broker's poll loop does.
std::optional<std::vector<zmq::message_t>> recv_within(zmq::socket_t& s, int timeout_ms,
                                                       zmq::socket_t* also = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<zmq::message_t> parts;
    while (true) {
        if (recv_multipart(s, parts)) return parts;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        std::vector<zmq::pollitem_t> items{{s.handle(), 0, ZMQ_POLLIN, 0}};
        // No events asked of `also`: polling it is what matters (unread events on it must not spin this),
        // and short rounds make sure it is polled again soon.
        if (also) items.push_back({also->handle(), 0, 0, 0});
        zmq::poll(items, also ? std::min(left, std::chrono::milliseconds(10)) : left);
    }
}

struct FakeBroker {
    zmq::context_t ctx{1};
    zmq::socket_t router{ctx, zmq::socket_type::router};
    zmq::socket_t xsub{ctx, zmq::socket_type::xsub};
    std::string worker_endpoint, xsub_port;
    std::string worker_rid;  // routing id of the worker's current DEALER, from its last message

    explicit FakeBroker(bool subscribe = true) {
        router.set(zmq::sockopt::linger, 0);
        router.set(zmq::sockopt::router_mandatory, 1);
        xsub.set(zmq::sockopt::linger, 0);
        router.bind("tcp://127.0.0.1:*");
        xsub.bind("tcp://127.0.0.1:*");
        worker_endpoint = last_endpoint(router);
        xsub_port = port_of(last_endpoint(xsub));
        // As the broker does: subscribe to everything once, at start; filtering happens at its XPUB.
        if (subscribe) subscribe_all();
    }

    void subscribe_all() { xsub.send(zmq::str_buffer("\x01"), zmq::send_flags::none); }

    // The next message of `type` from the worker; heartbeats in between are skipped unless asked for.
    std::vector<zmq::message_t> expect(MsgType type, int timeout_ms = kWaitMs) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto parts = recv_within(router, static_cast<int>(std::max<long>(left.count(), 0)), &xsub);
            REQUIRE_MESSAGE(parts, "no ", msg_type_name(type), " from the worker in time");
            REQUIRE(parts->size() >= 2);
            Decoded d;
            REQUIRE(decode(view((*parts)[1]), d) == Status::ok);
            if (d.type == MsgType::w_heartbeat && type != MsgType::w_heartbeat) continue;
            CHECK(d.type == type);
            worker_rid = std::string(view((*parts)[0]));
            parts->erase(parts->begin());
            return std::move(*parts);
        }
    }

    // True when the worker sends a message of `type` within timeout_ms (other messages are skipped).
    bool sees_within(MsgType type, int timeout_ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            auto parts = recv_within(router, static_cast<int>(left.count()), &xsub);
            if (!parts) return false;
            Decoded d;
            if (decode(view((*parts)[1]), d) == Status::ok && d.type == type) return true;
        }
    }

    void send(std::initializer_list<std::string_view> frames) {
        std::vector<std::string_view> all{worker_rid};
        all.insert(all.end(), frames);
        for (std::size_t i = 0; i < all.size(); ++i) {
            auto flags = i + 1 < all.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
            REQUIRE(router.send(zmq::const_buffer(all[i].data(), all[i].size()), flags));
        }
    }

    WReady expect_ready() {
        auto parts = expect(MsgType::w_ready);
        WReady r;
        REQUIRE(decode_as(view(parts[0]), r) == Status::ok);
        return r;
    }

    // READY -> WELCOME -> (subscription reaches the worker) -> first HEARTBEAT.
    void handshake(std::uint64_t heartbeat_ms = 200, std::uint64_t liveness = 50) {
        expect_ready();
        // A wildcard host: the worker must substitute the host it reached the broker by.
        send({encode(WWelcome{"tcp://*:" + xsub_port, heartbeat_ms, liveness, 4096})});
        expect(MsgType::w_heartbeat);
    }

    // [W_REQUEST{bid}][request] in, [W_REPLY{bid}][reply] out.
    std::string request(std::uint64_t bid, const std::string& frame) {
        send({encode(WRequest{bid}), frame});
        auto parts = expect(MsgType::w_reply);
        REQUIRE(parts.size() == 2);
        WReply r;
        REQUIRE(decode_as(view(parts[0]), r) == Status::ok);
        CHECK(r.bid == bid);
        return std::string(view(parts[1]));
    }

    std::string next_event_frame() {
        auto parts = recv_within(xsub, kWaitMs);
        REQUIRE_MESSAGE(parts, "no event on the XSUB in time");
        REQUIRE(parts->size() == 1);  // topic and body in one frame
        return std::string(view((*parts)[0]));
    }
};

// Runs a worker in a thread; stops and joins it even when a REQUIRE fails midway.
struct RunningWorker {
    Worker worker;
    std::thread thread;
    explicit RunningWorker(WorkerConfig cfg) : worker(std::move(cfg)), thread([this] { worker.run(); }) {}
    ~RunningWorker() {
        worker.stop();
        thread.join();
    }
};

WorkerConfig config_for(const FakeBroker& b) {
    spdlog::set_level(spdlog::level::warn);
    WorkerConfig cfg;
    cfg.broker = b.worker_endpoint;
    cfg.id = "test-worker";
    return cfg;
}

}  // namespace

TEST_CASE("handshake, a forwarded JOIN, its reply and its event, then W_DISCONNECT on stop") {
    FakeBroker b;
    auto rw = std::make_unique<RunningWorker>(config_for(b));

    WReady ready = b.expect_ready();
    CHECK(ready.worker == "test-worker");
    CHECK(ready.pid == static_cast<std::uint64_t>(getpid()));
    CHECK_FALSE(ready.host.empty());
    b.send({encode(WWelcome{"tcp://*:" + b.xsub_port, 200, 50, 4096})});
    b.expect(MsgType::w_heartbeat);

    JoinReply jr;
    REQUIRE(decode_as(b.request(41, encode(Join{7, "Alice", "tok", "Lobby"})), jr) == Status::ok);
    CHECK(jr.rid == 7);
    CHECK(jr.status == 0);
    CHECK(jr.room == "lobby");
    CHECK(jr.seq == 1);
    CHECK(jr.joined);

    std::string frame = b.next_event_frame();
    REQUIRE(frame.starts_with(std::string("room/lobby\0", 11)));
    Decoded d;
    REQUIRE(decode_topic_frame(frame, d) == Status::ok);
    Event e;
    REQUIRE(body_as(d, e) == Status::ok);
    CHECK(e.room == "lobby");
    CHECK(e.seq == 1);
    CHECK(e.kind == "join");
    CHECK(e.nick == "Alice");

    // A batch: one reply, one event frame per text, consecutive seqs.
    SendReply sr;
    REQUIRE(decode_as(b.request(42, encode(Send{8, "alice", "tok", "lobby", {"a", "b", "c"}})), sr) ==
            Status::ok);
    CHECK(sr.first_seq == 2);
    CHECK(sr.last_seq == 4);
    for (std::uint64_t seq = 2; seq <= 4; ++seq) {
        Event m;
        REQUIRE(decode_topic_frame(b.next_event_frame(), d) == Status::ok);
        REQUIRE(body_as(d, m) == Status::ok);
        CHECK(m.seq == seq);
        CHECK(m.kind == "message");
    }

    rw.reset();  // stop() and join
    auto parts = b.expect(MsgType::w_disconnect);
    WDisconnect bye;
    REQUIRE(decode_as(view(parts[0]), bye) == Status::ok);
    CHECK(bye.reason == "stopping");
}

TEST_CASE("the first heartbeat waits for the broker's XSUB subscription") {
    FakeBroker b(/*subscribe=*/false);
    RunningWorker rw(config_for(b));
    b.expect_ready();
    b.send({encode(WWelcome{"tcp://*:" + b.xsub_port, 50, 100, 4096})});
    // Several heartbeat intervals with the XPUB connected but no subscription: not live yet.
    CHECK_FALSE(b.sees_within(MsgType::w_heartbeat, 400));
    b.subscribe_all();
    b.expect(MsgType::w_heartbeat);
}

TEST_CASE("bad requests get error replies and the loop keeps serving") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();

    // Garbage alone, a lone W_REQUEST frame and three frames: dropped without a reply.
    b.send({"garbage"});
    b.send({encode(WRequest{1})});
    b.send({encode(WRequest{2}), encode(Who{1, "x"}), "extra"});

    std::string wrong_version = encode(Who{5, "x"});
    wrong_version[2] = 9;
    PingReply pr;  // the shared rid/status/error fields
    std::string reply = b.request(3, wrong_version);
    Decoded d;
    REQUIRE(decode(reply, d) == Status::ok);
    CHECK(d.type == MsgType::who_reply);
    WhoReply wr;
    REQUIRE(body_as(d, wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::bad_version));

    REQUIRE(decode_as(b.request(4, encode(Who{6, "nowhere"})), wr) == Status::ok);
    CHECK(wr.rid == 6);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
}

TEST_CASE("W_DISCONNECT from the broker makes the worker start over with W_READY") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();
    std::string first_rid = b.worker_rid;
    b.send({encode(WDisconnect{"broker stopping"})});
    WReady again = b.expect_ready();
    CHECK(again.worker == "test-worker");
    // A fresh DEALER: the old connection's queue is gone with it.
    CHECK(b.worker_rid != first_rid);
    b.handshake();
}

TEST_CASE("a broker silent for liveness intervals is dropped and READY sent again") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake(/*heartbeat_ms=*/50, /*liveness=*/2);
    // The fake broker sends nothing: after about 100 ms the worker gives up on it and reconnects.
    b.expect_ready();
    b.handshake();
}

TEST_CASE("state survives a reconnect: seqs continue") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();
    JoinReply jr;
    REQUIRE(decode_as(b.request(1, encode(Join{1, "alice", "", "r"})), jr) == Status::ok);
    CHECK(jr.seq == 1);
    b.next_event_frame();
    b.send({encode(WDisconnect{"test"})});
    b.handshake();
    REQUIRE(decode_as(b.request(2, encode(Join{2, "bob", "", "r"})), jr) == Status::ok);
    CHECK(jr.seq == 2);
}

TEST_CASE("stop() ends a worker that never reached a broker") {
    spdlog::set_level(spdlog::level::warn);
    zmq::context_t ctx;
    zmq::socket_t probe(ctx, zmq::socket_type::router);
    probe.bind("tcp://127.0.0.1:*");
    std::string unused = last_endpoint(probe);
    probe.close();  // nothing listens there now
    WorkerConfig cfg;
    cfg.broker = unused;
    auto start = std::chrono::steady_clock::now();
    { RunningWorker rw(cfg); }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
