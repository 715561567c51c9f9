#pragma once
// Request/reply with the broker over one DEALER, never blocking past a deadline. The same socket carries a
// listener's notifications (DM_DELIVER, MEMBERSHIP, LISTEN_END), which can arrive while a reply is awaited:
// those are queued for poll_notification() rather than dropped.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "common/codec.hpp"
#include "common/curve.hpp"
#include "common/requests.hpp"
#include "common/status.hpp"

namespace chatbus::cli {

enum class Transport { ok, timeout };

struct Outcome {
    Transport transport = Transport::timeout;
    Status status = Status::internal;  // meaningful when transport is ok
    std::string error;                 // the server's one-line message, empty on success
    bool ok() const { return transport == Transport::ok && status == Status::ok; }
};

class Client {
  public:
    // With `curve` enabled, the socket is a CURVE client of the broker (and so is a listener's SUB).
    Client(std::string broker_endpoint, std::chrono::milliseconds timeout, CurveClientKeys curve = {});
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const std::string& endpoint() const { return endpoint_; }
    std::chrono::milliseconds timeout() const { return timeout_; }
    zmq::context_t& context() { return ctx_; }
    const CurveClientKeys& curve() const { return curve_; }
    // For poll loops: readable means poll_notification(0) may have something (queued ones do not wake it,
    // check has_queued() first).
    zmq::socket_t& socket() { return sock_; }

    // Sends `req` with a fresh rid and waits up to the client's timeout for the reply with that rid.
    template <class Req>
    Outcome request(Req req, reply_of_t<Req>& reply) {
        return request(std::move(req), reply, timeout_);
    }

    template <class Req>
    Outcome request(Req req, reply_of_t<Req>& reply, std::chrono::milliseconds timeout) {
        req.rid = next_rid();
        std::string frame;
        Outcome o = roundtrip(encode(req), req.rid, reply_of_t<Req>::kType, frame, timeout);
        if (o.transport != Transport::ok) return o;
        if (Status s = decode_as(frame, reply); s != Status::ok) {
            o.status = Status::bad_request;
            o.error = "malformed reply from the broker";
            return o;
        }
        o.status = status_from_wire(reply.status);
        o.error = reply.error;
        return o;
    }

    // Fire-and-forget messages (DM_ACK, UNLISTEN). False if it could not be queued.
    template <class Msg>
    bool notify(const Msg& msg) {
        return send_frame(encode(msg));
    }

    // The next notification frame (anything that is not a reply), waiting up to `wait`. Replies to requests
    // that already timed out are discarded here.
    std::optional<std::string> poll_notification(std::chrono::milliseconds wait);
    bool has_queued() const { return !queued_.empty(); }

    std::uint64_t next_rid() { return ++rid_; }

  private:
    bool send_frame(const std::string& frame);
    Outcome roundtrip(const std::string& frame, std::uint64_t rid, MsgType reply_type, std::string& reply,
                      std::chrono::milliseconds timeout);
    // Receives one frame waiting at most `wait`; nullopt when none arrived.
    std::optional<std::string> recv_frame(std::chrono::milliseconds wait);

    std::string endpoint_;
    std::chrono::milliseconds timeout_;
    zmq::context_t ctx_;
    zmq::socket_t sock_;
    std::uint64_t rid_;
    std::deque<std::string> queued_;
    CurveClientKeys curve_;
};

}  // namespace chatbus::cli
