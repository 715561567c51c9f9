// libFuzzer target: the MQTT codec of gateway/ on arbitrary bytes, read as a stream of packets by a server
// and by a client, under the default limits and under tight ones. decode_packet() must never crash, and must
// consume nothing on an error and at most what it was given on success; every packet it accepts must be of a
// type its role receives, re-encode to the same bytes (but for a Remaining Length written in more bytes than
// needed), decode from those to an equal packet, and be need_more when cut short. Topics and filters it
// accepts must pass the topic helpers, which must agree with themselves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "gateway/mqtt_topic.hpp"
#include "tests/unit/gateway_mqtt_samples.hpp"

using namespace chatbus::mqtt;
using chatbus::mqtt::test::bytes;

namespace {

[[noreturn]] void fail(const char* what, const Packet& p) {
    std::fprintf(stderr, "fuzz_mqtt: %s (packet type %d)\n", what, static_cast<int>(packet_type(p)));
    std::abort();
}

DecodeError decode(std::span<const std::uint8_t> buf, Role role, const DecodeLimits& lim, Packet& out,
                   std::size_t& consumed) {
    consumed = 12345;
    const DecodeError e = decode_packet(buf, role, lim, out, consumed);
    if (decode_error_name(e) == "unknown") std::abort();
    if (e != DecodeError::none && consumed != 0) std::abort();
    return e;
}

void check_topics(const Packet& p) {
    auto check_name = [&](std::string_view topic) {
        if (!valid_topic_name(topic)) fail("accepted topic name is not valid", p);
        if (!topic_matches(topic, topic)) fail("topic name does not match itself", p);
        if (topic_matches("#", topic) != (topic.front() != '$')) fail("'#' and a topic disagree", p);
    };
    auto check_filter = [&](std::string_view filter) {
        if (!valid_topic_filter(filter)) fail("accepted filter is not valid", p);
        if (valid_topic_name(filter) && !topic_matches(filter, filter)) fail("plain filter misses itself", p);
    };
    if (const auto* pub = std::get_if<Publish>(&p)) check_name(pub->topic);
    if (const auto* con = std::get_if<Connect>(&p); con && con->will) check_name(con->will->topic);
    if (const auto* sub = std::get_if<Subscribe>(&p)) {
        for (const Subscription& s : sub->subscriptions) check_filter(s.filter);
    }
    if (const auto* uns = std::get_if<Unsubscribe>(&p)) {
        for (const std::string& f : uns->filters) check_filter(f);
    }
}

// wire: the bytes p was decoded from.
void check_packet(std::span<const std::uint8_t> wire, Role role, const DecodeLimits& lim, const Packet& p) {
    if (!chatbus::mqtt::test::received_by(role, packet_type(p))) {
        fail("decoded a type the role never receives", p);
    }
    std::string again;
    encode(again, p);
    // The same first byte and the same variable header and payload; only the length field may be shorter.
    std::size_t header = 2;
    while (header < again.size() && (static_cast<std::uint8_t>(again[header - 1]) & 0x80)) ++header;
    const std::size_t remaining = again.size() - header;
    if (again.size() > wire.size()) fail("re-encoded packet is longer", p);
    if (static_cast<std::uint8_t>(again[0]) != wire[0]) fail("re-encoded first byte differs", p);
    const std::span<const std::uint8_t> body = bytes(again).subspan(header);
    if (!std::ranges::equal(body, wire.last(remaining))) fail("re-encoded body differs", p);
    Packet back;
    std::size_t consumed = 0;
    if (decode(bytes(again), role, lim, back, consumed) != DecodeError::none) {
        fail("re-encoded does not decode", p);
    }
    if (consumed != again.size()) fail("re-encoded packet not consumed whole", p);
    if (!(back == p)) fail("re-encoded packet decodes to something else", p);
    for (std::size_t cut : {std::size_t{0}, wire.size() / 2, wire.size() - 1}) {
        Packet part;
        if (decode(wire.first(cut), role, lim, part, consumed) != DecodeError::need_more) {
            fail("a cut packet is not need_more", p);
        }
    }
    check_topics(p);
}

void read_stream(std::span<const std::uint8_t> data, Role role, const DecodeLimits& lim) {
    for (;;) {
        Packet p;
        std::size_t consumed = 0;
        if (decode(data, role, lim, p, consumed) != DecodeError::none) return;
        if (consumed == 0 || consumed > data.size()) fail("consumed nothing or more than there was", p);
        check_packet(data.first(consumed), role, lim, p);
        data = data.subspan(consumed);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const DecodeLimits tight{.max_packet = 64, .max_topic = 8, .max_filters = 2, .max_client_id = 4};
    for (Role role : {Role::server, Role::client}) {
        read_stream(input, role, DecodeLimits{});
        read_stream(input, role, tight);
    }
    return 0;
}
