// WHO, HISTORY and ROOMS, answered from the broker's copy of the rooms: one hop instead of three through the
// room's worker. The copy holds every acknowledged event (a worker's reply and its events arrive together),
// so it answers as the worker would (docs/architecture.md, "Reads from the broker's copy").
#include "broker/broker.hpp"
#include "broker/client_replies.hpp"
#include "broker/history_page.hpp"
#include "common/names.hpp"
#include "common/requests.hpp"

namespace chatbus {

template <class Req>
const RoomCopy* Broker::room_to_read(const std::string& client, const Req& r, std::string_view raw,
                                     std::string& folded) {
    using Reply = reply_of_t<Req>;
    if (!valid_room(r.room)) {
        reply(client, Reply{r.rid}, Status::invalid_room);
        return nullptr;
    }
    folded = fold_name(r.room);
    const RoomCopy* copy = rooms_.find(folded);
    if (!copy && router_.recovering()) {
        // Just restarted: the room may still be handed back by its worker, which answers once it is.
        accept_room_request(client, r, raw);
        return nullptr;
    }
    if (!copy || copy->seq == 0) {
        reply(client, Reply{r.rid}, Status::no_such_room);
        return nullptr;
    }
    return copy;
}

void Broker::on_who(const std::string& client, const Who& r, std::string_view raw) {
    std::string folded;
    const RoomCopy* copy = room_to_read(client, r, raw, folded);
    if (!copy) return;
    WhoReply rep{r.rid, 0, {}, folded};
    rep.members.reserve(copy->members.size());
    for (const auto& [key, spelled] : copy->members) rep.members.push_back(spelled);
    reply(client, std::move(rep));
}

void Broker::on_history(const std::string& client, const History& r, std::string_view raw) {
    std::string folded;
    const RoomCopy* copy = room_to_read(client, r, raw, folded);
    if (!copy) return;
    scratch_.clear();
    encode_history_page(scratch_, r, folded, *copy);
    send_to_client(client, scratch_);
}

void Broker::on_rooms(const std::string& client, const Rooms& r) {
    // Paged, so that every reply fits the 1,024-element decode limit (docs/protocol.md, ROOMS).
    RoomsReply rep{r.rid};
    rep.rooms = rooms_.list(r.after, kRoomsPerPage, rep.more);
    reply(client, std::move(rep));
}

}  // namespace chatbus
