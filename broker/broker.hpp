#pragma once
// The broker: one poll loop over three sockets. Owns the nick registry and the copy of every room's state,
// answers what it can from them (registry, DMs, WHO, HISTORY, ROOMS, STATUS), hands room changes to the
// owning worker through RoomRouter, and publishes room events.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "broker/broker_config.hpp"
#include "broker/broker_stats.hpp"
#include "broker/client_table.hpp"
#include "common/codec.hpp"
#include "common/messages.hpp"
#include "broker/nick_registry.hpp"
#include "broker/registry_store.hpp"
#include "broker/room_mirror.hpp"
#include "broker/room_router.hpp"
#include "broker/zap_handler.hpp"

namespace chatbus {

struct BrokerEndpoints {
    std::string client, worker, events;
};

class Broker : RouterOutbox {
  public:
    // Loads the registry from cfg.state_dir when set; throws std::runtime_error if it cannot. With `shared`,
    // the sockets live in that context (which must outlive the broker), so workers on threads of the same
    // process can reach the worker endpoint over inproc:// (node/local_node.hpp).
    explicit Broker(BrokerConfig cfg, zmq::context_t* shared = nullptr);
    ~Broker() override;
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Binds every socket; throws zmq::error_t when an endpoint cannot be bound.
    void bind();
    // Binds one more endpoint for workers (an inproc:// one for workers in this process). After bind().
    void bind_worker_endpoint(const std::string& endpoint);
    // The endpoints actually bound (wildcard ports resolved). Valid after bind().
    const BrokerEndpoints& endpoints() const { return bound_; }
    // serve() then farewell().
    void run();
    // Serves until stop(): writes the ready file, then polls. Calls bind() first if needed.
    void serve();
    // Tells every worker the broker is going (W_DISCONNECT), so they reconnect to its successor.
    void farewell();
    // Thread- and signal-safe: serve() returns within one poll tick.
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

    // room_reads.cpp: WHO, HISTORY and ROOMS answered from the broker's copy of the rooms
    void on_who(const std::string& client, const Who& r, std::string_view raw);
    void on_history(const std::string& client, const History& r, std::string_view raw);
    void on_rooms(const std::string& client, const Rooms& r);
    // The room a WHO or HISTORY reads, folded into `folded`; nullptr when the request is answered already
    // (bad name, no such room) or waits for the room's worker (a restart's recovery window).
    template <class Req>
    const RoomCopy* room_to_read(const std::string& client, const Req& r, std::string_view raw,
                                 std::string& folded);

    // client_replies.cpp
    template <class Reply>
    void reply(const std::string& client, Reply rep, Status s = Status::ok, std::string_view detail = {});
    void reply_error(const std::string& client, MsgType request_type, std::uint64_t rid, Status s,
                     std::string_view detail = {});
    // The answer to a frame that cannot be served: its reply type and rid as far as they can be read.
    void reply_error_to(const std::string& client, std::string_view frame, Status s,
                        std::string_view detail = {});
    bool send_to_client(const std::string& client, std::string_view frame);

    // admission.cpp: the limits of docs/security.md checked before a request is served
    Status admit_client(const std::string& client, MsgType type, std::int64_t now);
    Status admit_acting(NickEntry& e, MsgType type, std::string_view room, std::int64_t now);

    // worker_channel.cpp: decoding what workers send, and the RouterOutbox the router sends through
    void on_worker_message(std::vector<zmq::message_t>& parts);
    void on_worker_reply(const std::string& worker, const Decoded& d, std::vector<zmq::message_t>& parts);
    void on_worker_state(const std::string& worker, const WState& s);
    void apply_event(const std::string& room, std::string_view topic, RoomCopy& rc, zmq::message_t& frame,
                     std::vector<std::pair<std::string, Membership>>& notices);
    bool forward(const std::string& worker, std::uint64_t bid, std::string_view request) override;
    void to_worker(const std::string& worker, std::string_view frame) override;
    void fail(const PendingRequest& p, Status s) override;

    // event_sync.cpp: sync marks for subscribers on the events socket
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
    std::unique_ptr<zmq::context_t> own_ctx_;  // when no context is shared
    zmq::context_t& ctx_;
    zmq::socket_t client_, worker_, xpub_;
    std::unique_ptr<ZapHandler> zap_;  // CURVE on: answers the handshakes of all three sockets
    bool caller_gateway_key_ = false;  // CURVE on: the client message being handled came with a gateway key
    BrokerEndpoints bound_;
    bool bound_ok_ = false;
    std::atomic<bool> stop_{false};

    BrokerStats stats_;
    NickRegistry registry_;
    std::unique_ptr<RegistryStore> store_;
    RoomMirror rooms_;
    RoomRouter router_;
    std::int64_t next_timer_ms_ = 0;

    ClientTable clients_;
    RateLimit nick_rate_;
    std::vector<zmq::message_t> parts_;  // reused per message to avoid allocations
    std::string scratch_;                // reused encode buffer
};

}  // namespace chatbus
