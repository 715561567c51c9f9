#include "msg_type.hpp"

#include <array>

namespace chatbus {
namespace {

constexpr std::array kTypes{
    MsgTypeInfo{MsgType::error, "ERROR"},
    MsgTypeInfo{MsgType::hello, "HELLO"},
    MsgTypeInfo{MsgType::hello_reply, "HELLO_REPLY"},
    MsgTypeInfo{MsgType::register_nick, "REGISTER"},
    MsgTypeInfo{MsgType::register_reply, "REGISTER_REPLY"},
    MsgTypeInfo{MsgType::unregister, "UNREGISTER"},
    MsgTypeInfo{MsgType::unregister_reply, "UNREGISTER_REPLY"},
    MsgTypeInfo{MsgType::join, "JOIN"},
    MsgTypeInfo{MsgType::join_reply, "JOIN_REPLY"},
    MsgTypeInfo{MsgType::leave, "LEAVE"},
    MsgTypeInfo{MsgType::leave_reply, "LEAVE_REPLY"},
    MsgTypeInfo{MsgType::send, "SEND"},
    MsgTypeInfo{MsgType::send_reply, "SEND_REPLY"},
    MsgTypeInfo{MsgType::dm, "DM"},
    MsgTypeInfo{MsgType::dm_reply, "DM_REPLY"},
    MsgTypeInfo{MsgType::who, "WHO"},
    MsgTypeInfo{MsgType::who_reply, "WHO_REPLY"},
    MsgTypeInfo{MsgType::rooms, "ROOMS"},
    MsgTypeInfo{MsgType::rooms_reply, "ROOMS_REPLY"},
    MsgTypeInfo{MsgType::history, "HISTORY"},
    MsgTypeInfo{MsgType::history_reply, "HISTORY_REPLY"},
    MsgTypeInfo{MsgType::listen, "LISTEN"},
    MsgTypeInfo{MsgType::listen_reply, "LISTEN_REPLY"},
    MsgTypeInfo{MsgType::ping, "PING"},
    MsgTypeInfo{MsgType::ping_reply, "PING_REPLY"},
    MsgTypeInfo{MsgType::status, "STATUS"},
    MsgTypeInfo{MsgType::status_reply, "STATUS_REPLY"},
    MsgTypeInfo{MsgType::dm_ack, "DM_ACK"},
    MsgTypeInfo{MsgType::unlisten, "UNLISTEN"},
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

// Every frame's type byte is looked up: one load instead of a scan of kTypes. true marks a known code.
constexpr std::array<bool, 256> kKnown = [] {
    std::array<bool, 256> known{};
    for (const auto& t : kTypes) known[static_cast<std::uint8_t>(t.type)] = true;
    return known;
}();

}  // namespace

std::span<const MsgTypeInfo> all_message_types() {
    return kTypes;
}

std::optional<MsgType> msg_type_from_wire(std::uint8_t code) {
    if (!kKnown[code]) return std::nullopt;
    return static_cast<MsgType>(code);
}

std::string_view msg_type_name(MsgType type) {
    for (const auto& t : kTypes) {
        if (t.type == type) return t.name;
    }
    return "?";
}

}  // namespace chatbus
