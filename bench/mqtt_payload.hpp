#pragma once
// What the `mqtt` workload publishes and how a subscriber finds it again, for both servers. The payload is
// the send time and a sequence number in decimal, then 'x' up to the size: printable ASCII, so it is a valid
// chatbus text, and read_stamp() (bench/client.hpp) reads its time as it reads the latency workload's texts.
// Mosquitto delivers the payload as published; the gateway delivers an event in JSON whose "text" holds it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

std::string mqtt_payload(std::uint64_t seq, std::int64_t ts_ns, std::size_t size);
// False when `p` is not such a payload (a join event's empty text, say).
bool read_mqtt_payload(std::string_view p, std::uint64_t& seq, std::int64_t& ts_ns);
// The "text" of a gateway event (docs/mqtt.md, "Rooms"). The bench's texts need no JSON escapes, so the
// value ends at the next quote; empty when there is none.
std::string_view gateway_event_text(std::string_view json);

}  // namespace bench
