#pragma once
// Status codes carried in every reply. The table in docs/protocol.md lists the same set (checked by a test).
#include <cstdint>
#include <span>
#include <string_view>

namespace chatbus {

enum class Status : std::uint8_t {
    ok = 0,
    bad_request = 1,
    bad_version = 2,
    unknown_type = 3,
    too_large = 4,
    invalid_nick = 5,
    nick_taken = 6,
    unknown_nick = 7,
    not_registered = 8,
    bad_token = 9,
    invalid_room = 10,
    no_such_room = 11,
    not_member = 12,
    invalid_text = 13,
    batch_too_large = 14,
    inbox_full = 15,
    no_worker = 16,
    timeout = 17,
    internal = 18,
    rate_limited = 19,
    too_many_rooms = 20,
    room_full = 21,
    reserved_name = 22,
    too_many_clients = 23,
    wrong_key = 24,
    text_too_long = 25,
    not_authorized = 26,
    unknown_topic = 27,
};

struct StatusInfo {
    Status status;
    std::string_view name;     // stable identifier, as in docs/protocol.md
    std::string_view message;  // one-line human message
};

std::span<const StatusInfo> all_statuses();
std::string_view status_name(Status s);
std::string_view status_message(Status s);
// Maps a wire value to a Status; unknown values map to Status::internal.
Status status_from_wire(std::uint64_t v);

}  // namespace chatbus
