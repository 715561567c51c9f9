// The limits a request must pass before the broker serves it (docs/security.md, "Limits"). Each check is
// a hash lookup or two and a token bucket: nothing here allocates on the room-message path.
#include "broker/broker.hpp"
#include "common/names.hpp"

namespace chatbus {

Status Broker::admit_client(const std::string& client, MsgType type, std::int64_t now) {
    // Notifications are answered never, so they cannot be refused with a status; they cost a lookup and
    // are taken only from a nick's own listener, so they are not charged against the rate.
    Status s = clients_.admit(client, now, !is_client_notification(type));
    if (s != Status::ok) stats_.count_refused(s);
    return s;
}

Status Broker::admit_acting(NickEntry& e, MsgType type, std::string_view room, std::int64_t now) {
    Status s = Status::ok;
    if (!e.rate.take(nick_rate_, now)) {
        s = Status::rate_limited;
    } else if (type == MsgType::join) {
        std::string folded = fold_name(room);
        // A member joining again is a no-op the worker answers with joined=false: never refused.
        if (!e.rooms.contains(folded)) {
            const RoomCopy* rs = rooms_.find(folded);
            if (cfg_.max_rooms_per_nick > 0 && e.rooms.size() >= cfg_.max_rooms_per_nick) {
                s = Status::too_many_rooms;
            } else if (cfg_.max_room_members > 0 && rs && rs->members.size() >= cfg_.max_room_members) {
                s = Status::room_full;
            }
        }
    }
    if (s != Status::ok) stats_.count_refused(s);
    return s;
}

}  // namespace chatbus
