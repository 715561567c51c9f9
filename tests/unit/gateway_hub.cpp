// The gateway's logic driven without sockets: MQTT packets into MqttSessions, frames in and out of a recording
// broker, checked against docs/mqtt.md.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/codec.hpp"
#include "gateway/hub.hpp"
#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"

using namespace chatbus;
using namespace chatbus::gateway;
namespace mq = chatbus::mqtt;

namespace {

struct FakeBroker : BrokerPort {
    std::vector<std::string> sent;
    std::map<std::string, int> subs;
    std::string events;
    bool connected = true;
    bool send(std::string_view f) override {
        if (!connected) return false;
        sent.emplace_back(f);
        return true;
    }
    void subscribe(std::string_view t) override { ++subs[std::string(t)]; }
    void unsubscribe(std::string_view t) override {
        if (--subs[std::string(t)] == 0) subs.erase(std::string(t));
    }
    void connect_events(std::string_view e) override { events = e; }

    // The last frame sent, decoded as T (a test failure when it is another type).
    template <class T>
    T last() {
        REQUIRE(!sent.empty());
        T out;
        REQUIRE(decode_as(sent.back(), out) == Status::ok);
        return out;
    }
    MsgType last_type() {
        REQUIRE(!sent.empty());
        return *frame_type(sent.back());
    }
};

struct FakeWriter : SessionWriter {
    std::string bytes;
    std::size_t backlog_packets = 0;
    bool closed = false;
    void write(std::string_view b) override { bytes.append(b); }
    std::size_t backlog() const override { return backlog_packets; }
    void close(bool) override { closed = true; }

    // Every packet written since the last call.
    std::vector<mq::Packet> take() {
        std::vector<mq::Packet> out;
        std::size_t at = 0;
        while (at < bytes.size()) {
            mq::Packet p;
            std::size_t used = 0;
            auto span = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()) + at,
                                                      bytes.size() - at);
            REQUIRE(mq::decode_packet(span, mq::Role::client, mq::DecodeLimits{}, p, used) == mq::DecodeError::none);
            out.push_back(std::move(p));
            at += used;
        }
        bytes.clear();
        return out;
    }
};

struct Client {
    FakeWriter w;
    MqttSession s;
    Client(Hub& hub, std::uint64_t id, SessionLimits lim = {}) : s(hub, w, id, lim) {}
    void in(const mq::Packet& p) {
        std::string b;
        mq::encode(b, p);
        s.on_bytes(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
    }
};

mq::Connect connect_as(const char* nick, const char* token, bool clean = true, const char* client_id = "c1") {
    mq::Connect c;
    c.protocol_name = "MQTT";
    c.level = 4;
    c.clean_session = clean;
    c.keep_alive = 60;
    c.client_id = client_id;
    if (nick) c.username = nick;
    if (token) c.password = token;
    return c;
}

struct Fixture {
    FakeBroker broker;
    Hub hub{broker, HubOptions{}};

    Fixture() {
        hub.start(1000);
        auto hello = broker.last<Hello>();
        CHECK(hello.gateway);
        answer(HelloReply{hello.rid, 0, {}, 1, "tcp://127.0.0.1:5558", Limits{4096, 64, 262144, 1000, 1000, 1000}, "b1", true});
        REQUIRE(hub.broker_up());
        CHECK(broker.events == "tcp://127.0.0.1:5558");
    }
    template <class R>
    void answer(R r) {
        hub.on_broker_frame(encode(r));
    }
    void event(const Event& e) { hub.on_event_frame(encode_with_topic(room_topic(e.room), e)); }
    void sync_all() {
        // The broker publishes SYNC for every sync subscription it sees.
        std::vector<std::string> nonces;
        for (auto& [t, n] : broker.subs)
            if (t.starts_with("sync/")) nonces.push_back(t.substr(5, t.size() - 6));
        for (auto& n : nonces) hub.on_event_frame(encode_with_topic(sync_topic(n), Sync{n}));
    }
    // Attaches `nick` through `c`, the broker saying it is a member of `rooms`.
    void attach(Client& c, const char* nick, std::vector<std::string> rooms = {}) {
        c.in(connect_as(nick, "tok"));
        auto l = broker.last<Listen>();
        CHECK(l.nick == nick);
        CHECK(l.token == "tok");
        answer(ListenReply{l.rid, 0, {}, rooms});
        auto p = c.w.take();
        REQUIRE(p.size() == 1);
        CHECK(std::get<mq::Connack>(p[0]).return_code == mq::ConnectReturnCode(0));
    }
};

// Bytes from the client as received at now_ms.
void feed(MqttSession& s, std::string_view bytes, std::int64_t now_ms) {
    auto data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    s.on_bytes(std::span<const std::uint8_t>(data, bytes.size()), now_ms);
}

std::string encoded(const mq::Packet& p) {
    std::string b;
    mq::encode(b, p);
    return b;
}

nlohmann::json payload_json(const mq::Packet& p) { return nlohmann::json::parse(std::get<mq::Publish>(p).payload); }

}  // namespace

