#pragma once
// One MQTT client's TCP connection: reads into its MqttSession and writes what the session queues. What the
// session queues during one turn of the event loop goes out in one write at the end of the turn; a packet
// counts as waiting (backlog(), which the slow-consumer bound is on) only once the kernel has refused to take
// it, so a client that pipelines many requests is not taken for one that does not read its answers.
#include <array>
#include <cstdint>
#include <deque>
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
    std::size_t backlog() const override { return blocked_ ? ends_.size() : 0; }
    void close(bool flush) override;

  private:
    void read();
    // Hands the kernel what it takes of `out_`; waits until the socket is writable for the rest.
    void flush();
    void lost();
    void shut();

    boost::asio::ip::tcp::socket sock_;
    boost::asio::steady_timer linger_;
    MqttSession session_;
    Gone gone_;
    std::array<std::uint8_t, 16384> buf_{};
    std::string out_;                 // bytes queued and not yet taken by the kernel
    std::deque<std::uint64_t> ends_;  // where each packet in out_ ends, counted in bytes ever queued
    std::uint64_t queued_total_ = 0, written_total_ = 0;
    bool flush_posted_ = false;  // a flush runs at the end of this turn
    bool blocked_ = false;       // the kernel took less than all: waiting for the socket to be writable
    bool closing_ = false, shut_ = false;
};

}  // namespace chatbus::gateway
