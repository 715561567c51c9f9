#include "room_directory.hpp"

namespace chatbus {

void RoomDirectory::add(const std::string& room, const std::string& folded_nick) {
    rooms_[room][folded_nick] = true;
}

void RoomDirectory::remove(const std::string& room, const std::string& folded_nick) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    it->second.erase(folded_nick);
    if (it->second.empty()) rooms_.erase(it);
}

std::vector<RoomInfo> RoomDirectory::list() const {
    std::vector<RoomInfo> out;
    out.reserve(rooms_.size());
    for (const auto& [room, members] : rooms_) out.push_back({room, members.size()});
    return out;
}

}  // namespace chatbus
