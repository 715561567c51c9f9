// The broker's side of room ownership, driven by fake workers: state handed over before a request, retries
// of a dead worker's requests, draining, and taking rooms back after a restart.
#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "broker/broker.hpp"
#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/rendezvous.hpp"
#include "tests/unit/running.hpp"
#include "common/socket_util.hpp"
#include "tests/unit/temp_dir.hpp"
#include "common/worker_messages.hpp"

using namespace chatbus;

namespace {

using RunningBroker = Running<Broker>;

BrokerConfig fast_config() {
    spdlog::set_level(spdlog::level::warn);
    BrokerConfig cfg;
    cfg.client = cfg.worker = cfg.events = "tcp://127.0.0.1:*";
    cfg.heartbeat_ms = 50;
    cfg.liveness = 3;
    return cfg;
}

// A worker played by the test: it answers what the test tells it to.
struct FakeWorker {
    zmq::context_t& ctx;
    zmq::socket_t sock{ctx, zmq::socket_type::dealer};
    std::string id;
    std::vector<zmq::message_t> parts;

    FakeWorker(zmq::context_t& c, const std::string& endpoint, std::string worker_id)
        : ctx(c), id(std::move(worker_id)) {
        sock.set(zmq::sockopt::linger, 0);
        sock.connect(endpoint);
    }
    void send(std::initializer_list<std::string_view> frames) { REQUIRE(send_frames(sock, frames)); }
    // Next message that is not a heartbeat, within 3 s; answers nothing by itself.
    Decoded next(std::vector<zmq::message_t>& out) {
        for (std::int64_t deadline = mono_ms() + 3000; mono_ms() < deadline;) {
            zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(50));
            send({encode(WHeartbeat{})});  // stay alive while waiting
            if (!(item.revents & ZMQ_POLLIN) || !recv_multipart(sock, out)) continue;
            Decoded d;
            REQUIRE(decode(view(out[0]), d) == Status::ok);
            if (d.type != MsgType::w_heartbeat) return d;
        }
        FAIL("fake worker " << id << " got nothing");
        return {};
    }
    void join_cluster() {
        send({encode(WReady{id, "test", 1})});
        std::vector<zmq::message_t> out;
        Decoded d = next(out);
        REQUIRE(d.type == MsgType::w_welcome);
        send({encode(WHeartbeat{})});
    }
};

struct RawClient {
    zmq::context_t ctx;
    zmq::socket_t sock{ctx, zmq::socket_type::dealer};
    explicit RawClient(const std::string& ep) {
        sock.set(zmq::sockopt::linger, 0);
        sock.connect(ep);
    }
    template <class Req>
    void send(const Req& r) {
        sock.send(zmq::buffer(encode(r)), zmq::send_flags::none);
    }
    template <class Rep>
    Rep recv() {
        zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
        REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(5000)) == 1);
        zmq::message_t m;
        (void)sock.recv(m);
        Rep rep;
        REQUIRE(decode_as(view(m), rep) == Status::ok);
        return rep;
    }
};

StatusReply status_until(RawClient& c, std::size_t workers) {
    for (std::int64_t deadline = mono_ms() + 3000; mono_ms() < deadline;) {
        c.send(StatusRequest{99});
        auto st = c.recv<StatusReply>();
        if (st.workers.size() == workers) return st;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // pacing between checks
    }
    FAIL("broker never counted " << workers << " workers");
    return {};
}

// The reply a worker gives to a JOIN, with its join event.
void answer_join(FakeWorker& w, std::uint64_t bid, const Join& j, std::uint64_t seq) {
    Event e{j.room, seq, "join", j.nick, "", 1};
    w.send({encode(WReply{bid}), encode(JoinReply{j.rid, 0, {}, j.room, seq, true}),
            encode_with_topic(room_topic(j.room), e)});
}

// The first room named PREFIX0, PREFIX1, ... that w1 owns while w1 and w2 are live.
std::string room_of_w1(const std::string& prefix) {
    const std::vector<std::string> ids{"w1", "w2"};
    for (int i = 0;; ++i) {
        std::string room = prefix + std::to_string(i);
        if (rendezvous_owner(ids, room) == 0) return room;
    }
}

}  // namespace

