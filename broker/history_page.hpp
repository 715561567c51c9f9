#pragma once
// HISTORY answered from the broker's copy of a room, without decoding an event: the kept EVENT bodies are
// already the msgpack maps HISTORY_REPLY carries, so the reply is written around them.
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/room_mirror.hpp"
#include "common/messages.hpp"

namespace chatbus {

// Appends a HISTORY_REPLY frame for `req` to `out`: the oldest events of the selection (seq > since, then the
// last `last` of them when last > 0), one page of them (docs/protocol.md, HISTORY). `room` is the folded
// name.
void encode_history_page(std::string& out, const History& req, std::string_view room, const RoomCopy& copy);

}  // namespace chatbus
