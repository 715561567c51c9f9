#include "cli/event_socket.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/curve.hpp"

namespace chatbus::cli {
namespace {

std::string random_nonce() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::uniform_int_distribution<int> pick(0, 35);
    std::string s;
    for (int i = 0; i < 16; ++i) s.push_back(kAlphabet[pick(rd)]);
    return s;
}

}  // namespace

EventSocket::EventSocket(Client& client) : sub_(client.context(), zmq::socket_type::sub) {
    sub_.set(zmq::sockopt::linger, 0);
    make_curve_client(sub_, client.curve());
    sub_.set(zmq::sockopt::rcvhwm, 100000);
}

void EventSocket::connect(const std::string& endpoint) {
    if (!endpoint_.empty()) {
        try {
            sub_.disconnect(endpoint_);
        } catch (const zmq::error_t&) {
        }
    }
    sub_.connect(endpoint);
    endpoint_ = endpoint;
}

void EventSocket::follow(const std::string& room) {
    sub_.set(zmq::sockopt::subscribe, room_topic(room));
}

void EventSocket::unfollow(const std::string& room) {
    sub_.set(zmq::sockopt::unsubscribe, room_topic(room));
}

std::optional<std::string> EventSocket::next_frame() {
    zmq::message_t m;
    try {
        if (!sub_.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    } catch (const zmq::error_t&) {
        return std::nullopt;
    }
    return std::string(m.data<char>(), m.size());
}

EventSocket::SyncResult EventSocket::sync(std::chrono::milliseconds timeout, int wake_fd,
                                          const std::atomic<bool>& stop,
                                          const std::function<void(Event)>& on_event) {
    const std::string nonce = random_nonce();
    const std::string topic = sync_topic(nonce);
    sub_.set(zmq::sockopt::subscribe, topic);
    const std::int64_t deadline = mono_ms() + timeout.count();
    SyncResult result = SyncResult::timeout;
    while (result == SyncResult::timeout) {
        if (stop) {
            result = SyncResult::stopped;
            break;
        }
        std::int64_t left = deadline - mono_ms();
        if (left <= 0) break;
        zmq::pollitem_t items[] = {{sub_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_fd, ZMQ_POLLIN, 0}};
        try {
            zmq::poll(items, 2, std::chrono::milliseconds(left));
        } catch (const zmq::error_t&) {
            continue;  // EINTR: re-check the stop flag
        }
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        while (auto frame = next_frame()) {
            Decoded d;
            if (decode_topic_frame(*frame, d) != Status::ok) continue;
            if (d.type == MsgType::sync) {
                Sync s;
                if (body_as(d, s) == Status::ok && s.nonce == nonce) {
                    result = SyncResult::ok;
                    break;
                }
            } else if (d.type == MsgType::event) {
                Event e;
                if (body_as(d, e) == Status::ok) on_event(std::move(e));
            }
        }
    }
    sub_.set(zmq::sockopt::unsubscribe, topic);
    return result;
}

void EventSocket::drain(std::size_t max_frames, const std::function<bool(const Event&)>& on_event) {
    for (std::size_t i = 0; i < max_frames; ++i) {
        auto frame = next_frame();
        if (!frame) return;
        Decoded d;
        if (Status s = decode_topic_frame(*frame, d); s != Status::ok) {
            spdlog::debug("ignoring undecodable event frame ({})", status_name(s));
            continue;
        }
        if (d.type != MsgType::event) continue;  // late SYNCs of earlier nonces
        Event e;
        if (body_as(d, e) != Status::ok) {
            spdlog::debug("ignoring malformed event");
            continue;
        }
        if (!on_event(e)) return;
    }
}

}  // namespace chatbus::cli
