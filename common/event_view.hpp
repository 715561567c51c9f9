#pragma once
// EVENT read in place: no zone, no allocation, views into the frame. The broker applies every event a worker
// returns to its room copy, and a benchmark subscriber reads every event it gets; unpacking each into an
// Event (messages.hpp) cost more than all the rest of that work.
#include <cstdint>
#include <string_view>

namespace chatbus {

// `have_*` tells which fields were present with the right type.
struct EventView {
    std::string_view room, kind, nick, text;
    std::uint64_t seq = 0;
    bool have_room = false, have_kind = false, have_nick = false, have_text = false, have_seq = false;
};

// `body` is the msgpack part of a frame (after topic and header). True when it is exactly one map within
// network_unpack_limit() (codec.hpp) and none of room, kind, nick and seq has the wrong type (a text that is
// not a str is left out: have_text false); the first occurrence of each is read from its top level.
// Defined in msgpack_peek.cpp, with the reader it shares.
bool peek_event(std::string_view body, EventView& out) noexcept;

}  // namespace chatbus
