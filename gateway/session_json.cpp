#include "gateway/session_json.hpp"

#include "common/json_forms.hpp"

namespace chatbus::gateway {

using nlohmann::ordered_json;

ordered_json reply_json(Status s, std::string_view error) {
    std::string msg(s == Status::ok ? std::string_view() : (error.empty() ? status_message(s) : error));
    return ordered_json{{"status", status_name(s)}, {"code", static_cast<unsigned>(s)}, {"error", msg}};
}

std::string error_json(std::string_view topic, std::uint16_t packet_id, Status s, std::string_view detail) {
    ordered_json j{{"topic", topic}, {"packet_id", packet_id}};
    j.update(reply_json(s, detail));
    return json_text(j);
}

ordered_json history_page_json(const HistoryReply& r) {
    ordered_json events = ordered_json::array();
    for (const auto& e : r.events) events.push_back(event_json(e));
    return ordered_json{{"room", r.room}, {"events", std::move(events)}, {"more", r.more}};
}

}  // namespace chatbus::gateway
