#pragma once
// SEND as the broker reads it: rid, nick, token and room, with the texts checked for type but not copied.
// The broker forwards the request frame to the worker as it came, so copying up to max_batch texts into
// strings only to drop them was most of what a SEND cost the broker.
#include <cstdint>
#include <string>
#include <string_view>

#include "codec.hpp"
#include "messages.hpp"

namespace chatbus {

// `texts` as the broker sees it: an array of msgpack str (as read_field() takes a std::string), left in place.
struct UncopiedTexts {
    std::uint32_t count = 0;
};

}  // namespace chatbus

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
    namespace adaptor {
    // Refuses what converting to std::vector<std::string> would refuse, without the copies.
    template <>
    struct convert<chatbus::UncopiedTexts> {
        const msgpack::object& operator()(const msgpack::object& o, chatbus::UncopiedTexts& v) const {
            if (o.type != msgpack::type::ARRAY) throw msgpack::type_error();
            for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
                auto t = o.via.array.ptr[i].type;
                if (t != msgpack::type::STR) throw msgpack::type_error();
            }
            v.count = o.via.array.size;
            return o;
        }
    };
    }  // namespace adaptor
}
}  // namespace msgpack

namespace chatbus {

struct SendHead {
    static constexpr MsgType kType = Send::kType;
    using Reply = Send::Reply;
    std::uint64_t rid = 0;
    std::string nick, token, room;
    UncopiedTexts texts;
    MSGPACK_DEFINE_MAP(rid, nick, token, room, texts)
};

// The request frame with `nick` replaced (the registered spelling), for the worker.
template <class Req>
std::string with_nick(const Req& r, std::string_view /*raw*/, const std::string& nick) {
    Req copy = r;
    copy.nick = nick;
    return encode(copy);
}

// A SendHead does not hold the texts: the frame is decoded again, whole (rare: a nick spelled differently
// from its registration). Empty if it does not decode, which cannot happen for a frame the head came from.
inline std::string with_nick(const SendHead&, std::string_view raw, const std::string& nick) {
    Send full;
    if (decode_as(raw, full) != Status::ok) return {};
    full.nick = nick;
    return encode(full);
}

}  // namespace chatbus
