// PUBLISH (3.3) and the packets that carry only a packet identifier (3.4-3.7, 3.11).
#include "gateway/mqtt_body_decoders.hpp"
#include "gateway/mqtt_topic.hpp"

namespace chatbus::mqtt::detail {

DecodeError decode_publish(Reader& r, std::uint8_t flags, const DecodeLimits& lim, Packet& out) {
    Publish p;
    p.dup = (flags & 8) != 0;
    p.qos = (flags >> 1) & 3;
    p.retain = (flags & 1) != 0;
    std::string_view topic;
    if (DecodeError e = read_utf8(r, topic); e != DecodeError::none) return e;
    if (!valid_topic_name(topic, lim.max_topic)) return DecodeError::bad_topic;  // [MQTT-3.3.2-2]
    if (p.qos > 0) {
        if (!r.u16(p.packet_id)) return DecodeError::malformed;
        if (p.packet_id == 0) return DecodeError::bad_packet_id;  // [MQTT-2.3.1-1]
    }
    p.topic = topic;
    p.payload = r.rest();
    out = std::move(p);
    return DecodeError::none;
}

DecodeError decode_id_only(Reader& r, PacketType type, Packet& out) {
    std::uint16_t id = 0;
    if (!r.u16(id) || !r.at_end()) return DecodeError::malformed;
    if (id == 0) return DecodeError::bad_packet_id;  // acknowledgements name a packet that had one (2.3.1)
    switch (type) {
        case PacketType::puback:
            out = Puback{id};
            break;
        case PacketType::pubrec:
            out = Pubrec{id};
            break;
        case PacketType::pubrel:
            out = Pubrel{id};
            break;
        case PacketType::pubcomp:
            out = Pubcomp{id};
            break;
        case PacketType::unsuback:
            out = Unsuback{id};
            break;
        default:
            return DecodeError::malformed;
    }
    return DecodeError::none;
}

}  // namespace chatbus::mqtt::detail
