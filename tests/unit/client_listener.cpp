#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "client.hpp"
#include "codec.hpp"
#include "listener.hpp"
#include "messages.hpp"
#include "output.hpp"
#include "socket_util.hpp"

using namespace chatbus;
using namespace chatbus::cli;
using namespace std::chrono_literals;

namespace {

Event ev(std::string room, std::uint64_t seq, std::string text) {
    return Event{.room = std::move(room),
                 .seq = seq,
                 .kind = "message",
                 .nick = "bob",
                 .text = std::move(text),
                 .ts = 1};
}

// Just enough of a broker for one listener: a ROUTER for requests and an XPUB for events, served by one
// thread. `on_sync` runs (in that thread) the first time each sync subscription is confirmed.
struct FakeBroker {
    zmq::context_t ctx;
    zmq::socket_t router{ctx, zmq::socket_type::router};
    zmq::socket_t xpub{ctx, zmq::socket_type::xpub};
    std::string endpoint, events;
    std::map<std::string, std::vector<Event>> history;  // what HISTORY answers, per room
    std::vector<std::string> listen_rooms;
    std::vector<DmDeliver> inbox;
    std::function<void(FakeBroker&, int)> on_sync;  // argument: how many syncs so far
    std::string listener_id;

    // Observations, read by the test after stop().
    std::vector<std::uint64_t> acks;
    std::vector<std::string> subscriptions;
    int unlistens = 0, pings = 0, histories = 0;
    std::vector<Send> sends;
    std::vector<Dm> dms;

    std::atomic<bool> stopping{false};
    std::thread thread;

    FakeBroker() {
        for (auto* s : {&router, &xpub}) s->set(zmq::sockopt::linger, 0);
        xpub.set(zmq::sockopt::xpub_verbose, 1);
        router.bind("tcp://127.0.0.1:*");
        xpub.bind("tcp://127.0.0.1:*");
        endpoint = last_endpoint(router);
        events = last_endpoint(xpub);
    }
    ~FakeBroker() { stop(); }
    void start() {
        thread = std::thread([this] { serve(); });
    }
    void stop() {
        stopping = true;
        if (thread.joinable()) thread.join();
    }

    void publish(const Event& e) { send_frames(xpub, {encode_with_topic(room_topic(e.room), e)}); }
    void notify(const std::string& frame) { send_frames(router, {listener_id, frame}); }

    void serve() {
        int syncs = 0;
        while (!stopping) {
            zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0},
                                       {xpub.handle(), 0, ZMQ_POLLIN, 0}};
            zmq::poll(items, 2, 20ms);
            std::vector<zmq::message_t> parts;
            if ((items[1].revents & ZMQ_POLLIN) && recv_multipart(xpub, parts)) {
                std::string sub(view(parts[0]));
                if (!sub.empty() && sub[0] == 1) {
                    std::string topic = sub.substr(1);
                    subscriptions.push_back(topic);
                    if (topic.starts_with(kSyncTopicPrefix)) {
                        std::string nonce =
                            topic.substr(kSyncTopicPrefix.size(), topic.size() - kSyncTopicPrefix.size() - 1);
                        send_frames(xpub, {encode_with_topic(topic, Sync{.nonce = nonce})});
                        if (on_sync) on_sync(*this, ++syncs);
                    }
                }
            }
            if ((items[0].revents & ZMQ_POLLIN) && recv_multipart(router, parts) && parts.size() == 2) {
                handle(std::string(view(parts[0])), std::string(view(parts[1])));
            }
        }
    }

    void handle(const std::string& id, const std::string& frame) {
        Decoded d;
        if (decode(frame, d) != Status::ok) return;
        auto reply = [&](const auto& msg) { send_frames(router, {id, encode(msg)}); };
        switch (d.type) {
            case MsgType::hello: {
                HelloReply r{.rid = peek_rid(d), .version = 1, .events = events};
                r.limits.heartbeat_ms = 100;
                reply(r);
                break;
            }
            case MsgType::listen: {
                listener_id = id;
                reply(ListenReply{.rid = peek_rid(d), .rooms = listen_rooms});
                for (const auto& m : inbox) notify(encode(m));
                break;
            }
            case MsgType::join: {
                Join j;
                body_as(d, j);
                reply(JoinReply{.rid = j.rid, .room = j.room, .seq = 1, .joined = true});
                break;
            }
            case MsgType::send: {
                Send m;
                body_as(d, m);
                sends.push_back(m);
                reply(SendReply{.rid = m.rid, .room = m.room, .first_seq = 2, .last_seq = 2});
                break;
            }
            case MsgType::dm: {
                Dm m;
                body_as(d, m);
                dms.push_back(m);
                reply(DmReply{.rid = m.rid, .to = m.to, .id = 1, .delivered = false});
                break;
            }
            case MsgType::ping:
                ++pings;
                reply(PingReply{.rid = peek_rid(d)});
                break;
            case MsgType::history: {
                ++histories;
                History h;
                body_as(d, h);
                HistoryReply r{.rid = h.rid, .room = h.room};
                for (const auto& e : history[h.room]) {
                    if (e.seq > h.since) r.events.push_back(e);
                }
                reply(r);
                break;
            }
            case MsgType::dm_ack: {
                DmAck a;
                body_as(d, a);
                acks.push_back(a.upto);
                break;
            }
            case MsgType::unlisten:
                ++unlistens;
                break;
            default:
                break;
        }
    }
};

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

}  // namespace

