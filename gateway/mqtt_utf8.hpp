#pragma once
// MQTT's rule for its UTF-8 encoded strings (1.5.3).
#include <string_view>

namespace chatbus::mqtt {

// Well-formed UTF-8 (RFC 3629: no overlong forms, nothing past U+10FFFF, no surrogates U+D800..U+DFFF,
// [MQTT-1.5.3-1]) without U+0000 [MQTT-1.5.3-2]. Other control characters and U+FEFF are allowed: the
// spec only says SHOULD NOT for them, so rejecting them would refuse conforming clients.
bool valid_mqtt_utf8(std::string_view s);

}  // namespace chatbus::mqtt
