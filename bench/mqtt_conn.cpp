#include "bench/mqtt_conn.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace bench {

namespace {
// Bytes read per call at most, so that one busy connection cannot starve the others of a polling thread.
constexpr std::size_t kReadBudget = 256 * 1024;
constexpr std::size_t kChunk = 64 * 1024;
}  // namespace

MqttConn::~MqttConn() {
    close();
}

MqttConn::MqttConn(MqttConn&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      eof_(o.eof_),
      out_(std::move(o.out_)),
      in_(std::move(o.in_)),
      out_at_(std::exchange(o.out_at_, 0)) {}

MqttConn& MqttConn::operator=(MqttConn&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        eof_ = o.eof_;
        out_ = std::move(o.out_);
        in_ = std::move(o.in_);
        out_at_ = std::exchange(o.out_at_, 0);
    }
    return *this;
}

void MqttConn::open(int port) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("MQTT client socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // EINPROGRESS: the connection completes later; what is queued meanwhile is written once it is writable.
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) eof_ = true;
}

void MqttConn::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    eof_ = false;
    out_.clear();
    in_.clear();
    out_at_ = 0;
}

bool MqttConn::flush() {
    if (fd_ < 0 || eof_) return false;
    while (out_at_ < out_.size()) {
        ssize_t n = ::send(fd_, out_.data() + out_at_, out_.size() - out_at_, MSG_NOSIGNAL);
        if (n > 0) {
            out_at_ += static_cast<std::size_t>(n);
            continue;
        }
        // A connect still in progress reports EAGAIN too (or ENOTCONN on some kernels): try again when
        // writable.
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) break;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
    if (out_at_ == out_.size()) {
        out_.clear();
        out_at_ = 0;
    }
    return true;
}

bool MqttConn::fill() {
    if (fd_ < 0 || eof_) return false;
    // One buffer per thread: a connection holds only the bytes of a packet not yet whole.
    static thread_local char chunk[kChunk];
    std::size_t got = 0;
    while (got < kReadBudget) {
        ssize_t n = ::recv(fd_, chunk, kChunk, 0);
        if (n > 0) {
            in_.append(chunk, static_cast<std::size_t>(n));
            got += static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < kChunk) break;  // the socket is empty for now
            continue;
        }
        if (n == 0) {
            eof_ = true;  // what arrived before the end is still decoded
            break;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return false;
    }
    return true;
}

const chatbus::mqtt::DecodeLimits& MqttConn::limits() {
    static const chatbus::mqtt::DecodeLimits lim{};
    return lim;
}

chatbus::mqtt::Connect mqtt_connect(std::string client_id, std::string user, std::string password) {
    chatbus::mqtt::Connect c;
    c.client_id = std::move(client_id);
    c.keep_alive = 600;
    if (!user.empty()) c.username = std::move(user);
    if (!password.empty()) c.password = std::move(password);
    return c;
}

}  // namespace bench
