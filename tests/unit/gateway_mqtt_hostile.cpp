// The MQTT decoder on hostile input: each violation the spec names for a receiver gives its own error, before
// the bytes a lying length announces arrive where the header already shows it, and leaves the output
// untouched.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "tests/unit/gateway_mqtt_samples.hpp"

using namespace chatbus::mqtt;
using chatbus::mqtt::test::bytes;
using chatbus::mqtt::test::encoded;
using namespace std::string_literals;

namespace {

std::string u16(std::size_t v) {
    return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

// A UTF-8 string or binary field (1.5.3).
std::string field(std::string_view s) {
    return u16(s.size()) + std::string(s);
}

std::string packet(std::uint8_t first, const std::string& body) {
    std::string out(1, static_cast<char>(first));
    encode_remaining_length(out, body.size());
    return out + body;
}

std::string connect(std::uint8_t flags, const std::string& payload, std::string_view name = "MQTT",
                    std::uint8_t level = 4) {
    return packet(0x10,
                  field(name) + static_cast<char>(level) + static_cast<char>(flags) + u16(60) + payload);
}

std::string subscribe(const std::string& payload, std::uint16_t id = 1) {
    return packet(0x82, u16(id) + payload);
}

std::string unsubscribe(const std::string& payload, std::uint16_t id = 1) {
    return packet(0xA2, u16(id) + payload);
}

// The result of decoding buf, after checking that an error left the output alone and that a decoded packet
// took all of buf.
DecodeError error(std::string_view buf, Role role = Role::server, const DecodeLimits& lim = {}) {
    Packet out = Disconnect{};
    std::size_t consumed = 99;
    const DecodeError e = decode_packet(bytes(buf), role, lim, out, consumed);
    if (e == DecodeError::none) {
        CHECK(consumed == buf.size());
        return e;
    }
    CHECK(consumed == 0);
    if (e != DecodeError::bad_protocol_level) CHECK(out == Packet{Disconnect{}});
    return e;
}

}  // namespace

// "Reserved: Forbidden" (2.2.1, table 2.1).
TEST_CASE("packet types 0 and 15 are reserved_type from their first byte") {
    for (Role role : {Role::server, Role::client}) {
        for (int flags = 0; flags < 16; ++flags) {
            CAPTURE(flags);
            CHECK(error(std::string(1, static_cast<char>(flags)), role) == DecodeError::reserved_type);
            CHECK(error(std::string(1, static_cast<char>(0xF0 | flags)), role) == DecodeError::reserved_type);
        }
        CHECK(error("\x00\x00"s, role) == DecodeError::reserved_type);
        CHECK(error("\xF0\x00"s, role) == DecodeError::reserved_type);
    }
}

TEST_CASE("a type the role never receives is wrong_direction") {
    for (const char* s : {"\x20\x02\x00\x00", "\x90\x03\x00\x01\x00", "\xB0\x02\x00\x01", "\xD0\x00"}) {
        CHECK(error(std::string(s, 2), Role::server) == DecodeError::wrong_direction);
    }
    CHECK(error(encoded(Connect{}), Role::client) == DecodeError::wrong_direction);
    CHECK(error(encoded(Subscribe{1, {{"a", 0}}}), Role::client) == DecodeError::wrong_direction);
    CHECK(error(encoded(Unsubscribe{1, {"a"}}), Role::client) == DecodeError::wrong_direction);
    CHECK(error("\xC0"s, Role::client) == DecodeError::wrong_direction);
    CHECK(error("\xE0\x00"s, Role::client) == DecodeError::wrong_direction);
}

// "Where a flag bit is marked as "Reserved" in Table 2.2 - Flag Bits, it is reserved for future use and MUST
// be set to the value listed in that table [MQTT-2.2.2-1]. If invalid flags are received, the receiver MUST
// close the Network Connection [MQTT-2.2.2-2]."
TEST_CASE("every wrong fixed-header flag value is bad_flags, from the first byte") {
    for (int type = 1; type <= 14; ++type) {
        if (type == 3) continue;  // PUBLISH: its bits have meanings
        const int expected = (type == 6 || type == 8 || type == 10) ? 2 : 0;
        const Role role = chatbus::mqtt::test::received_by(Role::server, static_cast<PacketType>(type))
                              ? Role::server
                              : Role::client;
        for (int flags = 0; flags < 16; ++flags) {
            CAPTURE(type);
            CAPTURE(flags);
            const std::string first(1, static_cast<char>(type << 4 | flags));
            const DecodeError e = error(first, role);
            CHECK(e == (flags == expected ? DecodeError::need_more : DecodeError::bad_flags));
        }
    }
}

// "The DUP flag MUST be set to 0 for all QoS 0 messages [MQTT-3.3.1-2]"; "A PUBLISH Packet MUST NOT have both
// QoS bits set to 1 [MQTT-3.3.1-4]".
TEST_CASE("PUBLISH: DUP on QoS 0 is bad_flags, QoS 3 is bad_qos") {
    for (Role role : {Role::server, Role::client}) {
        CHECK(error("\x38"s, role) == DecodeError::bad_flags);
        CHECK(error("\x39"s, role) == DecodeError::bad_flags);
        CHECK(error("\x36"s, role) == DecodeError::bad_qos);
        CHECK(error("\x3F"s, role) == DecodeError::bad_qos);
        CHECK(error("\x37\x05\x00\x01t\x00\x01"s, role) == DecodeError::bad_qos);
    }
}

// "The maximum number of bytes in the Remaining Length field is four." (2.2.3)
TEST_CASE("a fifth Remaining Length byte is bad_remaining_length without waiting for it") {
    CHECK(error("\x30\x80\x80\x80\x80"s) == DecodeError::bad_remaining_length);
    CHECK(error("\xC0\x80\x80\x80\x80"s) == DecodeError::bad_remaining_length);
    DecodeLimits lim;
    lim.max_packet = kMaxRemainingLength;
    CHECK(error("\x30\xFF\xFF\xFF\xFF"s, Role::server, lim) == DecodeError::bad_remaining_length);
    CHECK(error("\x30\xFF\xFF\xFF\xFF\x01"s, Role::server, lim) == DecodeError::bad_remaining_length);
    CHECK(error("\x30\xFF\xFF\xFF"s, Role::server, lim) == DecodeError::need_more);
}

TEST_CASE("a Remaining Length over max_packet is too_large as soon as its bytes show it") {
    CHECK(error("\x30"s + "\x81\x80\x04"s) == DecodeError::too_large);  // 65,537
    CHECK(error("\x30"s + "\x80\x80\x04"s) == DecodeError::need_more);  // 65,536: waits for its bytes
    CHECK(error("\x30\xFF\xFF\xFF\x7F"s) == DecodeError::too_large);
    CHECK(error("\x30\xFF\xFF\xFF"s) == DecodeError::too_large);  // already 2,097,151, and more to come
    DecodeLimits lim;
    lim.max_packet = 100;
    CHECK(error("\x30\x65"s, Role::server, lim) == DecodeError::too_large);  // 101
    CHECK(error("\x30\xE5"s, Role::server, lim) == DecodeError::too_large);  // at least 101
    CHECK(error("\x30\xE4"s, Role::server, lim) == DecodeError::need_more);  // 100 + more bytes of 0 possible
    CHECK(error("\x30\x64"s, Role::server, lim) == DecodeError::need_more);
    lim.max_packet = 0;
    CHECK(error("\x30\x01"s, Role::server, lim) == DecodeError::too_large);
    CHECK(error("\xC0\x00"s, Role::server, lim) == DecodeError::none);
}

TEST_CASE("types of a fixed size with another Remaining Length are malformed at once") {
    CHECK(error("\x40\x03"s) == DecodeError::malformed);      // PUBACK
    CHECK(error("\x50\x01"s) == DecodeError::malformed);      // PUBREC
    CHECK(error("\x62\x00"s) == DecodeError::malformed);      // PUBREL
    CHECK(error("\x70\x7F"s) == DecodeError::malformed);      // PUBCOMP
    CHECK(error("\xC0\x01"s) == DecodeError::malformed);      // PINGREQ
    CHECK(error("\xE0\x01\x00"s) == DecodeError::malformed);  // DISCONNECT
    CHECK(error("\x20\x03"s, Role::client) == DecodeError::malformed);
    CHECK(error("\xB0\x00"s, Role::client) == DecodeError::malformed);
    CHECK(error("\xD0\x80\x01"s, Role::client) == DecodeError::malformed);
}

TEST_CASE("fields cut short by the Remaining Length are malformed") {
    CHECK(error(packet(0x10, "\x00\x04MQ"s)) == DecodeError::malformed);
    CHECK(error(packet(0x10, field("MQTT"))) == DecodeError::malformed);
    CHECK(error(packet(0x10, field("MQTT") + "\x04\x02\x00"s)) == DecodeError::malformed);
    CHECK(error(connect(0x02, "")) == DecodeError::malformed);  // no client id
    CHECK(error(connect(0x02, "\x00\x05"s + "abc")) == DecodeError::malformed);
    CHECK(error(connect(0x06, field("id") + field("topic"))) == DecodeError::malformed);  // no will message
    CHECK(error(connect(0x82, field("id"))) == DecodeError::malformed);  // user name flag, no user name
    CHECK(error(connect(0xC2, field("id") + field("u"))) == DecodeError::malformed);  // no password
    CHECK(error(packet(0x30, "\x00"s)) == DecodeError::malformed);                    // half a topic length
    CHECK(error(packet(0x30, "\x00\x03\x61/"s)) == DecodeError::malformed);
    CHECK(error(packet(0x32, field("a/b"))) == DecodeError::malformed);  // QoS 1, no packet id
    CHECK(error(packet(0x32, field("a/b") + "\x01"s)) == DecodeError::malformed);
    CHECK(error(packet(0x82, "\x00"s)) == DecodeError::malformed);
    CHECK(error(subscribe(field("a/b"))) == DecodeError::malformed);  // no requested QoS
    CHECK(error(subscribe("\x00\x09\x61/b\x01"s)) == DecodeError::malformed);
    CHECK(error(unsubscribe(field("a") + "\x00"s)) == DecodeError::malformed);
    CHECK(error(packet(0x90, "\x00"s), Role::client) == DecodeError::malformed);
}

// The Remaining Length "is the number of bytes remaining within the current packet, including data in the
// variable header and the payload" (2.2.3): bytes after the last field the flags announce are malformed.
TEST_CASE("bytes left over after the last field are malformed") {
    CHECK(error(connect(0x02, field("id") + "x")) == DecodeError::malformed);
    CHECK(error(connect(0x02, field("id") + field("user"))) == DecodeError::malformed);  // no user name flag
    CHECK(error(connect(0x82, field("id") + field("u") + field("pw"))) == DecodeError::malformed);
    CHECK(error(connect(0x06, field("id") + field("t") + field("m") + "\x00"s)) == DecodeError::malformed);
    CHECK(error(unsubscribe(field("a") + "\x01"s)) == DecodeError::malformed);
}

// 3.2.2.1: "Bits 7-1 are reserved and MUST be set to 0"; "If a server sends a CONNACK packet containing a
// non-zero return code it MUST set Session Present to 0 [MQTT-3.2.2-4]".
TEST_CASE("CONNACK: reserved bits, session present with a refusal, reserved return codes") {
    CHECK(error("\x20\x02\x02\x00"s, Role::client) == DecodeError::malformed);
    CHECK(error("\x20\x02\x80\x00"s, Role::client) == DecodeError::malformed);
    CHECK(error("\x20\x02\x01\x05"s, Role::client) == DecodeError::malformed);
    CHECK(error("\x20\x02\x00\x06"s, Role::client) == DecodeError::bad_return_code);
    CHECK(error("\x20\x02\x00\xFF"s, Role::client) == DecodeError::bad_return_code);
}

// "If the protocol name is incorrect the Server MAY disconnect the Client" [MQTT-3.1.2-1].
TEST_CASE("CONNECT: a protocol name other than MQTT is bad_protocol_name") {
    CHECK(error(connect(0x02, field("id"), "MQIsdp", 3)) == DecodeError::bad_protocol_name);
    CHECK(error(connect(0x02, field("id"), "mqtt")) == DecodeError::bad_protocol_name);
    CHECK(error(connect(0x02, field("id"), "MQTT\0"s)) == DecodeError::bad_protocol_name);
    CHECK(error(connect(0x02, field("id"), "")) == DecodeError::bad_protocol_name);
    CHECK(error(packet(0x10, field("MQTX"))) == DecodeError::bad_protocol_name);
}

// "The Server MUST respond to the CONNECT Packet with a CONNACK return code 0x01 (unacceptable protocol
// level) and then disconnect the Client if the Protocol Level is not supported by the Server [MQTT-3.1.2-2]."
TEST_CASE("CONNECT: another protocol level is bad_protocol_level, with the name and level read") {
    for (int level : {0, 3, 5, 255}) {
        CAPTURE(level);
        Packet out;
        std::size_t consumed = 99;
        // An MQTT 5 CONNECT goes on with properties, which a 3.1.1 reader cannot parse: it must not try.
        const std::string wire = connect(0x02, "\x05\x11\x00\x00\x00\x0A"s + field("id"), "MQTT",
                                         static_cast<std::uint8_t>(level));
        CHECK(decode_packet(bytes(wire), Role::server, {}, out, consumed) == DecodeError::bad_protocol_level);
        CHECK(consumed == 0);
        CHECK(out == Packet{Connect{.protocol_name = "MQTT", .level = static_cast<std::uint8_t>(level)}});
    }
    CHECK(error(packet(0x10, field("MQTT") + "\x05"s)) == DecodeError::bad_protocol_level);
}

// [MQTT-3.1.2-3] reserved flag 0; [MQTT-3.1.2-13, -15] will QoS and retain 0 without the will flag;
// [MQTT-3.1.2-14] will QoS not 3; [MQTT-3.1.2-22] no password without a user name.
TEST_CASE("CONNECT: inconsistent connect flags") {
    const std::string id = field("id");
    const std::string will = field("t") + field("m");
    CHECK(error(connect(0x03, id)) == DecodeError::bad_connect_flags);
    CHECK(error(connect(0x01, id)) == DecodeError::bad_connect_flags);
    CHECK(error(connect(0x0A, id)) == DecodeError::bad_connect_flags);  // will QoS 1, no will
    CHECK(error(connect(0x12, id)) == DecodeError::bad_connect_flags);  // will QoS 2, no will
    CHECK(error(connect(0x22, id)) == DecodeError::bad_connect_flags);  // will retain, no will
    CHECK(error(connect(0x42, id + field("pw"))) == DecodeError::bad_connect_flags);
    CHECK(error(connect(0x1E, id + will)) == DecodeError::bad_qos);
    CHECK(error(connect(0x3E, id + will)) == DecodeError::bad_qos);
    CHECK(error(connect(0x16, id + will)) == DecodeError::none);
    CHECK(error(connect(0xC2, id + field("u") + field("pw"))) == DecodeError::none);
}

TEST_CASE("CONNECT: client id over the limit, or empty without clean session, is bad_client_id") {
    CHECK(error(connect(0x02, field(std::string(256, 'c')))) == DecodeError::none);
    CHECK(error(connect(0x02, field(std::string(257, 'c')))) == DecodeError::bad_client_id);
    DecodeLimits lim;
    lim.max_client_id = 23;  // the length every server must allow [MQTT-3.1.3-5]
    CHECK(error(connect(0x02, field(std::string(24, 'c'))), Role::server, lim) == DecodeError::bad_client_id);
    // "If the Client supplies a zero-byte ClientId with CleanSession set to 0, the Server MUST respond to the
    // CONNECT Packet with a CONNACK return code 0x02 (Identifier rejected)" [MQTT-3.1.3-8].
    CHECK(error(connect(0x00, field(""))) == DecodeError::bad_client_id);
    CHECK(error(connect(0x02, field(""))) == DecodeError::none);
    // A malformed packet gets no CONNACK, so it is not reported as a rejected identifier.
    CHECK(error(connect(0x00, field("") + "x")) == DecodeError::malformed);
    CHECK(error(connect(0x04, field("") + field("a+") + field("m"))) == DecodeError::bad_topic);
}

// "The character data in a UTF-8 encoded string MUST be well-formed UTF-8 ... MUST NOT include encodings of
// code points between U+D800 and U+DFFF" [MQTT-1.5.3-1]; "MUST NOT include an encoding of the null character
// U+0000" [MQTT-1.5.3-2].
TEST_CASE("every UTF-8 field with bytes MQTT-1.5.3 forbids is bad_utf8") {
    for (std::string bad : {"a\0b"s, "\xED\xA0\x80"s, "\xC0\x80"s, "\xFF"s, "caf\xC3"s}) {
        CAPTURE(bad);
        CHECK(error(connect(0x02, field(bad))) == DecodeError::bad_utf8);
        CHECK(error(connect(0x06, field("id") + field(bad) + field("m"))) == DecodeError::bad_utf8);
        CHECK(error(connect(0x82, field("id") + field(bad))) == DecodeError::bad_utf8);
        CHECK(error(packet(0x30, field(bad) + "payload")) == DecodeError::bad_utf8);
        CHECK(error(packet(0x30, field(bad)), Role::client) == DecodeError::bad_utf8);
        CHECK(error(subscribe(field(bad) + "\x00"s)) == DecodeError::bad_utf8);
        CHECK(error(unsubscribe(field(bad))) == DecodeError::bad_utf8);
    }
    // Binary fields are not UTF-8: a will message and a password may hold anything.
    CHECK(error(connect(0xC6, field("id") + field("t") + field("\0\xFF"s) + field("u") +
                                  field("\xED\xA0\x80"))) == DecodeError::none);
}

// "All Topic Names and Topic Filters MUST be at least one character long" [MQTT-4.7.3-1]; "The Topic Name in
// the PUBLISH Packet MUST NOT contain wildcard characters" [MQTT-3.3.2-2].
TEST_CASE("PUBLISH and will topics: empty, with a wildcard, or too long are bad_topic") {
    for (std::string bad : {""s, "+"s, "#"s, "a/+"s, "a/#"s, "a+b"s, std::string(1025, 't')}) {
        CAPTURE(bad);
        CHECK(error(packet(0x30, field(bad) + "m")) == DecodeError::bad_topic);
        CHECK(error(packet(0x32, field(bad) + "\x00\x01"s), Role::client) == DecodeError::bad_topic);
        CHECK(error(connect(0x06, field("id") + field(bad) + field("m"))) == DecodeError::bad_topic);
    }
    CHECK(error(packet(0x30, field(std::string(1024, 't')))) == DecodeError::none);
}

// [MQTT-4.7.1-2], [MQTT-4.7.1-3], [MQTT-4.7.3-1].
TEST_CASE("SUBSCRIBE and UNSUBSCRIBE filters that break 4.7.1 are bad_filter") {
    for (std::string bad :
         {""s, "sport+"s, "sport/tennis#"s, "a/#/b"s, "#/"s, "a+/b"s, std::string(1025, 'f')}) {
        CAPTURE(bad);
        CHECK(error(subscribe(field(bad) + "\x00"s)) == DecodeError::bad_filter);
        CHECK(error(subscribe(field("ok") + "\x01"s + field(bad) + "\x00"s)) == DecodeError::bad_filter);
        CHECK(error(unsubscribe(field(bad))) == DecodeError::bad_filter);
        CHECK(error(unsubscribe(field("ok") + field(bad))) == DecodeError::bad_filter);
    }
}

// "The Server MUST treat a SUBSCRIBE packet as malformed and close the Network Connection if any of Reserved
// bits in the payload are non-zero, or QoS is not 0,1 or 2 [MQTT-3.8.3-4]."
TEST_CASE("SUBSCRIBE: requested QoS 3 is bad_qos, reserved bits set are malformed") {
    CHECK(error(subscribe(field("a") + "\x03"s)) == DecodeError::bad_qos);
    CHECK(error(subscribe(field("a") + "\x00"s + field("b") + "\x03"s)) == DecodeError::bad_qos);
    for (int q = 4; q < 256; q += 4) {
        CAPTURE(q);
        CHECK(error(subscribe(field("a") + static_cast<char>(q))) == DecodeError::malformed);
    }
}

// "SUBSCRIBE, UNSUBSCRIBE, and PUBLISH (in cases where QoS > 0) Control Packets MUST contain a non-zero
// 16-bit Packet Identifier [MQTT-2.3.1-1]"; the acknowledgements carry the identifier of what they
// acknowledge.
TEST_CASE("packet identifier 0 is bad_packet_id") {
    CHECK(error(packet(0x32, field("a") + "\x00\x00"s)) == DecodeError::bad_packet_id);
    CHECK(error(packet(0x34, field("a") + "\x00\x00m"s), Role::client) == DecodeError::bad_packet_id);
    CHECK(error(subscribe(field("a") + "\x00"s, 0)) == DecodeError::bad_packet_id);
    CHECK(error(unsubscribe(field("a"), 0)) == DecodeError::bad_packet_id);
    for (const char* ack : {"\x40", "\x50", "\x62", "\x70"}) {
        CHECK(error(std::string(ack) + "\x02\x00\x00"s, Role::server) == DecodeError::bad_packet_id);
        CHECK(error(std::string(ack) + "\x02\x00\x00"s, Role::client) == DecodeError::bad_packet_id);
    }
    CHECK(error("\xB0\x02\x00\x00"s, Role::client) == DecodeError::bad_packet_id);
    CHECK(error("\x90\x03\x00\x00\x00"s, Role::client) == DecodeError::bad_packet_id);
    // QoS 0 has no packet identifier: these two bytes are payload.
    CHECK(error(packet(0x30, field("a") + "\x00\x00"s)) == DecodeError::none);
}

// [MQTT-3.8.3-3], [MQTT-3.10.3-2].
TEST_CASE("SUBSCRIBE and UNSUBSCRIBE without a filter are no_filters") {
    CHECK(error(subscribe("")) == DecodeError::no_filters);
    CHECK(error(unsubscribe("")) == DecodeError::no_filters);
    CHECK(error("\x90\x02\x00\x01"s, Role::client) == DecodeError::malformed);  // a SUBACK without codes
}

TEST_CASE("more filters or codes than max_filters are too_many_filters") {
    std::string subs, unsubs;
    for (int i = 0; i < 65; ++i) {
        subs += field("f") + "\x01"s;
        unsubs += field("f");
    }
    CHECK(error(subscribe(subs)) == DecodeError::too_many_filters);
    CHECK(error(unsubscribe(unsubs)) == DecodeError::too_many_filters);
    CHECK(error(packet(0x90, u16(1) + std::string(65, '\x01')), Role::client) ==
          DecodeError::too_many_filters);
    CHECK(error(packet(0x90, u16(1) + std::string(64, '\x01')), Role::client) == DecodeError::none);
    DecodeLimits lim;
    lim.max_filters = 1;
    CHECK(error(subscribe(field("a") + "\x00"s + field("b") + "\x00"s), Role::server, lim) ==
          DecodeError::too_many_filters);
    CHECK(error(unsubscribe(field("a") + field("b")), Role::server, lim) == DecodeError::too_many_filters);
}

// "SUBACK return codes other than 0x00, 0x01, 0x02 and 0x80 are reserved and MUST NOT be used
// [MQTT-3.9.3-2]."
TEST_CASE("SUBACK: reserved return codes are bad_return_code") {
    for (int code = 0; code < 256; ++code) {
        CAPTURE(code);
        const bool ok = code <= 2 || code == 0x80;
        CHECK(error(packet(0x90, u16(5) + "\x00"s + static_cast<char>(code)), Role::client) ==
              (ok ? DecodeError::none : DecodeError::bad_return_code));
    }
}

TEST_CASE("an error leaves a valid packet after it untouched: nothing is consumed") {
    const std::string stream = "\x40\x02\x00\x00"s + encoded(Puback{1});
    CHECK(error(stream) == DecodeError::bad_packet_id);
}
