#include "gateway/tcp_connection.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace chatbus::gateway {

namespace asio = boost::asio;

namespace {
// A closing connection whose client does not read what is left is cut after this.
constexpr auto kFlushTimeout = std::chrono::seconds(5);
}  // namespace

TcpConnection::TcpConnection(asio::ip::tcp::socket sock, Hub& hub, std::uint64_t id, const SessionLimits& lim,
                             Gone gone)
    : sock_(std::move(sock)), linger_(sock_.get_executor()), session_(hub, *this, id, lim), gone_(std::move(gone)) {
    boost::system::error_code ec;
    sock_.set_option(asio::ip::tcp::no_delay(true), ec);
}

TcpConnection::~TcpConnection() {
    if (!session_.closed()) session_.on_connection_lost();
}

void TcpConnection::start() { read(); }

void TcpConnection::read() {
    sock_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) {
            if (!self->session_.closed()) self->session_.on_connection_lost();
            return self->shut();
        }
        self->session_.on_bytes(std::span<const std::uint8_t>(self->buf_.data(), n));
        if (!self->shut_ && !self->session_.closed()) self->read();
    });
}

void TcpConnection::write(std::string_view bytes) {
    if (shut_) return;
    queued_.append(bytes);
    ++queued_packets_;
    if (writing_.empty()) flush();
}

void TcpConnection::flush() {
    if (queued_.empty() || shut_) {
        if (closing_ && writing_.empty()) shut();
        return;
    }
    writing_.swap(queued_);
    writing_packets_ = queued_packets_;
    queued_packets_ = 0;
    asio::async_write(sock_, asio::buffer(writing_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->writing_.clear();
        self->writing_packets_ = 0;
        if (ec) {
            if (!self->session_.closed()) self->session_.on_connection_lost();
            return self->shut();
        }
        self->flush();
    });
}

void TcpConnection::close(bool flush_first) {
    if (closing_ || shut_) return;
    closing_ = true;
    if (!flush_first || (writing_.empty() && queued_.empty())) return shut();
    linger_.expires_after(kFlushTimeout);
    linger_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->shut();
    });
}

void TcpConnection::shut() {
    if (shut_) return;
    shut_ = true;
    boost::system::error_code ec;
    linger_.cancel();
    sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    if (gone_) gone_(this);
}

}  // namespace chatbus::gateway
