// chatbus-worker: parse options (flags and/or --config FILE), tell systemd it is ready, run the Worker until
// SIGINT/SIGTERM. SIGHUP re-reads the options and applies log-level. All behaviour lives in worker.cpp.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/cli_checks.hpp"
#include "common/service_main.hpp"
#include "worker/worker.hpp"

namespace {

struct Options {
    chatbus::WorkerConfig cfg;
    bool check_config = false;
};

// deploy/worker.conf lists every option added here, commented out at its default.
void add_options(CLI::App& app, Options& o) {
    chatbus::WorkerConfig& cfg = o.cfg;
    app.set_config("--config", "", "INI or TOML file; every option can be a key in it");
    app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
    app.add_flag("--check-config", o.check_config,
                 "check the options and the config file, then exit (0: valid)");
    app.add_option("--broker", cfg.broker, "broker worker endpoint")
        ->capture_default_str()
        ->check(chatbus::endpoint_check());
    app.add_option("--id", cfg.id, "unique worker id (default HOSTNAME-PID)");
    app.add_option("--history", cfg.history, "events kept per room until the broker's WELCOME sets its own")
        ->capture_default_str();
    app.add_option("--max-batch", cfg.max_batch, "texts per SEND until the broker's WELCOME sets its own")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--curve-key", cfg.curve_key,
                   "this worker's CURVE key pair file (chatctl keygen); with --broker-key turns CURVE on");
    app.add_option("--broker-key", cfg.broker_key, "the broker's CURVE public key file (BROKER.pub)");
    app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn, error, critical, off")
        ->capture_default_str()
        ->check(chatbus::log_level_check());
}

}  // namespace

int main(int argc, char** argv) {
    return chatbus::service_main<Options>(
        argc, argv, "chatbus-worker", "chatbus worker: serves the rooms the broker routes to it", add_options,
        [](const Options& o) -> const std::string& { return o.cfg.log_level; },
        [](const Options& o) { return std::make_unique<chatbus::Worker>(o.cfg); },
        // The worker connects (it never binds), so it is ready as soon as its loop starts; it keeps retrying
        // until the broker answers.
        [](chatbus::Worker& w, const Options& o) { return "worker " + w.id() + " connecting to " + o.cfg.broker; });
}
