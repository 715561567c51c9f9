#pragma once
// The variable header and payload of each packet type, called by decode_packet() once the fixed header has
// been checked and the whole packet is in the buffer. Each returns none only after reading the body to its
// last byte; it sets out only on none (and on bad_protocol_level, see decode_packet()).
#include <cstdint>
#include <string_view>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_packet.hpp"
#include "gateway/mqtt_reader.hpp"
#include "gateway/mqtt_utf8.hpp"

namespace chatbus::mqtt::detail {

DecodeError decode_connect(Reader& r, const DecodeLimits& lim, Packet& out);
DecodeError decode_connack(Reader& r, Packet& out);
// flags: the fixed header's low four bits, already checked (DUP, QoS, RETAIN).
DecodeError decode_publish(Reader& r, std::uint8_t flags, const DecodeLimits& lim, Packet& out);
// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a packet identifier and nothing else.
DecodeError decode_id_only(Reader& r, PacketType type, Packet& out);
DecodeError decode_subscribe(Reader& r, const DecodeLimits& lim, Packet& out);
DecodeError decode_suback(Reader& r, const DecodeLimits& lim, Packet& out);
DecodeError decode_unsubscribe(Reader& r, const DecodeLimits& lim, Packet& out);

// A UTF-8 string field: malformed when cut short, bad_utf8 when MQTT-1.5.3 forbids its bytes.
inline DecodeError read_utf8(Reader& r, std::string_view& v) {
    if (!r.prefixed(v)) return DecodeError::malformed;
    return valid_mqtt_utf8(v) ? DecodeError::none : DecodeError::bad_utf8;
}

}  // namespace chatbus::mqtt::detail
