#include "gateway/subscriptions.hpp"

#include <algorithm>

namespace chatbus::gateway {

void Subscriptions::add(const std::string& filter, const FilterTarget& t, std::uint8_t qos) {
    filters_[filter] = Entry{t, qos};
}

void Subscriptions::remove(const std::string& filter) { filters_.erase(filter); }

std::optional<std::uint8_t> Subscriptions::room_qos(std::string_view room) const {
    using K = FilterTarget::Kind;
    std::optional<std::uint8_t> q;
    for (const auto& [filter, e] : filters_) {
        bool match = e.target.kind == K::all_rooms || e.target.kind == K::everything ||
                     (e.target.kind == K::room && e.target.room == room);
        if (match) q = std::max<std::uint8_t>(q.value_or(0), e.qos);
    }
    return q;
}

std::optional<std::uint8_t> Subscriptions::dm_qos() const {
    using K = FilterTarget::Kind;
    std::optional<std::uint8_t> q;
    for (const auto& [filter, e] : filters_)
        if (e.target.kind == K::own_dms || e.target.kind == K::everything)
            q = std::max<std::uint8_t>(q.value_or(0), e.qos);
    return q;
}

}  // namespace chatbus::gateway
