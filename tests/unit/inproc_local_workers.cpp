// Local workers (broker option local-workers): workers on threads of the broker, reached over inproc://.
// They must behave as any worker does: serve rooms alone, share them with TCP workers, take over rooms
// from a worker that leaves, and end with the broker.
#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "node/broker_node.hpp"
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

BrokerConfig local_config(std::size_t local) {
    BrokerConfig cfg;
    cfg.client = cfg.worker = cfg.events = "tcp://127.0.0.1:*";
    cfg.heartbeat_ms = 100;
    cfg.local_workers = local;
    return cfg;
}

// A bounded series of STATUS requests until the broker lists n live workers.
StatusReply await_workers(Client& client, std::size_t n) {
    StatusReply st;
    for (std::int64_t deadline = mono_ms() + 5000; mono_ms() < deadline;) {
        REQUIRE(client.request(StatusRequest{}, st).ok());
        if (st.workers.size() == n) return st;
        // Pacing between checks of the awaited condition; the broker offers no push notification of it.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("broker never saw ", n, " live workers");
    return st;
}

std::string register_nick(Client& client, const std::string& nick) {
    RegisterReply r;
    REQUIRE(client.request(Register{.nick = nick}, r).ok());
    return r.token;
}

std::uint64_t send_one(Client& client, const std::string& token, const std::string& room, std::string text) {
    SendReply s;
    REQUIRE(client.request(Send{.nick = "alice", .token = token, .room = room, .texts = {std::move(text)}}, s)
                .ok());
    return s.first_seq;
}

}  // namespace

TEST_CASE("a broker with local workers serves rooms with no worker process and publishes their events") {
    spdlog::set_level(spdlog::level::warn);
    auto broker = std::make_unique<Running<BrokerNode>>(local_config(2));
    Client client(broker->server.endpoints().client, std::chrono::milliseconds(3000));
    StatusReply st = await_workers(client, 2);
    for (const auto& w : st.workers) CHECK(w.id.starts_with("local"));
    // The worker endpoint told to operators is the TCP one, not the internal inproc:// one.
    CHECK(broker->server.endpoints().worker.starts_with("tcp://"));

    HelloReply hello;
    REQUIRE(client.request(Hello{}, hello).ok());
    EventSub events(hello.events, "lobby", "local1");
    REQUIRE(events.next().starts_with(sync_topic("local1")));

    std::string alice = register_nick(client, "alice");
    for (int i = 0; i < 10; ++i) {
        JoinReply j;
        REQUIRE(client.request(Join{.nick = "alice", .token = alice, .room = "r" + std::to_string(i)}, j).ok());
    }
    JoinReply j;
    REQUIRE(client.request(Join{.nick = "alice", .token = alice, .room = "lobby"}, j).ok());
    std::uint64_t seq = send_one(client, alice, "lobby", "hello");
    CHECK(seq == j.seq + 1);
    for (std::uint64_t want : {j.seq, seq}) {
        Decoded d;
        REQUIRE(decode_topic_frame(events.next(), d) == Status::ok);
        Event e;
        REQUIRE(body_as(d, e) == Status::ok);
        CHECK(e.seq == want);
    }
    HistoryReply h;
    REQUIRE(client.request(History{.room = "lobby"}, h).ok());
    REQUIRE(h.events.size() == 2);
    CHECK(h.events[1].text == "hello");

    st = await_workers(client, 2);
    std::uint64_t held = 0;
    for (const auto& w : st.workers) held += w.rooms;
    CHECK(held == 11);

    // Stopping the broker ends its local workers at once: nothing to drain to.
    std::int64_t t0 = mono_ms();
    broker.reset();
    CHECK(mono_ms() - t0 < 2000);
}

TEST_CASE("local and TCP workers share rooms, and a departing TCP worker's rooms move to the local one") {
    spdlog::set_level(spdlog::level::warn);
    Running<BrokerNode> broker(local_config(1));
    Client client(broker.server.endpoints().client, std::chrono::milliseconds(3000));
    WorkerConfig wc;
    wc.broker = broker.server.endpoints().worker;
    wc.id = "tcp1";
    auto tcp_worker = std::make_unique<Running<Worker>>(wc);
    await_workers(client, 2);

    std::string alice = register_nick(client, "alice");
    std::vector<std::uint64_t> last(30);
    for (std::size_t i = 0; i < last.size(); ++i) {
        JoinReply j;
        REQUIRE(client.request(Join{.nick = "alice", .token = alice, .room = "r" + std::to_string(i)}, j).ok());
        last[i] = send_one(client, alice, "r" + std::to_string(i), "before");
    }
    StatusReply st = await_workers(client, 2);
    for (const auto& w : st.workers) CHECK(w.rooms > 0);  // 30 rooms over 2 workers: each holds some

    tcp_worker.reset();  // drains: its rooms move on their next request
    await_workers(client, 1);
    for (std::size_t i = 0; i < last.size(); ++i) {
        std::string room = "r" + std::to_string(i);
        CHECK(send_one(client, alice, room, "after") == last[i] + 1);
        HistoryReply h;
        REQUIRE(client.request(History{.room = room}, h).ok());
        REQUIRE(h.events.size() == 3);  // join, before, after: nothing lost in the move
        CHECK(h.events[1].text == "before");
        CHECK(h.events[2].text == "after");
    }
    st = await_workers(client, 1);
    CHECK(st.workers[0].rooms == 30);
}
