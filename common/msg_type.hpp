#pragma once
// Message type codes and what the protocol says about each: the one table the rest derives from. The table in
// docs/protocol.md lists the same codes and names (checked by a test).
#include <array>
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

// What the broker does with a frame of this type from a client (docs/protocol.md, "How errors are answered").
enum class FromClient : std::uint8_t {
    refused,       // not a client message (a reply, notification to clients, event, worker message): ERROR
    request,       // answered by the broker itself, in the request's reply type
    room_request,  // forwarded to the room's worker, answered in the request's reply type
    notification,  // never answered, even to say it was bad
};

struct MsgTypeInfo {
    MsgType type;
    std::string_view name;  // as in docs/protocol.md
    FromClient from_client = FromClient::refused;
    MsgType reply = MsgType::error;  // the type an answer about this one travels in
};

inline constexpr std::array kMsgTypes{
    MsgTypeInfo{MsgType::error, "ERROR"},
    MsgTypeInfo{MsgType::hello, "HELLO", FromClient::request, MsgType::hello_reply},
    MsgTypeInfo{MsgType::hello_reply, "HELLO_REPLY"},
    MsgTypeInfo{MsgType::register_nick, "REGISTER", FromClient::request, MsgType::register_reply},
    MsgTypeInfo{MsgType::register_reply, "REGISTER_REPLY"},
    MsgTypeInfo{MsgType::unregister, "UNREGISTER", FromClient::request, MsgType::unregister_reply},
    MsgTypeInfo{MsgType::unregister_reply, "UNREGISTER_REPLY"},
    MsgTypeInfo{MsgType::join, "JOIN", FromClient::room_request, MsgType::join_reply},
    MsgTypeInfo{MsgType::join_reply, "JOIN_REPLY"},
    MsgTypeInfo{MsgType::leave, "LEAVE", FromClient::room_request, MsgType::leave_reply},
    MsgTypeInfo{MsgType::leave_reply, "LEAVE_REPLY"},
    MsgTypeInfo{MsgType::send, "SEND", FromClient::room_request, MsgType::send_reply},
    MsgTypeInfo{MsgType::send_reply, "SEND_REPLY"},
    MsgTypeInfo{MsgType::dm, "DM", FromClient::request, MsgType::dm_reply},
    MsgTypeInfo{MsgType::dm_reply, "DM_REPLY"},
    // WHO and HISTORY are read from the broker's copy of the room (docs/architecture.md, "Reads from the
    // broker's copy"); a worker sees them only in a restart's recovery window.
    MsgTypeInfo{MsgType::who, "WHO", FromClient::request, MsgType::who_reply},
    MsgTypeInfo{MsgType::who_reply, "WHO_REPLY"},
    MsgTypeInfo{MsgType::rooms, "ROOMS", FromClient::request, MsgType::rooms_reply},
    MsgTypeInfo{MsgType::rooms_reply, "ROOMS_REPLY"},
    MsgTypeInfo{MsgType::history, "HISTORY", FromClient::request, MsgType::history_reply},
    MsgTypeInfo{MsgType::history_reply, "HISTORY_REPLY"},
    MsgTypeInfo{MsgType::listen, "LISTEN", FromClient::request, MsgType::listen_reply},
    MsgTypeInfo{MsgType::listen_reply, "LISTEN_REPLY"},
    MsgTypeInfo{MsgType::ping, "PING", FromClient::request, MsgType::ping_reply},
    MsgTypeInfo{MsgType::ping_reply, "PING_REPLY"},
    MsgTypeInfo{MsgType::status, "STATUS", FromClient::request, MsgType::status_reply},
    MsgTypeInfo{MsgType::status_reply, "STATUS_REPLY"},
    MsgTypeInfo{MsgType::dm_ack, "DM_ACK", FromClient::notification},
    MsgTypeInfo{MsgType::unlisten, "UNLISTEN", FromClient::notification},
    MsgTypeInfo{MsgType::dm_deliver, "DM_DELIVER"},
    MsgTypeInfo{MsgType::membership, "MEMBERSHIP"},
    MsgTypeInfo{MsgType::listen_end, "LISTEN_END"},
    MsgTypeInfo{MsgType::w_ready, "W_READY"},
    MsgTypeInfo{MsgType::w_welcome, "W_WELCOME"},
    MsgTypeInfo{MsgType::w_heartbeat, "W_HEARTBEAT"},
    MsgTypeInfo{MsgType::w_disconnect, "W_DISCONNECT"},
    MsgTypeInfo{MsgType::w_request, "W_REQUEST"},
    MsgTypeInfo{MsgType::w_reply, "W_REPLY"},
    MsgTypeInfo{MsgType::w_state, "W_STATE"},
    MsgTypeInfo{MsgType::w_release, "W_RELEASE"},
    MsgTypeInfo{MsgType::event, "EVENT"},
    MsgTypeInfo{MsgType::sync, "SYNC"},
};