TEST_CASE("listener: ready first, inbox DMs acked, duplicates dropped, gaps filled from history") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.inbox = {DmDeliver{.id = 1, .from = "bob", .to = "alice", .text = "hi \"alice\"", .ts = 5}};
    broker.history["lobby"] = {ev("lobby", 5, "five"), ev("lobby", 6, "six"), ev("lobby", 7, "seven"),
                               ev("lobby", 8, "eight"), ev("lobby", 9, "nine")};
    broker.on_sync = [](FakeBroker& b, int n) {
        if (n != 1) return;
        b.publish(ev("lobby", 5, "five"));
        b.publish(ev("lobby", 6, "six"));
        b.publish(ev("lobby", 6, "six"));   // duplicate
        b.publish(ev("other", 1, "nope"));  // not subscribed: must not show even if it arrived
        b.publish(ev("lobby", 9, "nine"));  // 7 and 8 missing
        b.notify(encode(
            DmDeliver{.id = 1, .from = "bob", .to = "alice", .text = "hi \"alice\"", .ts = 5}));  // repeat
    };
    broker.start();

    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(client, output, ListenConfig{.me = {"alice", "tok"}, .count = 6, .duration = 5s});
    int rc = listener.run();
    broker.stop();

    CHECK(rc == 0);
    auto lines = lines_of(out.str());
    REQUIRE(!lines.empty());
    CHECK(lines[0] == R"({"type":"ready","nick":"alice","rooms":["lobby"]})");
    std::vector<std::string> events;
    int dms = 0;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].starts_with(R"({"type":"event")")) events.push_back(lines[i]);
        if (lines[i].starts_with(R"({"type":"dm")")) {
            ++dms;
            CHECK(lines[i] ==
                  R"({"type":"dm","id":1,"from":"bob","to":"alice","text":"hi \"alice\"","ts":5})");
        }
    }
    CHECK(dms == 1);
    REQUIRE(events.size() == 5);
    const char* texts[] = {"five", "six", "seven", "eight", "nine"};
    for (std::size_t i = 0; i < 5; ++i) {
        CAPTURE(events[i]);
        CHECK(events[i] == R"({"type":"event","room":"lobby","seq":)" + std::to_string(5 + i) +
                               R"(,"kind":"message","nick":"bob","text":")" + texts[i] + R"(","ts":1})");
    }
    CHECK(broker.histories >= 1);
    REQUIRE(!broker.acks.empty());
    CHECK(broker.acks.front() == 1);
    CHECK(broker.unlistens == 1);
    CHECK(broker.subscriptions.front() == room_topic("lobby"));
}

