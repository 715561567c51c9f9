// chatbus-worker: parse options, run the Worker until SIGINT/SIGTERM. All behaviour lives in worker.cpp.
#include <csignal>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "logging.hpp"
#include "worker.hpp"

namespace {

// The handler may only touch lock-free atomics; Worker::stop() is exactly one such store.
chatbus::Worker* g_worker = nullptr;

extern "C" void on_signal(int) {
    if (g_worker) {
        g_worker->stop();
    }
}

}  // namespace

int main(int argc, char** argv) {
    chatbus::WorkerConfig cfg;
    CLI::App app{"chatbus worker: serves the rooms the broker routes to it"};
    app.set_config("--config", "", "INI or TOML file; every option can be a key in it");
    app.add_option("--broker", cfg.broker, "broker worker endpoint")->capture_default_str();
    app.add_option("--id", cfg.id, "unique worker id (default HOSTNAME-PID)");
    app.add_option("--history", cfg.history, "events kept per room")->capture_default_str();
    app.add_option("--max-batch", cfg.max_batch, "texts per SEND until the broker's WELCOME sets its own")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn, error, critical, off")
        ->capture_default_str()
        ->check(
            [](const std::string& l) { return chatbus::valid_log_level(l) ? "" : "unknown log level " + l; });
    CLI11_PARSE(app, argc, argv);

    chatbus::setup_logging(cfg.log_level, "worker");
    chatbus::Worker worker(cfg);
    g_worker = &worker;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        worker.run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
    g_worker = nullptr;
    return 0;
}
