// The worker over real sockets against a fake broker (a ROUTER in the test), following docs/protocol.md,
// "Worker channel". Every wait is a poll or a future with a deadline, never a sleep.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "common/codec.hpp"
#include "common/event_kind.hpp"
#include "common/messages.hpp"
#include "common/socket_util.hpp"
#include "worker/worker.hpp"
#include "common/worker_messages.hpp"

using namespace chatbus;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWaitMs = 5000;  // generous: only reached when the test is failing

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<long>(left, 0));
}

// One multipart message from `s`, or nothing within timeout_ms.
std::optional<std::vector<zmq::message_t>> recv_within(zmq::socket_t& s, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<zmq::message_t> parts;
    while (true) {
        if (recv_multipart(s, parts)) return parts;
        int left = ms_left(deadline);
        if (left <= 0) return std::nullopt;
        std::vector<zmq::pollitem_t> items{{s.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::poll(items, std::chrono::milliseconds(left));
    }
}

MsgType type_of(const zmq::message_t& frame) {
    Decoded d;
    REQUIRE(decode(view(frame), d) == Status::ok);
    return d.type;
}

// A message from the worker, routing id removed.
struct FromWorker {
    MsgType type{};
    std::vector<zmq::message_t> parts;
    std::string first() const { return std::string(view(parts.at(0))); }
};

struct FakeBroker {
    zmq::context_t ctx{1};
    zmq::socket_t router{ctx, zmq::socket_type::router};
    std::string worker_endpoint;
    std::string worker_rid;  // routing id of the worker's current DEALER, from its last W_READY

    FakeBroker() {
        router.set(zmq::sockopt::linger, 0);
        router.set(zmq::sockopt::router_mandatory, 1);
        router.bind("tcp://127.0.0.1:*");
        worker_endpoint = last_endpoint(router);
    }

    // The next message from the worker's current DEALER (a W_READY from any: it names the new current one),
    // heartbeats included; nothing within timeout_ms.
    std::optional<FromWorker> next_within(int timeout_ms) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            auto parts = recv_within(router, ms_left(deadline));
            if (!parts) return std::nullopt;
            REQUIRE(parts->size() >= 2);
            MsgType t = type_of((*parts)[1]);
            std::string rid(view((*parts)[0]));
            if (t == MsgType::w_ready) {
                worker_rid = rid;
            } else if (rid != worker_rid) {
                continue;  // left over from a DEALER the worker has replaced
            }
            parts->erase(parts->begin());
            return FromWorker{t, std::move(*parts)};
        }
    }

    FromWorker next() {
        auto m = next_within(kWaitMs);
        REQUIRE_MESSAGE(m, "nothing from the worker in time");
        return std::move(*m);
    }

    // The next message of `type`; heartbeats in between are skipped unless asked for, anything else fails.
    std::vector<zmq::message_t> expect(MsgType type, int timeout_ms = kWaitMs) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            auto m = next_within(ms_left(deadline));
            REQUIRE_MESSAGE(m, "no ", msg_type_name(type), " from the worker in time");
            if (m->type == MsgType::w_heartbeat && type != MsgType::w_heartbeat) continue;
            REQUIRE_MESSAGE(m->type == type, "expected ", msg_type_name(type), ", got ",
                            msg_type_name(m->type));
            return std::move(m->parts);
        }
    }

    // True when the worker sends a message of `type` within timeout_ms (other messages are skipped).
    bool sees_within(MsgType type, int timeout_ms) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (auto m = next_within(ms_left(deadline))) {
            if (m->type == type) return true;
        }
        return false;
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

    void welcome(const std::string& boot, std::uint64_t heartbeat_ms = 200, std::uint64_t liveness = 50) {
        send({encode(WWelcome{boot, heartbeat_ms, liveness, 4096, 64})});
    }

    // READY -> WELCOME -> first HEARTBEAT, with nothing else in between.
    void handshake(const std::string& boot = "boot-1", std::uint64_t heartbeat_ms = 200,
                   std::uint64_t liveness = 50) {
        expect_ready();
        welcome(boot, heartbeat_ms, liveness);
        CHECK(next().type == MsgType::w_heartbeat);
    }

    // [W_REQUEST{bid}][request] in; the frames after W_REPLY{bid} out: the reply, then one per event.
    std::vector<std::string> request_all(std::uint64_t bid, const std::string& frame) {
        send({encode(WRequest{bid}), frame});
        auto parts = expect(MsgType::w_reply);
        REQUIRE(parts.size() >= 2);
        WReply r;
        REQUIRE(decode_as(view(parts[0]), r) == Status::ok);
        CHECK(r.bid == bid);
        std::vector<std::string> out;
        for (std::size_t i = 1; i < parts.size(); ++i) out.emplace_back(view(parts[i]));
        return out;
    }

    // A request whose reply must come without events.
    std::string request(std::uint64_t bid, const std::string& frame) {
        auto frames = request_all(bid, frame);
        CHECK(frames.size() == 1);
        return frames.at(0);
    }
};

