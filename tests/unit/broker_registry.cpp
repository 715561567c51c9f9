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

namespace {

// Registers each nick in `reg` and returns nothing: tests reach the entries with find().
void register_all(NickRegistry& reg, std::initializer_list<const char*> nicks) {
    std::string t;
    for (const char* n : nicks) REQUIRE(reg.register_nick(n, t) == Status::ok);
}

// The nicks (as registered) that the socket listens for, sorted; empty when it listens for none.
std::vector<std::string> nicks_of(NickRegistry& reg, std::string_view socket) {
    std::vector<std::string> out;
    if (ListenerSocket* s = reg.listener_socket(socket)) {
        for (const NickEntry* e : s->nicks) out.push_back(e->display);
    }
    std::sort(out.begin(), out.end());
    return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("a nick has one listener: a LISTEN from another socket moves it there") {
    NickRegistry reg(10);
    register_all(reg, {"alice"});
    NickEntry* e = reg.find("alice");
    reg.attach_listener(*e, "sock1", 0);
    CHECK(reg.listened_by("sock1", "ALICE") == e);
    reg.attach_listener(*e, "sock2", 0);
    CHECK(reg.listened_by("sock1", "alice") == nullptr);
    CHECK(reg.listener_socket("sock1") == nullptr);  // it listens for nothing now
    CHECK(reg.listened_by("sock2", "alice") == e);
    CHECK(reg.listener_count() == 1);
    CHECK(reg.listener_socket_count() == 1);
    reg.detach_listener(*e);
    CHECK(reg.listener_count() == 0);
    CHECK(reg.listener_socket_count() == 0);
}

TEST_CASE("one socket listens for several nicks, and a LISTEN elsewhere takes only that nick away") {
    NickRegistry reg(10);
    register_all(reg, {"alice", "bob", "carol"});
    NickEntry *a = reg.find("alice"), *b = reg.find("bob"), *c = reg.find("carol");
    reg.attach_listener(*a, "gw", 0);
    reg.attach_listener(*b, "gw", 0);
    reg.attach_listener(*c, "gw", 0);
    CHECK(nicks_of(reg, "gw") == Names{"alice", "bob", "carol"});
    CHECK(reg.listener_count() == 3);
    CHECK(reg.listener_socket_count() == 1);
    // Attaching the same socket again for a nick it has is not a second attachment.
    reg.attach_listener(*b, "gw", 0);
    CHECK(reg.listener_count() == 3);

    // bob's LISTEN from his own client replaces the gateway for bob only.
    reg.attach_listener(*b, "bob-cli", 0);
    CHECK(nicks_of(reg, "gw") == Names{"alice", "carol"});
    CHECK(nicks_of(reg, "bob-cli") == Names{"bob"});
    CHECK(reg.listener_count() == 3);
    CHECK(reg.listener_socket_count() == 2);

    // A DM_ACK or UNLISTEN names a nick: only the nick's own listener is it, whatever else it listens for.
    CHECK(reg.listened_by("gw", "bob") == nullptr);
    CHECK(reg.listened_by("bob-cli", "alice") == nullptr);
    CHECK(reg.listened_by("gw", "carol") == c);
    CHECK(reg.listened_by("gw", "nobody") == nullptr);

    // UNLISTEN of one nick leaves the others; unregistering a nick detaches it.
    reg.detach_listener(*a);
    CHECK(nicks_of(reg, "gw") == Names{"carol"});
    reg.remove("carol");
    CHECK(reg.listener_socket("gw") == nullptr);
    CHECK(reg.listener_count() == 1);
    CHECK(reg.listener_socket_count() == 1);
}

TEST_CASE("liveness is the socket's: one heartbeat keeps all its nicks, a silent socket loses all of them") {
    NickRegistry reg(10);
    register_all(reg, {"alice", "bob", "carol", "dave"});
    reg.attach_listener(*reg.find("alice"), "gw", 0);
    reg.attach_listener(*reg.find("bob"), "gw", 0);
    reg.attach_listener(*reg.find("carol"), "gw", 0);
    reg.attach_listener(*reg.find("dave"), "cli", 0);
    std::vector<std::pair<std::string, std::string>> ended;  // (socket, nick)
    auto expire = [&](std::int64_t deadline) {
        reg.expire_listeners(deadline, [&](const std::string& socket, NickEntry& e) {
            CHECK(e.listener == socket);  // told before it is detached
            ended.emplace_back(socket, e.display);
        });
        std::sort(ended.begin(), ended.end());
    };

    // One heartbeat from the gateway (a PING) at 2500 refreshes its three nicks at once.
    reg.listener_socket("gw")->seen_ms = 2500;
    expire(2000);
    CHECK(ended == std::vector<std::pair<std::string, std::string>>{{"cli", "dave"}});
    CHECK(nicks_of(reg, "gw") == Names{"alice", "bob", "carol"});
    CHECK_FALSE(reg.find("dave")->listener.has_value());

    // A LISTEN is heard too: attaching a nick refreshes the whole socket.
    register_all(reg, {"erin"});
    reg.attach_listener(*reg.find("erin"), "gw", 4000);
    ended.clear();
    expire(3500);
    CHECK(ended.empty());

    ended.clear();
    expire(5000);
    CHECK(ended == std::vector<std::pair<std::string, std::string>>{
                       {"gw", "alice"}, {"gw", "bob"}, {"gw", "carol"}, {"gw", "erin"}});
    CHECK(reg.listener_socket("gw") == nullptr);
    CHECK(reg.listener_count() == 0);
    CHECK(reg.listener_socket_count() == 0);
    for (const char* n : {"alice", "bob", "carol", "erin"}) CHECK_FALSE(reg.find(n)->listener.has_value());
}

TEST_CASE("detaching a socket detaches it from all its nicks and from nothing else") {
    NickRegistry reg(10);
    register_all(reg, {"alice", "bob", "carol"});
    reg.attach_listener(*reg.find("alice"), "gw", 0);
    reg.attach_listener(*reg.find("bob"), "gw", 0);
    reg.attach_listener(*reg.find("carol"), "cli", 0);
    reg.detach_socket("gw");
    reg.detach_socket("unknown");
    CHECK(reg.listener_socket("gw") == nullptr);
    CHECK_FALSE(reg.find("alice")->listener.has_value());
    CHECK_FALSE(reg.find("bob")->listener.has_value());
    CHECK(nicks_of(reg, "cli") == Names{"carol"});
    CHECK(reg.listener_count() == 1);
    // The nicks can be attached again, to the same socket.
    reg.attach_listener(*reg.find("alice"), "gw", 0);
    CHECK(nicks_of(reg, "gw") == Names{"alice"});
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
    reg.set_caller(k1, false);
    REQUIRE(reg.register_nick("alice", token) == Status::ok);
    NickEntry* e = nullptr;
    CHECK(reg.authenticate("ALICE", token, e) == Status::ok);
    reg.set_caller(k2, false);
    CHECK(reg.authenticate("alice", token, e) == Status::wrong_key);
    // The token is checked first: without it nobody learns that the nick is bound.
    CHECK(reg.authenticate("alice", token + "0", e) == Status::bad_token);
    reg.set_caller("", false);
    CHECK(reg.authenticate("alice", token, e) == Status::wrong_key);
    // A nick restored without a key (registered before binding was on) is not bound.
    reg.restore("old", hash_token("t"));
    CHECK(reg.authenticate("old", "t", e) == Status::ok);
    // Binding off: keys are not looked at.
    reg.bind_keys(false);
    reg.set_caller(k2, false);
    CHECK(reg.authenticate("alice", token, e) == Status::ok);
}

TEST_CASE("with key binding a bound nick also accepts every gateway key, and no other client key") {
    NickRegistry reg(10);
    reg.bind_keys(true);
    const std::string alice_key(40, 'a'), mallory_key(40, 'm'), gw1(40, 'g'), gw2(40, 'h');
    std::string alice, viagw;
    reg.set_caller(alice_key, false);
    REQUIRE(reg.register_nick("alice", alice) == Status::ok);
    NickEntry* e = nullptr;
    // Through any gateway: the gateway's users proved the token to it, and cannot prove a client key.
    reg.set_caller(gw1, true);
    CHECK(reg.authenticate("alice", alice, e) == Status::ok);
    reg.set_caller(gw2, true);
    CHECK(reg.authenticate("alice", alice, e) == Status::ok);
    CHECK(reg.authenticate("alice", alice + "0", e) == Status::bad_token);  // the token still decides
    reg.set_caller(mallory_key, false);
    CHECK(reg.authenticate("alice", alice, e) == Status::wrong_key);

    // A nick registered through a gateway is bound to that gateway's key: every gateway, no client key.
    reg.set_caller(gw1, true);
    REQUIRE(reg.register_nick("viagw", viagw) == Status::ok);
    CHECK(reg.find("viagw")->key == gw1);
    reg.set_caller(gw2, true);
    CHECK(reg.authenticate("viagw", viagw, e) == Status::ok);
    reg.set_caller(alice_key, false);
    CHECK(reg.authenticate("viagw", viagw, e) == Status::wrong_key);
    // The gateway mark is per caller: the same key as an ordinary client's is refused.
    reg.set_caller(gw2, false);
    CHECK(reg.authenticate("viagw", viagw, e) == Status::wrong_key);
}
