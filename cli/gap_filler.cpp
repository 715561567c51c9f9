#include "cli/gap_filler.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/event_kind.hpp"

namespace chatbus::cli {
namespace {

bool same_nick(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

std::string missed_line(const std::string& room, std::uint64_t from, std::uint64_t to,
                        const std::string& why) {
    return "[" + room + "] events #" + std::to_string(from) + "-#" + std::to_string(to) +
           " were missed and " + why;
}

}  // namespace

GapFiller::GapFiller(FillTarget& target, std::string nick) : target_(target), nick_(std::move(nick)) {}

FillResult GapFiller::deliver(FollowedRoom& room, const Event& e, bool hold) {
    if (room.printed) {
        const std::uint64_t last = *room.printed;
        if (e.seq <= last) return FillResult::ok;
        if (e.seq > last + 1) {
            if (hold) return FillResult::ok;
            if (fill(e.room, room, last, e.seq - 1, true) == FillResult::unreachable) {
                return FillResult::unreachable;
            }
            if (target_.done() || (room.printed && e.seq <= *room.printed)) return FillResult::ok;
        }
    }
    target_.print(e);
    return FillResult::ok;
}

FillResult GapFiller::fill(const std::string& room, FollowedRoom& state, std::uint64_t since,
                           std::uint64_t upto, bool note_missing) {
    std::vector<Event> events;
    const Outcome o = target_.history(room, since, events);
    if (o.transport == Transport::timeout) return FillResult::unreachable;
    if (o.status != Status::ok) {
        spdlog::warn("cannot fetch missed events of {} after #{}: {} ({})", room, since, o.error,
                     status_name(o.status));
    } else {
        for (const auto& ev : events) {
            if (target_.done()) return FillResult::ok;
            if (ev.seq > upto || (state.printed && ev.seq <= *state.printed)) continue;
            target_.print(ev);
        }
    }
    if (note_missing && upto != std::numeric_limits<std::uint64_t>::max() &&
        (!state.printed || *state.printed < upto)) {
        // Say so rather than pretend nothing happened: the room no longer keeps them (history is bounded), or
        // the broker could not tell.
        const std::uint64_t from = state.printed ? *state.printed + 1 : since + 1;
        const std::string why = o.status == Status::ok
                                    ? "are no longer kept"
                                    : "could not be fetched (" + std::string(status_name(o.status)) + ")";
        spdlog::warn("events #{}..#{} of {} {}", from, upto, room, why);
        target_.note(missed_line(room, from, upto, why));
        state.printed = upto;
    }
    return o.status == Status::ok ? FillResult::ok : FillResult::failed;
}

FillResult GapFiller::catch_up(const std::string& room, FollowedRoom& state) {
    const bool fresh = state.unanchored;
    std::optional<std::uint64_t> base = state.printed;
    if (!base && !fresh) base = state.floor;
    std::vector<Event> events;
    // From the event before the last one printed: that one must come back, or the room's numbering started
    // again (a broker restart that no worker handed the room back to).
    const std::uint64_t since = base && *base > 0 ? *base - 1 : 0;
    Outcome o = target_.history(room, since, events);
    if (o.transport == Transport::timeout) return FillResult::unreachable;
    if (target_.done()) return FillResult::ok;
    if (o.status == Status::no_such_room) return FillResult::gone;
    if (o.status != Status::ok) {
        // Kept as it is: the next event of the room, or the next catch-up, tries again.
        target_.notice("[" + room + "] could not fetch the events missed after #" +
                       std::to_string(base.value_or(0)) + ": " +
                       (o.error.empty() ? std::string(status_name(o.status)) : o.error));
        return FillResult::failed;
    }
    std::uint64_t after = 0;  // print the events with a higher seq
    if (fresh) {
        // A room the nick joined while no listener was attached: show it from that join on.
        auto own = std::find_if(events.rbegin(), events.rend(),
                                [&](const Event& e) { return e.kind == event_kind::join && same_nick(e.nick, nick_); });
        const std::uint64_t join_seq = own != events.rend() ? own->seq : 0;
        after = join_seq > 0 ? join_seq - 1 : (events.empty() ? 0 : events.back().seq);
        state.unanchored = false;
        target_.membership(Membership{.nick = nick_, .room = room, .joined = true, .seq = join_seq});
    } else if (!base) {
        // Nothing printed and no floor: only later events can be told apart from ones before set-up.
        after = events.empty() ? 0 : events.back().seq;
        spdlog::warn("cannot tell which events of {} were missed during the outage", room);
    } else if (*base > 0 && (events.empty() || events.back().seq < *base)) {
        target_.notice("[" + room +
                       "] starts again from #1: the restarted broker did not get its history back");
        std::vector<Event> all;
        o = target_.history(room, 0, all);
        if (o.transport == Transport::timeout) return FillResult::unreachable;
        events = o.ok() ? std::move(all) : std::vector<Event>{};
        after = 0;
    } else {
        after = *base;
        if (!events.empty() && events.front().seq > after + 1) {
            target_.note(missed_line(room, after + 1, events.front().seq - 1, "are no longer kept"));
        }
    }
    state.printed = after;
    for (const auto& ev : events) {
        if (target_.done()) break;
        if (ev.seq > after) target_.print(ev);
    }
    return FillResult::ok;
}

}  // namespace chatbus::cli
