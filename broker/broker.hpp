#pragma once
// The broker: one poll loop over three sockets. Owns the nick registry and the copy of every room's state,
// routes room requests to the owning worker, DMs to listeners or inboxes, and publishes room events.
#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "broker_config.hpp"
#include "client_table.hpp"
#include "codec.hpp"
#include "local_workers.hpp"
#include "messages.hpp"
#include "nick_registry.hpp"
#include "pending_requests.hpp"
#include "registry_store.hpp"
#include "room_mirror.hpp"
#include "worker_pool.hpp"
#include "zap_handler.hpp"

namespace chatbus {

struct BrokerEndpoints {
    std::string client, worker, events;
};

class Broker {
  public:
    // Loads the registry from cfg.state_dir when set; throws std::runtime_error if it cannot.
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
    void accept_room_request(const std::string& client, const Req& r, std::string_view raw);
    void deliver_inbox(NickEntry& e);
    void expire_listeners(std::int64_t now);
    template <class Reply>
    void reply(const std::string& client, Reply rep, Status s = Status::ok, std::string_view detail = {});
    void reply_error(const std::string& client, MsgType request_type, std::uint64_t rid, Status s,
                     std::string_view detail = {});
    // The answer to a frame that cannot be served: its reply type and rid as far as they can be read.
    void reply_error_to(const std::string& client, std::string_view frame, Status s, std::string_view detail = {});
    bool send_to_client(const std::string& client, std::string_view frame);

    // admission.cpp: the limits of docs/security.md checked before a request is served
    Status admit_client(const std::string& client, MsgType type, std::int64_t now);
    Status admit_acting(NickEntry& e, MsgType type, std::string_view room, std::int64_t now);
    void count_refused(Status s);
    std::map<std::string, std::uint64_t> refused_counters() const;

    // room_routing.cpp: ownership, handover, parking and retries of room requests
    void dispatch(std::uint64_t bid);
    void hand_over(const std::string& room, RoomState& rs, const WorkerState& to);
    void release_parked(RoomState& rs);
    void fail_request(std::uint64_t bid, Status s);
    void expire_requests(std::int64_t now);
    void end_recovery(std::int64_t now);

    // worker_channel.cpp
    void on_worker_message(std::vector<zmq::message_t>& parts);
    void on_worker_ready(const std::string& routing_id, const WReady& r, std::int64_t now);
    void on_worker_reply(WorkerState& w, const Decoded& d, std::vector<zmq::message_t>& parts);
    void on_worker_state(WorkerState& w, const WState& s);
    void on_worker_disconnect(WorkerState& w);
    void apply_event(const std::string& room, std::string_view topic, RoomState& rs, zmq::message_t& frame,
                     std::vector<std::pair<std::string, Membership>>& notices);
    // By value: callers pass ids that live inside the worker entry this removes.
    void worker_gone(std::string routing_id);
    void finish_drain_if_idle(std::string routing_id);
    void send_to_worker(const std::string& routing_id, std::string_view frame);
    void check_workers(std::int64_t now);

    // event_relay.cpp
    void on_subscription();

    // broker_curve.cpp
    void setup_curve();

    // broker.cpp
    void poll_once();
    void on_timers(std::int64_t now);
    std::vector<StoredNick> live_registrations();

    BrokerConfig cfg_;
    std::string boot_;
    std::int64_t started_ms_ = 0;
    zmq::context_t ctx_;
    zmq::socket_t client_, worker_, xpub_;
    LocalWorkers local_;  // after ctx_ and the sockets: its workers' sockets close before the context ends
    std::unique_ptr<ZapHandler> zap_;  // CURVE on: answers the handshakes of all three sockets
    BrokerEndpoints bound_;
    bool bound_ok_ = false;
    std::atomic<bool> stop_{false};

    NickRegistry registry_;
    std::unique_ptr<RegistryStore> store_;
    RoomMirror rooms_;
    WorkerPool workers_;
    PendingRequests pending_;
    std::int64_t recovering_until_ms_ = 0;  // after a restart: rooms we have no copy of wait for workers
    std::vector<std::uint64_t> recovery_parked_;
    std::int64_t next_timer_ms_ = 0;
    std::int64_t last_heartbeat_ms_ = 0;

    std::uint64_t requests_ = 0, retried_ = 0, moved_ = 0;
    std::map<std::string, std::uint64_t> dropped_{
        {"malformed", 0}, {"worker_timeout", 0}, {"unroutable", 0}, {"seq_break", 0}, {"slow_subscriber", 0}};
    ClientTable clients_;
    RateLimit nick_rate_;
    std::array<std::uint64_t, 32> refused_{};  // by status code
    std::vector<zmq::message_t> parts_;        // reused per message to avoid allocations
    std::string scratch_;                      // reused encode buffer
};

}  // namespace chatbus
