// The broker over real sockets, driven by a raw DEALER as a client in another language would.
#include <doctest/doctest.h>

#include <limits>
#include <thread>

#include "broker/broker.hpp"
#include "common/codec.hpp"
#include "tests/unit/running.hpp"
#include "common/socket_util.hpp"

using namespace chatbus;

namespace {

BrokerConfig local_config() {
    BrokerConfig cfg;
    cfg.client = cfg.worker = cfg.events = "tcp://127.0.0.1:*";
    // Long enough that a raw client which never PINGs stays attached as a listener on a loaded machine.
    cfg.heartbeat_ms = 5000;
    cfg.inbox = 2;
    return cfg;
}

using RunningBroker = Running<Broker>;

struct RawClient {
    zmq::context_t ctx;
    zmq::socket_t sock{ctx, zmq::socket_type::dealer};
    explicit RawClient(const std::string& ep) {
        sock.set(zmq::sockopt::linger, 0);
        sock.connect(ep);
    }
    void send_raw(std::string_view frame) { sock.send(zmq::buffer(frame), zmq::send_flags::none); }
    // Next frame within 2 s, or empty.
    std::string recv_raw() {
        zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(2000)) == 0) return {};
        zmq::message_t m;
        (void)sock.recv(m);
        return std::string(view(m));
    }
    template <class Rep, class Req>
    Rep ask(const Req& req) {
        send_raw(encode(req));
        Rep rep;
        REQUIRE(decode_as(recv_raw(), rep) == Status::ok);
        return rep;
    }
};

std::string with_header(std::uint8_t version, std::uint8_t type, std::string_view body) {
    std::string f{'C', 'B', static_cast<char>(version), static_cast<char>(type)};
    return f.append(body);
}

}  // namespace

TEST_CASE("HELLO tells the events endpoint, the version and the limits") {
    RunningBroker b(local_config());
    RawClient c(b.server.endpoints().client);
    auto rep = c.ask<HelloReply>(Hello{7});
    CHECK(rep.rid == 7);
    CHECK(rep.status == 0);
    CHECK(rep.version == kProtocolVersion);
    CHECK(rep.events == b.server.endpoints().events);
    CHECK(rep.limits.inbox == 2);
    CHECK(rep.limits.heartbeat_ms == 5000);
}

TEST_CASE("bad frames get the documented error and the broker keeps serving") {
    RunningBroker b(local_config());
    RawClient c(b.server.endpoints().client);
    ErrorReply err;

    c.send_raw("garbage");
    REQUIRE(decode_as(c.recv_raw(), err) == Status::ok);
    CHECK(err.status == static_cast<std::uint64_t>(Status::bad_request));

    std::string hello_body = encode(Hello{5}).substr(kHeaderSize);
    c.send_raw(with_header(2, 0x01, hello_body));
    REQUIRE(decode_as(c.recv_raw(), err) == Status::ok);
    CHECK(err.status == static_cast<std::uint64_t>(Status::bad_version));
    CHECK(err.rid == 5);  // readable, so echoed (docs/protocol.md, "How errors are answered")

    c.send_raw(with_header(1, 0x7F, hello_body));
    REQUIRE(decode_as(c.recv_raw(), err) == Status::ok);
    CHECK(err.status == static_cast<std::uint64_t>(Status::unknown_type));
    CHECK(err.rid == 5);

    c.send_raw(encode(HelloReply{9}));  // a type only the broker sends
    REQUIRE(decode_as(c.recv_raw(), err) == Status::ok);
    CHECK(err.status == static_cast<std::uint64_t>(Status::unknown_type));
    CHECK(err.rid == 9);

    // A mistyped field: answered in the request's own reply type.
    c.send_raw(with_header(1, 0x02, "\x82\xa3rid\x05\xa4nick\x07"));
    RegisterReply reg;
    REQUIRE(decode_as(c.recv_raw(), reg) == Status::ok);
    CHECK(reg.status == static_cast<std::uint64_t>(Status::bad_request));
    CHECK(reg.rid == 5);

    // A msgpack bomb (a map claiming 2^32 entries) after a valid header.
    c.send_raw(with_header(1, 0x01, std::string("\x88\xdf\xff\xff\xff\x8b", 6)));
    HelloReply hello_err;
    REQUIRE(decode_as(c.recv_raw(), hello_err) == Status::ok);
    CHECK(hello_err.status == static_cast<std::uint64_t>(Status::bad_request));

    // Three frames from a DEALER: bad_request, judged on the first frame (here too short for a header).
    c.sock.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
    c.sock.send(zmq::str_buffer("b"), zmq::send_flags::sndmore);
    c.sock.send(zmq::str_buffer("c"), zmq::send_flags::none);
    REQUIRE(decode_as(c.recv_raw(), err) == Status::ok);
    CHECK(err.status == static_cast<std::uint64_t>(Status::bad_request));
    CHECK(err.rid == 0);

    // A bad notification gets no answer either; the next request is answered normally.
    c.send_raw(with_header(1, 0x20, "\x81\xa4upto\xa1x"));
    auto hello = c.ask<HelloReply>(Hello{11});
    CHECK(hello.rid == 11);
    auto st = c.ask<StatusReply>(StatusRequest{12});
    CHECK(st.dropped["malformed"] >= 7);
}

