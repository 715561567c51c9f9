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

#include "cli/chat.hpp"
#include "cli/client.hpp"
#include "common/codec.hpp"
#include "cli/listener.hpp"
#include "common/messages.hpp"
#include "cli/output.hpp"
#include "common/socket_util.hpp"

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
// thread. `before_sync` runs (in that thread) just before each sync subscription is confirmed, `on_sync` just
// after; `on_ping` decides whether a PING is answered. Bound to given endpoints, it plays a restarted broker.
struct FakeBroker {
    zmq::context_t ctx;
    zmq::socket_t router{ctx, zmq::socket_type::router};
    zmq::socket_t xpub{ctx, zmq::socket_type::xpub};
    std::string endpoint, events;
    std::map<std::string, std::vector<Event>> history;  // what HISTORY answers, per room
    std::vector<std::string> listen_rooms;
    std::vector<DmDeliver> inbox;
    std::function<void(FakeBroker&, int)> on_sync;  // argument: how many syncs so far
    std::function<void(FakeBroker&, int)> before_sync;
    std::function<bool(FakeBroker&, int)> on_ping;  // argument: how many PINGs so far; false: no answer
    std::string listener_id;
    std::string boot = "boot-1";
    int history_busy = 0;  // this many HISTORY requests are answered no_worker first

    // Observations, read by the test after stop().
    std::vector<std::uint64_t> acks;
    std::vector<std::string> subscriptions;
    int unlistens = 0, pings = 0, histories = 0, hellos = 0, listens = 0;
    std::uint64_t missed = 0;  // summed from the attached listener's PINGs, as the broker counts them
    std::vector<Send> sends;
    std::vector<std::string> leaves;
    std::vector<Dm> dms;

    std::atomic<bool> stopping{false};
    std::thread thread;