TEST_CASE("CONNECT checks the nick's token with the broker: CONNACK 0, 5, or 3 while the broker is away") {
    Fixture f;
    Client ok(f.hub, 1);
    f.attach(ok, "alice");
    CHECK(f.hub.session_count() == 1);

    Client bad(f.hub, 2);
    bad.in(connect_as("bob", "wrong"));
    auto l = f.broker.last<Listen>();
    f.answer(ListenReply{l.rid, static_cast<std::uint64_t>(Status::bad_token), "bad token", {}});
    auto p = bad.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::get<mq::Connack>(p[0]).return_code == mq::ConnectReturnCode(5));
    CHECK(bad.w.closed);

    // The broker stops answering PINGs: after liveness × heartbeat the gateway knows it is away.
    f.hub.tick(10000);
    CHECK_FALSE(f.hub.broker_up());
    Client late(f.hub, 3);
    late.in(connect_as("carol", "tok"));
    p = late.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::get<mq::Connack>(p[0]).return_code == mq::ConnectReturnCode(3));
}

TEST_CASE("SUBSCRIBE to a room joins it, and its events reach the session in seq order, gaps filled") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice");
    c.in(mq::Subscribe{7, {{"chatbus/room/Lobby", 0}}});
    auto j = f.broker.last<Join>();
    CHECK(j.room == "lobby");
    f.answer(JoinReply{j.rid, 0, {}, "lobby", 5, true});
    auto p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::get<mq::Suback>(p[0]).codes == std::vector<std::uint8_t>{0});
    CHECK(f.broker.subs.contains(room_topic("lobby")));

    // Events published before the subscription was active come from HISTORY once SYNC says it is.
    f.event(Event{"lobby", 7, "message", "bob", "early?", 1});  // held: the subscription is not known active
    f.sync_all();
    auto h = f.broker.last<History>();
    CHECK(h.since == 4);
    f.answer(HistoryReply{h.rid, 0, {}, "lobby",
                          {Event{"lobby", 5, "join", "alice", "", 1}, Event{"lobby", 6, "message", "bob", "hi", 2}},
                          false});
    // 7 was held: after the fill it follows 6.
    p = c.w.take();
    REQUIRE(p.size() == 3);
    CHECK(payload_json(p[0])["kind"] == "join");
    CHECK(payload_json(p[1])["text"] == "hi");
    CHECK(payload_json(p[2])["seq"] == 7);
    CHECK(std::get<mq::Publish>(p[2]).topic == "chatbus/room/lobby");

    // A repeat is dropped; a jump waits for the events in between.
    f.event(Event{"lobby", 7, "message", "bob", "again", 3});
    f.event(Event{"lobby", 9, "message", "bob", "nine", 4});
    CHECK(c.w.take().empty());
    h = f.broker.last<History>();
    CHECK(h.since == 7);
    f.answer(HistoryReply{h.rid, 0, {}, "lobby", {Event{"lobby", 8, "message", "bob", "eight", 3}}, false});
    p = c.w.take();
    REQUIRE(p.size() == 2);
    CHECK(payload_json(p[0])["text"] == "eight");
    CHECK(payload_json(p[1])["text"] == "nine");
}

