// chatbus-broker: parses options, then runs a Broker until SIGINT/SIGTERM.
#include <csignal>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "broker.hpp"
#include "logging.hpp"

namespace {
chatbus::Broker* g_broker = nullptr;
void on_signal(int) {
    if (g_broker) g_broker->stop();
}
}  // namespace

int main(int argc, char** argv) {
    chatbus::BrokerConfig cfg;
    std::string log_level = "info";
    CLI::App app{"chatbus-broker: nickname registry, request router and event relay"};
    app.set_config("--config", "", "read options from an INI/TOML file (keys are the long option names)");
    app.add_option("--client", cfg.client, "client endpoint (ROUTER)")->capture_default_str();
    app.add_option("--worker", cfg.worker, "worker endpoint (ROUTER)")->capture_default_str();
    app.add_option("--events", cfg.events, "endpoint subscribers read events from (XPUB)")
        ->capture_default_str();
    app.add_option("--events-advertise", cfg.events_advertise,
                   "events endpoint told to clients (default: bound)");
    app.add_option("--state-dir", cfg.state_dir, "directory keeping registrations across restarts (default: none)");
    app.add_option("--fsync", cfg.fsync, "when registry writes reach the disk: always, interval (1 s) or never")
        ->capture_default_str()
        ->check(CLI::IsMember({"always", "interval", "never"}));
    app.add_option("--heartbeat-ms", cfg.heartbeat_ms, "heartbeat interval")
        ->capture_default_str()
        ->check(CLI::Range(10, 600000));
    app.add_option("--liveness", cfg.liveness, "missed heartbeats before a peer is dead")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    app.add_option("--request-timeout-ms", cfg.request_timeout_ms, "how long a worker may take to answer")
        ->capture_default_str()
        ->check(CLI::Range(10, 600000));
    app.add_option("--inbox", cfg.inbox, "DMs kept per nick until a listener takes them")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    app.add_option("--max-text", cfg.max_text, "bytes per message text")
        ->capture_default_str()
        ->check(CLI::Range(1, 65536));
    app.add_option("--max-batch", cfg.max_batch, "texts per SEND request")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    if (!chatbus::setup_logging(log_level, "broker")) {
        std::fprintf(stderr, "chatbus-broker: unknown log level '%s'\n", log_level.c_str());
        return 2;
    }
    try {
        chatbus::Broker broker(cfg);
        broker.bind();
        g_broker = &broker;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        broker.run();
        g_broker = nullptr;
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
    return 0;
}