TEST_CASE("room changes without a live worker get no_worker at once, while reads are answered from the copy") {
    RunningBroker b(local_config());
    RawClient c(b.server.endpoints().client);
    auto reg = c.ask<RegisterReply>(Register{1, "alice"});
    REQUIRE(reg.status == 0);
    auto join = c.ask<JoinReply>(Join{2, "alice", reg.token, "lobby"});
    CHECK(join.status == static_cast<std::uint64_t>(Status::no_worker));
    auto who = c.ask<WhoReply>(Who{3, "lobby"});
    CHECK(who.status == static_cast<std::uint64_t>(Status::no_such_room));  // never joined: the copy has none
    // Identity and names are checked before routing.
    auto bad = c.ask<JoinReply>(Join{4, "alice", "nope", "lobby"});
    CHECK(bad.status == static_cast<std::uint64_t>(Status::bad_token));
    auto room = c.ask<JoinReply>(Join{5, "alice", reg.token, "no spaces"});
    CHECK(room.status == static_cast<std::uint64_t>(Status::invalid_room));
}

TEST_CASE("DMs wait in a bounded inbox and reach the listener, which acknowledges them") {
    RunningBroker b(local_config());
    RawClient alice(b.server.endpoints().client), bob(b.server.endpoints().client);
    auto a = alice.ask<RegisterReply>(Register{1, "alice"});
    auto bb = bob.ask<RegisterReply>(Register{1, "Bob"});
    REQUIRE(a.status == 0);
    REQUIRE(bb.status == 0);

    auto d1 = alice.ask<DmReply>(Dm{2, "alice", a.token, "bob", "first"});
    CHECK(d1.status == 0);
    CHECK(d1.to == "Bob");
    CHECK_FALSE(d1.delivered);
    auto d2 = alice.ask<DmReply>(Dm{3, "alice", a.token, "BOB", "second"});
    CHECK(d2.id == d1.id + 1);
    auto full = alice.ask<DmReply>(Dm{4, "alice", a.token, "bob", "third"});
    CHECK(full.status == static_cast<std::uint64_t>(Status::inbox_full));
    auto unknown = alice.ask<DmReply>(Dm{5, "alice", a.token, "carol", "hi"});
    CHECK(unknown.status == static_cast<std::uint64_t>(Status::unknown_nick));
    auto forged = alice.ask<DmReply>(Dm{6, "bob", a.token, "alice", "I am bob"});
    CHECK(forged.status == static_cast<std::uint64_t>(Status::bad_token));
    auto ctrl = alice.ask<DmReply>(Dm{7, "alice", a.token, "bob", "bell\x07"});
    CHECK(ctrl.status == static_cast<std::uint64_t>(Status::invalid_text));

    auto listen = bob.ask<ListenReply>(Listen{8, "bob", bb.token});
    REQUIRE(listen.status == 0);
    DmDeliver got;
    REQUIRE(decode_as(bob.recv_raw(), got) == Status::ok);
    CHECK(got.text == "first");
    CHECK(got.from == "alice");
    REQUIRE(decode_as(bob.recv_raw(), got) == Status::ok);
    CHECK(got.text == "second");
    bob.send_raw(encode(DmAck{"bob", got.id}));
    // DM_ACK has no reply, and alice's next DM comes on another socket: a PING answered on bob's socket proves
    // the broker has taken the acknowledgement (one connection is read in order), so the inbox has room.
    REQUIRE(bob.ask<PingReply>(Ping{20}).listening);

    auto live = alice.ask<DmReply>(Dm{9, "alice", a.token, "bob", "live"});
    CHECK(live.delivered);
    REQUIRE(decode_as(bob.recv_raw(), got) == Status::ok);
    CHECK(got.text == "live");
    auto st = alice.ask<StatusReply>(StatusRequest{10});
    CHECK(st.listeners == 1);
    CHECK(st.inboxed == 1);  // "live" is not acknowledged yet
}

