#pragma once
// One MQTT client's TCP connection: reads into its MqttSession and writes what the session queues. What the
// session queues during one turn of the event loop goes out in one write at the end of the turn; a packet
// counts as waiting (backlog(), which the slow-consumer bound is on) only once the kernel has refused to take
// it, so a client that pipelines many requests is not taken for one that does not read its answers.
// It waits for its socket to be readable and then reads into a buffer all connections of the thread share: an
// idle connection holds no read buffer (one of 16 KiB each is 160 MiB for 10k idle sessions).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
    std::size_t backlog() const override { return blocked_ ? ends_.size() - ends_head_ : 0; }
    void close(bool flush) override;

  private:
    void read();
    void wait_readable();
    // Hands the kernel what it takes of `out_`; waits until the socket is writable for the rest.
    void flush();
    void lost();
    void shut();

    boost::asio::ip::tcp::socket sock_;
    boost::asio::steady_timer linger_;
    MqttSession session_;
    Gone gone_;
    std::string out_;                 // bytes queued and not yet taken by the kernel
    // Where each packet in out_ ends, counted in bytes ever queued, from ends_head_ on (a vector: an empty
    // deque costs 576 bytes, on every idle connection).
    std::vector<std::uint64_t> ends_;
    std::size_t ends_head_ = 0;
    std::uint64_t queued_total_ = 0, written_total_ = 0;
    bool flush_posted_ = false;  // a flush runs at the end of this turn
    bool blocked_ = false;       // the kernel took less than all: waiting for the socket to be writable
    bool closing_ = false, shut_ = false;
};

}  // namespace chatbus::gateway
