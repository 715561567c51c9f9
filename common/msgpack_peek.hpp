#pragma once
// Reading a few fields of a msgpack map without unpacking it: no zone, no allocation, views into the input.
// For the broker's hot path, which needs four fields of each event and must still refuse every body that
// decode() would refuse (bad msgpack, trailing bytes, the network unpack limits). EVENT's reader is declared
// in event_view.hpp.
#include <cstdint>
#include <optional>
#include <string_view>

namespace chatbus {

// The value of the first `key` of the map `body` starts with, when it is an unsigned integer and comes before
// the first entry that is malformed, over network_unpack_limit() or cut off by the end of `body` (which may be
// a prefix of the real body); nullopt otherwise. How an error answer finds a frame's rid (docs/protocol.md,
// "How errors are answered").
std::optional<std::uint64_t> peek_map_u64(std::string_view body, std::string_view key) noexcept;

// True when `body` is exactly one well-formed msgpack value within network_unpack_limit().
bool msgpack_well_formed(std::string_view body) noexcept;

}  // namespace chatbus
