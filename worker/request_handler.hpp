#pragma once
// Turns one forwarded request frame into its encoded reply frame, whatever the frame holds: the worker must
// answer every request it can name, and never throw on network bytes.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/messages.hpp"
#include "worker/room_table.hpp"

namespace chatbus {

// The encoded reply for `frame`, with the events to publish appended to `events`. nullopt when the frame does
// not name a client request with a reply (short, another signature or version, an unknown or a reply-less
// type): there is no reply type to answer with, and the caller drops it.
std::optional<std::string> handle_request(RoomTable& table, std::string_view frame,
                                          std::vector<Event>& events);

}  // namespace chatbus