namespace detail {
// Every frame's type is looked up: one load instead of a scan of kMsgTypes. Index + 1; 0 for an unknown code.
inline constexpr std::array<std::uint8_t, 256> kMsgTypeSlot = [] {
    std::array<std::uint8_t, 256> slot{};
    for (std::size_t i = 0; i < kMsgTypes.size(); ++i) {
        slot[static_cast<std::uint8_t>(kMsgTypes[i].type)] = static_cast<std::uint8_t>(i + 1);
    }
    return slot;
}();
}  // namespace detail

// nullptr for a code that is no message type.
constexpr const MsgTypeInfo* msg_type_info(MsgType t) {
    const std::uint8_t slot = detail::kMsgTypeSlot[static_cast<std::uint8_t>(t)];
    return slot == 0 ? nullptr : &kMsgTypes[slot - 1];
}

constexpr std::span<const MsgTypeInfo> all_message_types() {
    return kMsgTypes;
}
std::optional<MsgType> msg_type_from_wire(std::uint8_t code);
std::string_view msg_type_name(MsgType t);

// The table's row of `t`, by index: UBSan's pointer checks make a pointer into kMsgTypes no constant
// expression for GCC, so the constexpr facts below read the row through its index, not msg_type_info().
constexpr std::uint8_t msg_type_slot(MsgType t) {
    return detail::kMsgTypeSlot[static_cast<std::uint8_t>(t)];
}

constexpr FromClient from_client(MsgType t) {
    const std::uint8_t slot = msg_type_slot(t);
    return slot == 0 ? FromClient::refused : kMsgTypes[slot - 1].from_client;
}

// The client requests that have a reply (HELLO ... STATUS): an error about one travels in its reply type
// (docs/protocol.md, "How errors are answered"); about anything else, in ERROR or not at all.
constexpr bool has_reply(MsgType t) {
    const FromClient f = from_client(t);
    return f == FromClient::request || f == FromClient::room_request;
}

// What a client sends that has no reply (DM_ACK, UNLISTEN): never answered, even to say it was bad.
constexpr bool is_client_notification(MsgType t) {
    return from_client(t) == FromClient::notification;
}

// The requests the broker forwards to the worker that owns the room (docs/protocol.md, "Worker channel").
constexpr bool is_room_request(MsgType t) {
    return from_client(t) == FromClient::room_request;
}

// A request's reply type; ERROR for any other type.
constexpr MsgType reply_type_of(MsgType t) {
    const std::uint8_t slot = msg_type_slot(t);
    return slot == 0 ? MsgType::error : kMsgTypes[slot - 1].reply;
}

// What answers a client's request: a reply type or ERROR. Anything else a client gets is a notification.
constexpr bool is_reply(MsgType t) {
    if (t == MsgType::error) return true;
    for (const auto& info : kMsgTypes) {
        if (has_reply(info.type) && info.reply == t) return true;
    }
    return false;
}

// The table spells out each reply type; docs/protocol.md gives the rule: the request's code plus 0x80.
static_assert([] {
    for (const auto& info : kMsgTypes) {
        const auto code = static_cast<std::uint8_t>(info.type);
        const MsgType rule = has_reply(info.type) ? static_cast<MsgType>(code | 0x80) : MsgType::error;
        if (info.reply != rule) return false;
    }
    return true;
}());

}  // namespace chatbus