Event event_of(const std::string& frame) {
    Decoded d;
    REQUIRE(decode_topic_frame(frame, d) == Status::ok);
    Event e;
    REQUIRE(body_as(d, e) == Status::ok);
    return e;
}

// Runs a worker in a thread; stops and joins it even when a REQUIRE fails midway.
struct RunningWorker {
    Worker worker;
    std::promise<void> exited_promise;
    std::future<void> exited = exited_promise.get_future();
    std::thread thread;
    explicit RunningWorker(WorkerConfig cfg)
        : worker(std::move(cfg)), thread([this] {
              worker.run();
              exited_promise.set_value();
          }) {}
    ~RunningWorker() {
        worker.stop();
        worker.stop();  // the second request ends a drain at once
        thread.join();
    }
    bool exits_within(int ms) {
        return exited.wait_for(std::chrono::milliseconds(ms)) == std::future_status::ready;
    }
};

WorkerConfig config_for(const FakeBroker& b) {
    spdlog::set_level(spdlog::level::warn);
    WorkerConfig cfg;
    cfg.broker = b.worker_endpoint;
    cfg.id = "test-worker";
    return cfg;
}

WState expect_state(FakeBroker& b) {
    FromWorker m = b.next();
    REQUIRE_MESSAGE(m.type == MsgType::w_state, "expected W_STATE, got ", msg_type_name(m.type));
    REQUIRE(m.parts.size() == 1);
    WState st;
    REQUIRE(decode_as(m.first(), st) == Status::ok);
    return st;
}

}  // namespace

TEST_CASE("handshake / a JOIN's event and a batch's events come inside the W_REPLY") {
    FakeBroker b;
    RunningWorker rw(config_for(b));

    WReady ready = b.expect_ready();
    CHECK(ready.worker == "test-worker");
    CHECK(ready.pid == static_cast<std::uint64_t>(getpid()));
    CHECK_FALSE(ready.host.empty());
    // Not live before the WELCOME: READY is all it sends (retried, at most).
    b.welcome("boot-1");
    CHECK(b.next().type == MsgType::w_heartbeat);

    auto frames = b.request_all(41, encode(Join{7, "Alice", "tok", "Lobby"}));
    REQUIRE(frames.size() == 2);  // [W_REPLY][reply][join event]
    JoinReply jr;
    REQUIRE(decode_as(frames[0], jr) == Status::ok);
    CHECK(jr.rid == 7);
    CHECK(jr.status == 0);
    CHECK(jr.room == "lobby");
    CHECK(jr.seq == 1);
    CHECK(jr.joined);
    REQUIRE(frames[1].starts_with(std::string("room/lobby\0", 11)));
    Event e = event_of(frames[1]);
    CHECK(e.room == "lobby");
    CHECK(e.seq == 1);
    CHECK(e.kind == event_kind::join);
    CHECK(e.nick == "Alice");
    // Exactly the frame the broker publishes.
    CHECK(frames[1] == encode_with_topic(room_topic("lobby"), e));

    // A batch of three: [W_REPLY][reply][event][event][event], consecutive seqs.
    frames = b.request_all(42, encode(Send{8, "alice", "tok", "lobby", {"a", "b", "c"}}));
    REQUIRE(frames.size() == 4);
    SendReply sr;
    REQUIRE(decode_as(frames[0], sr) == Status::ok);
    CHECK(sr.first_seq == 2);
    CHECK(sr.last_seq == 4);
    for (std::uint64_t seq = 2; seq <= 4; ++seq) {
        Event m = event_of(frames[seq - 1]);
        CHECK(m.seq == seq);
        CHECK(m.kind == event_kind::message);
        CHECK(m.nick == "Alice");
        CHECK(frames[seq - 1] == encode_with_topic(room_topic("lobby"), m));
    }

    // Requests without events: a refused SEND and a WHO.
    SendReply refused;
    REQUIRE(decode_as(b.request(43, encode(Send{9, "bob", "tok", "lobby", {"x"}})), refused) == Status::ok);
    CHECK(refused.status == static_cast<std::uint64_t>(Status::not_member));
    WhoReply wr;
    REQUIRE(decode_as(b.request(44, encode(Who{10, "lobby"})), wr) == Status::ok);
    CHECK(wr.members == std::vector<std::string>{"Alice"});
}

