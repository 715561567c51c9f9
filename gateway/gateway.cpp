#include "gateway/gateway.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "common/ready_file.hpp"

namespace chatbus::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);

tcp::endpoint parse_listen(const std::string& hostport) {
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("listen address must be HOST:PORT: " + hostport);
    std::string host = hostport.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned long port = std::stoul(hostport.substr(colon + 1));
    if (port > 65535) throw std::runtime_error("port out of range: " + hostport);
    return tcp::endpoint(asio::ip::make_address(host == "*" ? "0.0.0.0" : host), static_cast<unsigned short>(port));
}

}  // namespace

Gateway::Gateway(GatewayConfig cfg)
    : cfg_(std::move(cfg)),
      link_(io_, zmq_, cfg_.broker, load_client_keys(cfg_.curve_key, cfg_.broker_key)),
      hub_(link_, HubOptions{cfg_.request_timeout_ms, cfg_.session_expiry_s * 1000}),
      acceptor_(io_),
      timer_(io_) {
    limits_.decode.max_packet = cfg_.max_packet;
    limits_.queue = cfg_.session_queue;
    limits_.packet_rate = cfg_.packet_rate;
}

Gateway::~Gateway() {
    for (auto& [p, c] : conns_) c->session().close(CloseReason::shutdown);
}

void Gateway::bind() {
    tcp::endpoint ep = parse_listen(cfg_.listen);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    spdlog::info("MQTT on {}, broker {}", listening(), cfg_.broker);
    if (!cfg_.ready_file.empty())
        hub_.on_first_up([this] { write_ready_file(cfg_.ready_file, {{"mqtt", listening()}}); });
}

std::string Gateway::listening() const {
    auto ep = acceptor_.local_endpoint();
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void Gateway::run() {
    link_.start([this](std::string_view f) { hub_.on_broker_frame(f); },
                [this](std::string_view f) { hub_.on_event_frame(f); });
    hub_.start(mono_ms());
    accept();
    on_timer();
    io_.run();
}

void Gateway::stop() {
    asio::post(io_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
        timer_.cancel();
        auto conns = conns_;
        for (auto& [p, c] : conns) c->session().close(CloseReason::shutdown);
        io_.stop();
    });
}

void Gateway::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket sock) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            if (conns_.size() >= cfg_.max_sessions) {
                spdlog::warn("{} connections already: refusing one", conns_.size());
            } else {
                auto c = std::make_shared<TcpConnection>(std::move(sock), hub_, ++next_id_, limits_,
                                                         [this](TcpConnection* gone) {
                    // Later: the connection may be in the middle of one of its own calls.
                    asio::post(io_, [this, gone] { conns_.erase(gone); });
                });
                conns_.emplace(c.get(), c);
                c->start();
            }
        }
        accept();
    });
}

void Gateway::on_timer() {
    std::int64_t now = mono_ms();
    hub_.tick(now);
    // Keep-alive is in seconds: a sweep every tenth tick is enough.
    if (++ticks_ % 10 == 0) {
        auto conns = conns_;
        for (auto& [p, c] : conns)
            if (c->session().keepalive_expired(now)) c->session().close(CloseReason::keepalive);
    }
    timer_.expires_after(kTick);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) on_timer();
    });
}

}  // namespace chatbus::gateway
