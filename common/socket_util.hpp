#pragma once
// Small helpers around cppzmq used by every process's poll loop.
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace chatbus {

// Receives one whole multipart message without blocking. Returns false when none is waiting.
bool recv_multipart(zmq::socket_t& s, std::vector<zmq::message_t>& parts);

inline std::string_view view(const zmq::message_t& m) {
    return {m.data<char>(), m.size()};
}

// Sends frames without blocking; false when the peer is gone or the queue is full (the caller counts it).
bool send_frames(zmq::socket_t& s, std::initializer_list<std::string_view> frames);

// Sends [routing id][frame] on a ROUTER without blocking, moving `frame` instead of copying it (it is empty
// afterwards, whether or not the send succeeded). False as send_frames().
bool send_routed(zmq::socket_t& s, std::string_view routing_id, zmq::message_t& frame);

// The endpoint a socket actually bound (resolves "tcp://127.0.0.1:*").
std::string last_endpoint(zmq::socket_t& s);

}  // namespace chatbus
