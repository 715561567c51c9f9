#pragma once
// What one MQTT session follows (docs/mqtt.md, "Topics"), reduced to the three things chatbus delivers: named
// rooms, every room of the nick, and the nick's DMs. Each with the QoS granted.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/topic_scheme.hpp"

namespace chatbus::gateway {

class Subscriptions {
  public:
    // Records a granted filter, replacing an equal filter's QoS as MQTT-3.8.4-3 says.
    void add(const std::string& filter, const FilterTarget& t, std::uint8_t qos);
    void remove(const std::string& filter);
    // The QoS at which an event of `room` goes to this session, or nullopt (the maximum of the matching filters).
    std::optional<std::uint8_t> room_qos(std::string_view room) const;
    std::optional<std::uint8_t> dm_qos() const;
    bool empty() const { return filters_.empty(); }
    std::size_t size() const { return filters_.size(); }
    bool has(std::string_view filter) const { return filters_.find(filter) != filters_.end(); }
    // Rooms named by a filter (not by a wildcard): the ones SUBSCRIBE joined, to rejoin after a restore.
    template <class F>
    void for_each_room(F f) const {
        for (const auto& [filter, e] : filters_)
            if (e.target.kind == FilterTarget::Kind::room) f(e.target.room);
    }

  private:
    struct Entry {
        FilterTarget target;
        std::uint8_t qos;
    };
    std::map<std::string, Entry, std::less<>> filters_;
};

}  // namespace chatbus::gateway
