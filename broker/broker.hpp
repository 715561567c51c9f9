#pragma once
// The broker: one poll loop over four sockets. Owns the nick registry, routes room requests to the owning
// worker, routes DMs to listeners or inboxes, and relays room events from workers to subscribers.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "broker_config.hpp"
#include "codec.hpp"
#include "messages.hpp"
#include "nick_registry.hpp"
#include "pending_requests.hpp"
#include "room_directory.hpp"
#include "worker_pool.hpp"

namespace chatbus {

struct BrokerEndpoints {
    std::string client, worker, xsub, events;
};

class Broker {
  public:
    explicit Broker(BrokerConfig cfg);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Binds every socket; throws zmq::error_t when an endpoint cannot be bound.
    void bind();
    // The endpoints actually bound (wildcard ports resolved). Valid after bind().
    const BrokerEndpoints& endpoints() const { return bound_; }
    // Serves until stop(). Calls bind() first if needed.
    void run();
    // Thread- and signal-safe: run() returns within one poll tick.
    void stop() { stop_.store(true, std::memory_order_relaxed); }

  private:
    // client_requests.cpp
    void on_client_message(std::vector<zmq::message_t>& parts);
    void handle_request(const std::string& client, Decoded& d, std::string_view raw);
    void on_hello(const std::string& client, const Hello& r);
    void on_ping(const std::string& client, const Ping& r);
    void on_register(const std::string& client, const Register& r);
    void on_unregister(const std::string& client, const Unregister& r);
    void on_dm(const std::string& client, const Dm& r);
    void on_listen(const std::string& client, const Listen& r);
    void on_status(const std::string& client, const StatusRequest& r);
    void on_dm_ack(const std::string& client, const DmAck& a);
    void on_unlisten(const std::string& client, const Unlisten& u);
    template <class Req>
    void route_to_worker(const std::string& client, const Req& r, std::string_view raw,
                         const std::string& nick);
    void deliver_inbox(NickEntry& e);
    void expire_listeners(std::int64_t now);
    template <class Reply>
    void reply(const std::string& client, Reply rep, Status s = Status::ok, std::string_view detail = {});
    void reply_error(const std::string& client, MsgType request_type, std::uint64_t rid, Status s);
    bool send_to_client(const std::string& client, std::string_view frame);

    // worker_channel.cpp
    void on_worker_message(std::vector<zmq::message_t>& parts);
    void on_worker_reply(WorkerState& w, std::uint64_t bid, std::string_view reply);
    void note_membership(const PendingRequest& p, std::string_view reply);
    std::uint64_t forward(const WorkerState& w, PendingRequest p, std::string_view raw);
    void send_to_worker(const std::string& routing_id, std::string_view frame);
    void check_workers(std::int64_t now);
    void fail_pending(std::vector<PendingRequest> failed, Status s);

    // event_relay.cpp
    void relay_events();
    void on_subscription();

    // broker.cpp
    void poll_once();
    void on_timers(std::int64_t now);

    BrokerConfig cfg_;
    zmq::context_t ctx_;
    zmq::socket_t client_, worker_, xsub_, xpub_;
    BrokerEndpoints bound_;
    bool bound_ok_ = false;
    std::atomic<bool> stop_{false};

    NickRegistry registry_;
    RoomDirectory rooms_;
    WorkerPool workers_;
    PendingRequests pending_;
    std::int64_t next_timer_ms_ = 0;
    std::int64_t last_heartbeat_ms_ = 0;

    std::uint64_t requests_ = 0;
    std::map<std::string, std::uint64_t> dropped_{{"malformed", 0}, {"worker_timeout", 0}, {"unroutable", 0}};
    std::vector<zmq::message_t> parts_;  // reused per message to avoid allocations
    std::string scratch_;                // reused encode buffer
};

}  // namespace chatbus
