#pragma once
// The chatbus topic tree of docs/mqtt.md ("Topics"): what a PUBLISH topic names and what a SUBSCRIBE filter
// selects. Pure functions, so every row of the table is unit-tested without a connection.
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace chatbus::gateway {

inline constexpr std::string_view kTopicRoot = "chatbus/";
inline constexpr std::string_view kErrorTopic = "chatbus/error";

// What a PUBLISH topic asks for. `name` is the room (folded), the DM recipient or the request handler;
// `msgid` is the request's reply id (empty: a notification).
struct PublishTarget {
    enum class Kind { room, dm, request, refused } kind = Kind::refused;
    std::string name, msgid;
    Status refusal = Status::ok;  // with Kind::refused: unknown_topic, invalid_room, invalid_nick, bad_request
};
PublishTarget publish_target(std::string_view topic);

// What a SUBSCRIBE filter selects for a session of nick `own_nick` (empty: an anonymous session). `errors`:
// chatbus/error, which a session gets anyway; accepted so that clients that subscribe to it are not refused.
struct FilterTarget {
    enum class Kind { room, all_rooms, own_dms, everything, errors, refused } kind = Kind::refused;
    std::string room;             // Kind::room: folded name
    Status refusal = Status::ok;  // Kind::refused: unknown_topic, not_authorized, invalid_room
};
FilterTarget filter_target(std::string_view filter, std::string_view own_nick);

std::string room_topic_of(std::string_view folded_room);
std::string dm_topic_of(std::string_view nick);

// A request's MSGID: 1-64 characters from A-Z a-z 0-9 _ - (docs/mqtt.md, "Requests").
bool valid_msgid(std::string_view msgid);

}  // namespace chatbus::gateway
