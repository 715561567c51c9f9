#pragma once
// chatbus-gateway as a class tests start in-process: the MQTT listener, the broker link and the Hub, all on
// one Asio event loop (one thread), so no message crosses threads inside the gateway.
#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <zmq.hpp>

#include "gateway/broker_link.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/hub.hpp"
#include "gateway/tcp_connection.hpp"

namespace chatbus::gateway {

class Gateway {
  public:
    explicit Gateway(GatewayConfig cfg);
    ~Gateway();
    // Binds the MQTT listener (throws when it cannot) and writes the ready file.
    void bind();
    std::string listening() const;  // HOST:PORT actually bound
    // Serves until stop() (from any thread).
    void run();
    void stop();

  private:
    void accept();
    void on_timer();

    GatewayConfig cfg_;
    boost::asio::io_context io_;
    zmq::context_t zmq_{1};
    BrokerLink link_;
    Hub hub_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer timer_;
    SessionLimits limits_;
    std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> conns_;
    std::uint64_t next_id_ = 0, ticks_ = 0;
};

}  // namespace chatbus::gateway
