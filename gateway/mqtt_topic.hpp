#pragma once
// Topic names, topic filters and how they match (MQTT 3.1.1, 4.7).
#include <cstddef>
#include <string_view>

#include "gateway/mqtt_packet.hpp"

namespace chatbus::mqtt {

// A name a PUBLISH (or a will) is sent to: 1..max_bytes bytes of MQTT UTF-8 with no wildcard
// [MQTT-4.7.1-1], [MQTT-4.7.3-1]. Empty levels ("a//b", "/a") are allowed.
bool valid_topic_name(std::string_view topic, std::size_t max_bytes = kMaxStringLength);

// A SUBSCRIBE/UNSUBSCRIBE filter: 1..max_bytes bytes of MQTT UTF-8 in which '+' fills a whole level
// [MQTT-4.7.1-3] and '#' is alone in the last level [MQTT-4.7.1-2].
bool valid_topic_filter(std::string_view filter, std::size_t max_bytes = kMaxStringLength);

// Whether a subscription to `filter` receives a message published to `topic` (4.7). '+' matches one level,
// empty ones included; '#' matches its parent level and any number of levels below ("a/#" matches "a").
// A topic starting with '$' is not matched by a filter starting with a wildcard [MQTT-4.7.2-1]. Expects a
// valid filter and topic; on other input the answer is meaningless but defined.
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace chatbus::mqtt
