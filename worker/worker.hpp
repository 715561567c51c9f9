#pragma once
// A chatbus worker: owns the rooms the broker routes to it, answers forwarded requests and publishes the
// rooms' events. One thread, one poll loop (docs/protocol.md, "Worker channel").
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "messages.hpp"
#include "room_table.hpp"
#include "worker_config.hpp"
#include "worker_messages.hpp"

namespace chatbus {

class Worker {
  public:
    explicit Worker(WorkerConfig cfg);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Blocks until stop(); then tells the broker it is leaving and returns. Throws zmq::error_t at once when
    // the broker endpoint is malformed; never throws for anything read from the network.
    void run();
    // Safe from any thread and from a signal handler: it only sets a lock-free atomic flag, which the poll
    // loop checks at least every 100 ms.
    void stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

    const std::string& id() const { return id_; }
    // For tests and logs; read from the run() thread only.
    const RoomTable& rooms() const { return table_; }

  private:
    enum class Phase {
        awaiting_welcome,       // READY sent, retried every heartbeat until WELCOME comes
        awaiting_subscription,  // XPUB connected; the broker's XSUB subscription has not arrived yet
        live,                   // first HEARTBEAT sent: the broker may route rooms here
    };

    void connect();
    void send_ready();
    std::int64_t ready_interval(std::int64_t hb) const;
    void reconnect(std::string_view why);
    void say_goodbye();

    // Returns false when the DEALER was replaced, so the caller must stop reading the old one.
    bool on_dealer_message(std::vector<zmq::message_t>& parts);
    void on_welcome(const WWelcome& w);
    void on_request(std::uint64_t bid, std::string_view frame);
    void on_xpub_message(const zmq::message_t& m);
    void on_timers(std::int64_t now);

    void drain_dealer();
    void drain_xpub();
    long poll_timeout_ms(std::int64_t now) const;
    bool send_to_broker(std::initializer_list<std::string_view> frames);
    void publish(const Event& e);

    WorkerConfig cfg_;
    std::string id_, host_;
    std::atomic<bool> stop_{false};
    static_assert(std::atomic<bool>::is_always_lock_free, "stop() must be async-signal-safe");

    zmq::context_t ctx_{1};
    std::optional<zmq::socket_t> dealer_, xpub_;
    RoomTable table_;

    Phase phase_ = Phase::awaiting_welcome;
    std::uint64_t heartbeat_ms_ = 1000, liveness_ = 3;
    std::int64_t last_heard_ = 0, last_sent_ = 0, ready_sent_ = 0;
    bool ready_ok_ = false;  // the last READY left the socket (a connection existed)

    // Reused per request so the hot path does not allocate for them.
    std::vector<Event> events_;
    std::string event_frame_;
    std::vector<zmq::message_t> parts_;

    std::uint64_t served_ = 0, published_ = 0;
};

}  // namespace chatbus
