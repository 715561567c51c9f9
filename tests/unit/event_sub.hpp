#pragma once
// A SUB on the broker's events endpoint following one room, for the in-process tests: subscribed to the room
// and then to a sync mark, so that once next() returns the mark every later event of the room will arrive.
#include <chrono>
#include <string>

#include <zmq.hpp>

#include "common/codec.hpp"
#include "common/socket_util.hpp"

struct EventSub {
    zmq::context_t ctx;
    zmq::socket_t sub{ctx, zmq::socket_type::sub};

    EventSub(const std::string& endpoint, const std::string& room, const std::string& nonce) {
        sub.set(zmq::sockopt::linger, 0);
        sub.connect(endpoint);
        sub.set(zmq::sockopt::subscribe, chatbus::room_topic(room));
        sub.set(zmq::sockopt::subscribe, chatbus::sync_topic(nonce));
    }
    // The next frame (topic included), or "" when none came within 3 s.
    std::string next() {
        zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(3000)) == 0) return {};
        zmq::message_t m;
        (void)sub.recv(m);
        return std::string(chatbus::view(m));
    }
};
