#include "worker/request_handler.hpp"

#include "common/codec.hpp"
#include "common/status.hpp"

namespace chatbus {
namespace {

// The fields every reply shares; used when the request could not be read as its own struct.
struct ErrorBody {
    std::uint64_t rid = 0, status = 0;
    std::string error;
    MSGPACK_DEFINE_MAP(rid, status, error)
};

std::string encode_error(MsgType reply_type, std::uint64_t rid, Status s, std::string_view detail = {}) {
    ErrorBody body{rid, static_cast<std::uint64_t>(s), std::string(status_message(s))};
    if (!detail.empty()) {
        body.error.append(": ").append(detail);
    }
    // encode() takes the type from the struct; here it depends on the request, so the header is written by
    // hand.
    std::string out{kSignature0, kSignature1, static_cast<char>(kProtocolVersion),
                    static_cast<char>(reply_type)};
    struct Writer {
        std::string& s;
        void write(const char* p, std::size_t n) { s.append(p, n); }
    } w{out};
    msgpack::pack(w, body);
    return out;
}

template <class Req, class Fn>
std::string run(const Decoded& d, Fn&& fn) {
    Req req;
    if (Status s = body_as(d, req); s != Status::ok) {
        return encode_error(reply_type_of(Req::kType), peek_rid(d), s);
    }
    return encode(fn(req));
}

}  // namespace

std::optional<std::string> handle_request(RoomTable& table, std::string_view frame,
                                          std::vector<Event>& events) {
    Decoded d;
    Status s = decode(frame, d);
    if (s != Status::ok) {
        // The rules of docs/protocol.md ("How errors are answered"), except that what they answer with ERROR
        // is dropped: the broker answers such frames itself and never forwards one.
        std::optional<MsgType> type = frame_type(frame);
        if (!type || !has_reply(*type)) {
            return std::nullopt;
        }
        return encode_error(reply_type_of(*type), frame_rid(frame), s);
    }
    switch (d.type) {
        case MsgType::join:
            return run<Join>(d, [&](const Join& r) { return table.join(r, events); });
        case MsgType::leave:
            return run<Leave>(d, [&](const Leave& r) { return table.leave(r, events); });
        case MsgType::send:
            // Views: the texts are copied once, into the room's history, not first into the request.
            return run<SendView>(d, [&](const SendView& r) { return table.send(r, events); });
        case MsgType::who:
            return run<Who>(d, [&](const Who& r) { return table.who(r); });
        case MsgType::history:
            return run<History>(d, [&](const History& r) { return table.history(r); });
        default:
            break;
    }
    // A request type the broker should have kept for itself; still answered so the client is not left
    // waiting.
    if (!has_reply(d.type)) {
        return std::nullopt;
    }
    return encode_error(reply_type_of(d.type), peek_rid(d), Status::unknown_type, "not a worker request");
}

}  // namespace chatbus
