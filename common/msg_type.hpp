#pragma once
// Message type codes. The table in docs/protocol.md lists the same set (checked by a test).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace chatbus {

enum class MsgType : std::uint8_t {
    error = 0x80,
    hello = 0x01,
    hello_reply = 0x81,
    register_nick = 0x02,
    register_reply = 0x82,
    unregister = 0x03,
    unregister_reply = 0x83,
    join = 0x04,
    join_reply = 0x84,
    leave = 0x05,
    leave_reply = 0x85,
    send = 0x06,
    send_reply = 0x86,
    dm = 0x07,
    dm_reply = 0x87,
    who = 0x08,
    who_reply = 0x88,
    rooms = 0x09,
    rooms_reply = 0x89,
    history = 0x0A,
    history_reply = 0x8A,
    listen = 0x0B,
    listen_reply = 0x8B,
    ping = 0x0C,
    ping_reply = 0x8C,
    status = 0x0D,
    status_reply = 0x8D,
    dm_ack = 0x20,
    unlisten = 0x21,
    dm_deliver = 0x30,
    membership = 0x31,
    listen_end = 0x32,
    w_ready = 0x40,
    w_welcome = 0x41,
    w_heartbeat = 0x42,
    w_disconnect = 0x43,
    w_request = 0x44,
    w_reply = 0x45,
    w_state = 0x46,
    w_release = 0x47,
    event = 0x50,
    sync = 0x51,
};

struct MsgTypeInfo {
    MsgType type;
    std::string_view name;  // as in docs/protocol.md
};

std::span<const MsgTypeInfo> all_message_types();
std::optional<MsgType> msg_type_from_wire(std::uint8_t code);
std::string_view msg_type_name(MsgType t);

// The client requests that have a reply (HELLO ... STATUS): an error about one travels in its reply type
// (docs/protocol.md, "How errors are answered"); about anything else, in ERROR or not at all.
constexpr bool has_reply(MsgType t) {
    const auto code = static_cast<std::uint8_t>(t);
    return code >= static_cast<std::uint8_t>(MsgType::hello) && code <= static_cast<std::uint8_t>(MsgType::status);
}

// What a client sends that has no reply (DM_ACK, UNLISTEN): never answered, even to say it was bad.
constexpr bool is_client_notification(MsgType t) {
    return t == MsgType::dm_ack || t == MsgType::unlisten;
}

// A request's reply type is its code plus 0x80.
constexpr MsgType reply_type_of(MsgType request) {
    return static_cast<MsgType>(static_cast<std::uint8_t>(request) | 0x80);
}

}  // namespace chatbus
