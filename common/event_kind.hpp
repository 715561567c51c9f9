#pragma once
// The values of an EVENT's `kind` (docs/protocol.md, "Room events"): workers write them, the broker's room
// copy and the clients read them.
#include <string_view>

namespace chatbus::event_kind {

inline constexpr std::string_view join = "join";
inline constexpr std::string_view leave = "leave";
inline constexpr std::string_view message = "message";

}  // namespace chatbus::event_kind
