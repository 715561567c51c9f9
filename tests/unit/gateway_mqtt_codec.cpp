// The MQTT codec on valid input: every packet type survives encode -> decode in the role that receives it,
// the bytes are the spec's, and a packet arriving in pieces is need_more until its last byte.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "tests/unit/gateway_mqtt_samples.hpp"

using namespace chatbus::mqtt;
using chatbus::mqtt::test::bytes;
using chatbus::mqtt::test::encoded;
using chatbus::mqtt::test::received_by;
using chatbus::mqtt::test::sample_packets;
using namespace std::string_literals;

namespace {

struct Result {
    DecodeError error = DecodeError::none;
    Packet packet;
    std::size_t consumed = 0;
};

Result decode(std::string_view buf, Role role, const DecodeLimits& lim = {}) {
    Result r;
    r.error = decode_packet(bytes(buf), role, lim, r.packet, r.consumed);
    return r;
}

std::string hex(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
        out += ' ';
    }
    return out;
}

std::string remaining_length(std::size_t n) {
    std::string out;
    encode_remaining_length(out, n);
    return out;
}

}  // namespace

TEST_CASE("every packet type round-trips in the role that receives it") {
    for (const Packet& p : sample_packets()) {
        const std::string wire = encoded(p);
        CAPTURE(hex(wire));
        for (Role role : {Role::server, Role::client}) {
            CAPTURE(role == Role::server);
            Result r = decode(wire, role);
            if (!received_by(role, packet_type(p))) {
                CHECK(r.error == DecodeError::wrong_direction);
                continue;
            }
            REQUIRE(decode_error_name(r.error) == "none");
            CHECK(r.consumed == wire.size());
            CHECK(r.packet == p);
            CHECK(packet_type(r.packet) == packet_type(p));
        }
    }
}

TEST_CASE("every type reaches at least one role, and the five PUBLISH-flow types both") {
    int both = 0;
    for (const Packet& p : sample_packets()) {
        const bool server = received_by(Role::server, packet_type(p));
        const bool client = received_by(Role::client, packet_type(p));
        CHECK((server || client));
        both += server && client;
    }
    CHECK(both > 0);
}

TEST_CASE("a stream of packets decodes one by one, each consuming exactly its bytes") {
    std::string stream;
    std::vector<Packet> sent;
    for (const Packet& p : sample_packets()) {
        if (!received_by(Role::server, packet_type(p))) continue;
        encode(stream, p);
        sent.push_back(p);
    }
    std::string_view rest = stream;
    for (const Packet& p : sent) {
        Result r = decode(rest, Role::server);
        REQUIRE(r.error == DecodeError::none);
        CHECK(r.packet == p);
        rest.remove_prefix(r.consumed);
    }
    CHECK(rest.empty());
    CHECK(decode(rest, Role::server).error == DecodeError::need_more);
}

TEST_CASE("every proper prefix of a valid packet is need_more and consumes nothing") {
    for (const Packet& p : sample_packets()) {
        const std::string wire = encoded(p);
        const Role role = received_by(Role::server, packet_type(p)) ? Role::server : Role::client;
        for (std::size_t n = 0; n < wire.size(); ++n) {
            CAPTURE(hex(wire));
            CAPTURE(n);
            Packet out = Pingreq{};
            std::size_t consumed = 99;
            CHECK(decode_packet(bytes(std::string_view(wire).substr(0, n)), role, {}, out, consumed) ==
                  DecodeError::need_more);
            CHECK(consumed == 0);
            CHECK(out == Packet{Pingreq{}});
        }
    }
}

