// SUBSCRIBE (3.8), SUBACK (3.9) and UNSUBSCRIBE (3.10).
#include "gateway/mqtt_body_decoders.hpp"
#include "gateway/mqtt_topic.hpp"

namespace chatbus::mqtt::detail {
namespace {

// The packet identifier that starts each of the three, never 0 [MQTT-2.3.1-1].
DecodeError read_packet_id(Reader& r, std::uint16_t& id) {
    if (!r.u16(id)) return DecodeError::malformed;
    return id == 0 ? DecodeError::bad_packet_id : DecodeError::none;
}

DecodeError read_filter(Reader& r, const DecodeLimits& lim, std::string_view& filter) {
    if (DecodeError e = read_utf8(r, filter); e != DecodeError::none) return e;
    return valid_topic_filter(filter, lim.max_topic) ? DecodeError::none : DecodeError::bad_filter;
}

}  // namespace

DecodeError decode_subscribe(Reader& r, const DecodeLimits& lim, Packet& out) {
    Subscribe s;
    if (DecodeError e = read_packet_id(r, s.packet_id); e != DecodeError::none) return e;
    if (r.at_end()) return DecodeError::no_filters;  // [MQTT-3.8.3-3]
    while (!r.at_end()) {
        if (s.subscriptions.size() >= lim.max_filters) return DecodeError::too_many_filters;
        std::string_view filter;
        std::uint8_t qos = 0;
        if (DecodeError e = read_filter(r, lim, filter); e != DecodeError::none) return e;
        if (!r.u8(qos)) return DecodeError::malformed;
        if (qos & 0xFC) return DecodeError::malformed;  // reserved bits [MQTT-3.8.3-4]
        if (qos == 3) return DecodeError::bad_qos;      // [MQTT-3.8.3-4]
        s.subscriptions.push_back(Subscription{std::string(filter), qos});
    }
    out = std::move(s);
    return DecodeError::none;
}

DecodeError decode_suback(Reader& r, const DecodeLimits& lim, Packet& out) {
    Suback s;
    if (DecodeError e = read_packet_id(r, s.packet_id); e != DecodeError::none) return e;
    // One code per filter of the SUBSCRIBE, which had at least one.
    if (r.at_end()) return DecodeError::malformed;
    if (r.remaining() > lim.max_filters) return DecodeError::too_many_filters;
    std::uint8_t code = 0;
    while (r.u8(code)) {
        if (code > 2 && code != kSubackFailure) return DecodeError::bad_return_code;  // [MQTT-3.9.3-2]
        s.codes.push_back(code);
    }
    out = std::move(s);
    return DecodeError::none;
}

DecodeError decode_unsubscribe(Reader& r, const DecodeLimits& lim, Packet& out) {
    Unsubscribe u;
    if (DecodeError e = read_packet_id(r, u.packet_id); e != DecodeError::none) return e;
    if (r.at_end()) return DecodeError::no_filters;  // [MQTT-3.10.3-2]
    while (!r.at_end()) {
        if (u.filters.size() >= lim.max_filters) return DecodeError::too_many_filters;
        std::string_view filter;
        if (DecodeError e = read_filter(r, lim, filter); e != DecodeError::none) return e;
        u.filters.emplace_back(filter);
    }
    out = std::move(u);
    return DecodeError::none;
}

}  // namespace chatbus::mqtt::detail
