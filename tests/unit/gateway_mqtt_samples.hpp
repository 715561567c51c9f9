#pragma once
// Valid MQTT packets of every type with fields set to non-default values, for the codec tests and the fuzz
// seeds (header only: tests/CMakeLists.txt globs tests/unit/gateway_*.cpp, not .hpp).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "gateway/mqtt_packet.hpp"

namespace chatbus::mqtt::test {

inline std::vector<Packet> sample_packets() {
    return {
        Connect{},
        Connect{.clean_session = false,
                .keep_alive = 0xFFFF,
                .client_id = "client-\xC3\xA9",
                .will = Will{"last/will", std::string("\0\xFF gone", 7), 2, true},
                .username = "user",
                .password = std::string("p\0w", 3)},
        Connect{.keep_alive = 60, .client_id = "c", .will = Will{"w", "", 1, false}},
        Connect{.client_id = "only-user", .username = ""},
        Connack{},
        Connack{true, ConnectReturnCode::accepted},
        Connack{false, ConnectReturnCode::not_authorized},
        Publish{.topic = "a"},
        Publish{
            .dup = true, .qos = 1, .retain = true, .topic = "rooms/general", .packet_id = 1, .payload = "hi"},
        Publish{.qos = 2, .topic = "/x//y", .packet_id = 0xFFFF, .payload = std::string("\0\x01\x02", 3)},
        Puback{1},
        Pubrec{0x1234},
        Pubrel{0xFFFF},
        Pubcomp{7},
        Subscribe{9, {{"a/+/c", 0}, {"#", 1}, {"$SYS/#", 2}}},
        Suback{9, {0, 1, 2, kSubackFailure}},
        Unsubscribe{10, {"a/+/c", "x"}},
        Unsuback{10},
        Pingreq{},
        Pingresp{},
        Disconnect{},
    };
}

// Whether a peer in `role` receives packets of this type (the Direction of flow column of 2.2.1).
inline bool received_by(Role role, PacketType t) {
    switch (t) {
        case PacketType::publish:
        case PacketType::puback:
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
            return true;
        case PacketType::connack:
        case PacketType::suback:
        case PacketType::unsuback:
        case PacketType::pingresp:
            return role == Role::client;
        default:
            return role == Role::server;
    }
}

inline std::string encoded(const Packet& p) {
    std::string out;
    encode(out, p);
    return out;
}

inline std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace chatbus::mqtt::test
