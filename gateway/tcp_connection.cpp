#include "gateway/tcp_connection.hpp"

#include <array>

#include <boost/asio/post.hpp>
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
    // Reads take only what is there and writes give the kernel what it takes at once: neither ever waits.
    sock_.non_blocking(true, ec);
}

TcpConnection::~TcpConnection() {
    if (!session_.closed()) session_.on_connection_lost();
}

void TcpConnection::start() { read(); }

void TcpConnection::read() {
    // The session copies what it has not decoded yet, so the buffer is free again once on_bytes returns.
    static thread_local std::array<std::uint8_t, 16384> buf;
    boost::system::error_code ec;
    std::size_t n = sock_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) return wait_readable();
    if (ec) return lost();
    session_.on_bytes(std::span<const std::uint8_t>(buf.data(), n));
    if (shut_ || session_.closed()) return;
    if (n < buf.size()) return wait_readable();  // the socket is empty: a new arrival wakes the wait
    // Possibly more: read it on a later turn, so that one busy client does not starve the others.
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
        if (!self->shut_ && !self->session_.closed()) self->read();
    });
}

void TcpConnection::wait_readable() {
    sock_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->lost();
        if (!self->shut_ && !self->session_.closed()) self->read();
    });
}

void TcpConnection::write(std::string_view bytes) {
    if (shut_) return;
    out_.append(bytes);
    queued_total_ += bytes.size();
    ends_.push_back(queued_total_);
    if (blocked_ || flush_posted_) return;
    flush_posted_ = true;
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
    });
}

void TcpConnection::flush() {
    if (shut_) return;
    if (!out_.empty()) {
        boost::system::error_code ec;
        std::size_t n = sock_.write_some(asio::buffer(out_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            n = 0;
            ec = {};
        }
        if (ec) return lost();
        out_.erase(0, n);
        written_total_ += n;
        while (ends_head_ < ends_.size() && ends_[ends_head_] <= written_total_) ++ends_head_;
        if (ends_head_ == ends_.size()) {
            ends_.clear();
            ends_head_ = 0;
        }
    }
    if (out_.empty()) {
        blocked_ = false;
        if (closing_) shut();
        return;
    }
    blocked_ = true;
    sock_.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
        if (self->shut_) return;
        if (ec) return self->lost();
        self->flush();
    });
}

void TcpConnection::close(bool flush_first) {
    if (closing_ || shut_) return;
    closing_ = true;
    if (!flush_first || out_.empty()) return shut();
    linger_.expires_after(kFlushTimeout);
    linger_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->shut();
    });
}

void TcpConnection::lost() {
    if (!session_.closed()) session_.on_connection_lost();
    shut();
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
