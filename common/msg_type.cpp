#include "common/msg_type.hpp"

namespace chatbus {

std::optional<MsgType> msg_type_from_wire(std::uint8_t code) {
    if (!msg_type_info(static_cast<MsgType>(code))) return std::nullopt;
    return static_cast<MsgType>(code);
}

std::string_view msg_type_name(MsgType type) {
    const MsgTypeInfo* info = msg_type_info(type);
    return info ? info->name : "?";
}

}  // namespace chatbus
