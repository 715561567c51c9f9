#include "gateway/broker_link.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "common/endpoint.hpp"

namespace chatbus::gateway {

namespace asio = boost::asio;

BrokerLink::BrokerLink(asio::io_context& io, zmq::context_t& ctx, std::string broker_endpoint, CurveClientKeys keys)
    : io_(io), ctx_(ctx), broker_endpoint_(std::move(broker_endpoint)), keys_(std::move(keys)) {}

BrokerLink::~BrokerLink() {
    *alive_ = false;
    // The descriptors belong to libzmq: release them so Asio does not close them.
    for (auto* w : {dealer_.get(), sub_.get()})
        if (w && w->fd) w->fd->release();
}

void BrokerLink::start(Handler on_reply, Handler on_event) {
    on_reply_ = std::move(on_reply);
    on_event_ = std::move(on_event);
    zmq::socket_t d(ctx_, zmq::socket_type::dealer);
    d.set(zmq::sockopt::linger, 0);
    // Without a connection a send fails at once (the caller answers `timeout`) instead of being queued and
    // played to a broker that comes back much later.
    d.set(zmq::sockopt::immediate, 1);
    d.set(zmq::sockopt::sndhwm, 100000);
    d.set(zmq::sockopt::rcvhwm, 100000);
    make_curve_client(d, keys_);
    d.connect(broker_endpoint_);
    dealer_ = std::make_unique<Watched>(Watched{std::move(d), nullptr, &on_reply_});
    watch(*dealer_);
}

void BrokerLink::connect_events(std::string_view advertised) {
    std::string endpoint = resolve_advertised(advertised, broker_endpoint_);
    if (endpoint == events_endpoint_ && sub_) return;
    events_endpoint_ = endpoint;
    open_events();
}

void BrokerLink::open_events() {
    if (sub_) {
        sub_->fd->cancel();
        sub_->fd->release();
        sub_.reset();
    }
    zmq::socket_t s(ctx_, zmq::socket_type::sub);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvhwm, 100000);
    make_curve_client(s, keys_);
    for (const auto& [topic, n] : subs_) s.set(zmq::sockopt::subscribe, topic);
    s.connect(events_endpoint_);
    spdlog::info("following room events at {}", events_endpoint_);
    sub_ = std::make_unique<Watched>(Watched{std::move(s), nullptr, &on_event_});
    watch(*sub_);
}

void BrokerLink::watch(Watched& w) {
    if (!w.fd) w.fd = std::make_unique<asio::posix::stream_descriptor>(io_, w.sock.get(zmq::sockopt::fd));
    w.fd->async_wait(asio::posix::stream_descriptor::wait_read,
                     [this, &w, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
                         if (ec || alive.expired()) return;
                         drain(w);
                         watch(w);
                     });
    // Frames may have arrived before the wait began; the edge that announced them is gone.
    drain_soon();
}

void BrokerLink::drain(Watched& w) {
    // Bounded per turn so that MQTT connections are served between bursts.
    for (int i = 0; i < 4096; ++i) {
        zmq::message_t m;
        if (!w.sock.recv(m, zmq::recv_flags::dontwait)) return;
        if (m.more()) {
            // No chatbus client frame is multipart: skip the rest of a broken message.
            while (m.more() && w.sock.recv(m, zmq::recv_flags::dontwait)) {
            }
            continue;
        }
        (*w.handler)(std::string_view(static_cast<const char*>(m.data()), m.size()));
    }
    drain_soon();
}

void BrokerLink::drain_soon() {
    if (drain_posted_) return;
    drain_posted_ = true;
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired()) return;
        drain_posted_ = false;
        if (dealer_) drain(*dealer_);
        if (sub_) drain(*sub_);
    });
}

bool BrokerLink::send(std::string_view frame) {
    if (!dealer_) return false;
    auto r = dealer_->sock.send(zmq::const_buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
    drain_soon();
    return r.has_value();
}

void BrokerLink::subscribe(std::string_view topic) {
    auto [it, fresh] = subs_.try_emplace(std::string(topic), 0);
    if (++it->second == 1 && sub_) sub_->sock.set(zmq::sockopt::subscribe, topic);
    if (sub_) drain_soon();
}

void BrokerLink::unsubscribe(std::string_view topic) {
    auto it = subs_.find(topic);
    if (it == subs_.end()) return;
    if (--it->second > 0) return;
    subs_.erase(it);
    if (sub_) {
        sub_->sock.set(zmq::sockopt::unsubscribe, topic);
        drain_soon();
    }
}

}  // namespace chatbus::gateway
