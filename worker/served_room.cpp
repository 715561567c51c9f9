#include "worker/served_room.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/names.hpp"

namespace chatbus {

ServedRoom::ServedRoom(std::string name, std::size_t history_limit)
    : name_(std::move(name)), history_limit_(history_limit) {}

bool ServedRoom::is_member(std::string_view nick) const {
    return members_.contains(fold_name(nick));
}

std::string ServedRoom::spelling(std::string_view nick) const {
    auto it = members_.find(fold_name(nick));
    return it == members_.end() ? std::string() : it->second;
}

bool ServedRoom::add_member(std::string_view nick) {
    return members_.emplace(fold_name(nick), nick).second;
}

bool ServedRoom::remove_member(std::string_view nick) {
    return members_.erase(fold_name(nick)) > 0;
}

std::vector<std::string> ServedRoom::members() const {
    std::vector<std::string> out;
    out.reserve(members_.size());
    for (const auto& [folded, spelled] : members_) {
        out.push_back(spelled);
    }
    return out;
}

const Event& ServedRoom::append(std::string_view kind, std::string_view nick, std::string_view text) {
    ++seq_;
    if (history_limit_ == 0) {
        // Nothing is kept, but the caller still needs the event to publish it.
        history_.clear();
        history_.push_back(
            Event{name_, seq_, std::string(kind), std::string(nick), std::string(text), wall_ms()});
        return history_.back();
    }
    while (history_.size() > history_limit_) {
        history_.pop_front();
    }
    if (history_.size() == history_limit_) {
        // Reuse the oldest event's buffers: no allocation per message once the ring is full.
        Event oldest = std::move(history_.front());
        history_.pop_front();
        oldest.seq = seq_;
        oldest.kind.assign(kind);
        oldest.nick.assign(nick);
        oldest.text.assign(text);
        oldest.ts = wall_ms();
        if (oldest.room != name_) oldest.room = name_;
        history_.push_back(std::move(oldest));
        return history_.back();
    }
    history_.push_back(
        Event{name_, seq_, std::string(kind), std::string(nick), std::string(text), wall_ms()});
    return history_.back();
}

std::vector<Event> ServedRoom::history(std::uint64_t last, std::uint64_t since) const {
    if (history_limit_ == 0) {
        return {};
    }
    auto first = std::partition_point(history_.begin(), history_.end(),
                                      [since](const Event& e) { return e.seq <= since; });
    auto count = static_cast<std::uint64_t>(history_.end() - first);
    if (last > 0 && last < count) {
        first = history_.end() - static_cast<std::ptrdiff_t>(last);
    }
    return {first, history_.end()};
}

void ServedRoom::restore(std::uint64_t seq, const std::vector<std::string>& members,
                   const std::vector<Event>& history) {
    members_.clear();
    for (const auto& nick : members) {
        // The broker sends registered spellings; refusing odd ones keeps a broker bug out, as join does.
        if (valid_nick(nick)) {
            members_.emplace(fold_name(nick), nick);
        }
    }
    seq_ = seq;
    history_.clear();
    if (history_limit_ == 0) {
        return;
    }
    std::uint64_t prev = 0;
    for (const Event& e : history) {
        // history() relies on increasing seqs, and a seq past `seq` would be reused by the next append.
        if (e.seq <= prev || e.seq > seq) {
            continue;
        }
        prev = e.seq;
        if (history_.size() == history_limit_) {
            history_.pop_front();
        }
        history_.push_back(e);
        history_.back().room = name_;
    }
}

}  // namespace chatbus
