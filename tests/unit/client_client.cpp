#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cli/client.hpp"
#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/messages.hpp"
#include "common/socket_util.hpp"

using namespace chatbus;
using namespace chatbus::cli;
using namespace std::chrono_literals;

namespace {

// A ROUTER on an ephemeral port, driven by the test thread or one helper thread.
struct FakeBroker {
    zmq::context_t ctx;
    zmq::socket_t router{ctx, zmq::socket_type::router};
    std::string endpoint;
    FakeBroker() {
        router.set(zmq::sockopt::linger, 0);
        router.bind("tcp://127.0.0.1:*");
        endpoint = last_endpoint(router);
    }
    // One request: [routing id, frame], waiting at most `wait`.
    bool recv(std::string& id, std::string& frame, std::chrono::milliseconds wait = 5000ms) {
        zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, wait) == 0) return false;
        std::vector<zmq::message_t> parts;
        if (!recv_multipart(router, parts) || parts.size() != 2) return false;
        id = std::string(view(parts[0]));
        frame = std::string(view(parts[1]));
        return true;
    }
    void send(const std::string& id, const std::string& frame) { REQUIRE(send_frames(router, {id, frame})); }
};

}  // namespace

TEST_CASE("a request to an endpoint nobody serves times out within the bound") {
    // Port 1 (tcpmux) is privileged and not served here: the connection is refused and retried.
    Client client("tcp://127.0.0.1:1", 300ms);
    PingReply reply;
    const auto start = mono_ms();
    Outcome o = client.request(Ping{}, reply);
    const auto elapsed = mono_ms() - start;
    CHECK(o.transport == Transport::timeout);
    CHECK_FALSE(o.ok());
    CHECK(elapsed >= 290);
    CHECK(elapsed < 300 + 700);
}

TEST_CASE("a silent server: the request times out, the next one still works") {
    FakeBroker broker;
    Client client(broker.endpoint, 300ms);
    PingReply reply;
    auto start = mono_ms();
    Outcome o = client.request(Ping{}, reply);
    CHECK(o.transport == Transport::timeout);
    CHECK(mono_ms() - start < 1000);

    // The server saw the first request but answers it too late; that stale reply must not satisfy the
    // second request.
    std::string id, first;
    REQUIRE(broker.recv(id, first));
    Decoded d;
    REQUIRE(decode(first, d) == Status::ok);
    const std::uint64_t stale_rid = peek_rid(d);

    auto server = std::async(std::launch::async, [&] {
        std::string id2, frame;
        if (!broker.recv(id2, frame)) return false;
        Ping p;
        if (decode_as(frame, p) != Status::ok) return false;
        broker.send(id2, encode(PingReply{.rid = stale_rid}));
        broker.send(id2, encode(PingReply{.rid = p.rid, .status = 0}));
        return true;
    });
    Outcome o2 = client.request(Ping{}, reply);
    CHECK(server.get());
    CHECK(o2.ok());
    CHECK(reply.rid != stale_rid);
    CHECK_FALSE(client.has_queued());  // the stale reply was discarded, not queued as a notification
}

TEST_CASE("reply with matching rid / a notification that comes first is queued, not lost") {
    FakeBroker broker;
    Client client(broker.endpoint, 3000ms);
    auto server = std::async(std::launch::async, [&]() -> std::uint64_t {
        std::string id, frame;
        if (!broker.recv(id, frame)) return 0;
        Who w;
        if (decode_as(frame, w) != Status::ok) return 0;
        broker.send(id, encode(DmDeliver{.id = 7, .from = "bob", .to = "alice", .text = "psst", .ts = 1}));
        broker.send(id, encode(Membership{.nick = "alice", .room = "dev", .joined = true, .seq = 3}));
        broker.send(id,
                    encode(WhoReply{.rid = w.rid, .status = 0, .room = w.room, .members = {"alice", "bob"}}));
        return w.rid;
    });
    WhoReply reply;
    Outcome o = client.request(Who{.room = "lobby"}, reply);
    const std::uint64_t served_rid = server.get();
    REQUIRE(o.ok());
    CHECK(reply.rid == served_rid);
    CHECK(reply.room == "lobby");
    CHECK(reply.members == std::vector<std::string>{"alice", "bob"});

    REQUIRE(client.has_queued());
    auto n1 = client.poll_notification(0ms);
    REQUIRE(n1);
    DmDeliver dm;
    REQUIRE(decode_as(*n1, dm) == Status::ok);
    CHECK(dm.id == 7);
    CHECK(dm.text == "psst");
    auto n2 = client.poll_notification(0ms);
    REQUIRE(n2);
    Membership m;
    REQUIRE(decode_as(*n2, m) == Status::ok);
    CHECK(m.room == "dev");
    CHECK_FALSE(client.poll_notification(50ms));
}

TEST_CASE("error replies carry the status and the server's message") {
    FakeBroker broker;
    Client client(broker.endpoint, 3000ms);
    auto server = std::async(std::launch::async, [&] {
        std::string id, frame;
        if (!broker.recv(id, frame)) return false;
        Join j;
        if (decode_as(frame, j) != Status::ok) return false;
        broker.send(id, encode(JoinReply{.rid = j.rid,
                                         .status = static_cast<std::uint64_t>(Status::invalid_room),
                                         .error = "bad room name"}));
        return j.nick == "alice" && j.token == "tok" && j.room == "Bad Room";
    });
    JoinReply reply;
    Outcome o = client.request(Join{.nick = "alice", .token = "tok", .room = "Bad Room"}, reply);
    CHECK(server.get());
    CHECK(o.transport == Transport::ok);
    CHECK(o.status == Status::invalid_room);
    CHECK(o.error == "bad room name");
    CHECK_FALSE(o.ok());
}

TEST_CASE("rids are fresh for every request") {
    FakeBroker broker;
    Client client(broker.endpoint, 3000ms);
    auto server = std::async(std::launch::async, [&] {
        std::vector<std::uint64_t> rids;
        for (int i = 0; i < 3; ++i) {
            std::string id, frame;
            if (!broker.recv(id, frame)) break;
            Rooms r;
            if (decode_as(frame, r) != Status::ok) break;
            rids.push_back(r.rid);
            broker.send(id, encode(RoomsReply{.rid = r.rid}));
        }
        return rids;
    });
    for (int i = 0; i < 3; ++i) {
        RoomsReply reply;
        CHECK(client.request(Rooms{}, reply).ok());
    }
    auto rids = server.get();
    REQUIRE(rids.size() == 3);
    CHECK(rids[0] != rids[1]);
    CHECK(rids[1] != rids[2]);
    CHECK(rids[0] != rids[2]);
}
