#pragma once
// Keeps a followed room's events whole and in order: a live event after a jump in seq waits until the events
// in between are fetched from HISTORY, and after an outage each room is caught up from the last event
// printed. It reaches the broker and the output only through a FillTarget, so its decisions are unit-tested
// without sockets.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/followed_room.hpp"
#include "common/messages.hpp"

namespace chatbus::cli {

// ok: done (or nothing to do); failed: the broker refused, and what is missing stays missing for now;
// unreachable: the broker did not answer; gone: the room no longer exists (catch_up only).
enum class FillResult { ok, failed, unreachable, gone };

// What the gap filler needs from its listener.
class FillTarget {
  public:
    virtual ~FillTarget() = default;
    // Every kept event of `room` after seq `since`, oldest first, each with its room set (HISTORY, all
    // pages).
    virtual Outcome history(const std::string& room, std::uint64_t since, std::vector<Event>& events) = 0;
    // Shows `e` and makes it its room's last printed event.
    virtual void print(const Event& e) = 0;
    // True once nothing more is to be printed (--count reached, or the listener is ending).
    virtual bool done() const = 0;
    // A line for the reader among the events: which ones were missed.
    virtual void note(const std::string& text) = 0;
    // A status line of the listener's own: what it could not do, or did on its own.
    virtual void notice(const std::string& text) = 0;
    virtual void membership(const Membership& m) = 0;
};

class GapFiller {
  public:
    // `nick`: the listening nick, whose join starts a room it joined while no listener was attached.
    GapFiller(FillTarget& target, std::string nick);

    // A live event of its room: a repeat is dropped; events missing before it are fetched and printed first,
    // unless `hold` (an outage's catch-up will fetch them, and this one). Returns unreachable if the fetch
    // was not answered.
    FillResult deliver(FollowedRoom& room, const Event& e, bool hold);
    // Prints the kept events of `room` after `since`, up to `upto`, that are not printed yet. With
    // `note_missing`, says which of them could not be shown and counts them as printed.
    FillResult fill(const std::string& room, FollowedRoom& state, std::uint64_t since, std::uint64_t upto,
                    bool note_missing);
    // After an outage or a broker restart: prints what `room` got since its last event printed.
    FillResult catch_up(const std::string& room, FollowedRoom& state);

  private:
    FillTarget& target_;
    std::string nick_;
};

}  // namespace chatbus::cli
