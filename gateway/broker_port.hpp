#pragma once
// What the gateway's logic needs from its broker connection (BrokerLink implements it with a DEALER and a
// SUB socket; tests with a recording fake).
#include <string_view>

namespace chatbus::gateway {

class BrokerPort {
  public:
    virtual ~BrokerPort() = default;
    // One frame to the client endpoint. False when it cannot be sent now (no connection to the broker).
    virtual bool send(std::string_view frame) = 0;
    // Subscriptions of the events socket (protocol.md, "Events"): whole topics, zero byte included.
    virtual void subscribe(std::string_view topic) = 0;
    virtual void unsubscribe(std::string_view topic) = 0;
    // The events endpoint HELLO_REPLY named (as the broker advertises it); the link connects to it once, and
    // again when it changes, keeping the subscriptions.
    virtual void connect_events(std::string_view endpoint) = 0;
};

}  // namespace chatbus::gateway
