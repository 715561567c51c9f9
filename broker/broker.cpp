#include "broker/broker.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "common/ready_file.hpp"
#include "common/socket_util.hpp"
#include "common/worker_messages.hpp"

namespace chatbus {

Broker::Broker(BrokerConfig cfg, zmq::context_t* shared)
    : cfg_(std::move(cfg)),
      boot_(new_token().substr(0, 16)),
      started_ms_(mono_ms()),
      own_ctx_(shared ? nullptr : std::make_unique<zmq::context_t>(1)),
      ctx_(shared ? *shared : *own_ctx_),
      client_(ctx_, zmq::socket_type::router),
      worker_(ctx_, zmq::socket_type::router),
      xpub_(ctx_, zmq::socket_type::xpub),
      registry_(cfg_.inbox),
      rooms_(cfg_.history),
      router_(rooms_, stats_, *this, RouterConfig{cfg_.heartbeat_ms, cfg_.liveness}),
      clients_(ClientLimits{{cfg_.client_rate, cfg_.client_burst}, cfg_.max_clients, cfg_.client_idle_ms}),
      nick_rate_{cfg_.nick_rate, cfg_.nick_burst} {
    for (auto* s : {&client_, &worker_, &xpub_}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::sndhwm, cfg_.hwm);
        s->set(zmq::sockopt::rcvhwm, cfg_.hwm);
    }
    // Bounds what one stalled subscriber costs; it loses events instead (and its listener reports them).
    xpub_.set(zmq::sockopt::sndhwm, cfg_.events_hwm);
    // A send to a departed peer must fail, not vanish.
    client_.set(zmq::sockopt::router_mandatory, 1);
    worker_.set(zmq::sockopt::router_mandatory, 1);
    // Far beyond any valid frame: a peer sending more is cut off by libzmq before we buffer it.
    client_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.max_frame * 4));
    worker_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.max_frame * 64));
    xpub_.set(zmq::sockopt::maxmsgsize, int64_t{4096});
    // Every listener reconnects at once after a broker restart; libzmq's default listen backlog (100) drops
    // their SYNs into the kernel's 1 s/3 s/7 s retries.
    client_.set(zmq::sockopt::backlog, 4096);
    xpub_.set(zmq::sockopt::backlog, 4096);
    setup_curve();

    if (!cfg_.state_dir.empty()) {
        store_ = std::make_unique<RegistryStore>(cfg_.state_dir, parse_fsync_policy(cfg_.fsync));
        for (const auto& s : store_->loaded()) registry_.restore(s.nick, s.hash, s.key);
        // A broker that ran before had rooms, now held only by its workers: give them time to hand them back.
        if (!store_->loaded().empty())
            router_.start_recovery(started_ms_ + cfg_.heartbeat_ms * cfg_.liveness);
    }
}

Broker::~Broker() = default;

void Broker::bind() {
    if (bound_ok_) return;
    client_.bind(cfg_.client);
    worker_.bind(cfg_.worker);
    std::string worker_bound = last_endpoint(worker_);
    xpub_.bind(cfg_.events);
    bound_ = {last_endpoint(client_), worker_bound, last_endpoint(xpub_)};
    bound_ok_ = true;
    spdlog::info("ready: client={} worker={} events={} boot={}", bound_.client, bound_.worker, bound_.events,
                 boot_);
}

void Broker::bind_worker_endpoint(const std::string& endpoint) {
    worker_.bind(endpoint);
}

void Broker::run() {
    serve();
    farewell();
}

void Broker::serve() {
    bind();
    if (!cfg_.ready_file.empty()) {
        write_ready_file(cfg_.ready_file, {{"client", bound_.client},
                                           {"worker", bound_.worker},
                                           {"events", bound_.events},
                                           {"pid", std::to_string(::getpid())},
                                           {"boot", boot_}});
    }
    next_timer_ms_ = mono_ms() + cfg_.heartbeat_ms;
    while (!stop_.load(std::memory_order_relaxed)) {
        try {
            poll_once();
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) spdlog::error("socket error: {}", e.what());
        } catch (const std::exception& e) {
            // A bug must not take the registry down with it: log and keep serving.
            spdlog::error("unexpected error in broker loop: {}", e.what());
        }
    }
    spdlog::info("stopped");
}

void Broker::farewell() {
    router_.stop();
}

void Broker::poll_once() {
    zmq::pollitem_t items[] = {
        {client_.handle(), 0, ZMQ_POLLIN, 0},
        {worker_.handle(), 0, ZMQ_POLLIN, 0},
        {xpub_.handle(), 0, ZMQ_POLLIN, 0},
        {zap_ ? zap_->socket().handle() : nullptr, 0, ZMQ_POLLIN, 0},
    };
    std::int64_t now = mono_ms();
    long wait = static_cast<long>(std::clamp<std::int64_t>(next_timer_ms_ - now, 0, 100));
    zmq::poll(items, zap_ ? 4 : 3, std::chrono::milliseconds(wait));
    // Handshakes first: a peer waiting for ZAP has nothing else queued yet.
    if (zap_ && (items[3].revents & ZMQ_POLLIN)) zap_->handle_pending();
    // Drain every readable socket before polling again: one poll per message costs twice as much.
    if (items[1].revents & ZMQ_POLLIN) {
        while (recv_multipart(worker_, parts_)) on_worker_message(parts_);
    }
    if (items[2].revents & ZMQ_POLLIN) on_subscription();
    if (items[0].revents & ZMQ_POLLIN) {
        while (recv_multipart(client_, parts_)) on_client_message(parts_);
    }
    now = mono_ms();
    if (now >= next_timer_ms_) {
        on_timers(now);
        next_timer_ms_ = now + std::max<std::int64_t>(cfg_.heartbeat_ms / 10, 10);
    }
}

void Broker::on_timers(std::int64_t now) {
    router_.tick(now);
    expire_listeners(now);
    if (store_) store_->tick(now, registry_.size(), [this] { return live_registrations(); });
}

std::vector<StoredNick> Broker::live_registrations() {
    std::vector<StoredNick> out;
    registry_.for_each([&](NickEntry& e) { out.push_back({e.display, e.token_hash, e.key}); });
    return out;
}

}  // namespace chatbus