TEST_CASE("bad requests get error replies and the loop keeps serving") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();

    // Garbage alone, a lone W_REQUEST frame, three frames, and a W_STATE / W_RELEASE that do not decode:
    // dropped without a reply.
    b.send({"garbage"});
    b.send({encode(WRequest{1})});
    b.send({encode(WRequest{2}), encode(Who{1, "x"}), "extra"});
    std::string bad_state = encode(WState{"r", 1, {}, {}});
    bad_state += "trailing";
    b.send({bad_state});
    std::string bad_release = encode(WRelease{"r"});
    bad_release.resize(bad_release.size() - 1);
    b.send({bad_release});
    b.send({encode(WState{"not a room", 1, {}, {}})});

    std::string wrong_version = encode(Who{5, "x"});
    wrong_version[2] = 9;
    // Another version is dropped too (the broker answers those with ERROR and never forwards one): the next
    // reply is bid 4's.
    b.send({encode(WRequest{3}), wrong_version});

    WhoReply wr;
    REQUIRE(decode_as(b.request(4, encode(Who{6, "nowhere"})), wr) == Status::ok);
    CHECK(wr.rid == 6);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
    REQUIRE(decode_as(b.request(5, encode(Who{7, "r"})), wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
}

TEST_CASE("W_STATE hands a room over: requests continue at seq + 1 and HISTORY has its events") {
    FakeBroker b;
    auto cfg = config_for(b);
    cfg.history = 2000;
    RunningWorker rw(cfg);
    b.handshake();

    // More events than the network limit of 1,024 array elements: the broker is trusted with whole rooms.
    WState st{"lobby", 1200, {"Alice", "bob"}, {}};
    for (std::uint64_t seq = 1; seq <= 1200; ++seq) {
        st.history.push_back(
            Event{"lobby", seq, "message", "Alice", "text " + std::to_string(seq), 5000 + seq});
    }
    // The state and the request that needs it back to back, as the broker sends them.
    b.send({encode(st)});
    auto frames = b.request_all(1, encode(Send{1, "BOB", "", "lobby", {"after"}}));
    REQUIRE(frames.size() == 2);
    SendReply sr;
    REQUIRE(decode_as(frames[0], sr) == Status::ok);
    CHECK(sr.status == 0);
    CHECK(sr.first_seq == 1201);
    Event e = event_of(frames[1]);
    CHECK(e.seq == 1201);
    CHECK(e.nick == "bob");  // the spelling the broker handed over

    HistoryReply hr;
    REQUIRE(decode_as(b.request(2, encode(History{2, "lobby", 3, 0})), hr) == Status::ok);
    REQUIRE(hr.events.size() == 3);
    CHECK(hr.events[0] == st.history[1198]);
    CHECK(hr.events[1] == st.history[1199]);
    CHECK(hr.events[2].seq == 1201);
    REQUIRE(decode_as(b.request(3, encode(History{3, "lobby", 0, 1150})), hr) == Status::ok);
    CHECK(hr.events.size() == 51);

    // A second W_STATE replaces the room whole.
    b.send({encode(WState{"lobby", 3, {"carol"}, {Event{"lobby", 3, "join", "carol", "", 1}}})});
    WhoReply wr;
    REQUIRE(decode_as(b.request(4, encode(Who{4, "lobby"})), wr) == Status::ok);
    CHECK(wr.members == std::vector<std::string>{"carol"});
    JoinReply jr;
    frames = b.request_all(5, encode(Join{5, "dave", "", "lobby"}));
    REQUIRE(decode_as(frames.at(0), jr) == Status::ok);
    CHECK(jr.seq == 4);
}

TEST_CASE("W_RELEASE drops the room: WHO is then no_such_room") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();
    CHECK(b.request_all(1, encode(Join{1, "alice", "", "r"})).size() == 2);
    CHECK(b.request_all(2, encode(Join{2, "alice", "", "keep"})).size() == 2);
    b.send({encode(WRelease{"r"})});
    b.send({encode(WRelease{"never-held"})});
    WhoReply wr;
    REQUIRE(decode_as(b.request(3, encode(Who{3, "r"})), wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
    REQUIRE(decode_as(b.request(4, encode(Who{4, "keep"})), wr) == Status::ok);
    CHECK(wr.status == 0);
}

TEST_CASE("W_DISCONNECT from the broker makes the worker start over with W_READY on a fresh DEALER") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake();
    std::string first_rid = b.worker_rid;
    b.send({encode(WDisconnect{"broker stopping"})});
    WReady again = b.expect_ready();
    CHECK(again.worker == "test-worker");
    CHECK(b.worker_rid != first_rid);
    b.welcome("boot-1");
    CHECK(b.next().type == MsgType::w_heartbeat);
}

TEST_CASE("a broker silent for liveness intervals is dropped and READY sent again") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake("boot-1", /*heartbeat_ms=*/50, /*liveness=*/2);
    // The fake broker sends nothing: after about 100 ms the worker gives up on it and reconnects.
    b.expect_ready();
    b.welcome("boot-1");
    CHECK(b.next().type == MsgType::w_heartbeat);
}

