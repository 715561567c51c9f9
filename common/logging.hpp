#pragma once
// spdlog set-up shared by the binaries: stderr, level by name.
#include <string>

namespace chatbus {

// Level names: trace, debug, info, warn, error, critical, off. Returns false for an unknown name.
bool setup_logging(const std::string& level, const std::string& process_name);
bool valid_log_level(const std::string& level);

}  // namespace chatbus
