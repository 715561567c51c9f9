#pragma once
// An event frame as subscribers get it (topic, header, msgpack map), written by hand: the same bytes as
// encode_with_topic(room_topic(e.room), e), at a fraction of msgpack::pack's cost on the worker's hot path.
#include <string>

#include "common/messages.hpp"

namespace chatbus {

// Replaces `out` with the frame of `e` (reusing its buffer).
void encode_event_frame(std::string& out, const Event& e);

}  // namespace chatbus
