#include "gateway/mqtt_encoder.hpp"

#include <cstdint>
#include <string_view>

namespace chatbus::mqtt {
namespace {

void put_u8(std::string& out, std::uint8_t v) {
    out.push_back(static_cast<char>(v));
}

void put_u16(std::string& out, std::uint16_t v) {
    put_u8(out, static_cast<std::uint8_t>(v >> 8));
    put_u8(out, static_cast<std::uint8_t>(v & 0xFF));
}

// A UTF-8 string or binary field: a two-byte length, then the bytes (1.5.3, 3.1.3.3).
void put_prefixed(std::string& out, std::string_view s) {
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    out.append(s);
}

std::size_t prefixed_size(std::string_view s) {
    return 2 + s.size();
}

void put_fixed_header(std::string& out, PacketType type, std::uint8_t flags, std::size_t remaining) {
    put_u8(out, static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 4) | flags));
    encode_remaining_length(out, remaining);
}

void encode_id_only(std::string& out, PacketType type, std::uint8_t flags, std::uint16_t id) {
    put_fixed_header(out, type, flags, 2);
    put_u16(out, id);
}

std::uint8_t connect_flags(const Connect& p) {
    std::uint8_t f = p.clean_session ? 0x02 : 0;
    if (p.will) {
        f |= 0x04 | static_cast<std::uint8_t>(p.will->qos << 3);
        if (p.will->retain) f |= 0x20;
    }
    if (p.password) f |= 0x40;
    if (p.username) f |= 0x80;
    return f;
}

}  // namespace

void encode_remaining_length(std::string& out, std::size_t n) {
    do {
        auto digit = static_cast<std::uint8_t>(n % 128);
        n /= 128;
        if (n > 0) digit |= 0x80;
        put_u8(out, digit);
    } while (n > 0);
}

void encode(std::string& out, const Connect& p) {
    std::size_t remaining = prefixed_size(p.protocol_name) + 1 + 1 + 2 + prefixed_size(p.client_id);
    if (p.will) remaining += prefixed_size(p.will->topic) + prefixed_size(p.will->payload);
    if (p.username) remaining += prefixed_size(*p.username);
    if (p.password) remaining += prefixed_size(*p.password);
    put_fixed_header(out, PacketType::connect, 0, remaining);
    put_prefixed(out, p.protocol_name);
    put_u8(out, p.level);
    put_u8(out, connect_flags(p));
    put_u16(out, p.keep_alive);
    put_prefixed(out, p.client_id);
    if (p.will) {
        put_prefixed(out, p.will->topic);
        put_prefixed(out, p.will->payload);
    }
    if (p.username) put_prefixed(out, *p.username);
    if (p.password) put_prefixed(out, *p.password);
}

void encode(std::string& out, const Connack& p) {
    put_fixed_header(out, PacketType::connack, 0, 2);
    put_u8(out, p.session_present ? 1 : 0);
    put_u8(out, static_cast<std::uint8_t>(p.return_code));
}

void encode(std::string& out, const Publish& p) {
    const auto flags = static_cast<std::uint8_t>((p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0));
    const std::size_t remaining = prefixed_size(p.topic) + (p.qos > 0 ? 2 : 0) + p.payload.size();
    put_fixed_header(out, PacketType::publish, flags, remaining);
    put_prefixed(out, p.topic);
    if (p.qos > 0) put_u16(out, p.packet_id);
    out.append(p.payload);
}

void encode(std::string& out, const Puback& p) {
    encode_id_only(out, PacketType::puback, 0, p.packet_id);
}

void encode(std::string& out, const Pubrec& p) {
    encode_id_only(out, PacketType::pubrec, 0, p.packet_id);
}

// PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010 (2.2.2).
void encode(std::string& out, const Pubrel& p) {
    encode_id_only(out, PacketType::pubrel, 2, p.packet_id);
}

void encode(std::string& out, const Pubcomp& p) {
    encode_id_only(out, PacketType::pubcomp, 0, p.packet_id);
}

void encode(std::string& out, const Subscribe& p) {
    std::size_t remaining = 2;
    for (const Subscription& s : p.subscriptions) remaining += prefixed_size(s.filter) + 1;
    put_fixed_header(out, PacketType::subscribe, 2, remaining);
    put_u16(out, p.packet_id);
    for (const Subscription& s : p.subscriptions) {
        put_prefixed(out, s.filter);
        put_u8(out, s.qos);
    }
}

void encode(std::string& out, const Suback& p) {
    put_fixed_header(out, PacketType::suback, 0, 2 + p.codes.size());
    put_u16(out, p.packet_id);
    for (std::uint8_t code : p.codes) put_u8(out, code);
}

void encode(std::string& out, const Unsubscribe& p) {
    std::size_t remaining = 2;
    for (const std::string& f : p.filters) remaining += prefixed_size(f);
    put_fixed_header(out, PacketType::unsubscribe, 2, remaining);
    put_u16(out, p.packet_id);
    for (const std::string& f : p.filters) put_prefixed(out, f);
}

void encode(std::string& out, const Unsuback& p) {
    encode_id_only(out, PacketType::unsuback, 0, p.packet_id);
}

void encode(std::string& out, const Pingreq&) {
    put_fixed_header(out, PacketType::pingreq, 0, 0);
}

void encode(std::string& out, const Pingresp&) {
    put_fixed_header(out, PacketType::pingresp, 0, 0);
}

void encode(std::string& out, const Disconnect&) {
    put_fixed_header(out, PacketType::disconnect, 0, 0);
}

void encode(std::string& out, const Packet& p) {
    std::visit([&](const auto& packet) { encode(out, packet); }, p);
}

}  // namespace chatbus::mqtt