TEST_CASE("one socket listens for two nicks: DMs to each, acks of each, one PING for both") {
    RunningBroker b(local_config());
    RawClient gw(b.server.endpoints().client), alice(b.server.endpoints().client);
    auto a = alice.ask<RegisterReply>(Register{1, "alice"});
    auto bob = gw.ask<RegisterReply>(Register{2, "bob"});
    auto carol = gw.ask<RegisterReply>(Register{3, "carol"});
    REQUIRE((a.status == 0 && bob.status == 0 && carol.status == 0));
    auto lost = [&] { return alice.ask<StatusReply>(StatusRequest{9}).dropped["slow_subscriber"]; };

    REQUIRE(gw.ask<ListenReply>(Listen{4, "bob", bob.token}).status == 0);
    REQUIRE(gw.ask<ListenReply>(Listen{5, "carol", carol.token}).status == 0);
    auto ping = gw.ask<PingReply>(Ping{6, 3});
    CHECK(ping.listening);
    CHECK(ping.nicks == 2);
    CHECK(lost() == 3);  // the socket's report, counted once and not once per nick
    auto st = alice.ask<StatusReply>(StatusRequest{7});
    CHECK(st.listeners == 2);
    CHECK(st.listener_sockets == 1);

    // Each DM reaches the one socket, addressed to its nick.
    CHECK(alice.ask<DmReply>(Dm{10, "alice", a.token, "bob", "to bob"}).delivered);
    CHECK(alice.ask<DmReply>(Dm{11, "alice", a.token, "carol", "to carol"}).delivered);
    DmDeliver d1, d2;
    REQUIRE(decode_as(gw.recv_raw(), d1) == Status::ok);
    REQUIRE(decode_as(gw.recv_raw(), d2) == Status::ok);
    CHECK(std::pair(d1.to, d1.text) == std::pair<std::string, std::string>("bob", "to bob"));
    CHECK(std::pair(d2.to, d2.text) == std::pair<std::string, std::string>("carol", "to carol"));

    // An ack from a socket that is not the nick's listener is ignored; the listener's acks of both are taken.
    alice.send_raw(encode(DmAck{"bob", d1.id}));
    REQUIRE(alice.ask<PingReply>(Ping{12}).nicks == 0);  // the ack has been read before this answer
    CHECK(alice.ask<StatusReply>(StatusRequest{13}).inboxed == 2);
    gw.send_raw(encode(DmAck{"bob", d1.id}));
    gw.send_raw(encode(DmAck{"carol", d2.id}));
    REQUIRE(gw.ask<PingReply>(Ping{14}).nicks == 2);
    CHECK(alice.ask<StatusReply>(StatusRequest{15}).inboxed == 0);

    // UNLISTEN of one nick leaves the other; a DM to the first now waits in its inbox.
    alice.send_raw(encode(Unlisten{"carol"}));  // not carol's listener: ignored
    gw.send_raw(encode(Unlisten{"bob"}));
    ping = gw.ask<PingReply>(Ping{16});
    CHECK(ping.listening);
    CHECK(ping.nicks == 1);
    CHECK_FALSE(alice.ask<DmReply>(Dm{17, "alice", a.token, "bob", "later"}).delivered);
    CHECK(alice.ask<DmReply>(Dm{18, "alice", a.token, "carol", "now"}).delivered);
    REQUIRE(decode_as(gw.recv_raw(), d1) == Status::ok);
    CHECK(d1.text == "now");

    // bob's own LISTEN from another socket takes bob only; the gateway keeps carol and gets no LISTEN_END,
    // since it no longer listened for bob.
    RawClient cli(b.server.endpoints().client);
    REQUIRE(gw.ask<ListenReply>(Listen{19, "bob", bob.token}).status == 0);
    REQUIRE(decode_as(gw.recv_raw(), d1) == Status::ok);
    CHECK(d1.text == "later");  // bob's inbox, delivered on attaching
    REQUIRE(cli.ask<ListenReply>(Listen{20, "bob", bob.token}).status == 0);
    REQUIRE(decode_as(cli.recv_raw(), d2) == Status::ok);
    CHECK(d2.text == "later");  // not acknowledged by the gateway: the new listener gets it again
    ListenEnd end;
    REQUIRE(decode_as(gw.recv_raw(), end) == Status::ok);
    CHECK(end.nick == "bob");
    CHECK(end.reason == "replaced");
    ping = gw.ask<PingReply>(Ping{21});
    CHECK(ping.nicks == 1);
    CHECK(cli.ask<PingReply>(Ping{22}).nicks == 1);
    st = alice.ask<StatusReply>(StatusRequest{23});
    CHECK(st.listeners == 2);
    CHECK(st.listener_sockets == 2);
}