TEST_CASE("a dead worker's request is retried on the new owner, which gets the room's state first") {
    RunningBroker b(fast_config());
    zmq::context_t ctx;
    FakeWorker w1(ctx, b.server.endpoints().worker, "w1"), w2(ctx, b.server.endpoints().worker, "w2");
    w1.join_cluster();
    w2.join_cluster();
    RawClient c(b.server.endpoints().client);
    status_until(c, 2);
    c.send(Register{1, "alice"});
    auto alice = c.recv<RegisterReply>();

    // A room w1 owns while both live, so that w2 must take it over.
    std::string room = room_of_w1("r");
    Join j1{2, "alice", alice.token, room};
    c.send(j1);
    std::vector<zmq::message_t> req;
    Decoded d = w1.next(req);
    REQUIRE(d.type == MsgType::w_request);
    WRequest wr;
    REQUIRE(body_as(d, wr) == Status::ok);
    answer_join(w1, wr.bid, j1, 1);
    CHECK(c.recv<JoinReply>().seq == 1);

    // w1 takes a SEND and dies without answering (stops heartbeating).
    c.send(Send{3, "alice", alice.token, room, {"hello"}});
    d = w1.next(req);
    REQUIRE(d.type == MsgType::w_request);
    std::int64_t killed = mono_ms();

    // w2 gets the room's state, then the same request, and answers it.
    d = w2.next(req);
    REQUIRE(d.type == MsgType::w_state);
    WState st;
    REQUIRE(body_as(d, st) == Status::ok);
    CHECK(st.room == room);
    CHECK(st.seq == 1);
    CHECK(st.members == std::vector<std::string>{"alice"});
    REQUIRE(st.history.size() == 1);
    d = w2.next(req);
    REQUIRE(d.type == MsgType::w_request);
    REQUIRE(body_as(d, wr) == Status::ok);
    Send resent;
    REQUIRE(decode_as(view(req[1]), resent) == Status::ok);
    CHECK(resent.texts == std::vector<std::string>{"hello"});
    MESSAGE("failover after " << mono_ms() - killed << " ms (heartbeat 50 ms x 3)");
    Event e{room, 2, "message", "alice", "hello", 1};
    w2.send({encode(WReply{wr.bid}), encode(SendReply{3, 0, {}, room, 2, 2}),
             encode_with_topic(room_topic(room), e)});
    auto sent = c.recv<SendReply>();
    CHECK(sent.status == 0);
    CHECK(sent.first_seq == 2);

    c.send(StatusRequest{4});
    auto status = c.recv<StatusReply>();
    CHECK(status.retried == 1);
    CHECK(status.moved == 1);
    CHECK(status.workers.size() == 1);
}

TEST_CASE("a draining worker finishes its requests, is told it may go, and its rooms move") {
    RunningBroker b(fast_config());
    zmq::context_t ctx;
    FakeWorker w1(ctx, b.server.endpoints().worker, "w1"), w2(ctx, b.server.endpoints().worker, "w2");
    w1.join_cluster();
    w2.join_cluster();
    RawClient c(b.server.endpoints().client);
    status_until(c, 2);
    c.send(Register{1, "bob"});
    auto bob = c.recv<RegisterReply>();
    std::string room = room_of_w1("d");
    Join j{2, "bob", bob.token, room};
    c.send(j);
    std::vector<zmq::message_t> req;
    Decoded d = w1.next(req);
    WRequest wr;
    REQUIRE(body_as(d, wr) == Status::ok);

    // w1 says it is draining while the JOIN is in flight: no W_DISCONNECT back until it answers.
    w1.send({encode(WDisconnect{"draining"})});
    answer_join(w1, wr.bid, j, 1);
    CHECK(c.recv<JoinReply>().joined);
    d = w1.next(req);
    CHECK(d.type == MsgType::w_disconnect);

    c.send(Leave{3, "bob", bob.token, room});
    d = w2.next(req);
    REQUIRE(d.type == MsgType::w_state);
    d = w2.next(req);
    REQUIRE(d.type == MsgType::w_request);
}

TEST_CASE("after a restart the broker takes rooms back from workers and keeps registrations") {
    TempDir dir("chatbus-handover");
    BrokerConfig cfg = fast_config();
    cfg.state_dir = dir.path.string();
    // The recovery window (liveness x heartbeat) must outlast the steps below on a loaded machine: a request
    // sent after it ends is no longer parked for the worker's W_STATE.
    cfg.liveness = 40;
    std::string token;
    std::string client_ep, worker_ep;
    {
        RunningBroker b(cfg);
        RawClient c(b.server.endpoints().client);
        c.send(Register{1, "carol"});
        token = c.recv<RegisterReply>().token;
        client_ep = b.server.endpoints().client;
        worker_ep = b.server.endpoints().worker;
    }
    cfg.client = client_ep;
    cfg.worker = worker_ep;
    RunningBroker b(cfg);
    RawClient c(b.server.endpoints().client);
    c.send(Register{2, "Carol"});
    CHECK(c.recv<RegisterReply>().status == static_cast<std::uint64_t>(Status::nick_taken));

    // A request for a room nobody has handed back yet waits instead of starting the room empty.
    c.send(Who{3, "kept"});
    zmq::context_t ctx;
    FakeWorker w(ctx, worker_ep, "w1");
    w.send({encode(WReady{"w1", "test", 1})});
    std::vector<zmq::message_t> out;
    REQUIRE(w.next(out).type == MsgType::w_welcome);
    w.send({encode(WState{"kept", 41, {"carol"}, {Event{"kept", 41, "message", "carol", "before", 1}}})});
    w.send({encode(WHeartbeat{})});
    Decoded d = w.next(out);
    REQUIRE(d.type == MsgType::w_request);  // no W_STATE: w1 already holds it
    WRequest wr;
    REQUIRE(body_as(d, wr) == Status::ok);
    w.send({encode(WReply{wr.bid}), encode(WhoReply{3, 0, {}, "kept", {"carol"}})});
    CHECK(c.recv<WhoReply>().members == std::vector<std::string>{"carol"});

    c.send(Listen{4, "carol", token});
    auto listen = c.recv<ListenReply>();
    CHECK(listen.status == 0);
    CHECK(listen.rooms == std::vector<std::string>{"kept"});
}
