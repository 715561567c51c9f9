// The events socket: sync marks for subscribers. (Events themselves are published by worker_channel.cpp.)
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "common/names.hpp"

namespace chatbus {

void Broker::on_subscription() {
    zmq::message_t m;
    while (xpub_.recv(m, zmq::recv_flags::dontwait)) {
        std::string_view s(m.data<char>(), m.size());
        // Subscribe messages are 0x01 + topic. A sync subscription asks us to prove, by publishing on it,
        // that this subscriber's earlier subscriptions have reached the XPUB.
        if (s.size() < 2 || s[0] != 1 || !s.substr(1).starts_with(kSyncTopicPrefix) || s.back() != '\0')
            continue;
        std::string_view nonce = s.substr(1 + kSyncTopicPrefix.size());
        nonce.remove_suffix(1);
        if (nonce.empty() || nonce.size() > 64 || !valid_room(nonce)) continue;
        xpub_.send(zmq::buffer(encode_with_topic(s.substr(1), Sync{std::string(nonce)})),
                   zmq::send_flags::dontwait);
    }
}

}  // namespace chatbus
