// Every message type: encode -> decode -> body_as gives back an equal value, in memory and over real ZeroMQ
// socket pairs (as malamute's mlm_proto_test does), and the set of types covered is all_message_types().
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/codec.hpp"
#include "tests/unit/common_samples.hpp"
#include "common/socket_util.hpp"

using namespace chatbus;
using chatbus::test::for_each_message_type;
using chatbus::test::sample;

namespace {

// Checks that every value in a msgpack map (recursively through nested maps and arrays of maps) is not the
// default one, so a field the codec forgot to carry cannot hide behind a default on both sides.
void check_no_default_values(const msgpack::object& o, const std::string& path) {
    REQUIRE_MESSAGE(o.type == msgpack::type::MAP, path << " is not a map");
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        REQUIRE(kv.key.type == msgpack::type::STR);
        std::string key = path + "." + std::string(kv.key.via.str.ptr, kv.key.via.str.size);
        const msgpack::object& v = kv.val;
        switch (v.type) {
            case msgpack::type::POSITIVE_INTEGER:
                CHECK_MESSAGE(v.via.u64 != 0, key << " is 0");
                break;
            case msgpack::type::BOOLEAN:
                CHECK_MESSAGE(v.via.boolean, key << " is false");
                break;
            case msgpack::type::STR:
                CHECK_MESSAGE(v.via.str.size != 0, key << " is empty");
                break;
            case msgpack::type::ARRAY:
                CHECK_MESSAGE(v.via.array.size != 0, key << " is empty");
                for (std::uint32_t k = 0; k < v.via.array.size; ++k) {
                    if (v.via.array.ptr[k].type == msgpack::type::MAP)
                        check_no_default_values(v.via.array.ptr[k], key);
                }
                break;
            case msgpack::type::MAP:
                CHECK_MESSAGE(v.via.map.size != 0, key << " is empty");
                // A map of counters (StatusReply.dropped) has u64 values; a nested struct has named fields.
                check_no_default_values(v, key);
                break;
            default:
                FAIL_CHECK(key << " has an unexpected msgpack type " << static_cast<int>(v.type));
        }
    }
}

template <class T>
void check_memory_round_trip() {
    const T in = sample<T>();
    const std::string frame = encode(in);
    REQUIRE(frame.size() > kHeaderSize);
    CHECK(frame[0] == 'C');
    CHECK(frame[1] == 'B');
    CHECK(static_cast<std::uint8_t>(frame[2]) == 1);
    CHECK(static_cast<std::uint8_t>(frame[3]) == static_cast<std::uint8_t>(T::kType));

    Decoded d;
    REQUIRE(decode(frame, d) == Status::ok);
    CHECK(d.type == T::kType);
    T out{};
    REQUIRE(body_as(d, out) == Status::ok);
    CHECK(out == in);

    T out2{};
    CHECK(decode_as(frame, out2) == Status::ok);
    CHECK(out2 == in);

    check_no_default_values(d.body.get(), std::string(msg_type_name(T::kType)));
    if constexpr (!std::is_same_v<T, WHeartbeat>) {
        CHECK_MESSAGE(!(in == T{}), msg_type_name(T::kType) << " sample equals the default value");
    }
}

// Every msgpack str in `o` (keys and values, at any depth).
void collect_strs(msgpack::object& o, std::vector<msgpack::object*>& out) {
    if (o.type == msgpack::type::STR) out.push_back(&o);
    if (o.type == msgpack::type::ARRAY) {
        for (std::uint32_t i = 0; i < o.via.array.size; ++i) collect_strs(o.via.array.ptr[i], out);
    }
    if (o.type == msgpack::type::MAP) {
        for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
            collect_strs(o.via.map.ptr[i].key, out);
            collect_strs(o.via.map.ptr[i].val, out);
        }
    }
}

// docs/protocol.md "Decoding rules": a str holding msgpack bin is bad_request, wherever it is.
template <class T>
void check_bin_refused() {
    const std::string frame = encode(sample<T>());
    Decoded d;
    REQUIRE(decode(frame, d) == Status::ok);
    msgpack::object body = d.body.get();
    std::vector<msgpack::object*> strs;
    collect_strs(body, strs);
    for (msgpack::object* s : strs) {
        // str and bin share their layout in msgpack::object: only the type changes.
        s->type = msgpack::type::BIN;
        msgpack::sbuffer buf;
        msgpack::pack(buf, body);
        s->type = msgpack::type::STR;
        T out{};
        CHECK_MESSAGE(decode_as(frame.substr(0, kHeaderSize) + std::string(buf.data(), buf.size()), out) ==
                          Status::bad_request,
                      msg_type_name(T::kType) << ": the str \"" << std::string_view(s->via.str.ptr, s->via.str.size)
                                              << "\" as bin was accepted");
    }
}

