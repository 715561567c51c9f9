#pragma once
// The JSON the gateway adds to the common forms (common/json_forms.hpp, which events, DMs and reply payloads
// share with chatctl): the envelope of request replies and the messages on chatbus/error (docs/mqtt.md).
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/messages.hpp"
#include "common/status.hpp"

namespace chatbus::gateway {

// `status`, `code` and `error` of every reply; `error` defaults to the status's one-line message.
nlohmann::ordered_json reply_json(Status s, std::string_view error);
// The message on chatbus/error for a refused PUBLISH or SUBSCRIBE filter `topic`.
std::string error_json(std::string_view topic, std::uint16_t packet_id, Status s, std::string_view detail);
// A HISTORY page: {"room":R,"events":[event,...],"more":B}.
nlohmann::ordered_json history_page_json(const HistoryReply& r);

}  // namespace chatbus::gateway
