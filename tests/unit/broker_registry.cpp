#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>

#include "broker/inbox.hpp"
#include "broker/nick_registry.hpp"
#include "broker/pending_requests.hpp"
#include "common/codec.hpp"
#include "broker/worker_pool.hpp"

using namespace chatbus;

TEST_CASE("a nick is unique case-insensitively and proven only by its token") {
    NickRegistry reg(10);
    std::string token, other;
    REQUIRE(reg.register_nick("Alice", token) == Status::ok);
    CHECK(token.size() == 64);
    CHECK(reg.register_nick("alice", other) == Status::nick_taken);
    CHECK(reg.register_nick("ALICE", other) == Status::nick_taken);
    CHECK(reg.register_nick("9lives", other) == Status::invalid_nick);
    CHECK(reg.register_nick("", other) == Status::invalid_nick);

    NickEntry* e = nullptr;
    CHECK(reg.authenticate("alice", token, e) == Status::ok);
    REQUIRE(e != nullptr);
    CHECK(e->display == "Alice");
    CHECK(reg.authenticate("Alice", token + "0", e) == Status::bad_token);
    CHECK(reg.authenticate("Alice", "", e) == Status::bad_token);
    CHECK(reg.authenticate("bob", token, e) == Status::not_registered);

    REQUIRE(reg.register_nick("bob", other) == Status::ok);
    CHECK(reg.authenticate("bob", token, e) == Status::bad_token);  // another nick's token proves nothing
    reg.remove("ALICE");
    CHECK(reg.find("alice") == nullptr);
    CHECK(reg.size() == 1);
}

TEST_CASE("listeners are found by routing id and replaced, not duplicated") {
    NickRegistry reg(10);
    std::string t;
    REQUIRE(reg.register_nick("alice", t) == Status::ok);
    NickEntry* e = reg.find("alice");
    reg.attach_listener(*e, "sock1", 0);
    CHECK(reg.by_listener("sock1") == e);
    reg.attach_listener(*e, "sock2", 0);
    CHECK(reg.by_listener("sock1") == nullptr);
    CHECK(reg.by_listener("sock2") == e);
    CHECK(reg.listener_count() == 1);
    reg.detach_listener(*e);
    CHECK(reg.listener_count() == 0);
}

TEST_CASE("the inbox numbers DMs, keeps them until acknowledged and is bounded") {
    Inbox box(3);
    CHECK(box.push(DmDeliver{0, "a", "b", "one"}).id == 1);
    CHECK(box.push(DmDeliver{0, "a", "b", "two"}).id == 2);
    std::vector<std::uint64_t> sent;
    box.deliver_pending([&](const DmDeliver& d) { return sent.push_back(d.id), true; });
    CHECK(sent == std::vector<std::uint64_t>{1, 2});
    box.push(DmDeliver{0, "a", "b", "three"});
    CHECK(box.full());
    box.deliver_pending([&](const DmDeliver& d) { return sent.push_back(d.id), true; });
    CHECK(sent == std::vector<std::uint64_t>{1, 2, 3});
    box.ack(2);
    CHECK(box.size() == 1);
    CHECK_FALSE(box.full());
    // A new listener gets what is still unacknowledged.
    box.rewind();
    sent.clear();
    box.deliver_pending([&](const DmDeliver& d) { return sent.push_back(d.id), true; });
    CHECK(sent == std::vector<std::uint64_t>{3});
    // A failed send stops delivery and leaves the DM pending.
    box.push(DmDeliver{0, "a", "b", "four"});
    box.deliver_pending([](const DmDeliver&) { return false; });
    sent.clear();
    box.deliver_pending([&](const DmDeliver& d) { return sent.push_back(d.id), true; });
    CHECK(sent == std::vector<std::uint64_t>{4});
}

TEST_CASE("workers own rooms only once live, and a restarted worker replaces its old self") {
    WorkerPool pool;
    pool.ready("r1", "w1", "h", 1, 0);
    CHECK(pool.owner("lobby") == nullptr);
    CHECK(pool.heard(*pool.find("r1"), 10));
    CHECK_FALSE(pool.heard(*pool.find("r1"), 20));
    REQUIRE(pool.owner("lobby") != nullptr);
    CHECK(pool.owner("lobby")->id == "w1");
    pool.ready("r2", "w1", "h", 2, 30);  // same id, new socket: the old one is gone
    CHECK(pool.find("r1") == nullptr);
    CHECK(pool.live_count() == 0);
    pool.heard(*pool.find("r2"), 40);
    pool.ready("r3", "w2", "h", 3, 40);
    pool.heard(*pool.find("r3"), 40);
    CHECK(pool.live_count() == 2);
    auto dead = pool.expire(35);
    CHECK(dead.empty());
    dead = pool.expire(41);
    CHECK(dead.size() == 2);
    CHECK(pool.owner("lobby") == nullptr);
}

TEST_CASE("pending requests: overdue ones are those not yet answered, and each is found by its worker") {
    PendingRequests p;
    auto a = p.add(PendingRequest{"c", 1, MsgType::join, "r", "req", "w1", 100});
    auto b = p.add(PendingRequest{"c", 2, MsgType::join, "r", "req", "w2", 200});
    auto c = p.add(PendingRequest{"c", 3, MsgType::join, "r", "req", "w1", 300});
    REQUIRE(p.find(a) != nullptr);
    CHECK(p.find(a)->rid == 1);
    auto overdue = p.overdue(250);
    std::sort(overdue.begin(), overdue.end());
    CHECK(overdue == std::vector<std::uint64_t>{a, b});
    p.find(a)->answered = true;
    CHECK(p.overdue(250) == std::vector<std::uint64_t>{b});
    auto w1 = p.at_worker("w1");
    std::sort(w1.begin(), w1.end());
    CHECK(w1 == std::vector<std::uint64_t>{a, c});
    p.erase(a);
    CHECK(p.find(a) == nullptr);
    CHECK(p.size() == 2);
}

TEST_CASE("with key binding a nick acts only from the key that registered it") {
    NickRegistry reg(10);
    reg.bind_keys(true);
    const std::string k1(40, 'a'), k2(40, 'b');
    std::string token, t2;
    reg.set_caller_key(k1);
    REQUIRE(reg.register_nick("alice", token) == Status::ok);
    NickEntry* e = nullptr;
    CHECK(reg.authenticate("ALICE", token, e) == Status::ok);
    reg.set_caller_key(k2);
    CHECK(reg.authenticate("alice", token, e) == Status::wrong_key);
    // The token is checked first: without it nobody learns that the nick is bound.
    CHECK(reg.authenticate("alice", token + "0", e) == Status::bad_token);
    reg.set_caller_key("");
    CHECK(reg.authenticate("alice", token, e) == Status::wrong_key);
    // A nick restored without a key (registered before binding was on) is not bound.
    reg.restore("old", hash_token("t"));
    CHECK(reg.authenticate("old", "t", e) == Status::ok);
    // Binding off: keys are not looked at.
    reg.bind_keys(false);
    reg.set_caller_key(k2);
    CHECK(reg.authenticate("alice", token, e) == Status::ok);
}