std::string recv_frame(zmq::socket_t& s) {
    zmq::message_t m;
    auto r = s.recv(m, zmq::recv_flags::none);  // bounded by ZMQ_RCVTIMEO
    REQUIRE_MESSAGE(r.has_value(), "timed out waiting for a frame");
    return std::string(view(m));
}

void set_timeouts(zmq::socket_t& s) {
    s.set(zmq::sockopt::rcvtimeo, 5000);
    s.set(zmq::sockopt::sndtimeo, 5000);
    s.set(zmq::sockopt::linger, 0);
}

// Sends sample<T>() from `a` and checks what `b` receives (b_is_router: the first frame is a routing id).
template <class T>
void check_socket_round_trip(zmq::socket_t& a, zmq::socket_t& b, bool b_is_router) {
    const T in = sample<T>();
    const std::string frame = encode(in);
    REQUIRE(a.send(zmq::buffer(frame), zmq::send_flags::none).has_value());
    std::string routing_id;
    if (b_is_router) {
        routing_id = recv_frame(b);
        REQUIRE(b.get(zmq::sockopt::rcvmore));
    }
    std::string got = recv_frame(b);
    CHECK_FALSE(b.get(zmq::sockopt::rcvmore));
    CHECK(got == frame);
    T out{};
    REQUIRE(decode_as(got, out) == Status::ok);
    CHECK(out == in);

    // And back the other way (ROUTER -> DEALER addresses the peer by its routing id).
    if (b_is_router) REQUIRE(b.send(zmq::buffer(routing_id), zmq::send_flags::sndmore).has_value());
    REQUIRE(b.send(zmq::buffer(frame), zmq::send_flags::none).has_value());
    std::string back = recv_frame(a);
    T out_back{};
    REQUIRE(decode_as(back, out_back) == Status::ok);
    CHECK(out_back == in);
}

}  // namespace

TEST_CASE("every message type survives encode -> decode -> body_as with non-default values") {
    for_each_message_type([](auto m) {
        using T = decltype(m);
        CAPTURE(msg_type_name(T::kType));
        check_memory_round_trip<T>();
    });
}

TEST_CASE("every str of every message type, sent as msgpack bin, is bad_request") {
    for_each_message_type([](auto m) {
        using T = decltype(m);
        CAPTURE(msg_type_name(T::kType));
        check_bin_refused<T>();
    });
}

TEST_CASE("the round-tripped types are exactly all_message_types(), each once") {
    std::map<MsgType, int> covered;
    for_each_message_type([&](auto m) { ++covered[decltype(m)::kType]; });

    std::set<MsgType> listed;
    for (const auto& info : all_message_types()) {
        CHECK_MESSAGE(listed.insert(info.type).second, "all_message_types() lists " << info.name << " twice");
        CHECK_MESSAGE(covered.count(info.type) == 1, info.name << " has no round-trip test");
    }
    for (const auto& [type, n] : covered) {
        CHECK_MESSAGE(n == 1, msg_type_name(type) << " is round-tripped by " << n << " structs");
        CHECK_MESSAGE(listed.count(type) == 1,
                      "struct type 0x" << std::hex << int(type) << " is missing from all_message_types()");
    }
    CHECK(covered.size() == all_message_types().size());
}

TEST_CASE("type codes: names, wire lookup, reply codes") {
    for (const auto& info : all_message_types()) {
        auto code = static_cast<std::uint8_t>(info.type);
        REQUIRE(msg_type_from_wire(code).has_value());
        CHECK(*msg_type_from_wire(code) == info.type);
        CHECK(msg_type_name(info.type) == info.name);
        // Requests have a reply at code + 0x80 that is also listed.
        if (has_reply(info.type)) {
            auto reply = reply_type_of(info.type);
            CHECK(static_cast<std::uint8_t>(reply) == code + 0x80);
            CHECK(msg_type_from_wire(static_cast<std::uint8_t>(reply)).has_value());
            CHECK(msg_type_name(reply) == std::string(info.name) + "_REPLY");
        }
    }
    int known = 0;
    for (int c = 0; c < 256; ++c) known += msg_type_from_wire(static_cast<std::uint8_t>(c)).has_value();
    CHECK(known == static_cast<int>(all_message_types().size()));
}

