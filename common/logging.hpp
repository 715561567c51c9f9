#pragma once
// spdlog set-up shared by the binaries: stderr, level by name. Under systemd (stderr is the journal) lines
// carry no timestamp and no colours, and start with a <N> syslog priority that journald turns into the
// entry's PRIORITY (so `journalctl -p warning` works); elsewhere they are timestamped and coloured.
#include <string>

namespace chatbus {

// Level names: trace, debug, info, warn, error, critical, off. Returns false for an unknown name.
bool setup_logging(const std::string& level, const std::string& process_name);
bool valid_log_level(const std::string& level);
// Changes the level of the running logger (SIGHUP reload). Returns false for an unknown name.
bool set_log_level(const std::string& level);

}  // namespace chatbus