TEST_CASE("welcomed again by the same broker run, the worker drops every room") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake("run-A");
    b.request_all(1, encode(Join{1, "alice", "", "r"}));
    b.send({encode(WState{"s", 9, {"bob"}, {}})});
    b.send({encode(WDisconnect{"you were declared dead"})});
    // READY, WELCOME with the same boot, then the heartbeat with no W_STATE before it.
    b.handshake("run-A");
    WhoReply wr;
    for (const char* room : {"r", "s"}) {
        CAPTURE(room);
        REQUIRE(decode_as(b.request(2, encode(Who{2, room})), wr) == Status::ok);
        CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
    }
    // The broker hands a room back with W_STATE before routing a request for it.
    b.send({encode(WState{"r", 1, {"alice"}, {}})});
    JoinReply jr;
    REQUIRE(decode_as(b.request_all(3, encode(Join{3, "bob", "", "r"})).at(0), jr) == Status::ok);
    CHECK(jr.seq == 2);
}

TEST_CASE("welcomed by a restarted broker, the worker hands back every room before its first heartbeat") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.handshake("run-A");
    auto joined = b.request_all(1, encode(Join{1, "Alice", "", "beta"}));
    b.request_all(2, encode(Join{2, "bob", "", "beta"}));
    auto sent = b.request_all(3, encode(Send{3, "alice", "", "beta", {"hello"}}));
    b.request_all(4, encode(Join{4, "carol", "", "alpha"}));
    b.send({encode(WState{"gamma", 40, {}, {}})});
    b.send({encode(WDisconnect{"restart"})});

    b.expect_ready();
    b.welcome("run-B");
    // In room-name order, then the heartbeat: nothing else in between.
    WState alpha = expect_state(b);
    CHECK(alpha.room == "alpha");
    CHECK(alpha.seq == 1);
    CHECK(alpha.members == std::vector<std::string>{"carol"});
    REQUIRE(alpha.history.size() == 1);
    CHECK(alpha.history[0].kind == event_kind::join);
    WState beta = expect_state(b);
    CHECK(beta.room == "beta");
    CHECK(beta.seq == 3);
    CHECK(beta.members == std::vector<std::string>{"Alice", "bob"});
    REQUIRE(beta.history.size() == 3);
    CHECK(beta.history[0] == event_of(joined.at(1)));
    CHECK(beta.history[2] == event_of(sent.at(1)));
    WState gamma = expect_state(b);
    CHECK(gamma.room == "gamma");
    CHECK(gamma.seq == 40);
    CHECK(gamma.members.empty());
    CHECK(gamma.history.empty());
    CHECK(b.next().type == MsgType::w_heartbeat);

    // The rooms are kept until the broker releases them.
    SendReply sr;
    REQUIRE(decode_as(b.request_all(5, encode(Send{5, "bob", "", "beta", {"still here"}})).at(0), sr) ==
            Status::ok);
    CHECK(sr.first_seq == 4);
    b.send({encode(WRelease{"alpha"})});
    WhoReply wr;
    REQUIRE(decode_as(b.request(6, encode(Who{6, "alpha"})), wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));

    // Welcomed again by run-B (e.g. after a partition): the rooms are dropped, nothing is pushed.
    b.send({encode(WDisconnect{"again"})});
    b.handshake("run-B");
    REQUIRE(decode_as(b.request(7, encode(Who{7, "beta"})), wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
}

TEST_CASE("stop() drains: W_DISCONNECT draining, requests still served, exit on the broker's W_DISCONNECT") {
    FakeBroker b;
    auto cfg = config_for(b);
    cfg.min_drain_ms = 60000;  // the exit below must come from the broker's answer, not the timeout
    RunningWorker rw(cfg);
    b.handshake();
    b.request_all(1, encode(Join{1, "alice", "", "r"}));

    rw.worker.stop();
    auto parts = b.expect(MsgType::w_disconnect);
    WDisconnect bye;
    REQUIRE(decode_as(view(parts[0]), bye) == Status::ok);
    CHECK(bye.reason == "draining");
    CHECK_FALSE(rw.exits_within(0));

    // Requests, W_STATE and W_RELEASE already on their way are still handled.
    auto frames = b.request_all(2, encode(Send{2, "alice", "", "r", {"late"}}));
    REQUIRE(frames.size() == 2);
    CHECK(event_of(frames[1]).seq == 2);
    b.send({encode(WState{"moved-in", 5, {"bob"}, {}})});
    b.send({encode(WRelease{"r"})});
    WhoReply wr;
    REQUIRE(decode_as(b.request(3, encode(Who{3, "moved-in"})), wr) == Status::ok);
    CHECK(wr.members == std::vector<std::string>{"bob"});
    REQUIRE(decode_as(b.request(4, encode(Who{4, "r"})), wr) == Status::ok);
    CHECK(wr.status == static_cast<std::uint64_t>(Status::no_such_room));
    CHECK_FALSE(rw.exits_within(0));

    auto answered = Clock::now();
    b.send({encode(WDisconnect{"drained"})});
    CHECK(rw.exits_within(2000));
    CHECK(Clock::now() - answered < std::chrono::seconds(2));
    // It does not come back.
    CHECK_FALSE(b.sees_within(MsgType::w_ready, 300));
}

TEST_CASE("a drain the broker never answers ends after max(min_drain_ms, 2 x liveness x heartbeat)") {
    FakeBroker b;
    auto cfg = config_for(b);
    cfg.min_drain_ms = 0;
    RunningWorker rw(cfg);
    b.handshake("boot-1", /*heartbeat_ms=*/50, /*liveness=*/4);  // drain timeout 400 ms
    b.request_all(1, encode(Join{1, "alice", "", "r"}));

    auto stopped = Clock::now();
    rw.worker.stop();
    bool saw_goodbye = false;
    // A live broker that answers heartbeats (so the worker does not reconnect) but never W_DISCONNECT.
    auto deadline = Clock::now() + std::chrono::milliseconds(kWaitMs);
    while (!rw.exits_within(0) && Clock::now() < deadline) {
        auto m = b.next_within(20);
        if (!m) continue;
        if (m->type == MsgType::w_heartbeat) b.send({encode(WHeartbeat{})});
        if (m->type == MsgType::w_disconnect) {
            WDisconnect bye;
            REQUIRE(decode_as(m->first(), bye) == Status::ok);
            CHECK(bye.reason == "draining");
            saw_goodbye = true;
        }
        CHECK(m->type != MsgType::w_ready);
    }
    auto took = Clock::now() - stopped;
    CHECK(saw_goodbye);
    REQUIRE(rw.exits_within(0));
    CHECK(took >= std::chrono::milliseconds(400));
    CHECK(took < std::chrono::milliseconds(2000));
}

TEST_CASE("a second stop() during the drain exits at once") {
    FakeBroker b;
    auto cfg = config_for(b);
    cfg.min_drain_ms = 60000;
    RunningWorker rw(cfg);
    b.handshake();
    rw.worker.stop();
    b.expect(MsgType::w_disconnect);
    CHECK_FALSE(rw.exits_within(200));
    rw.worker.stop();
    CHECK(rw.exits_within(1000));
}

TEST_CASE("stop() ends a worker that never reached a broker at once") {
    spdlog::set_level(spdlog::level::warn);
    zmq::context_t ctx;
    zmq::socket_t probe(ctx, zmq::socket_type::router);
    probe.bind("tcp://127.0.0.1:*");
    std::string unused = last_endpoint(probe);
    probe.close();  // nothing listens there now
    WorkerConfig cfg;
    cfg.broker = unused;
    RunningWorker rw(cfg);
    rw.worker.stop();
    CHECK(rw.exits_within(1000));
}

TEST_CASE("stop() before any WELCOME exits at once, even with a broker that took the READY") {
    FakeBroker b;
    RunningWorker rw(config_for(b));
    b.expect_ready();
    rw.worker.stop();
    CHECK(rw.exits_within(1000));
    auto parts = b.expect(MsgType::w_disconnect);
    WDisconnect bye;
    REQUIRE(decode_as(view(parts[0]), bye) == Status::ok);
    CHECK(bye.reason == "stopping");
}
