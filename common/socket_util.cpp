#include "common/socket_util.hpp"

#include <cerrno>

namespace chatbus {

namespace {

// A signal can interrupt even a non-blocking receive (libzmq first reads its internal command pipe, and that
// read can be interrupted); nothing was taken from the socket then, so receiving again is safe. Found by fuzz_broker, whose
// libFuzzer timer signals hit the harness's sockets.
bool recv_retrying(zmq::socket_t& s, zmq::message_t& m) {
    while (true) {
        try {
            return s.recv(m, zmq::recv_flags::dontwait).has_value();
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) throw;
        }
    }
}

}  // namespace

bool recv_multipart(zmq::socket_t& s, std::vector<zmq::message_t>& parts) {
    parts.clear();
    while (true) {
        zmq::message_t m;
        if (!recv_retrying(s, m)) return !parts.empty();
        bool more = m.more();
        parts.push_back(std::move(m));
        if (!more) return true;
    }
}

bool send_frames(zmq::socket_t& s, std::initializer_list<std::string_view> frames) {
    std::size_t i = 0;
    try {
        for (auto f : frames) {
            auto flags = (++i < frames.size()) ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                               : zmq::send_flags::dontwait;
            if (!s.send(zmq::const_buffer(f.data(), f.size()), flags)) return false;
        }
    } catch (const zmq::error_t&) {
        // EHOSTUNREACH from ROUTER_MANDATORY: the peer left.
        return false;
    }
    return true;
}

bool send_routed(zmq::socket_t& s, std::string_view routing_id, zmq::message_t& frame) {
    try {
        if (!s.send(zmq::const_buffer(routing_id.data(), routing_id.size()),
                    zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
            return false;
        }
        return s.send(frame, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
        return false;
    }
}

std::string last_endpoint(zmq::socket_t& s) {
    return s.get(zmq::sockopt::last_endpoint);
}

}  // namespace chatbus
