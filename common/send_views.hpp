#pragma once
// SEND read without copying its texts, for the two hot paths that see every SEND. The broker forwards the
// frame as it came, so copying up to max_batch texts into strings only to drop them was most of what a SEND
// cost it (SendHead). The worker copies each text once, into the room's history, not first into the request
// (SendView: views into the decoded frame's zone, valid while it lives).
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/messages.hpp"

namespace chatbus {

// `texts` as the broker sees it: an array of msgpack str (as read_field() takes a std::string), left in
// place.
struct UncopiedTexts {
    std::uint32_t count = 0;
    bool operator==(const UncopiedTexts&) const = default;
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

using SendHead = BasicSend<UncopiedTexts>;
using SendView = BasicSend<std::vector<std::string_view>>;

}  // namespace chatbus
