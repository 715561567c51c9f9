#include "common/json_forms.hpp"

namespace chatbus {

using nlohmann::ordered_json;

ordered_json event_json(const Event& e) {
    return ordered_json::object({{"type", "event"},
                                 {"room", e.room},
                                 {"seq", e.seq},
                                 {"kind", e.kind},
                                 {"nick", e.nick},
                                 {"text", e.text},
                                 {"ts", e.ts}});
}

ordered_json dm_json(const DmDeliver& d) {
    return ordered_json::object(
        {{"type", "dm"}, {"id", d.id}, {"from", d.from}, {"to", d.to}, {"text", d.text}, {"ts", d.ts}});
}

ordered_json membership_json(const Membership& m) {
    return ordered_json::object(
        {{"type", "membership"}, {"room", m.room}, {"joined", m.joined}, {"seq", m.seq}});
}

ordered_json join_reply_json(const JoinReply& r) {
    return ordered_json::object({{"room", r.room}, {"seq", r.seq}, {"joined", r.joined}});
}

ordered_json leave_reply_json(const LeaveReply& r) {
    return ordered_json::object({{"room", r.room}, {"seq", r.seq}});
}

ordered_json send_reply_json(const SendReply& r) {
    return ordered_json::object({{"room", r.room}, {"first_seq", r.first_seq}, {"last_seq", r.last_seq}});
}

ordered_json dm_reply_json(const DmReply& r) {
    return ordered_json::object({{"to", r.to}, {"id", r.id}, {"delivered", r.delivered}});
}

ordered_json who_reply_json(const WhoReply& r) {
    return ordered_json::object({{"room", r.room}, {"members", r.members}});
}

ordered_json room_info_json(const RoomInfo& r) {
    return ordered_json::object({{"room", r.room}, {"members", r.members}});
}

ordered_json rooms_json(const std::vector<RoomInfo>& rooms) {
    ordered_json list = ordered_json::array();
    for (const auto& r : rooms) list.push_back(room_info_json(r));
    return ordered_json::object({{"rooms", std::move(list)}});
}

ordered_json worker_info_json(const WorkerInfo& w) {
    return ordered_json::object({{"id", w.id},
                                 {"host", w.host},
                                 {"pid", w.pid},
                                 {"rooms", w.rooms},
                                 {"served", w.served},
                                 {"last_heartbeat_ms", w.last_heartbeat_ms}});
}

ordered_json status_reply_json(const StatusReply& r) {
    ordered_json workers = ordered_json::array();
    for (const auto& w : r.workers) workers.push_back(worker_info_json(w));
    // Objects even when empty ({} rather than null); std::map gives the keys in name order.
    ordered_json dropped = ordered_json::object(), refused = ordered_json::object();
    for (const auto& [cause, n] : r.dropped) dropped[cause] = n;
    for (const auto& [status, n] : r.refused) refused[status] = n;
    return ordered_json::object({{"nicks", r.nicks},
                                 {"rooms", r.rooms},
                                 {"listeners", r.listeners},
                                 {"inboxed", r.inboxed},
                                 {"requests", r.requests},
                                 {"retried", r.retried},
                                 {"moved", r.moved},
                                 {"boot", r.boot},
                                 {"uptime_ms", r.uptime_ms},
                                 {"workers", std::move(workers)},
                                 {"dropped", std::move(dropped)},
                                 {"refused", std::move(refused)}});
}

std::string json_text(const ordered_json& j) {
    return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace chatbus
