#pragma once
// The gateway's connection to the broker: one DEALER on the client endpoint for every session's requests and
// the nicks' notifications, one SUB on the events endpoint for every followed room. Both sockets are watched
// by the gateway's one Asio loop through their ZMQ_FD, so a frame is handled on the thread that reads MQTT
// connections: no hand-off between threads per message.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <zmq.hpp>

#include "common/curve.hpp"
#include "gateway/broker_port.hpp"

namespace chatbus::gateway {

class BrokerLink : public BrokerPort {
  public:
    using Handler = std::function<void(std::string_view frame)>;

    BrokerLink(boost::asio::io_context& io, zmq::context_t& ctx, std::string broker_endpoint, CurveClientKeys keys);
    ~BrokerLink() override;
    // `on_reply`: frames of the DEALER; `on_event`: frames of the SUB (topic included).
    void start(Handler on_reply, Handler on_event);

    bool send(std::string_view frame) override;
    void subscribe(std::string_view topic) override;
    void unsubscribe(std::string_view topic) override;
    void connect_events(std::string_view endpoint) override;

  private:
    struct Watched {
        zmq::socket_t sock;
        std::unique_ptr<boost::asio::posix::stream_descriptor> fd;
        Handler* handler;
    };
    void watch(Watched& w);
    void drain(Watched& w);
    // libzmq's descriptor is edge-triggered and a send can consume the edge: after sending, read again soon.
    void drain_soon();
    void open_events();

    boost::asio::io_context& io_;
    zmq::context_t& ctx_;
    std::string broker_endpoint_, events_endpoint_;
    CurveClientKeys keys_;
    Handler on_reply_, on_event_;
    std::unique_ptr<Watched> dealer_, sub_;
    std::map<std::string, int, std::less<>> subs_;  // topic -> how many asked for it
    bool drain_posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace chatbus::gateway
