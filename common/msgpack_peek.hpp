#pragma once
// Reading a few fields of a msgpack map without unpacking it: no zone, no allocation, views into the input.
// For the broker's hot path, which needs four fields of each event and must still refuse every body that
// decode() would refuse (bad msgpack, trailing bytes, the network unpack limits).
#include <cstdint>
#include <optional>
#include <string_view>

namespace chatbus {

// The fields of an EVENT body the broker (room, kind, nick, seq) and subscribers (seq, kind, text) need;
// `have` tells which were present with the right type.
struct EventFields {
    std::string_view room, kind, nick, text;
    std::uint64_t seq = 0;
    bool have_room = false, have_kind = false, have_nick = false, have_text = false, have_seq = false;
};

// `body` is the msgpack part of a frame (after topic and header). True when it is exactly one map within
// network_unpack_limit() (codec.hpp) and none of room, kind, nick and seq has the wrong type (a text that is
// not a str is left out: have_text false); the first occurrence of each is read from its top level.
bool peek_event_fields(std::string_view body, EventFields& out) noexcept;

// The value of the first `key` of the map `body` starts with, when it is an unsigned integer and comes before
// the first entry that is malformed, over network_unpack_limit() or cut off by the end of `body` (which may be
// a prefix of the real body); nullopt otherwise. How an error answer finds a frame's rid (docs/protocol.md,
// "How errors are answered").
std::optional<std::uint64_t> peek_map_u64(std::string_view body, std::string_view key) noexcept;

// True when `body` is exactly one well-formed msgpack value within network_unpack_limit().
bool msgpack_well_formed(std::string_view body) noexcept;

}  // namespace chatbus
