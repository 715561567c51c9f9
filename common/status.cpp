#include "common/status.hpp"

#include <array>

namespace chatbus {
namespace {

constexpr std::array kStatuses{
    StatusInfo{Status::ok, "ok", "success"},
    StatusInfo{Status::bad_request, "bad_request", "malformed message, missing or mistyped field"},
    StatusInfo{Status::bad_version, "bad_version", "unsupported protocol version"},
    StatusInfo{Status::unknown_type, "unknown_type", "unknown message type"},
    StatusInfo{Status::too_large, "too_large", "message too large"},
    StatusInfo{Status::invalid_nick, "invalid_nick",
               "invalid nick: 1-32 characters from A-Z a-z 0-9 _ -, starting with a letter"},
    StatusInfo{Status::nick_taken, "nick_taken", "nick already registered"},
    StatusInfo{Status::unknown_nick, "unknown_nick", "unknown nick"},
    StatusInfo{Status::not_registered, "not_registered", "this nick is not registered"},
    StatusInfo{Status::bad_token, "bad_token", "token does not match the nick"},
    StatusInfo{Status::invalid_room, "invalid_room",
               "invalid room: 1-64 characters from a-z 0-9 _ - ., starting with a letter or digit"},
    StatusInfo{Status::no_such_room, "no_such_room", "no such room"},
    StatusInfo{Status::not_member, "not_member", "not a member of this room"},
    StatusInfo{Status::invalid_text, "invalid_text",
               "invalid text: empty, not UTF-8 or has control characters"},
    StatusInfo{Status::batch_too_large, "batch_too_large", "too many texts in one request"},
    StatusInfo{Status::inbox_full, "inbox_full", "the recipient's inbox is full"},
    StatusInfo{Status::no_worker, "no_worker", "no worker is available to serve this room"},
    StatusInfo{Status::timeout, "timeout", "the worker did not answer in time"},
    StatusInfo{Status::internal, "internal", "internal server error"},
    StatusInfo{Status::rate_limited, "rate_limited", "too many requests: slow down and retry"},
    StatusInfo{Status::too_many_rooms, "too_many_rooms", "this nick is in too many rooms"},
    StatusInfo{Status::room_full, "room_full", "the room has as many members as it may"},
    StatusInfo{Status::reserved_name, "reserved_name", "this nick is reserved"},
    StatusInfo{Status::too_many_clients, "too_many_clients", "the broker serves too many clients: retry later"},
    StatusInfo{Status::wrong_key, "wrong_key", "this nick is bound to another client key"},
    StatusInfo{Status::text_too_long, "text_too_long", "text longer than the broker's max_text bytes"},
    StatusInfo{Status::not_authorized, "not_authorized", "this connection may not do that"},
    StatusInfo{Status::unknown_topic, "unknown_topic", "no chatbus topic has that name"},
};

}  // namespace

std::span<const StatusInfo> all_statuses() {
    return kStatuses;
}

namespace {

// Codes are assigned in blocks by concern, so the table may have gaps: look codes up, never index by them.
const StatusInfo* find_status(std::uint64_t v) {
    for (const auto& info : kStatuses) {
        if (static_cast<std::uint64_t>(info.status) == v) return &info;
    }
    return nullptr;
}

}  // namespace

std::string_view status_name(Status s) {
    const StatusInfo* i = find_status(static_cast<std::uint64_t>(s));
    return i ? i->name : "internal";
}

std::string_view status_message(Status s) {
    const StatusInfo* i = find_status(static_cast<std::uint64_t>(s));
    return i ? i->message : "internal server error";
}

Status status_from_wire(std::uint64_t v) {
    const StatusInfo* i = find_status(v);
    return i ? i->status : Status::internal;
}

}  // namespace chatbus
