#pragma once
// `listen` and `chat`: follows the nick's rooms live (SUB on the events endpoint) and its notifications
// (DEALER), printing each room event once and in order, filling gaps from HISTORY (docs/protocol.md,
// "LISTEN..." and "Events").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "cli/client.hpp"
#include "cli/event_socket.hpp"
#include "cli/followed_room.hpp"
#include "cli/gap_filler.hpp"
#include "cli/line_reader.hpp"
#include "common/messages.hpp"
#include "cli/output.hpp"
#include "cli/token_store.hpp"

namespace chatbus::cli {

class ChatSession;

struct ListenConfig {
    SavedNick me;
    std::optional<std::uint64_t> count;                 // exit 0 once this many events + DMs are printed
    std::optional<std::chrono::milliseconds> duration;  // exit 0 after this long
    std::optional<std::string> chat_room;               // chat mode: JOIN it first and post input lines to it
    int input_fd = -1;                                  // chat mode: where lines are read (EOF ends the chat)
    // How long to keep trying once the broker stops answering after set-up (PING every heartbeat, each
    // bounded by the client's timeout) before giving up with exit 5. 0: give up at the first unanswered
    // request.
    std::chrono::milliseconds reconnect{0};
};

class Listener : private FillTarget {
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
    int setup();
    void loop();
    void shutdown();

    // Confirms the subscriptions; events that come meanwhile wait in pending_.
    EventSocket::SyncResult sync();
    void drain_sub(std::size_t max_frames);
    void handle_notification(std::string_view frame);
    void on_event(const Event& e);
    void on_membership(const Membership& m);
    void on_dm(const DmDeliver& d);
    // HISTORY from `first` on, all pages, each asked again (a heartbeat apart, a few times) while the broker
    // answers no_worker or timeout, as it does while a restarted broker waits for its workers to hand rooms
    // back. The events come with their room set.
    Outcome fetch_history(const History& first, std::vector<Event>& events);
    Outcome history_page(const History& req, HistoryReply& hr);
    // The gap filler's, with an unanswered HISTORY taken as the broker gone quiet (unreachable()). fill()
    // is for a room being joined or left: what it cannot show is not reported missing.
    FillResult fill(const std::string& room, FollowedRoom& state, std::uint64_t since, std::uint64_t upto);
    FillResult catch_up(const std::string& room);
    Outcome history(const std::string& room, std::uint64_t since, std::vector<Event>& events) override;
    void print(const Event& e) override { print_event(e); }
    bool done() const override { return done_; }
    void note(const std::string& text) override { out_.note(text); }
    void notice(const std::string& text) override;
    void membership(const Membership& m) override { out_.membership(m); }
    void print_event(const Event& e);
    // chat: the room's last kChatRecent events, on entering it.
    void show_recent(const std::string& room);
    // Every event read from the events socket, in the order it arrived: a jump in a room's seq means the
    // events in between were lost on the way (dropped at the broker's high-water mark, or during a
    // reconnect). Counted, shown and reported to the broker with the next PING (slow_subscriber).
    void note_received(const Event& e);
    void counted();
    void ping();
    // After an outage or a broker restart: HELLO and LISTEN again if `restarted`, confirm the subscriptions
    // and catch every room up. False if the broker stopped answering again (unreachable() was called).
    bool resume(bool restarted);
    // The broker did not answer: gives up (exit 5) if --reconnect is 0 or its window is over, else notes it
    // once and lets the heartbeat keep trying.
    void unreachable(const std::string& why);
    void recovered(bool restarted);
    // Waits `d` or until stop(); false if stopped.
    bool pause(std::chrono::milliseconds d);
    void read_input();
    void finish(int code);
    void fatal_unreachable(const std::string& message);

    Client& client_;
    Output& out_;
    ListenConfig cfg_;
    EventSocket events_;
    std::chrono::milliseconds heartbeat_{1000};
    std::string boot_;       // the broker run we are attached to (HELLO), empty if the broker does not say
    std::unique_ptr<ChatSession> chat_;  // chat mode: carries out the input lines
    std::map<std::string, FollowedRoom> rooms_;  // by folded name
    GapFiller gaps_{*this, cfg_.me.nick};
    std::deque<Event> pending_;  // events that arrived while waiting for a SYNC
    // Events lost on the events socket: in all, and not yet taken by the broker in a PING answered
    // `listening`.
    std::uint64_t missed_ = 0;
    std::uint64_t unreported_ = 0;
    std::uint64_t last_dm_ = 0;
    std::uint64_t printed_ = 0;
    std::optional<LineReader> input_;  // chat mode with an input fd
    bool attached_ = false;
    bool broker_lost_ = false;
    std::optional<std::int64_t> lost_since_;  // mono_ms() when the broker first failed to answer
    bool resync_needed_ = false;              // an outage may have lost events: catch up once it answers
    std::int64_t ping_due_ = 0;
    bool done_ = false;
    int exit_code_ = 0;
    std::atomic<bool> stop_requested_{false};
    int wake_[2] = {-1, -1};  // self-pipe: stop() makes the poll loop return at once
};

}  // namespace chatbus::cli