TEST_CASE("a refused QoS 1 PUBLISH gets its PUBACK and the refusal on chatbus/error") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice");
    c.in(mq::Publish{false, 1, false, "chatbus/room/lobby", 12, "hello"});
    auto s = f.broker.last<Send>();
    CHECK(s.texts == std::vector<std::string>{"hello"});
    CHECK(s.nick == "alice");
    CHECK(c.w.take().empty());  // PUBACK only once the broker answered
    f.answer(SendReply{s.rid, static_cast<std::uint64_t>(Status::not_member), "not a member", "lobby", 0, 0});
    auto p = c.w.take();
    REQUIRE(p.size() == 2);
    auto err = std::get<mq::Publish>(p[0]);
    CHECK(err.topic == "chatbus/error");
    auto j = nlohmann::json::parse(err.payload);
    CHECK(j["status"] == "not_member");
    CHECK(j["code"] == 12);
    CHECK(j["packet_id"] == 12);
    CHECK(j["topic"] == "chatbus/room/lobby");
    CHECK(std::get<mq::Puback>(p[1]).packet_id == 12);

    // No answer at all: `timeout` after the request timeout, still a PUBACK.
    c.in(mq::Publish{false, 1, false, "chatbus/dm/bob", 13, "psst"});
    CHECK(f.broker.last<Dm>().to == "bob");
    f.hub.tick(1000 + HubOptions{}.request_timeout_ms + 1);
    p = c.w.take();
    REQUIRE(p.size() == 2);
    CHECK(nlohmann::json::parse(std::get<mq::Publish>(p[0]).payload)["status"] == "timeout");
    CHECK(std::get<mq::Puback>(p[1]).packet_id == 13);
}

TEST_CASE("PUBACKs go out in the order of their PUBLISHes whatever order the broker answers in") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice");
    c.in(mq::Publish{false, 1, false, "chatbus/room/a", 1, "one"});
    auto first = f.broker.last<Send>();
    c.in(mq::Publish{false, 1, false, "chatbus/room/b", 2, "two"});
    auto second = f.broker.last<Send>();
    f.answer(SendReply{second.rid, 0, {}, "b", 1, 1});
    CHECK(c.w.take().empty());
    f.answer(SendReply{first.rid, 0, {}, "a", 1, 1});
    auto p = c.w.take();
    REQUIRE(p.size() == 2);
    CHECK(std::get<mq::Puback>(p[0]).packet_id == 1);
    CHECK(std::get<mq::Puback>(p[1]).packet_id == 2);
}

TEST_CASE("a DM is acknowledged to the broker only once the session has it") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice");
    // Arrives before anyone subscribed to the DMs: kept, not acknowledged.
    f.answer(DmDeliver{3, "bob", "Alice", "psst", 9});
    CHECK(c.w.take().empty());
    std::size_t sent_before = f.broker.sent.size();
    c.in(mq::Subscribe{1, {{"chatbus/dm/alice", 1}}});
    auto p = c.w.take();
    REQUIRE(p.size() == 2);
    CHECK(std::get<mq::Suback>(p[0]).codes == std::vector<std::uint8_t>{1});
    auto dm = std::get<mq::Publish>(p[1]);
    CHECK(dm.topic == "chatbus/dm/Alice");
    CHECK(dm.qos == 1);
    auto j = nlohmann::json::parse(dm.payload);
    CHECK(j["id"] == 3);
    CHECK(j["from"] == "bob");
    CHECK(j["text"] == "psst");
    CHECK(f.broker.sent.size() == sent_before);  // no DM_ACK before the PUBACK
    c.in(mq::Puback{dm.packet_id});
    CHECK(f.broker.last<DmAck>().upto == 3);
    // The inbox sent again (a new LISTEN) brings no repeat.
    f.answer(DmDeliver{3, "bob", "Alice", "psst", 9});
    CHECK(c.w.take().empty());
}

TEST_CASE("an anonymous session may only register, and gets the reply on the request topic") {
    Fixture f;
    Client c(f.hub, 1);
    c.in(connect_as(nullptr, nullptr));
    auto p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::get<mq::Connack>(p[0]).return_code == mq::ConnectReturnCode(0));

    c.in(mq::Publish{false, 0, false, "chatbus/room/lobby", 0, "hi"});
    p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(nlohmann::json::parse(std::get<mq::Publish>(p[0]).payload)["status"] == "not_authorized");
    c.in(mq::Subscribe{2, {{"chatbus/room/lobby", 0}}});
    p = c.w.take();
    REQUIRE(p.size() == 2);
    CHECK(std::get<mq::Suback>(p[1]).codes == std::vector<std::uint8_t>{0x80});

    c.in(mq::Publish{false, 0, false, "chatbus/req/register/r1", 0, R"({"nick":"dora"})"});
    auto r = f.broker.last<Register>();
    CHECK(r.nick == "dora");
    f.answer(RegisterReply{r.rid, 0, {}, "dora", "secret"});
    p = c.w.take();
    REQUIRE(p.size() == 1);
    auto reply = std::get<mq::Publish>(p[0]);
    CHECK(reply.topic == "chatbus/req/register/r1");
    auto j = nlohmann::json::parse(reply.payload);
    CHECK(j["status"] == "ok");
    CHECK(j["token"] == "secret");

    c.in(mq::Publish{false, 0, false, "chatbus/req/register/r2", 0, "[1,2]"});
    p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(nlohmann::json::parse(std::get<mq::Publish>(p[0]).payload)["status"] == "bad_request");
}