TEST_CASE("every message type over real ZeroMQ sockets") {
    zmq::context_t ctx;

    SUBCASE("inproc PAIR") {
        zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
        set_timeouts(a);
        set_timeouts(b);
        b.bind("inproc://roundtrip-pair");
        a.connect("inproc://roundtrip-pair");
        for_each_message_type([&](auto m) {
            using T = decltype(m);
            CAPTURE(msg_type_name(T::kType));
            check_socket_round_trip<T>(a, b, false);
        });
    }
    SUBCASE("tcp DEALER/ROUTER") {
        zmq::socket_t dealer(ctx, zmq::socket_type::dealer), router(ctx, zmq::socket_type::router);
        set_timeouts(dealer);
        set_timeouts(router);
        router.set(zmq::sockopt::router_mandatory, 1);
        router.bind("tcp://127.0.0.1:*");
        dealer.connect(last_endpoint(router));
        for_each_message_type([&](auto m) {
            using T = decltype(m);
            CAPTURE(msg_type_name(T::kType));
            check_socket_round_trip<T>(dealer, router, true);
        });
    }
}

TEST_CASE("worker channel: a forwarded request is W_REQUEST{bid} + the client's frame, unchanged") {
    zmq::context_t ctx;
    zmq::socket_t worker(ctx, zmq::socket_type::dealer), broker(ctx, zmq::socket_type::router);
    set_timeouts(worker);
    set_timeouts(broker);
    broker.bind("inproc://roundtrip-worker");
    worker.connect("inproc://roundtrip-worker");

    REQUIRE(send_frames(worker, {encode(sample<WReady>())}));
    std::string wid = recv_frame(broker);
    WReady ready;
    REQUIRE(decode_as(recv_frame(broker), ready) == Status::ok);
    CHECK(ready == sample<WReady>());

    const std::string client_frame = encode(sample<Send>());
    REQUIRE(send_frames(broker, {wid, encode(WRequest{.bid = 99}), client_frame}));
    WRequest req;
    REQUIRE(decode_as(recv_frame(worker), req) == Status::ok);
    CHECK(req.bid == 99);
    REQUIRE(worker.get(zmq::sockopt::rcvmore));
    std::string forwarded = recv_frame(worker);
    CHECK(forwarded == client_frame);
    Send s;
    REQUIRE(decode_as(forwarded, s) == Status::ok);
    CHECK(s == sample<Send>());

    // The answer is one multipart message: W_REPLY{bid}, the reply, then one frame per event, each exactly as
    // it is to be published (topic, then EVENT).
    const std::string reply_frame = encode(sample<SendReply>());
    Event e1 = chatbus::test::sample_event(128), e2 = chatbus::test::sample_event(129);
    const std::string ev1 = encode_with_topic(room_topic(e1.room), e1);
    const std::string ev2 = encode_with_topic(room_topic(e2.room), e2);
    REQUIRE(send_frames(worker, {encode(WReply{.bid = 99}), reply_frame, ev1, ev2}));
    CHECK(recv_frame(broker) == wid);
    REQUIRE(broker.get(zmq::sockopt::rcvmore));
    WReply rep;
    REQUIRE(decode_as(recv_frame(broker), rep) == Status::ok);
    CHECK(rep.bid == 99);
    REQUIRE(broker.get(zmq::sockopt::rcvmore));
    CHECK(recv_frame(broker) == reply_frame);
    REQUIRE(broker.get(zmq::sockopt::rcvmore));
    std::string got1 = recv_frame(broker);
    REQUIRE(broker.get(zmq::sockopt::rcvmore));
    std::string got2 = recv_frame(broker);
    CHECK_FALSE(broker.get(zmq::sockopt::rcvmore));
    CHECK(got1 == ev1);
    CHECK(got2 == ev2);
    Decoded d;
    REQUIRE(decode_topic_frame(got2, d) == Status::ok);
    Event back;
    REQUIRE(body_as(d, back) == Status::ok);
    CHECK(back == e2);

    // Handover: W_STATE to the new owner (single frame), W_RELEASE to the previous one; and W_STATE back
    // from a worker after a broker restart.
    REQUIRE(send_frames(broker, {wid, encode(sample<WState>())}));
    WState st;
    REQUIRE(decode_as(recv_frame(worker), st) == Status::ok);
    CHECK_FALSE(worker.get(zmq::sockopt::rcvmore));
    CHECK(st == sample<WState>());
    REQUIRE(send_frames(broker, {wid, encode(sample<WRelease>())}));
    WRelease rel;
    REQUIRE(decode_as(recv_frame(worker), rel) == Status::ok);
    CHECK(rel.room == sample<WRelease>().room);
    REQUIRE(send_frames(worker, {encode(sample<WState>())}));
    CHECK(recv_frame(broker) == wid);
    WState back_state;
    REQUIRE(decode_as(recv_frame(broker), back_state) == Status::ok);
    CHECK(back_state == sample<WState>());
}

