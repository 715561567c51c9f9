// CONNECT (3.1) and CONNACK (3.2).
#include "gateway/mqtt_body_decoders.hpp"
#include "gateway/mqtt_topic.hpp"

namespace chatbus::mqtt::detail {
namespace {

// Connect Flags (3.1.2.3).
constexpr std::uint8_t kReserved = 0x01, kCleanSession = 0x02, kWill = 0x04, kWillRetain = 0x20,
                       kPassword = 0x40, kUserName = 0x80;

DecodeError check_connect_flags(std::uint8_t flags) {
    if (flags & kReserved) return DecodeError::bad_connect_flags;  // [MQTT-3.1.2-3]
    const std::uint8_t will_qos = (flags >> 3) & 3;
    if (!(flags & kWill) && (will_qos != 0 || (flags & kWillRetain))) {
        return DecodeError::bad_connect_flags;  // [MQTT-3.1.2-13, 3.1.2-15]
    }
    if (will_qos == 3) return DecodeError::bad_qos;  // [MQTT-3.1.2-14]
    if ((flags & kPassword) && !(flags & kUserName))
        return DecodeError::bad_connect_flags;  // [MQTT-3.1.2-22]
    return DecodeError::none;
}

DecodeError read_will(Reader& r, std::uint8_t flags, const DecodeLimits& lim, Will& will) {
    std::string_view topic, payload;
    if (DecodeError e = read_utf8(r, topic); e != DecodeError::none) return e;
    // The will is published to this topic, so it is a topic name: no wildcards [MQTT-4.7.1-1].
    if (!valid_topic_name(topic, lim.max_topic)) return DecodeError::bad_topic;
    if (!r.prefixed(payload)) return DecodeError::malformed;
    will.topic = topic;
    will.payload = payload;
    will.qos = (flags >> 3) & 3;
    will.retain = (flags & kWillRetain) != 0;
    return DecodeError::none;
}

// The fields after the Connect Flags, present exactly as the flags say (3.1.3).
DecodeError read_payload(Reader& r, std::uint8_t flags, const DecodeLimits& lim, Connect& c) {
    std::string_view id;
    if (DecodeError e = read_utf8(r, id); e != DecodeError::none) return e;
    c.client_id = id;
    if (flags & kWill) {
        c.will.emplace();
        if (DecodeError e = read_will(r, flags, lim, *c.will); e != DecodeError::none) return e;
    }
    if (flags & kUserName) {
        std::string_view user;
        if (DecodeError e = read_utf8(r, user); e != DecodeError::none) return e;
        c.username.emplace(user);
    }
    if (flags & kPassword) {
        std::string_view password;
        if (!r.prefixed(password)) return DecodeError::malformed;
        c.password.emplace(password);
    }
    return r.at_end() ? DecodeError::none : DecodeError::malformed;
}

}  // namespace

DecodeError decode_connect(Reader& r, const DecodeLimits& lim, Packet& out) {
    Connect c;
    std::string_view name;
    if (!r.prefixed(name)) return DecodeError::malformed;
    if (name != "MQTT") return DecodeError::bad_protocol_name;
    if (!r.u8(c.level)) return DecodeError::malformed;
    if (c.level != kProtocolLevel) {
        // Another version's CONNECT may go on differently (5.0 adds properties), so nothing more is read.
        c.protocol_name = name;
        out = std::move(c);
        return DecodeError::bad_protocol_level;
    }
    std::uint8_t flags = 0;
    if (!r.u8(flags) || !r.u16(c.keep_alive)) return DecodeError::malformed;
    if (DecodeError e = check_connect_flags(flags); e != DecodeError::none) return e;
    c.clean_session = (flags & kCleanSession) != 0;
    if (DecodeError e = read_payload(r, flags, lim, c); e != DecodeError::none) return e;
    // Checked last: the server answers this one with CONNACK 2, which a malformed packet must not get.
    if (c.client_id.size() > lim.max_client_id) return DecodeError::bad_client_id;
    if (c.client_id.empty() && !c.clean_session) return DecodeError::bad_client_id;  // [MQTT-3.1.3-8]
    out = std::move(c);
    return DecodeError::none;
}

DecodeError decode_connack(Reader& r, Packet& out) {
    std::uint8_t ack_flags = 0, code = 0;
    if (!r.u8(ack_flags) || !r.u8(code) || !r.at_end()) return DecodeError::malformed;
    if (ack_flags & 0xFE) return DecodeError::malformed;  // 3.2.2.1: bits 7-1 are reserved, 0
    if (code > static_cast<std::uint8_t>(ConnectReturnCode::not_authorized))
        return DecodeError::bad_return_code;
    const bool session_present = (ack_flags & 1) != 0;
    if (session_present && code != 0) return DecodeError::malformed;  // [MQTT-3.2.2-4]
    out = Connack{session_present, static_cast<ConnectReturnCode>(code)};
    return DecodeError::none;
}

}  // namespace chatbus::mqtt::detail
