// Answers to clients: errors in the request's own reply type (docs/protocol.md, "How errors are answered").
#include "client_replies.hpp"

#include "socket_util.hpp"

namespace chatbus {

bool Broker::send_to_client(const std::string& client, std::string_view frame) {
    if (send_frames(client_, {client, frame})) return true;
    ++stats_.dropped.unroutable;
    return false;
}

namespace {

// The reply struct for a request type, so an error can be sent in the request's own reply type.
template <class F>
bool with_reply_type(MsgType request, F&& f) {
    switch (request) {
        case MsgType::hello:
            return f(HelloReply{}), true;
        case MsgType::register_nick:
            return f(RegisterReply{}), true;
        case MsgType::unregister:
            return f(UnregisterReply{}), true;
        case MsgType::join:
            return f(JoinReply{}), true;
        case MsgType::leave:
            return f(LeaveReply{}), true;
        case MsgType::send:
            return f(SendReply{}), true;
        case MsgType::dm:
            return f(DmReply{}), true;
        case MsgType::who:
            return f(WhoReply{}), true;
        case MsgType::rooms:
            return f(RoomsReply{}), true;
        case MsgType::history:
            return f(HistoryReply{}), true;
        case MsgType::listen:
            return f(ListenReply{}), true;
        case MsgType::ping:
            return f(PingReply{}), true;
        case MsgType::status:
            return f(StatusReply{}), true;
        default:
            return false;
    }
}

}  // namespace

void Broker::reply_error(const std::string& client, MsgType request_type, std::uint64_t rid, Status s,
                         std::string_view detail) {
    bool typed = with_reply_type(request_type, [&](auto rep) {
        rep.rid = rid;
        reply(client, std::move(rep), s, detail);
    });
    if (!typed) reply(client, ErrorReply{rid}, s, detail);
}

void Broker::reply_error_to(const std::string& client, std::string_view frame, Status s,
                            std::string_view detail) {
    std::optional<MsgType> t = frame_type(frame);
    reply_error(client, t && has_reply(*t) ? *t : MsgType::error, frame_rid(frame), s, detail);
}

}  // namespace chatbus