TEST_CASE("a client that does not read is closed as a slow consumer and counted") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice", {"lobby"});
    c.in(mq::Subscribe{1, {{"chatbus/room/lobby", 0}}});
    f.sync_all();
    auto h = f.broker.last<History>();
    f.answer(HistoryReply{h.rid, 0, {}, "lobby", {Event{"lobby", 1, "join", "alice", "", 1}}, false});
    c.w.take();
    c.w.backlog_packets = SessionLimits{}.queue;
    f.event(Event{"lobby", 2, "message", "bob", "x", 1});
    CHECK(c.w.closed);
    CHECK(f.hub.counters().slow_consumer == 1);
    CHECK(f.hub.session_count() == 0);
    CHECK(f.broker.last<Unlisten>().nick == "alice");
    CHECK_FALSE(f.broker.subs.contains(room_topic("lobby")));  // nobody here follows it any more
}

TEST_CASE("a malformed packet closes only its own connection") {
    Fixture f;
    Client a(f.hub, 1), b(f.hub, 2);
    f.attach(a, "alice");
    f.attach(b, "bob");
    const std::uint8_t junk[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};  // a fifth remaining-length byte
    a.s.on_bytes(junk);
    CHECK(a.w.closed);
    CHECK(f.hub.counters().malformed == 1);
    CHECK_FALSE(b.w.closed);
    b.in(mq::Pingreq{});
    auto p = b.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::holds_alternative<mq::Pingresp>(p[0]));
}

TEST_CASE("a persistent session keeps its subscriptions for the next connection of the same nick and client id") {
    Fixture f;
    {
        Client c(f.hub, 1);
        c.in(connect_as("alice", "tok", false, "phone"));
        auto l = f.broker.last<Listen>();
        f.answer(ListenReply{l.rid, 0, {}, {}});
        c.w.take();
        c.in(mq::Subscribe{1, {{"chatbus/dm/alice", 1}}});
        c.w.take();
        c.s.on_connection_lost();
    }
    CHECK(f.hub.kept_count() == 1);
    Client again(f.hub, 2);
    again.in(connect_as("alice", "tok", false, "phone"));
    auto l = f.broker.last<Listen>();
    f.answer(ListenReply{l.rid, 0, {}, {}});
    auto p = again.w.take();
    REQUIRE(p.size() == 1);
    auto ack = std::get<mq::Connack>(p[0]);
    CHECK(ack.return_code == mq::ConnectReturnCode(0));
    CHECK(ack.session_present);
    f.answer(DmDeliver{1, "bob", "alice", "while away", 5});
    p = again.w.take();
    REQUIRE(p.size() == 1);
    CHECK(std::get<mq::Publish>(p[0]).topic == "chatbus/dm/alice");
}

TEST_CASE("a membership that goes and comes back (a broker restart) repeats no event") {
    Fixture f;
    Client c(f.hub, 1);
    f.attach(c, "alice", {"lobby"});
    c.in(mq::Subscribe{1, {{"chatbus/room/lobby", 1}}});
    c.w.take();
    f.sync_all();
    auto h = f.broker.last<History>();
    f.answer(HistoryReply{h.rid, 0, {}, "lobby", {Event{"lobby", 3, "message", "bob", "newest", 1}}, false});
    f.event(Event{"lobby", 4, "message", "bob", "live", 2});
    auto p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(payload_json(p[0])["seq"] == 4);
    // The broker restarted: LISTEN finds no rooms yet (they are coming back from the workers), then the
    // membership returns with the room's seq.
    f.answer(Membership{"alice", "lobby", false, 0});
    CHECK_FALSE(f.broker.subs.contains(room_topic("lobby")));
    f.answer(Membership{"alice", "lobby", true, 4});
    f.sync_all();
    h = f.broker.last<History>();
    CHECK(h.since == 4);
    f.answer(HistoryReply{h.rid, 0, {}, "lobby", {Event{"lobby", 5, "message", "bob", "after", 3}}, false});
    p = c.w.take();
    REQUIRE(p.size() == 1);
    CHECK(payload_json(p[0])["seq"] == 5);
}

