#pragma once
// The MQTT 3.1.1 decoder: one packet at a time from the front of a byte stream, bounded by the caller's
// limits, with every protocol violation the spec names for a receiver reported as its own error. Never
// throws.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "gateway/mqtt_packet.hpp"

namespace chatbus::mqtt {

struct DecodeLimits {
    std::size_t max_packet = 65536;  // Remaining Length (variable header + payload), in bytes
    std::size_t max_topic = 1024;    // bytes of a topic name (PUBLISH, will) or a topic filter
    std::size_t max_filters = 64;    // filters of a SUBSCRIBE or UNSUBSCRIBE, codes of a SUBACK
    std::size_t max_client_id = 256;
};

// Which side is reading: a server accepts what clients send, a client what servers send (2.2.1).
enum class Role { server, client };

// After any error but need_more the connection must be closed (4.8). Two of them are answered first: the
// server sends CONNACK 1 (unacceptable protocol version) for bad_protocol_level [MQTT-3.1.2-2] and CONNACK 2
// (identifier rejected) for bad_client_id [MQTT-3.1.3-8, 3.1.3-9]; the others get no answer.
enum class DecodeError {
    none,
    need_more,             // the buffer holds no whole packet yet; read more and call again
    bad_remaining_length,  // a fifth Remaining Length byte (2.2.3)
    too_large,             // Remaining Length over DecodeLimits::max_packet
    reserved_type,         // packet type 0 or 15
    wrong_direction,       // a type this role never receives (a server receiving CONNACK, ...)
    bad_flags,             // fixed-header flags other than 2.2.2 prescribes; DUP on QoS 0 [MQTT-3.3.1-2]
    malformed,             // fields cut short, bytes left over, reserved bits set after the fixed header
    bad_protocol_name,     // CONNECT protocol name other than "MQTT" [MQTT-3.1.2-1]
    bad_protocol_level,    // CONNECT protocol level other than 4 (answer CONNACK 1)
    bad_connect_flags,     // reserved bit set, will QoS/retain without will, password without user name
    bad_utf8,              // a UTF-8 string that MQTT-1.5.3 forbids
    bad_topic,             // a topic name that is empty, has a wildcard or is over max_topic
    bad_filter,            // a topic filter that breaks 4.7.1 or is over max_topic
    bad_client_id,         // client id over max_client_id, or empty without clean session (answer CONNACK 2)
    bad_qos,               // QoS 3 in a PUBLISH, a will or a subscription [MQTT-3.3.1-4]
    bad_packet_id,         // packet identifier 0 where one is required (2.3.1)
    no_filters,            // SUBSCRIBE or UNSUBSCRIBE without a filter [MQTT-3.8.3-3, 3.10.3-2]
    too_many_filters,      // more than max_filters in a SUBSCRIBE, UNSUBSCRIBE or SUBACK
    bad_return_code,       // CONNACK or SUBACK return code the spec reserves [MQTT-3.9.3-2]
};

std::string_view decode_error_name(DecodeError e);

// Decodes the packet at the front of buf into out. On none, consumed is the packet's size in bytes and out
// holds it; on bad_protocol_level, out holds a Connect with only protocol_name and level read (what follows
// may be another protocol version's layout, so it is not read); on any other result out is unchanged and
// consumed is 0. Fixed-header errors, too_large and bad_remaining_length are reported as soon as the bytes
// that show them arrive, without waiting for the rest of the packet.
DecodeError decode_packet(std::span<const std::uint8_t> buf, Role role, const DecodeLimits& lim, Packet& out,
                          std::size_t& consumed) noexcept;

}  // namespace chatbus::mqtt
