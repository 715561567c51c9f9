#include "cli/client.hpp"

#include <cerrno>
#include <random>

#include <spdlog/spdlog.h>

#include "common/clock.hpp"

namespace chatbus::cli {
namespace {

std::chrono::milliseconds remaining(std::int64_t deadline) {
    return std::chrono::milliseconds(std::max<std::int64_t>(0, deadline - mono_ms()));
}

}  // namespace

Client::Client(std::string broker_endpoint, std::chrono::milliseconds timeout, CurveClientKeys curve)
    : endpoint_(std::move(broker_endpoint)),
      timeout_(timeout),
      ctx_(1),
      sock_(ctx_, zmq::socket_type::dealer),
      curve_(std::move(curve)) {
    // A command that gave up must exit at once, not wait to flush requests to a broker that is not there.
    sock_.set(zmq::sockopt::linger, 0);
    // A broker with another key fails the handshake: requests then time out (exit 5), they never hang.
    make_curve_client(sock_, curve_);
    sock_.connect(endpoint_);
    // Random start: a broker that remembers rids per connection never confuses two runs of chatctl.
    std::random_device rd;
    rid_ = (static_cast<std::uint64_t>(rd()) << 20) | 1;
}

bool Client::send_frame(const std::string& frame) {
    try {
        return sock_.send(zmq::const_buffer(frame.data(), frame.size()), zmq::send_flags::dontwait)
            .has_value();
    } catch (const zmq::error_t& e) {
        spdlog::debug("send failed: {}", e.what());
        return false;
    }
}

std::optional<std::string> Client::recv_frame(std::chrono::milliseconds wait) {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    try {
        if (wait.count() > 0 && zmq::poll(&item, 1, wait) == 0) return std::nullopt;
        zmq::message_t m;
        if (!sock_.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
        // Everything on the client endpoint is one frame; drain any stray extra parts so they cannot be
        // mistaken for the next message.
        std::string frame(m.data<char>(), m.size());
        while (m.more()) {
            if (!sock_.recv(m, zmq::recv_flags::dontwait)) break;
        }
        return frame;
    } catch (const zmq::error_t& e) {
        // EINTR (a signal): the caller re-checks its deadline and its stop flag.
        if (e.num() != EINTR) spdlog::debug("recv failed: {}", e.what());
        return std::nullopt;
    }
}

Outcome Client::roundtrip(const std::string& frame, std::uint64_t rid, MsgType reply_type, std::string& reply,
                          std::chrono::milliseconds timeout) {
    const std::int64_t deadline = mono_ms() + timeout.count();
    Outcome o;
    // connect() queues messages for a peer not yet reachable, so this fails only when the queue is full.
    while (!send_frame(frame)) {
        if (mono_ms() >= deadline) return o;
        zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLOUT, 0};
        try {
            zmq::poll(&item, 1, remaining(deadline));
        } catch (const zmq::error_t&) {
        }
    }
    // Past the deadline only what is already waiting is read, and only so much of it, so a flood of
    // notifications cannot hold the caller beyond its timeout.
    int late = 0;
    while (true) {
        auto wait = remaining(deadline);
        auto got = recv_frame(wait);
        if (!got) {
            if (wait.count() == 0) return o;
            continue;
        }
        Decoded d;
        Status s = decode(*got, d);
        if (s != Status::ok) {
            spdlog::debug("ignoring undecodable frame from the broker ({})", status_name(s));
        } else if (d.type == reply_type && peek_rid(d) == rid) {
            reply = std::move(*got);
            o.transport = Transport::ok;
            return o;
        } else if (!is_reply(d.type)) {
            queued_.push_back(std::move(*got));
        } else {
            spdlog::debug("discarding stale reply {} rid {}", msg_type_name(d.type), peek_rid(d));
        }
        if (wait.count() == 0 && ++late > 1000) return o;
    }
}

std::optional<std::string> Client::poll_notification(std::chrono::milliseconds wait) {
    const std::int64_t deadline = mono_ms() + wait.count();
    while (true) {
        if (!queued_.empty()) {
            std::string f = std::move(queued_.front());
            queued_.pop_front();
            return f;
        }
        auto got = recv_frame(remaining(deadline));
        if (got) {
            Decoded d;
            if (decode(*got, d) != Status::ok) {
                spdlog::debug("ignoring undecodable frame from the broker");
            } else if (is_reply(d.type)) {
                spdlog::debug("discarding stale reply {} rid {}", msg_type_name(d.type), peek_rid(d));
            } else {
                return got;
            }
            continue;
        }
        if (mono_ms() >= deadline) return std::nullopt;
    }
}

}  // namespace chatbus::cli
