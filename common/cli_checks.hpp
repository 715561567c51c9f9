#pragma once
// CLI11 validators shared by the daemons' option parsers (header-only: only main.cpp files use CLI11), so a
// bad value in a config file is reported by --check-config exactly as at start-up.
#include <string>

#include <CLI/CLI.hpp>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "common/systemd_notify.hpp"

namespace chatbus {

// tcp://HOST:PORT (PORT 1-65535 or * for any, and 0 for any when binding), ipc://PATH or inproc://NAME.
// `bind`: an endpoint to bind, where port 0 (like `*`) lets the system choose one.
inline CLI::Validator endpoint_check(bool bind = false) {
    return CLI::Validator(
        [bind](std::string& e) -> std::string {
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
            return (n >= 1 || bind) && n <= 65535 ? "" : bad;
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

// SIGHUP: parse the same command line again (so the config file is re-read and flags still win over it) and
// apply what can change while running, the log level. A broken file changes nothing.
template <class Options, class AddOptions, class LevelOf>
void reload_options(int argc, char** argv, AddOptions add_options, LevelOf level_of) {
    systemd::notify_reloading();
    Options fresh;
    CLI::App app;
    add_options(app, fresh);
    std::string status;
    try {
        app.parse(argc, argv);
        const std::string& level = level_of(fresh);
        set_log_level(level);
        status = "configuration reloaded: log-level " + level + " (other options apply on restart)";
        spdlog::info("{}", status);
    } catch (const CLI::ParseError& e) {
        status = std::string("configuration not reloaded, keeping the running one: ") + e.what();
        spdlog::error("{}", status);
    }
    // `systemctl status` shows the outcome even when the log level hides it.
    systemd::notify_ready(status);
}

}  // namespace chatbus
