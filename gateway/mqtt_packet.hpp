#pragma once
// The fourteen MQTT 3.1.1 control packets (OASIS standard, 29 October 2014, chapter 3), one struct each.
// Strings and payloads own their bytes, so a decoded packet outlives the buffer it was read from.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace chatbus::mqtt {

// The fixed header's upper four bits (2.2.1); 0 and 15 are reserved.
enum class PacketType : std::uint8_t {
    connect = 1,
    connack,
    publish,
    puback,
    pubrec,
    pubrel,
    pubcomp,
    subscribe,
    suback,
    unsubscribe,
    unsuback,
    pingreq,
    pingresp,
    disconnect,
};

// The Remaining Length field holds at most four bytes (2.2.3); strings carry a two-byte length (1.5.3).
inline constexpr std::size_t kMaxRemainingLength = 268'435'455;
inline constexpr std::size_t kMaxStringLength = 65'535;
// 3.1.2.2: the only level this codec speaks.
inline constexpr std::uint8_t kProtocolLevel = 4;

struct Will {
    std::string topic;
    std::string payload;  // binary data (3.1.3.3)
    std::uint8_t qos = 0;
    bool retain = false;
    bool operator==(const Will&) const = default;
};

struct Connect {
    static constexpr PacketType kType = PacketType::connect;
    std::string protocol_name = "MQTT";
    std::uint8_t level = kProtocolLevel;
    bool clean_session = true;
    std::uint16_t keep_alive = 0;  // seconds; 0 turns the keep-alive mechanism off (3.1.2.10)
    std::string client_id;
    std::optional<Will> will;
    std::optional<std::string> username;
    std::optional<std::string> password;  // binary data, not UTF-8 (3.1.3.5)
    bool operator==(const Connect&) const = default;
};

// 3.2.2.3; values 6..255 are reserved.
enum class ConnectReturnCode : std::uint8_t {
    accepted = 0,
    unacceptable_protocol_version = 1,
    identifier_rejected = 2,
    server_unavailable = 3,
    bad_username_or_password = 4,
    not_authorized = 5,
};

struct Connack {
    static constexpr PacketType kType = PacketType::connack;
    bool session_present = false;
    ConnectReturnCode return_code = ConnectReturnCode::accepted;
    bool operator==(const Connack&) const = default;
};

struct Publish {
    static constexpr PacketType kType = PacketType::publish;
    bool dup = false;
    std::uint8_t qos = 0;
    bool retain = false;
    std::string topic;
    std::uint16_t packet_id = 0;  // present on the wire only when qos > 0; 0 otherwise
    std::string payload;
    bool operator==(const Publish&) const = default;
};

struct Puback {
    static constexpr PacketType kType = PacketType::puback;
    std::uint16_t packet_id = 0;
    bool operator==(const Puback&) const = default;
};

struct Pubrec {
    static constexpr PacketType kType = PacketType::pubrec;
    std::uint16_t packet_id = 0;
    bool operator==(const Pubrec&) const = default;
};

struct Pubrel {
    static constexpr PacketType kType = PacketType::pubrel;
    std::uint16_t packet_id = 0;
    bool operator==(const Pubrel&) const = default;
};

struct Pubcomp {
    static constexpr PacketType kType = PacketType::pubcomp;
    std::uint16_t packet_id = 0;
    bool operator==(const Pubcomp&) const = default;
};

struct Subscription {
    std::string filter;
    std::uint8_t qos = 0;  // the maximum QoS the client asks for
    bool operator==(const Subscription&) const = default;
};

struct Subscribe {
    static constexpr PacketType kType = PacketType::subscribe;
    std::uint16_t packet_id = 0;
    std::vector<Subscription> subscriptions;
    bool operator==(const Subscribe&) const = default;
};

// A SUBACK return code is the granted QoS (0, 1, 2) or this (3.9.3).
inline constexpr std::uint8_t kSubackFailure = 0x80;

struct Suback {
    static constexpr PacketType kType = PacketType::suback;
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> codes;  // one per filter of the SUBSCRIBE, in its order
    bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
    static constexpr PacketType kType = PacketType::unsubscribe;
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
    bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
    static constexpr PacketType kType = PacketType::unsuback;
    std::uint16_t packet_id = 0;
    bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
    static constexpr PacketType kType = PacketType::pingreq;
    bool operator==(const Pingreq&) const = default;
};

struct Pingresp {
    static constexpr PacketType kType = PacketType::pingresp;
    bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
    static constexpr PacketType kType = PacketType::disconnect;
    bool operator==(const Disconnect&) const = default;
};

// In PacketType order, so that a packet's type is its index + 1 (checked below).
using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe, Suback,
                            Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect>;

namespace detail {
template <std::size_t... I>
constexpr bool types_in_order(std::index_sequence<I...>) {
    return ((static_cast<std::size_t>(std::variant_alternative_t<I, Packet>::kType) == I + 1) && ...);
}
}  // namespace detail
static_assert(std::variant_size_v<Packet> == 14 &&
              detail::types_in_order(std::make_index_sequence<std::variant_size_v<Packet>>{}));

inline PacketType packet_type(const Packet& p) {
    return static_cast<PacketType>(p.index() + 1);
}

}  // namespace chatbus::mqtt
