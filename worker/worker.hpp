#pragma once
// A chatbus worker: holds the rooms the broker hands it and answers forwarded requests, returning each
// request's events inside its W_REPLY. One thread, one poll loop, one DEALER (docs/protocol.md, "Worker
// channel").
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/curve.hpp"
#include "common/messages.hpp"
#include "worker/room_table.hpp"
#include "worker/worker_config.hpp"
#include "common/worker_messages.hpp"

namespace chatbus {

class Worker {
  public:
    // With `shared`, the worker's socket lives in that context (which must outlive the worker), so it can
    // reach a broker in the same process over inproc://; otherwise the worker makes its own.
    explicit Worker(WorkerConfig cfg, zmq::context_t* shared = nullptr);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Blocks until stopped (see stop()). Throws zmq::error_t at once when the broker endpoint is malformed;
    // never throws for anything read from the network.
    void run();
    // Safe from any thread and from a signal handler: one increment of a lock-free atomic, which the poll
    // loop checks at least every 100 ms. The first call starts draining: W_DISCONNECT "draining" is sent,
    // requests are still served, and run() returns when the broker answers W_DISCONNECT or the drain times
    // out (at once when no broker was ever reached). A second call makes run() return at once.
    void stop() noexcept { stop_requests_.fetch_add(1, std::memory_order_relaxed); }
    // stop() twice at once: run() returns within a poll tick without draining (nobody to drain to).
    void stop_now() noexcept { stop_requests_.fetch_add(2, std::memory_order_relaxed); }

    const std::string& id() const { return id_; }
    // For tests and logs; read from the run() thread only.
    const RoomTable& rooms() const { return table_; }

  private:
    enum class Phase {
        awaiting_welcome,  // READY sent, retried every heartbeat until WELCOME comes
        live,              // first HEARTBEAT sent: the broker may route rooms here
    };

    void connect();
    void send_ready();
    std::int64_t ready_interval(std::int64_t hb) const;
    void reconnect(std::string_view why);
    void check_stop(std::int64_t now);
    void send_goodbye();
    void close();

    // Each returns false when the DEALER was replaced or run() must end, so the caller stops reading.
    bool on_dealer_message(std::vector<zmq::message_t>& parts);
    bool on_welcome(const WWelcome& w);
    bool on_request(std::uint64_t bid, std::string_view frame);
    void on_state(std::string_view frame);
    void on_release(const WRelease& r);
    bool push_states();
    void on_timers(std::int64_t now);

    void drain_dealer();
    long poll_timeout_ms(std::int64_t now) const;
    bool send_to_broker(std::initializer_list<std::string_view> frames);
    bool send_waiting(const std::vector<std::string>& frames, std::size_t count);
    std::int64_t drain_timeout_ms() const;

    WorkerConfig cfg_;
    std::string id_, host_;
    std::atomic<unsigned> stop_requests_{0};
    static_assert(std::atomic<unsigned>::is_always_lock_free, "stop() must be async-signal-safe");

    std::unique_ptr<zmq::context_t> own_ctx_;
    zmq::context_t* ctx_;
    std::optional<zmq::socket_t> dealer_;
    CurveClientKeys curve_;  // read once at start: a bad key file is a configuration error
    std::int64_t curve_failing_since_ = 0, curve_warned_ = 0;  // READY could not be sent (CURVE on)
    RoomTable table_;

    Phase phase_ = Phase::awaiting_welcome;
    std::uint64_t heartbeat_ms_ = 1000, liveness_ = 3;
    std::int64_t last_heard_ = 0, last_sent_ = 0, ready_sent_ = 0;
    bool ready_ok_ = false;  // the last READY left the socket (a connection existed)
    // The boot of the last broker run that welcomed this worker; nullopt until a broker is reached.
    std::optional<std::string> boot_;

    bool draining_ = false;
    bool goodbye_sent_ = false;  // W_DISCONNECT "draining" left on the current connection
    bool done_ = false;          // run() returns
    std::int64_t drain_deadline_ = 0;

    // Reused per request so the hot path does not allocate for them: [W_REPLY][reply][event]...
    std::vector<Event> events_;
    std::vector<std::string> out_frames_;
    std::vector<zmq::message_t> parts_;

    std::uint64_t served_ = 0, events_sent_ = 0;
};

}  // namespace chatbus
