#pragma once
// One MQTT client's TCP connection: reads into its MqttSession, writes what the session queues, batching
// packets queued while a write is in flight into the next one. It waits for its socket to be readable and then
// reads into a buffer all connections of the thread share: an idle connection holds no read buffer (one of
// 16 KiB each is 160 MiB for 10k idle sessions).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/mqtt_session.hpp"
#include "gateway/session_writer.hpp"

namespace chatbus::gateway {

class TcpConnection : public SessionWriter, public std::enable_shared_from_this<TcpConnection> {
  public:
    using Gone = std::function<void(TcpConnection*)>;
    TcpConnection(boost::asio::ip::tcp::socket sock, Hub& hub, std::uint64_t id, const SessionLimits& lim, Gone gone);
    ~TcpConnection() override;

    void start();
    MqttSession& session() { return session_; }

    void write(std::string_view bytes) override;
    std::size_t backlog() const override { return queued_packets_ + writing_packets_; }
    void close(bool flush) override;

  private:
    void read();
    void wait_readable();
    void lost();
    void flush();
    void shut();

    boost::asio::ip::tcp::socket sock_;
    boost::asio::steady_timer linger_;
    MqttSession session_;
    Gone gone_;
    std::string queued_, writing_;
    std::size_t queued_packets_ = 0, writing_packets_ = 0;
    bool closing_ = false, shut_ = false;
};

}  // namespace chatbus::gateway
