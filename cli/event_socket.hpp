#pragma once
// The listener's SUB on the broker's events endpoint (docs/protocol.md, "Events"): one topic per followed
// room, and SYNC, the broker's word that the subscriptions made so far are active. Subscribing alone proves
// nothing: ZeroMQ sends subscriptions on its own time, and events published before one arrives are not
// delivered.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "cli/client.hpp"
#include "common/messages.hpp"

namespace chatbus::cli {

class EventSocket {
  public:
    // In `client`'s context, authenticating like it (same CURVE keys).
    explicit EventSocket(Client& client);

    // Connects to `endpoint`, or moves there from the one before, taking the subscriptions along.
    void connect(const std::string& endpoint);
    const std::string& endpoint() const { return endpoint_; }
    void follow(const std::string& room);
    void unfollow(const std::string& room);
    // For poll loops: readable means drain() has something.
    zmq::socket_t& socket() { return sub_; }

    enum class SyncResult { ok, timeout, stopped };
    // Waits, up to `timeout`, for the SYNC of a fresh nonce; `stop` set (with `wake_fd` made readable to
    // say so) ends it early. Room events read meanwhile go to `on_event` in the order they came.
    SyncResult sync(std::chrono::milliseconds timeout, int wake_fd, const std::atomic<bool>& stop,
                    const std::function<void(Event)>& on_event);
    // Reads up to `max_frames` waiting frames without blocking, each room event to `on_event` while it
    // returns true. Undecodable frames and late SYNCs are skipped.
    void drain(std::size_t max_frames, const std::function<bool(const Event&)>& on_event);

  private:
    std::optional<std::string> next_frame();

    zmq::socket_t sub_;
    std::string endpoint_;
};

}  // namespace chatbus::cli