    explicit FakeBroker(const std::string& client_ep = "tcp://127.0.0.1:*",
                        const std::string& events_ep = "tcp://127.0.0.1:*") {
        for (auto* s : {&router, &xpub}) s->set(zmq::sockopt::linger, 0);
        xpub.set(zmq::sockopt::xpub_verbose, 1);
        router.bind(client_ep);
        xpub.bind(events_ep);
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
                        ++syncs;
                        if (before_sync) before_sync(*this, syncs);
                        send_frames(xpub, {encode_with_topic(topic, Sync{.nonce = nonce})});
                        if (on_sync) on_sync(*this, syncs);
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
                ++hellos;
                HelloReply r{.rid = peek_rid(d), .version = 1, .events = events, .boot = boot};
                r.limits.heartbeat_ms = 100;
                reply(r);
                break;
            }
            case MsgType::listen: {
                ++listens;
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
            case MsgType::leave: {
                Leave m;
                body_as(d, m);
                leaves.push_back(m.room);
                reply(LeaveReply{.rid = m.rid, .room = m.room, .seq = 3});
                break;
            }
            case MsgType::who: {
                Who m;
                body_as(d, m);
                reply(WhoReply{.rid = m.rid, .room = m.room, .members = {"alice", "bob"}});
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
                if (!id.empty() && id == listener_id) missed += field_u64(d, "missed").value_or(0);
                if (on_ping && !on_ping(*this, pings)) break;
                reply(PingReply{
                    .rid = peek_rid(d), .boot = boot, .listening = !id.empty() && id == listener_id});
                break;
            case MsgType::history: {
                ++histories;
                History h;
                body_as(d, h);
                if (history_busy > 0) {
                    --history_busy;
                    reply(
                        HistoryReply{.rid = h.rid, .status = static_cast<std::uint64_t>(Status::no_worker)});
                    break;
                }
                HistoryReply r{.rid = h.rid, .room = h.room};
                for (const auto& e : history[h.room]) {
                    if (e.seq > h.since) r.events.push_back(e);
                }
                if (h.last > 0 && r.events.size() > h.last)
                    r.events.erase(r.events.begin(), r.events.end() - h.last);
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

std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
    return n;
}

// The JSON event lines of `out` as "room#seq:text", in the order printed.
std::vector<std::string> printed_events(const std::string& out) {
    std::vector<std::string> r;
    for (const auto& l : lines_of(out)) {
        if (!l.starts_with(R"({"type":"event")")) continue;
        auto field = [&](const std::string& key) {
            auto p = l.find("\"" + key + "\":");
            REQUIRE(p != std::string::npos);
            p += key.size() + 3;
            if (l[p] == '"') return l.substr(p + 1, l.find('"', p + 1) - p - 1);
            return l.substr(p, l.find_first_of(",}", p) - p);
        };
        r.push_back(field("room") + "#" + field("seq") + ":" + field("text"));
    }
    return r;
}

// The events of one room, in the order printed.
std::vector<std::string> of_room(const std::vector<std::string>& events, const std::string& room) {
    std::vector<std::string> r;
    for (const auto& e : events) {
        if (e.starts_with(room + "#")) r.push_back(e);
    }
    return r;
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
    // 7 and 8 never came over the events socket: reported once, in the output and to the broker.
    int gaps = 0;
    for (const auto& l : lines) {
        if (!l.starts_with(R"({"type":"gap")")) continue;
        ++gaps;
        CHECK(l == R"({"type":"gap","room":"lobby","from":7,"to":8,"missed":2,"total":2})");
    }
    CHECK(gaps == 1);
    CHECK(broker.missed == 2);
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

// alice chats in `room` (human output into out/err) with all of `input` waiting on stdin; stops the broker
// once the chat ended and returns its exit code.
int run_chat(FakeBroker& broker, const std::string& room, const std::string& input, std::ostringstream& out,
             std::ostringstream& err) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    Output output(false, out, err);
    Client client(broker.endpoint, 2000ms);
    Listener listener(
        client, output,
        ListenConfig{.me = {"alice", "tok"}, .duration = 5s, .chat_room = room, .input_fd = fds[0]});
    int rc = listener.run();
    ::close(fds[0]);
    ::close(fds[1]);
    broker.stop();
    return rc;
}

TEST_CASE("chat: joins, posts plain lines, /msg sends a DM, /quit ends with 0") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.start();
    std::ostringstream out, err;
    CHECK(run_chat(broker, "Lobby", "hello there\n\n/msg bob psst now\n//slash\n/quit\nnot sent\n", out,
                   err) == 0);
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

TEST_CASE(
    "chat: shows the room's last events on entering, switches rooms with /join and /leave, no send for "
    "an unknown command") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    for (std::uint64_t s = 1; s <= kChatRecent + 2; ++s) {
        broker.history["lobby"].push_back(ev("lobby", s, "m" + std::to_string(s)));
    }
    broker.start();
    std::ostringstream out, err;
    const std::string input =
        "hi\n/join dev\nin dev\n/me waves\n/who\n/bogus x\n/leave\nback in lobby\n/leave\nnowhere\n/quit\n";
    CHECK(run_chat(broker, "lobby", input, out, err) == 0);
    std::vector<std::pair<std::string, std::string>> sent;
    for (const auto& s : broker.sends) sent.emplace_back(s.room, s.texts.at(0));
    CHECK(sent == std::vector<std::pair<std::string, std::string>>{
                      {"lobby", "hi"}, {"dev", "in dev"}, {"dev", "/me waves"}, {"lobby", "back in lobby"}});
    CHECK(broker.leaves == std::vector<std::string>{"dev", "lobby"});
    // The last kChatRecent of lobby's events, oldest first, each with its time.
    std::vector<std::string> shown;
    for (const auto& l : lines_of(out.str())) {
        if (l.find("[lobby] bob: ") != std::string::npos) shown.push_back(l);
    }
    REQUIRE(shown.size() == kChatRecent);
    CHECK(shown.front() == clock_of(1) + " [lobby] bob: m3");
    CHECK(shown.back() == clock_of(1) + " [lobby] bob: m" + std::to_string(kChatRecent + 2));
    CHECK(out.str().find("dev: alice, bob") != std::string::npos);  // /who of the current room
    const std::string e = err.str();
    CHECK(e.find("talking in lobby (/help lists the commands)") != std::string::npos);
    CHECK(e.find("talking in dev\n") != std::string::npos);
    CHECK(e.find("left dev; talking in lobby") != std::string::npos);
    CHECK(e.find("left lobby; in no room now (/join ROOM)") != std::string::npos);
    CHECK(e.find("chatctl: unknown command /bogus") != std::string::npos);
    CHECK(e.find("chatctl: you are in no room: /join ROOM first (usage)") != std::string::npos);
}

TEST_CASE("listener: a broker restart on the same endpoints: LISTEN again, resync, fill, nothing twice") {
    auto first = std::make_unique<FakeBroker>();
    first->listen_rooms = {"lobby", "quiet"};
    first->history["lobby"] = {ev("lobby", 1, "one"), ev("lobby", 2, "two")};
    first->history["quiet"] = {ev("quiet", 1, "q-one")};
    first->inbox = {DmDeliver{.id = 1, .from = "bob", .to = "alice", .text = "before", .ts = 5}};
    // Published before the SYNC: surely printed before the first PING.
    first->before_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.publish(ev("lobby", 2, "two"));
    };
    // The first PING "kills" it: no answer, and the serving thread ends.
    first->on_ping = [](FakeBroker& b, int) {
        b.stopping = true;
        return false;
    };
    first->start();

    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(first->endpoint, 300ms);
    Listener listener(client, output,
                      ListenConfig{.me = {"alice", "tok"}, .count = 9, .duration = 8s, .reconnect = 10s});
    auto done = std::async(std::launch::async, [&] { return listener.run(); });

    first->thread.join();  // returns once the listener sent its first PING
    const std::string endpoint = first->endpoint, events = first->events;
    CHECK(first->hellos == 1);
    CHECK(first->listens == 1);
    first.reset();  // closes both sockets: the ports are free again

    FakeBroker second(endpoint, events);
    second.boot = "boot-2";
    second.listen_rooms = {"lobby", "quiet", "dev"};  // dev: joined while no listener was attached
    second.history["lobby"] = {ev("lobby", 1, "one"), ev("lobby", 2, "two"), ev("lobby", 3, "three"),
                               ev("lobby", 4, "four"), ev("lobby", 5, "five")};
    second.history["quiet"] = {ev("quiet", 1, "q-one"), ev("quiet", 2, "q-two")};
    second.history["dev"] = {ev("dev", 1, "old"),
                             Event{.room = "dev", .seq = 2, .kind = "join", .nick = "Alice", .ts = 3},
                             ev("dev", 3, "welcome")};
    second.inbox = {DmDeliver{.id = 1, .from = "bob", .to = "alice", .text = "after", .ts = 6}};
    second.history_busy = 2;  // workers still handing rooms back
    second.before_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.publish(ev("lobby", 4, "four"));  // also fetched from HISTORY: printed once
    };
    second.on_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.publish(ev("lobby", 5, "five"));
    };
    second.start();

    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    const int rc = done.get();
    second.stop();

    CHECK(rc == 0);
    CAPTURE(out.str());
    CAPTURE(err.str());
    auto printed = printed_events(out.str());
    CHECK(printed.size() == 7);
    CHECK(of_room(printed, "lobby") ==
          std::vector<std::string>{"lobby#2:two", "lobby#3:three", "lobby#4:four", "lobby#5:five"});
    CHECK(of_room(printed, "quiet") == std::vector<std::string>{"quiet#2:q-two"});  // from the floor on
    CHECK(of_room(printed, "dev") == std::vector<std::string>{"dev#2:", "dev#3:welcome"});  // from our join
    // The new run numbers DMs from 1 again: its DM #1 is not a repeat.
    CHECK(count_of(out.str(), R"("type":"dm","id":1,"from":"bob","to":"alice","text":"before")") == 1);
    CHECK(count_of(out.str(), R"("type":"dm","id":1,"from":"bob","to":"alice","text":"after")") == 1);
    CHECK(count_of(out.str(), R"({"type":"membership","room":"dev","joined":true,"seq":2})") == 1);
    CHECK(second.hellos == 1);
    CHECK(second.listens == 1);
    CHECK(second.history_busy == 0);
    CHECK(count_of(err.str(), R"({"type":"notice","text":"lost contact with the broker)") == 1);
    CHECK(count_of(err.str(), "answers again (it restarted)") == 1);
    CHECK(err.str().find("were missed") == std::string::npos);  // no gap reported as lost
    CHECK(out.str().find(R"("ok":false)") == std::string::npos);
    // ZeroMQ sent the SUB's subscriptions to the new broker by itself; dev was added once.
    auto subs = second.subscriptions;
    CHECK(std::count(subs.begin(), subs.end(), room_topic("lobby")) >= 1);
    CHECK(std::count(subs.begin(), subs.end(), room_topic("quiet")) >= 1);
    CHECK(std::count(subs.begin(), subs.end(), room_topic("dev")) == 1);
    REQUIRE(!second.acks.empty());
    CHECK(second.acks.back() == 1);
}