TEST_CASE("listener: MEMBERSHIP joined subscribes, syncs and fills from the join's seq") {
    FakeBroker broker;
    broker.listen_rooms = {};
    broker.history["dev"] = {ev("dev", 3, "before"),
                             Event{.room = "dev", .seq = 4, .kind = "join", .nick = "alice", .ts = 2},
                             ev("dev", 5, "after")};
    broker.on_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.notify(encode(Membership{.nick = "alice", .room = "dev", .joined = true, .seq = 4}));
        if (n == 2) b.publish(ev("dev", 5, "after"));  // also in history: printed once
        if (n == 2) b.publish(ev("dev", 6, "later"));
    };
    broker.start();

    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(client, output, ListenConfig{.me = {"alice", "tok"}, .count = 3, .duration = 5s});
    int rc = listener.run();
    broker.stop();

    CHECK(rc == 0);
    auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == R"({"type":"ready","nick":"alice","rooms":[]})");
    CHECK(lines[1] == R"({"type":"membership","room":"dev","joined":true,"seq":4})");
    CHECK(lines[2].find(R"("seq":4,"kind":"join")") != std::string::npos);
    CHECK(lines[3].find(R"("seq":5,"kind":"message")") != std::string::npos);
    CHECK(lines[4].find(R"("seq":6,"kind":"message")") != std::string::npos);
    CHECK(std::count(broker.subscriptions.begin(), broker.subscriptions.end(), room_topic("dev")) == 1);
}

TEST_CASE("listener: LISTEN_END exits 4 without UNLISTEN") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.on_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.notify(encode(ListenEnd{.nick = "alice", .reason = "replaced"}));
    };
    broker.start();
    std::ostringstream out, err;
    Output output(false, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(client, output, ListenConfig{.me = {"alice", "tok"}, .duration = 5s});
    int rc = listener.run();
    broker.stop();
    CHECK(rc == 4);
    CHECK(err.str().find("replaced") != std::string::npos);
    CHECK(err.str().find("listening as alice in lobby") != std::string::npos);
    CHECK(broker.unlistens == 0);
}

TEST_CASE("listener: a broker that stops answering PING ends it with 5 within the timeout") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.on_sync = [](FakeBroker& b, int) { b.stopping = true; };  // the broker goes silent once set up
    broker.start();
    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(broker.endpoint, 500ms);
    Listener listener(client, output, ListenConfig{.me = {"alice", "tok"}, .duration = 5s});
    auto start = std::chrono::steady_clock::now();
    int rc = listener.run();
    auto elapsed = std::chrono::steady_clock::now() - start;
    broker.stop();
    CHECK(rc == 5);
    CHECK(elapsed < 3s);
    auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].starts_with(R"({"ok":false,"status":"unreachable")"));
}

TEST_CASE("listener: stop() from another thread ends it with 0") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.start();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(client, output,
                      ListenConfig{.me = {"alice", "tok"}, .chat_room = "lobby", .input_fd = fds[0]});
    auto done = std::async(std::launch::async, [&] { return listener.run(); });
    CHECK(done.wait_for(300ms) == std::future_status::timeout);  // still running: no count, no EOF
    listener.stop();
    REQUIRE(done.wait_for(3s) == std::future_status::ready);
    CHECK(done.get() == 0);
    ::close(fds[0]);
    ::close(fds[1]);
    broker.stop();
    CHECK(broker.unlistens == 1);
}

TEST_CASE("chat: joins, posts plain lines, /msg sends a DM, /quit ends with 0") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.start();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string input = "hello there\n\n/msg bob psst now\n//slash\n/quit\nnot sent\n";
    REQUIRE(::write(fds[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    std::ostringstream out, err;
    Output output(false, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(
        client, output,
        ListenConfig{.me = {"alice", "tok"}, .duration = 5s, .chat_room = "Lobby", .input_fd = fds[0]});
    int rc = listener.run();
    ::close(fds[0]);
    ::close(fds[1]);
    broker.stop();
    CHECK(rc == 0);
    REQUIRE(broker.sends.size() == 2);
    CHECK(broker.sends[0].room == "Lobby");  // the fake echoes the name unfolded; a real broker folds it
    CHECK(broker.sends[0].texts == std::vector<std::string>{"hello there"});
    CHECK(broker.sends[1].texts == std::vector<std::string>{"/slash"});
    REQUIRE(broker.dms.size() == 1);
    CHECK(broker.dms[0].to == "bob");
    CHECK(broker.dms[0].text == "psst now");
    CHECK(broker.dms[0].token == "tok");
    CHECK(err.str().find("[dm #1 to bob] queued") != std::string::npos);
    CHECK(broker.unlistens == 1);
}
