#pragma once
// A request frame with `nick` replaced by the registered spelling, for the worker (rare: workers show the
// nick as they get it, and a client may spell it differently from its registration).
#include <string>
#include <string_view>

#include "common/codec.hpp"
#include "common/messages.hpp"
#include "common/send_views.hpp"

namespace chatbus {

template <class Req>
std::string with_nick(const Req& r, std::string_view /*raw*/, const std::string& nick) {
    Req copy = r;
    copy.nick = nick;
    return encode(copy);
}

// A SendHead does not hold the texts: the frame is decoded again, whole. Empty if it does not decode, which
// cannot happen for a frame the head came from.
inline std::string with_nick(const SendHead&, std::string_view raw, const std::string& nick) {
    Send full;
    if (decode_as(raw, full) != Status::ok) return {};
    full.nick = nick;
    return encode(full);
}

}  // namespace chatbus
