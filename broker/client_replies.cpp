// Answers to clients: errors in the request's own reply type (docs/protocol.md, "How errors are answered").
#include "broker/client_replies.hpp"

#include "common/requests.hpp"
#include "common/socket_util.hpp"

namespace chatbus {

bool Broker::send_to_client(const std::string& client, std::string_view frame) {
    if (send_frames(client_, {client, frame})) return true;
    ++stats_.dropped.unroutable;
    return false;
}

void Broker::reply_error(const std::string& client, MsgType request_type, std::uint64_t rid, Status s,
                         std::string_view detail) {
    bool typed = with_reply_of(request_type, [&](auto rep) {
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
