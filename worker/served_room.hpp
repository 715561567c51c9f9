#pragma once
// One room as its owning worker keeps it: members, the sequence counter and a bounded history.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/messages.hpp"

namespace chatbus {

class ServedRoom {
  public:
    // `name` is already folded; `history_limit` is how many events are kept (0 keeps none).
    ServedRoom(std::string name, std::size_t history_limit);

    const std::string& name() const { return name_; }
    std::uint64_t last_seq() const { return seq_; }
    std::size_t member_count() const { return members_.size(); }

    bool is_member(std::string_view nick) const;
    // The spelling the nick joined with, or empty when it is not a member.
    std::string spelling(std::string_view nick) const;
    // False when the nick (case-insensitively) is already a member.
    bool add_member(std::string_view nick);
    // False when the nick is not a member.
    bool remove_member(std::string_view nick);
    // As spelled at join, ordered by folded nick so replies are deterministic.
    std::vector<std::string> members() const;

    // Stamps the next seq and the wall clock, keeps the event in the history and returns it.
    const Event& append(std::string_view kind, std::string_view nick, std::string_view text);

    // Kept events with seq > since, then only the last `last` of them when last > 0; oldest first.
    std::vector<Event> history(std::uint64_t last, std::uint64_t since) const;

    // Replaces the whole state with one handed over by the broker (docs/protocol.md, "Ownership"): `seq` is
    // the last seq used, members are keyed by their folded spelling (the first of a case-insensitive
    // repeat wins; invalid nicks are skipped), and the history keeps the last `history_limit` events of
    // `history` that have increasing seqs no greater than `seq` (the room field is set to this room's name).
    void restore(std::uint64_t seq, const std::vector<std::string>& members,
                 const std::vector<Event>& history);

  private:
    std::string name_;
    std::size_t history_limit_;
    std::map<std::string, std::string, std::less<>> members_;  // folded nick -> spelling used
    std::uint64_t seq_ = 0;
    std::deque<Event> history_;  // increasing seqs (consecutive unless restored with gaps), oldest first
};

}  // namespace chatbus