// 2.2.3, table 2.4: "Size of Remaining Length field".
TEST_CASE("Remaining Length: the spec's boundaries, byte for byte") {
    CHECK(remaining_length(0) == "\x00"s);
    CHECK(remaining_length(127) == "\x7F");
    CHECK(remaining_length(128) == "\x80\x01");
    CHECK(remaining_length(16'383) == "\xFF\x7F");
    CHECK(remaining_length(16'384) == "\x80\x80\x01");
    CHECK(remaining_length(2'097'151) == "\xFF\xFF\x7F");
    CHECK(remaining_length(2'097'152) == "\x80\x80\x80\x01");
    CHECK(remaining_length(268'435'455) == "\xFF\xFF\xFF\x7F");
    CHECK(remaining_length(321) == "\xC1\x02");  // 65 + 2 * 128
}

TEST_CASE("Remaining Length: PUBLISH packets at each boundary decode whole") {
    DecodeLimits lim;
    lim.max_packet = 2'097'152;
    for (std::size_t remaining : {127u, 128u, 16'383u, 16'384u, 2'097'151u, 2'097'152u}) {
        CAPTURE(remaining);
        Publish p{.topic = "t", .payload = std::string(remaining - 3, 'x')};  // 3 = topic length field + "t"
        const std::string wire = encoded(p);
        const std::string header = "\x30"s + remaining_length(remaining);
        CHECK(wire.size() == header.size() + remaining);
        CHECK(wire.substr(0, header.size()) == header);
        Result r = decode(wire, Role::server, lim);
        REQUIRE(r.error == DecodeError::none);
        CHECK(r.consumed == wire.size());
        CHECK(r.packet == Packet{p});
        CHECK(decode(std::string_view(wire).substr(0, wire.size() - 1), Role::server, lim).error ==
              DecodeError::need_more);
    }
}

TEST_CASE(
    "Remaining Length: the largest value the field holds waits for its bytes when the limit allows it") {
    DecodeLimits lim;
    lim.max_packet = kMaxRemainingLength;
    CHECK(decode("\x30\xFF\xFF\xFF\x7F", Role::server, lim).error == DecodeError::need_more);
    CHECK(decode("\x30\xFF\xFF\xFF\x7F", Role::server).error == DecodeError::too_large);
}

// 3.1.2.10: "Variable header non normative example": protocol name, level 4, flags user name 1, password 1,
// will retain 0, will QoS 01, will flag 1, clean session 1, keep alive 10.
TEST_CASE("CONNECT: the spec's variable header example, byte for byte") {
    Connect c{.clean_session = true,
              .keep_alive = 10,
              .client_id = "id",
              .will = Will{"wt", "wm", 1, false},
              .username = "u",
              .password = "pw"};
    const std::string variable_header = "\x00\x04MQTT\x04\xCE\x00\x0A"s;
    const std::string payload = "\x00\x02id\x00\x02wt\x00\x02wm\x00\x01u\x00\x02pw"s;
    const std::string wire = encoded(c);
    CHECK(hex(wire) == hex("\x10"s + static_cast<char>(variable_header.size() + payload.size()) +
                           variable_header + payload));
    Result r = decode(wire, Role::server);
    REQUIRE(r.error == DecodeError::none);
    CHECK(r.packet == Packet{c});
}

TEST_CASE("CONNECT: the smallest one, clean session and an empty client id") {
    const std::string wire = "\x10\x0C\x00\x04MQTT\x04\x02\x00\x00\x00\x00"s;
    CHECK(hex(encoded(Connect{})) == hex(wire));
    Result r = decode(wire, Role::server);
    REQUIRE(r.error == DecodeError::none);
    CHECK(r.packet == Packet{Connect{}});
}

TEST_CASE("CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT byte for byte") {
    CHECK(hex(encoded(Connack{})) == hex("\x20\x02\x00\x00"s));
    CHECK(hex(encoded(Connack{true, ConnectReturnCode::accepted})) == hex("\x20\x02\x01\x00"s));
    CHECK(hex(encoded(Connack{false, ConnectReturnCode::unacceptable_protocol_version})) ==
          hex("\x20\x02\x00\x01"s));
    CHECK(hex(encoded(Puback{0x1234})) == hex("\x40\x02\x12\x34"));
    CHECK(hex(encoded(Pubrec{1})) == hex("\x50\x02\x00\x01"s));
    CHECK(hex(encoded(Pubrel{1})) == hex("\x62\x02\x00\x01"s));  // flags 0010 [MQTT-3.6.1-1]
    CHECK(hex(encoded(Pubcomp{1})) == hex("\x70\x02\x00\x01"s));
    CHECK(hex(encoded(Unsuback{0xABCD})) == hex("\xB0\x02\xAB\xCD"));
    CHECK(hex(encoded(Pingreq{})) == hex("\xC0\x00"s));
    CHECK(hex(encoded(Pingresp{})) == hex("\xD0\x00"s));
    CHECK(hex(encoded(Disconnect{})) == hex("\xE0\x00"s));
}

// 3.3.2.3: topic "a/b", packet identifier 10.
TEST_CASE("PUBLISH: the spec's variable header example, byte for byte") {
    Publish p{.qos = 1, .topic = "a/b", .packet_id = 10, .payload = "m"};
    CHECK(hex(encoded(p)) == hex("\x32\x08\x00\x03\x61/b\x00\x0Am"s));
    Publish q0{.retain = true, .topic = "a/b", .payload = "m"};
    CHECK(hex(encoded(q0)) == hex("\x31\x06\x00\x03\x61/bm"s));
    Publish dup2{.dup = true, .qos = 2, .topic = "a/b", .packet_id = 10};
    CHECK(hex(encoded(dup2)) == hex("\x3C\x07\x00\x03\x61/b\x00\x0A"s));
    Result r = decode(encoded(dup2), Role::client);
    REQUIRE(r.error == DecodeError::none);
    CHECK(r.packet == Packet{dup2});
}

// 3.8.3.1 and 3.9.3.1: filters "a/b" QoS 1 and "c/d" QoS 2; SUBACK "Success - Maximum QoS 0", 1, 2, Failure.
TEST_CASE("SUBSCRIBE, SUBACK and UNSUBSCRIBE: the spec's payload examples, byte for byte") {
    Subscribe s{10, {{"a/b", 1}, {"c/d", 2}}};
    CHECK(hex(encoded(s)) == hex("\x82\x0E\x00\x0A\x00\x03\x61/b\x01\x00\x03\x63/d\x02"s));
    Suback a{10, {0, 1, 2, 0x80}};
    CHECK(hex(encoded(a)) == hex("\x90\x06\x00\x0A\x00\x01\x02\x80"s));
    Unsubscribe u{10, {"a/b", "c/d"}};
    CHECK(hex(encoded(u)) == hex("\xA2\x0C\x00\x0A\x00\x03\x61/b\x00\x03\x63/d"s));
    CHECK(decode(encoded(s), Role::server).packet == Packet{s});
    CHECK(decode(encoded(a), Role::client).packet == Packet{a});
    CHECK(decode(encoded(u), Role::server).packet == Packet{u});
}

TEST_CASE("a non-minimal Remaining Length is accepted (3.1.1 does not forbid it)") {
    Result r = decode("\xC0\x80\x00"s, Role::server);
    CHECK(r.error == DecodeError::none);
    CHECK(r.consumed == 3);
    CHECK(r.packet == Packet{Pingreq{}});
}

TEST_CASE("limits at their exact values are accepted") {
    DecodeLimits lim;
    lim.max_topic = 4;
    lim.max_filters = 2;
    lim.max_client_id = 3;
    const Connect c{.client_id = "abc", .will = Will{"wxyz", "", 0, false}};
    CHECK(decode(encoded(c), Role::server, lim).error == DecodeError::none);
    const Subscribe s{1, {{"a/+", 0}, {"abcd", 1}}};
    CHECK(decode(encoded(s), Role::server, lim).error == DecodeError::none);
    CHECK(decode(encoded(Suback{1, {0, 1}}), Role::client, lim).error == DecodeError::none);
    CHECK(decode(encoded(Unsubscribe{1, {"abcd", "#"}}), Role::server, lim).error == DecodeError::none);
    const std::string publish = encoded(Publish{.topic = "abcd", .payload = "xy"});
    lim.max_packet = publish.size() - 2;
    CHECK(decode(publish, Role::client, lim).error == DecodeError::none);
}

TEST_CASE("decode_error_name names every error differently") {
    std::vector<std::string_view> names;
    for (int e = 0; e <= static_cast<int>(DecodeError::bad_return_code); ++e) {
        std::string_view n = decode_error_name(static_cast<DecodeError>(e));
        CAPTURE(e);
        CHECK(n != "unknown");
        for (std::string_view other : names) CHECK(n != other);
        names.push_back(n);
    }
    CHECK(decode_error_name(DecodeError::too_large) == "too_large");
}
