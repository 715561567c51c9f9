#pragma once
// CLI11 validators shared by the daemons' option parsers (header-only: only main.cpp files use CLI11), so a
// bad value in a config file is reported by --check-config exactly as at start-up.
#include <string>

#include <CLI/CLI.hpp>

#include "logging.hpp"

namespace chatbus {

// tcp://HOST:PORT (PORT 1-65535 or * for any), ipc://PATH or inproc://NAME.
inline CLI::Validator endpoint_check() {
    return CLI::Validator(
        [](std::string& e) -> std::string {
            const std::string bad = "not an endpoint (tcp://HOST:PORT, ipc://PATH or inproc://NAME): " + e;
            if (e.rfind("ipc://", 0) == 0) return e.size() > 6 ? "" : bad;
            if (e.rfind("inproc://", 0) == 0) return e.size() > 9 ? "" : bad;
            if (e.rfind("tcp://", 0) != 0) return bad;
            const auto colon = e.rfind(':');
            if (colon <= 6 || colon + 1 >= e.size()) return bad;
            const std::string port = e.substr(colon + 1);
            if (port == "*") return "";
            if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad;
            const long n = std::stol(port);
            return n >= 1 && n <= 65535 ? "" : bad;
        },
        "ENDPOINT");
}

inline CLI::Validator log_level_check() {
    return CLI::Validator(
        [](std::string& l) -> std::string {
            return valid_log_level(l)
                       ? ""
                       : "unknown log level " + l + " (trace, debug, info, warn, error, critical, off)";
        },
        "LEVEL");
}

}  // namespace chatbus
