// The fixed header (2.2) and the framing of a packet in the stream; the bodies are in mqtt_decode_*.cpp.
#include "gateway/mqtt_decoder.hpp"

#include "gateway/mqtt_body_decoders.hpp"

namespace chatbus::mqtt {
namespace {

struct FixedHeader {
    PacketType type{};
    std::uint8_t flags = 0;
    std::size_t remaining = 0;  // the Remaining Length
    std::size_t size = 0;       // bytes of the fixed header itself
};

// 2.2.1's Direction of flow column.
bool receives(Role role, PacketType t) {
    switch (t) {
        case PacketType::publish:
        case PacketType::puback:
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
            return true;
        case PacketType::connect:
        case PacketType::subscribe:
        case PacketType::unsubscribe:
        case PacketType::pingreq:
        case PacketType::disconnect:
            return role == Role::server;
        case PacketType::connack:
        case PacketType::suback:
        case PacketType::unsuback:
        case PacketType::pingresp:
            return role == Role::client;
    }
    return false;
}

// 2.2.2: fixed for every type but PUBLISH, whose bits are DUP, QoS and RETAIN [MQTT-2.2.2-1, 2.2.2-2].
DecodeError check_flags(PacketType t, std::uint8_t flags) {
    if (t == PacketType::publish) {
        const std::uint8_t qos = (flags >> 1) & 3;
        if (qos == 3) return DecodeError::bad_qos;                   // [MQTT-3.3.1-4]
        if (qos == 0 && (flags & 8)) return DecodeError::bad_flags;  // [MQTT-3.3.1-2]
        return DecodeError::none;
    }
    const bool two = t == PacketType::pubrel || t == PacketType::subscribe || t == PacketType::unsubscribe;
    return flags == (two ? 2 : 0) ? DecodeError::none : DecodeError::bad_flags;
}

// Packets whose size the spec fixes (3.2, 3.4-3.7, 3.11-3.14): a wrong Remaining Length is malformed at once,
// before the bytes it announces arrive. -1: the size depends on the content.
long fixed_remaining(PacketType t) {
    switch (t) {
        case PacketType::connack:
        case PacketType::puback:
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
        case PacketType::unsuback:
            return 2;
        case PacketType::pingreq:
        case PacketType::pingresp:
        case PacketType::disconnect:
            return 0;
        default:
            return -1;
    }
}

DecodeError read_fixed_header(std::span<const std::uint8_t> buf, Role role, const DecodeLimits& lim,
                              FixedHeader& h) {
    if (buf.empty()) return DecodeError::need_more;
    const std::uint8_t type = buf[0] >> 4;
    if (type == 0 || type == 15) return DecodeError::reserved_type;
    h.type = static_cast<PacketType>(type);
    h.flags = buf[0] & 0x0F;
    if (!receives(role, h.type)) return DecodeError::wrong_direction;
    if (DecodeError e = check_flags(h.type, h.flags); e != DecodeError::none) return e;

    // 2.2.3: seven bits a byte, least significant first, the top bit saying another byte follows; at most
    // four. The value read so far is a lower bound of the whole, so a length over the limit is refused as
    // soon as its first bytes show it.
    std::size_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (1 + i >= buf.size()) return DecodeError::need_more;
        const std::uint8_t b = buf[1 + i];
        value += std::size_t{b & 0x7Fu} << (7 * i);
        if (value > lim.max_packet) return DecodeError::too_large;
        if (!(b & 0x80)) {
            h.remaining = value;
            h.size = 2 + i;
            const long fixed = fixed_remaining(h.type);
            if (fixed >= 0 && value != static_cast<std::size_t>(fixed)) return DecodeError::malformed;
            return DecodeError::none;
        }
    }
    return DecodeError::bad_remaining_length;
}

DecodeError decode_body(const FixedHeader& h, Reader& r, const DecodeLimits& lim, Packet& out) {
    switch (h.type) {
        case PacketType::connect:
            return detail::decode_connect(r, lim, out);
        case PacketType::connack:
            return detail::decode_connack(r, out);
        case PacketType::publish:
            return detail::decode_publish(r, h.flags, lim, out);
        case PacketType::puback:
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
        case PacketType::unsuback:
            return detail::decode_id_only(r, h.type, out);
        case PacketType::subscribe:
            return detail::decode_subscribe(r, lim, out);
        case PacketType::suback:
            return detail::decode_suback(r, lim, out);
        case PacketType::unsubscribe:
            return detail::decode_unsubscribe(r, lim, out);
        case PacketType::pingreq:
            out = Pingreq{};
            return DecodeError::none;
        case PacketType::pingresp:
            out = Pingresp{};
            return DecodeError::none;
        case PacketType::disconnect:
            out = Disconnect{};
            return DecodeError::none;
    }
    return DecodeError::malformed;
}

}  // namespace

DecodeError decode_packet(std::span<const std::uint8_t> buf, Role role, const DecodeLimits& lim, Packet& out,
                          std::size_t& consumed) noexcept {
    consumed = 0;
    FixedHeader h;
    if (DecodeError e = read_fixed_header(buf, role, lim, h); e != DecodeError::none) return e;
    if (buf.size() - h.size < h.remaining) return DecodeError::need_more;
    Reader r(buf.subspan(h.size, h.remaining));
    const DecodeError e = decode_body(h, r, lim, out);
    if (e != DecodeError::none) return e;
    consumed = h.size + h.remaining;
    return DecodeError::none;
}

}  // namespace chatbus::mqtt