TEST_CASE("listener: a broker silent for a while (same run) is caught up without a new LISTEN") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.history["lobby"] = {ev("lobby", 1, "one")};
    broker.before_sync = [](FakeBroker& b, int n) {
        if (n == 1) b.publish(ev("lobby", 1, "one"));
    };
    broker.on_ping = [](FakeBroker& b, int n) {
        // Event 2 happens while the listener cannot hear it (it never comes over the SUB).
        if (n == 1) b.history["lobby"].push_back(ev("lobby", 2, "two"));
        return n > 2;
    };
    broker.start();
    std::ostringstream out, err;
    Output output(true, out, err);
    Client client(broker.endpoint, 200ms);
    Listener listener(client, output,
                      ListenConfig{.me = {"alice", "tok"}, .count = 2, .duration = 8s, .reconnect = 5s});
    int rc = listener.run();
    broker.stop();
    CHECK(rc == 0);
    CAPTURE(out.str());
    CAPTURE(err.str());
    CHECK(printed_events(out.str()) == std::vector<std::string>{"lobby#1:one", "lobby#2:two"});
    CHECK(broker.hellos == 1);
    CHECK(broker.listens == 1);
    CHECK(broker.pings >= 3);
    CHECK(count_of(err.str(), "lost contact with the broker") == 1);
    CHECK(count_of(err.str(), "answers again;") == 1);
    auto subs = broker.subscriptions;
    CHECK(std::count_if(subs.begin(), subs.end(),
                        [](const std::string& t) { return t.starts_with("sync/"); }) == 2);
}

TEST_CASE("listener: a broker silent past --reconnect ends it with 5 after the window, not before") {
    FakeBroker broker;
    broker.listen_rooms = {"lobby"};
    broker.on_ping = [](FakeBroker&, int) { return false; };
    broker.start();
    std::ostringstream out, err;
    Output output(false, out, err);
    Client client(broker.endpoint, 200ms);
    Listener listener(client, output, ListenConfig{.me = {"alice", "tok"}, .duration = 8s, .reconnect = 1s});
    auto start = std::chrono::steady_clock::now();
    int rc = listener.run();
    auto elapsed = std::chrono::steady_clock::now() - start;
    broker.stop();
    CAPTURE(err.str());
    CHECK(rc == 5);
    CHECK(elapsed >= 1s);
    CHECK(elapsed < 3s);
    CHECK(broker.pings >= 3);  // kept trying
    CHECK(out.str().empty());
    CHECK(count_of(err.str(), "chatctl: lost contact with the broker (no answer to PING") == 1);
    CHECK(count_of(err.str(), "answers again") == 0);
    CHECK(err.str().find("no answer for 1s (--reconnect)") != std::string::npos);
    CHECK(err.str().find("(unreachable)\n") != std::string::npos);
}
