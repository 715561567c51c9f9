// Broker, two workers and chatctl's Client in one process over loopback TCP: the whole request path, with
// readiness awaited through STATUS, never slept for.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "broker/broker.hpp"
#include "cli/client.hpp"
#include "common/clock.hpp"
#include "common/codec.hpp"
#include "tests/unit/event_sub.hpp"
#include "tests/unit/running.hpp"
#include "common/socket_util.hpp"
#include "worker/worker.hpp"

using namespace chatbus;
using chatbus::cli::Client;

namespace {

struct Cluster {
    std::unique_ptr<Running<Broker>> broker;
    std::vector<std::unique_ptr<Running<Worker>>> workers;
    std::unique_ptr<Client> client;

    Cluster() {
        spdlog::set_level(spdlog::level::warn);
        BrokerConfig cfg;
        cfg.client = cfg.worker = cfg.events = "tcp://127.0.0.1:*";
        cfg.heartbeat_ms = 100;
        broker = std::make_unique<Running<Broker>>(cfg);
        client = std::make_unique<Client>(broker->server.endpoints().client, std::chrono::milliseconds(3000));
    }
    ~Cluster() {
        workers.clear();  // before the broker, so they drain while it still answers
        broker.reset();
    }
    void add_worker(const std::string& id) {
        WorkerConfig cfg;
        cfg.broker = broker->server.endpoints().worker;
        cfg.id = id;
        workers.push_back(std::make_unique<Running<Worker>>(cfg));
    }
    // Awaits the broker's view: a bounded series of STATUS requests, each an awaited reply.
    StatusReply await_workers(std::size_t n) {
        StatusReply st;
        for (std::int64_t deadline = mono_ms() + 5000; mono_ms() < deadline;) {
            REQUIRE(client->request(StatusRequest{}, st).ok());
            if (st.workers.size() == n) return st;
            // Pacing between checks of the awaited condition; the broker offers no push notification of it.
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        FAIL("broker never saw ", n, " live workers");
        return st;
    }
    std::string register_nick(const std::string& nick) {
        RegisterReply r;
        REQUIRE(client->request(Register{.nick = nick}, r).ok());
        return r.token;
    }
};

}  // namespace

TEST_CASE("rooms spread over two workers and joins, batched sends and history work through the broker") {
    Cluster c;
    c.add_worker("w1");
    c.add_worker("w2");
    c.await_workers(2);
    std::string alice = c.register_nick("alice");
    std::string bob = c.register_nick("bob");

    for (int i = 0; i < 20; ++i) {
        std::string room = "room" + std::to_string(i);
        JoinReply j;
        REQUIRE(c.client->request(Join{.nick = "alice", .token = alice, .room = room}, j).ok());
        CHECK(j.joined);
        CHECK(j.seq == 1);
    }
    StatusReply st = c.await_workers(2);
    CHECK(st.rooms == 20);
    // Rendezvous hashing gives each of two workers some of 20 rooms (all on one: chance 2^-19).
    CHECK(st.workers[0].rooms > 0);
    CHECK(st.workers[1].rooms > 0);
    CHECK(st.workers[0].rooms + st.workers[1].rooms == 20);

    JoinReply j;
    REQUIRE(c.client->request(Join{.nick = "BOB", .token = bob, .room = "Room3"}, j).ok());
    CHECK(j.room == "room3");
    CHECK(j.seq == 2);
    SendReply s;
    REQUIRE(c.client->request(Send{.nick = "bob", .token = bob, .room = "room3", .texts = {"a", "b", "c"}}, s)
                .ok());
    CHECK(s.first_seq == 3);
    CHECK(s.last_seq == 5);

    WhoReply who;
    REQUIRE(c.client->request(Who{.room = "room3"}, who).ok());
    CHECK(who.members == std::vector<std::string>{"alice", "bob"});  // registered spelling, not "BOB"

    HistoryReply h;
    REQUIRE(c.client->request(History{.room = "room3", .since = 2}, h).ok());
    REQUIRE(h.events.size() == 3);
    CHECK(h.events[0].text == "a");
    CHECK(h.events[2].seq == 5);
    CHECK(h.events[2].nick == "bob");

    SendReply forged;
    auto o = c.client->request(Send{.nick = "alice", .token = bob, .room = "room3", .texts = {"x"}}, forged);
    CHECK(o.status == Status::bad_token);
}

TEST_CASE("events reach a subscriber once its sync mark arrives, and a stopped worker's rooms move") {
    Cluster c;
    c.add_worker("w1");
    c.add_worker("w2");
    c.await_workers(2);
    std::string alice = c.register_nick("alice");

    HelloReply hello;
    REQUIRE(c.client->request(Hello{}, hello).ok());
    EventSub events(hello.events, "lobby", "inproc1");
    REQUIRE(events.next().starts_with(sync_topic("inproc1")));

    JoinReply j;
    REQUIRE(c.client->request(Join{.nick = "alice", .token = alice, .room = "lobby"}, j).ok());
    SendReply s;
    REQUIRE(
        c.client->request(Send{.nick = "alice", .token = alice, .room = "lobby", .texts = {"hi"}}, s).ok());
    for (std::uint64_t seq : {j.seq, s.first_seq}) {
        Decoded d;
        REQUIRE(decode_topic_frame(events.next(), d) == Status::ok);
        Event e;
        REQUIRE(body_as(d, e) == Status::ok);
        CHECK(e.seq == seq);
        CHECK(e.room == "lobby");
    }

    // Stop both workers one by one: requests keep being answered while one lives, then fail fast.
    c.workers.erase(c.workers.begin());
    c.await_workers(1);
    SendReply more;
    auto o = c.client->request(Send{.nick = "alice", .token = alice, .room = "lobby", .texts = {"still"}}, more);
    CHECK(o.ok());
    c.workers.clear();
    c.await_workers(0);
    std::int64_t t0 = mono_ms();
    o = c.client->request(Send{.nick = "alice", .token = alice, .room = "lobby", .texts = {"gone"}}, more);
    CHECK(o.status == Status::no_worker);
    CHECK(mono_ms() - t0 < 1000);
    // Reads are answered from the broker's copy, worker or not.
    WhoReply who;
    REQUIRE(c.client->request(Who{.room = "lobby"}, who).ok());
    CHECK(who.members == std::vector<std::string>{"alice"});
}
