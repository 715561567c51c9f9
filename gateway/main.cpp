// chatbus-gateway: parse options (flags and/or --config FILE), bind the MQTT listener, tell systemd it is
// ready, serve until SIGINT/SIGTERM. SIGHUP re-reads the options and applies log-level. All behaviour lives
// in Gateway (gateway/gateway.hpp).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/cli_checks.hpp"
#include "common/logging.hpp"
#include "common/signal_watcher.hpp"
#include "common/systemd_notify.hpp"
#include "common/version.hpp"
#include "gateway/gateway.hpp"

namespace {

struct Options {
    chatbus::gateway::GatewayConfig cfg;
    std::string log_level = "info";
    bool check_config = false;
};

// deploy/gateway.conf lists every option added here, commented out at its default.
void add_options(CLI::App& app, Options& o) {
    auto& cfg = o.cfg;
    app.set_config("--config", "", "read options from an INI/TOML file (keys are the long option names)");
    app.allow_config_extras(CLI::config_extras_mode::error);
    app.add_flag("--check-config", o.check_config, "check the options and the config file, then exit (0: valid)");
    app.add_option("--listen", cfg.listen, "MQTT over TCP: HOST:PORT (port 0: any free port)")->capture_default_str();
    app.add_option("--broker", cfg.broker, "the broker's client endpoint")
        ->capture_default_str()
        ->check(chatbus::endpoint_check());
    app.add_option("--curve-key", cfg.curve_key, "the gateway's CURVE key pair file (chatctl keygen)");
    app.add_option("--broker-key", cfg.broker_key, "the broker's CURVE public key file (with --curve-key)");
    app.add_option("--ready-file", cfg.ready_file, "once listening and the broker answered, write mqtt=HOST:PORT to this file");
    app.add_option("--max-packet", cfg.max_packet, "bytes of an MQTT packet's remaining length (larger: closed)")
        ->capture_default_str()
        ->check(CLI::Range(1024, 16 * 1024 * 1024));
    app.add_option("--session-queue", cfg.session_queue,
                   "packets queued for one connection before it is closed as a slow consumer")
        ->capture_default_str()
        ->check(CLI::Range(10, 1000000));
    app.add_option("--packet-rate", cfg.packet_rate,
                   "packets a second one connection may send, in bursts of up to twice as many (more: closed)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000000));
    app.add_option("--max-sessions", cfg.max_sessions, "MQTT connections at once (more are closed at once)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000000));
    app.add_option("--session-expiry", cfg.session_expiry_s,
                   "seconds a persistent session (clean session 0) is kept after its connection ends")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400 * 30));
    app.add_option("--request-timeout-ms", cfg.request_timeout_ms, "how long the broker may take to answer")
        ->capture_default_str()
        ->check(CLI::Range(10, 600000));
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(chatbus::log_level_check());
}

}  // namespace

int main(int argc, char** argv) {
    // Before any thread exists, so ZeroMQ's threads never take SIGTERM/SIGHUP; SignalWatcher takes them.
    chatbus::SignalWatcher::block_signals();

    Options opt;
    CLI::App app{"chatbus-gateway: MQTT 3.1.1 connector for chatbus"};
    add_options(app, opt);
    app.set_version_flag("--version", chatbus::version_line("chatbus-gateway"));
    CLI11_PARSE(app, argc, argv);
    if (opt.check_config) {
        std::printf("chatbus-gateway: configuration is valid\n");
        return 0;
    }

    chatbus::setup_logging(opt.log_level, "gateway");
    try {
        chatbus::gateway::Gateway gw(opt.cfg);
        gw.bind();
        chatbus::SignalWatcher signals(
            [&gw] {
                chatbus::systemd::notify_stopping();
                gw.stop();
            },
            [argc, argv] {
                chatbus::reload_options<Options>(argc, argv, add_options,
                                                 [](const Options& o) -> const std::string& { return o.log_level; });
            });
        chatbus::systemd::notify_ready("MQTT on " + gw.listening() + ", broker " + opt.cfg.broker);
        gw.run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
    return 0;
}