TEST_CASE("keep-alive and the wait for CONNECT count whole packets, not the bytes of one still coming") {
    Fixture f;
    auto c = connect_as(nullptr, nullptr);
    c.keep_alive = 10;
    const std::string connect = encoded(c);
    FakeWriter w;
    MqttSession s(f.hub, w, 1, SessionLimits{}, 1000);
    SUBCASE("a CONNECT trickling in is closed 10 s after the connection, however recent its last byte") {
        feed(s, std::string_view(connect).substr(0, 5), 9000);
        feed(s, std::string_view(connect).substr(5, 1), 10900);
        CHECK_FALSE(s.keepalive_expired(11000));
        CHECK(s.keepalive_expired(11001));
    }
    SUBCASE("after CONNECT, 1.5 x keep-alive after the last whole packet [MQTT-3.1.2-24]") {
        feed(s, connect, 2000);
        REQUIRE(w.take().size() == 1);  // CONNACK
        feed(s, encoded(mq::Pingreq{}), 5000);
        CHECK_FALSE(s.keepalive_expired(20000));
        const std::string pub = encoded(mq::Publish{false, 0, false, "chatbus/nowhere", 0, "xyz"});
        feed(s, std::string_view(pub).substr(0, 3), 15000);
        feed(s, std::string_view(pub).substr(3, 3), 19900);
        CHECK(s.keepalive_expired(20001));
        feed(s, std::string_view(pub).substr(6), 20001);  // the PUBLISH is whole now: the keep-alive restarts
        CHECK_FALSE(s.keepalive_expired(35001));
        CHECK(s.keepalive_expired(35002));
    }
}

TEST_CASE("a connection sending more packets than packet-rate allows is closed after the burst, counted") {
    Fixture f;
    FakeWriter w;
    SessionLimits lim;
    lim.packet_rate = RateLimit{10, 20};
    MqttSession s(f.hub, w, 1, lim, 1000);
    feed(s, encoded(connect_as(nullptr, nullptr)), 1000);
    std::string pings;
    for (int i = 0; i < 19; ++i) pings += encoded(mq::Pingreq{});
    feed(s, pings, 1000);  // with CONNECT, the whole burst
    CHECK_FALSE(w.closed);
    feed(s, encoded(mq::Pingreq{}), 1100);  // a tenth of a second: one packet's worth came back
    CHECK_FALSE(w.closed);
    CHECK(w.take().size() == 21);  // CONNACK and 20 PINGRESPs
    feed(s, encoded(mq::Pingreq{}), 1100);
    CHECK(w.closed);
    CHECK(w.take().empty());  // the packet over the rate is not handled
    CHECK(f.hub.counters().flood == 1);
    CHECK(f.hub.counters().malformed == 0);
}

TEST_CASE("two sessions of one nick taking a DM at QoS 0 both get it, and it is acknowledged once") {
    Fixture f;
    Client a(f.hub, 1), b(f.hub, 2);
    f.attach(a, "alice");
    b.in(connect_as("alice", "tok", true, "c2"));  // the nick is attached already: no second LISTEN
    REQUIRE(b.w.take().size() == 1);
    a.in(mq::Subscribe{1, {{"chatbus/dm/alice", 0}}});
    b.in(mq::Subscribe{1, {{"chatbus/dm/alice", 0}}});
    a.w.take();
    b.w.take();
    f.answer(DmDeliver{1, "bob", "alice", "hi both", 5});
    auto pa = a.w.take(), pb = b.w.take();
    REQUIRE(pa.size() == 1);
    REQUIRE(pb.size() == 1);
    CHECK(nlohmann::json::parse(std::get<mq::Publish>(pa[0]).payload)["text"] == "hi both");
    CHECK(nlohmann::json::parse(std::get<mq::Publish>(pb[0]).payload)["text"] == "hi both");
    CHECK(f.broker.last<DmAck>().upto == 1);
    std::size_t acks = 0;
    for (const auto& fr : f.broker.sent) acks += frame_type(fr) == MsgType::dm_ack;
    CHECK(acks == 1);
}
