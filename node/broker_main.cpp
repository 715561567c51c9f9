// chatbus-broker: parse options (flags and/or --config FILE), bind, tell systemd it is ready, serve until
// SIGINT/SIGTERM. SIGHUP re-reads the options and applies log-level. All behaviour lives in BrokerNode
// (node/broker_node.hpp): the broker and its local workers.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "node/broker_node.hpp"
#include "common/cli_checks.hpp"
#include "common/service_main.hpp"

namespace {

struct Options {
    chatbus::BrokerConfig cfg;
    std::string log_level = "info";
    bool check_config = false;
};

void add_limit_options(CLI::App& app, chatbus::BrokerConfig& cfg) {
    app.add_option("--max-frame", cfg.max_frame,
                   "bytes per client frame (larger: too_large; over 4x this libzmq disconnects the client)")
        ->capture_default_str()
        ->check(CLI::Range(4096, 16 * 1024 * 1024));
    app.add_option("--client-rate", cfg.client_rate, "requests per second per client identity (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
    app.add_option("--client-burst", cfg.client_burst, "requests a client identity may send at once")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 1e9));
    app.add_option("--nick-rate", cfg.nick_rate, "acting requests per second per nick (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
    app.add_option("--nick-burst", cfg.nick_burst, "acting requests a nick may send at once")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 1e9));
    app.add_option("--max-clients", cfg.max_clients, "client identities tracked at once (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000000));
    app.add_option("--client-idle-ms", cfg.client_idle_ms, "a client identity silent this long is forgotten")
        ->capture_default_str()
        ->check(CLI::Range(1000, 86400000));
    app.add_option("--max-rooms-per-nick", cfg.max_rooms_per_nick, "rooms one nick may be in (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000000));
    app.add_option("--max-room-members", cfg.max_room_members, "members one room may have (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000000));
}

// deploy/broker.conf lists every option added here, commented out at its default.
void add_options(CLI::App& app, Options& o) {
    chatbus::BrokerConfig& cfg = o.cfg;
    app.set_config("--config", "", "read options from an INI/TOML file (keys are the long option names)");
    app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
    app.add_flag("--check-config", o.check_config,
                 "check the options and the config file, then exit (0: valid)");
    app.add_option("--client", cfg.client, "client endpoint (ROUTER)")
        ->capture_default_str()
        ->check(chatbus::endpoint_check(true));
    app.add_option("--worker", cfg.worker, "worker endpoint (ROUTER)")
        ->capture_default_str()
        ->check(chatbus::endpoint_check(true));
    app.add_option("--events", cfg.events, "endpoint subscribers read events from (XPUB)")
        ->capture_default_str()
        ->check(chatbus::endpoint_check(true));
    app.add_option("--events-advertise", cfg.events_advertise,
                   "events endpoint told to clients (default: bound)")
        ->check(chatbus::endpoint_check());
    app.add_option("--local-workers", cfg.local_workers,
                   "workers to run inside the broker over inproc:// (fewer hops; they die with the broker)")
        ->capture_default_str()
        ->check(CLI::Range(0, 64));
    app.add_option("--ready-file", cfg.ready_file,
                   "once serving, write the bound endpoints (client=, worker=, events=) to this file "
                   "(for port 0 or *)");
    app.add_option("--state-dir", cfg.state_dir,
                   "directory keeping registrations across restarts (default: none)");
    app.add_option("--fsync", cfg.fsync,
                   "when registry writes reach the disk: always, interval (1 s) or never")
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
    app.add_option("--history", cfg.history, "events kept per room (workers are told to keep as many)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--events-hwm", cfg.events_hwm,
                   "events queued per subscriber before it loses some (memory: see docs/security.md)")
        ->capture_default_str()
        ->check(CLI::Range(100, 1000000));
    add_limit_options(app, cfg);
    app.add_option("--curve-key", cfg.curve_key,
                   "the broker's CURVE key pair file (chatctl keygen); turns CURVE on (default: off)");
    app.add_option("--client-keys", cfg.client_keys,
                   "with --curve-key: directory of client *.pub files let in");
    app.add_option("--worker-keys", cfg.worker_keys,
                   "with --curve-key: directory of worker *.pub files let in");
    app.add_option("--gateway-keys", cfg.gateway_keys,
                   "with --curve-key: directory of gateway *.pub files let in as clients that may claim the "
                   "gateway role (default: none)");
    app.add_option("--bind-nicks-to-keys", cfg.bind_nicks_to_keys,
                   "with --curve-key: a nick can act only from the client key that registered it")
        ->capture_default_str();
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(chatbus::log_level_check());
}

}  // namespace

int main(int argc, char** argv) {
    return chatbus::service_main<Options>(
        argc, argv, "chatbus-broker", "chatbus-broker: nickname registry, request router and event relay",
        add_options, [](const Options& o) -> const std::string& { return o.log_level; },
        [](const Options& o) {
            auto node = std::make_unique<chatbus::BrokerNode>(o.cfg);
            node->bind();
            return node;
        },
        [](chatbus::BrokerNode& node, const Options&) {
            const auto& ep = node.endpoints();
            return "clients " + ep.client + ", workers " + ep.worker + ", events " + ep.events;
        });
}
