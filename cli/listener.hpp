#pragma once
// `listen` and `chat`: follows the nick's rooms live (SUB on the events endpoint) and its notifications
// (DEALER), printing each room event once and in order, filling gaps from HISTORY (docs/protocol.md,
// "LISTEN..." and "Events").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "client.hpp"
#include "messages.hpp"
#include "output.hpp"
#include "token_store.hpp"

namespace chatbus::cli {

struct ListenConfig {
    SavedNick me;
    std::optional<std::uint64_t> count;                 // exit 0 once this many events + DMs are printed
    std::optional<std::chrono::milliseconds> duration;  // exit 0 after this long
    std::optional<std::string> chat_room;               // chat mode: JOIN it first and post input lines to it
    int input_fd = -1;                                  // chat mode: where lines are read (EOF ends the chat)
};

class Listener {
  public:
    Listener(Client& client, Output& out, ListenConfig cfg);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Runs until --count/--for is reached, stop(), /quit or EOF (0), the broker detaches it (4) or stops
    // answering (5), or set-up fails (the request's exit code). Returns the exit code.
    int run();
    // Ends run() with exit code 0. Safe from any thread and from a signal handler.
    void stop() noexcept;

  private:
    enum class SyncResult { ok, timeout, stopped };

    int setup();
    void loop();
    void shutdown();

    SyncResult sync();
    void drain_sub(std::size_t max_frames);
    void handle_sub_frame(std::string_view frame);
    void handle_notification(std::string_view frame);
    void on_event(const Event& e);
    void on_membership(const Membership& m);
    void on_dm(const DmDeliver& d);
    // Prints the room's kept events with last printed < seq <= upto; with note_missing, says which of them
    // the room no longer keeps.
    void fill(const std::string& room, std::uint64_t since, std::uint64_t upto, bool note_missing);
    void print_event(const Event& e);
    void counted();
    void ping();
    void read_input();
    void handle_line(std::string line);
    void finish(int code);
    void fatal_unreachable(const std::string& message);

    Client& client_;
    Output& out_;
    ListenConfig cfg_;
    zmq::socket_t sub_;
    std::string events_endpoint_;
    std::chrono::milliseconds heartbeat_{1000};
    std::string chat_room_;  // folded name from the JOIN reply
    // Followed rooms and the last sequence number printed in each (none yet: the first event sets it).
    std::map<std::string, std::optional<std::uint64_t>> rooms_;
    std::deque<Event> pending_;  // events that arrived while waiting for a SYNC
    std::uint64_t last_dm_ = 0;
    std::uint64_t printed_ = 0;
    std::string input_buf_;
    bool attached_ = false;
    bool broker_lost_ = false;
    bool done_ = false;
    int exit_code_ = 0;
    std::atomic<bool> stop_requested_{false};
    int wake_[2] = {-1, -1};  // self-pipe: stop() makes the poll loop return at once
};

}  // namespace chatbus::cli