TEST_CASE("events: topic-prefixed EVENT and SYNC frames over XPUB/SUB, with prefix matching per room") {
    zmq::context_t ctx;
    zmq::socket_t pub(ctx, zmq::socket_type::xpub), sub(ctx, zmq::socket_type::sub);
    set_timeouts(pub);
    set_timeouts(sub);
    pub.bind("inproc://roundtrip-events");
    sub.connect("inproc://roundtrip-events");
    CHECK(room_topic("ab") == std::string("room/ab\0", 8));
    CHECK(sync_topic("n1") == std::string("sync/n1\0", 8));
    sub.set(zmq::sockopt::subscribe, room_topic("ab"));
    sub.set(zmq::sockopt::subscribe, sync_topic("n1"));
    // XPUB hands us each subscription (0x01 + topic): once both arrived, publishing cannot be lost.
    CHECK(recv_frame(pub) == "\x01" + room_topic("ab"));
    CHECK(recv_frame(pub) == "\x01" + sync_topic("n1"));

    Event abc = chatbus::test::sample_event(5);
    abc.room = "abc";
    Event ab = chatbus::test::sample_event(6);
    ab.room = "ab";
    REQUIRE(send_frames(pub, {encode_with_topic(room_topic("abc"), abc)}));  // must not match room/ab\0
    REQUIRE(send_frames(pub, {encode_with_topic(room_topic("ab"), ab)}));
    REQUIRE(send_frames(pub, {encode_with_topic(sync_topic("n1"), Sync{.nonce = "n1"})}));

    std::string f1 = recv_frame(sub);
    CHECK(f1.starts_with(room_topic("ab")));
    Decoded d;
    REQUIRE(decode_topic_frame(f1, d) == Status::ok);
    Event got;
    REQUIRE(body_as(d, got) == Status::ok);
    CHECK(got == ab);

    std::string f2 = recv_frame(sub);
    REQUIRE(decode_topic_frame(f2, d) == Status::ok);
    Sync sync;
    REQUIRE(body_as(d, sync) == Status::ok);
    CHECK(sync.nonce == "n1");
}

TEST_CASE("unknown fields are ignored and missing fields take their defaults") {
    // REGISTER with an extra field from a later version and no nick.
    std::string frame = "CB\x01\x02";
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(2);
    pk.pack(std::string("rid"));
    pk.pack(std::uint64_t{7});
    pk.pack(std::string("future_field"));
    pk.pack_array(2);
    pk.pack(1);
    pk.pack(std::string("x"));
    frame.append(buf.data(), buf.size());
    Register r;
    REQUIRE(decode_as(frame, r) == Status::ok);
    CHECK(r.rid == 7);
    CHECK(r.nick.empty());

    // An empty map is a valid SEND whose fields are all defaults (judged later as invalid_text by the
    // server).
    Send s;
    REQUIRE(decode_as(std::string("CB\x01\x06\x80", 5), s) == Status::ok);
    CHECK(s == Send{});
}

TEST_CASE("peek_rid and peek_string are best effort") {
    Decoded d;
    REQUIRE(decode(encode(sample<Dm>()), d) == Status::ok);
    CHECK(peek_rid(d) == 12);
    CHECK(peek_string(d, "to") == "Grace");
    CHECK(peek_string(d, "rid").empty());
    CHECK(peek_string(d, "absent").empty());

    // rid of the wrong type reads as 0.
    REQUIRE(decode(std::string("CB\x01\x01\x81\xA3rid\xA1x", 11), d) == Status::ok);
    CHECK(peek_rid(d) == 0);
    REQUIRE(decode(std::string("CB\x01\x01\x81\xA3rid\xFF", 10), d) == Status::ok);  // negative fixint
    CHECK(peek_rid(d) == 0);
}
