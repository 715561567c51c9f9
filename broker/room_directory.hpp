#pragma once
// The broker's mirror of room membership, kept from the workers' JOIN/LEAVE replies: it answers ROOMS,
// tells a new listener which rooms to subscribe to, and lets UNREGISTER leave every room of a nick.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages.hpp"

namespace chatbus {

class RoomDirectory {
  public:
    void add(const std::string& room, const std::string& folded_nick);
    void remove(const std::string& room, const std::string& folded_nick);
    std::vector<RoomInfo> list() const;
    std::size_t size() const { return rooms_.size(); }
    template <class F>
    void for_each_room(F&& f) const {
        for (const auto& [room, members] : rooms_) f(room);
    }

  private:
    std::map<std::string, std::map<std::string, bool>> rooms_;  // only rooms with members
};

}  // namespace chatbus