TEST_CASE("PING reports of lost events count only from the attached listener, and saturate") {
    RunningBroker b(local_config());
    RawClient alice(b.server.endpoints().client), other(b.server.endpoints().client);
    auto a = alice.ask<RegisterReply>(Register{1, "alice"});
    REQUIRE(a.status == 0);
    auto lost = [&] { return other.ask<StatusReply>(StatusRequest{9}).dropped["slow_subscriber"]; };

    CHECK_FALSE(other.ask<PingReply>(Ping{2, 5}).listening);  // anyone can PING: not counted
    CHECK(lost() == 0);
    REQUIRE(alice.ask<ListenReply>(Listen{3, "alice", a.token}).status == 0);
    CHECK(alice.ask<PingReply>(Ping{4, 7}).listening);
    CHECK(lost() == 7);
    alice.ask<PingReply>(Ping{5, std::numeric_limits<std::uint64_t>::max()});
    CHECK(lost() == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("a sync subscription is answered on its own topic") {
    RunningBroker b(local_config());
    zmq::context_t ctx;
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.connect(b.server.endpoints().events);
    std::string topic = sync_topic("abc123");
    sub.set(zmq::sockopt::subscribe, topic);
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(3000)) == 1);
    zmq::message_t m;
    REQUIRE(sub.recv(m));
    Decoded d;
    REQUIRE(decode_topic_frame(view(m), d) == Status::ok);
    Sync s;
    REQUIRE(body_as(d, s) == Status::ok);
    CHECK(s.nonce == "abc123");
}

TEST_CASE("a gateway is not throttled as one client, while each nick it acts for still is") {
    BrokerConfig cfg = local_config();
    cfg.client_rate = 0.001;  // no refill within the test
    cfg.client_burst = 10;
    cfg.nick_rate = 0.001;
    cfg.nick_burst = 3;
    cfg.inbox = 100;
    RunningBroker b(cfg);
    RawClient gw(b.server.endpoints().client), plain(b.server.endpoints().client);

    auto hello = gw.ask<HelloReply>(Hello{1, true});
    REQUIRE(hello.status == 0);
    CHECK(hello.gateway);
    auto alice = gw.ask<RegisterReply>(Register{2, "alice"});
    auto bob = gw.ask<RegisterReply>(Register{3, "bob"});
    REQUIRE((alice.status == 0 && bob.status == 0));
    // Far more requests than the identity's burst of 10: all served.
    for (std::uint64_t rid = 10; rid < 60; ++rid) REQUIRE(gw.ask<PingReply>(Ping{rid}).status == 0);
    // Each nick's own bucket (3) still refuses its fourth DM, whatever the other nick does.
    for (const auto& [nick, token] : {std::pair{"alice", alice.token}, std::pair{"bob", bob.token}}) {
        for (int i = 0; i < 3; ++i) CHECK(gw.ask<DmReply>(Dm{70, nick, token, "bob", "hi"}).status == 0);
        CHECK(gw.ask<DmReply>(Dm{71, nick, token, "bob", "hi"}).status ==
              static_cast<std::uint64_t>(Status::rate_limited));
    }
    auto st = gw.ask<StatusReply>(StatusRequest{80});
    CHECK(st.gateways == 1);
    CHECK(st.refused["rate_limited"] == 2);

    // An ordinary client beside it is limited as before: its tenth frame is its last.
    for (std::uint64_t rid = 1; rid <= 10; ++rid) REQUIRE(plain.ask<PingReply>(Ping{rid}).status == 0);
    CHECK(plain.ask<PingReply>(Ping{11}).status == static_cast<std::uint64_t>(Status::rate_limited));

    // Giving the role up makes the gateway charged again: the frames it sent as one were not counted.
    hello = gw.ask<HelloReply>(Hello{90, false});
    CHECK(hello.status == 0);
    CHECK_FALSE(hello.gateway);
    int served = 0;
    while (served < 20 && gw.ask<PingReply>(Ping{91}).status == 0) ++served;
    CHECK(served == 9);  // 10, less the claim's own HELLO
}

TEST_CASE("with CURVE off every gateway claim is accepted and shows in STATUS") {
    RunningBroker b(local_config());
    RawClient a(b.server.endpoints().client), c(b.server.endpoints().client);
    CHECK(a.ask<HelloReply>(Hello{1, true}).gateway);
    CHECK(c.ask<HelloReply>(Hello{2, true}).gateway);
    CHECK(c.ask<StatusReply>(StatusRequest{3}).gateways == 2);
    CHECK_FALSE(c.ask<HelloReply>(Hello{4}).gateway);  // a HELLO without the claim gives the role up
    CHECK(c.ask<StatusReply>(StatusRequest{5}).gateways == 1);
}
