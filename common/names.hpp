#pragma once
// The nick, room and text rules of docs/protocol.md ("Names and text").
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace chatbus {

inline constexpr std::size_t kMaxNickLength = 32;
inline constexpr std::size_t kMaxRoomLength = 64;

bool valid_nick(std::string_view nick);
// Nicks nobody may register because they would pass for the service itself (broker, system, admin, ...),
// compared case-insensitively. The list is in docs/protocol.md, "Names and text".
bool reserved_nick(std::string_view nick);
// Validates after folding: callers pass the raw name and use fold_name() for the canonical form.
bool valid_room(std::string_view room);
// ASCII lower case: the canonical key for nicks (uniqueness) and the canonical name of rooms.
std::string fold_name(std::string_view name);
// UTF-8, 1..max_bytes, no control characters except newline and tab.
bool valid_text(std::string_view text, std::size_t max_bytes);
// The status a text earns: ok, text_too_long (over max_bytes) or invalid_text (any other rule broken).
Status text_status(std::string_view text, std::size_t max_bytes);

}  // namespace chatbus
