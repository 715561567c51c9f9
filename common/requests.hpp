#pragma once
// The client requests that have a reply, as one list: the broker answers an error about any of them in its
// reply type, found from the type code here rather than from a second request-to-reply table.
#include <cstddef>

#include "common/messages.hpp"
#include "common/msg_type.hpp"

namespace chatbus {

template <class... T>
struct TypeList {};

using ClientRequests = TypeList<Hello, Register, Unregister, Join, Leave, Send, Dm, Who, Rooms, History,
                                Listen, Ping, StatusRequest>;

template <class Req>
using reply_of_t = typename Req::Reply;

// Calls f(R{}) with R the reply struct of `request`; false, not calling f, for a type with no reply.
template <class F>
bool with_reply_of(MsgType request, F&& f) {
    return [&]<class... Req>(TypeList<Req...>) {
        return ((request == Req::kType && (f(reply_of_t<Req>{}), true)) || ...);
    }(ClientRequests{});
}

// Each struct's reply agrees with msg_type.hpp's table, and the list holds every request the table has.
static_assert([]<class... Req>(TypeList<Req...>) {
    std::size_t requests = 0;
    for (const auto& info : kMsgTypes) requests += has_reply(info.type);
    return sizeof...(Req) == requests && ((reply_type_of(Req::kType) == reply_of_t<Req>::kType) && ...);
}(ClientRequests{}));

}  // namespace chatbus
