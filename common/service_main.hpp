#pragma once
// The main() of every chatbus service (broker, worker, gateway): parse options (flags and/or --config FILE),
// --check-config, logging, then build and serve until SIGINT/SIGTERM, with SIGHUP re-reading the options and
// applying log-level, and systemd told READY and STOPPING. Each binary gives only what is its own.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/cli_checks.hpp"
#include "common/logging.hpp"
#include "common/signal_watcher.hpp"
#include "common/systemd_notify.hpp"
#include "common/version.hpp"

namespace chatbus {

// `Options` has `bool check_config` and a log level (`level_of`). `start(opt)` builds and binds the service
// (throwing when it cannot) and returns it; the service has run() (serves until stop()) and stop() (callable
// from another thread). `ready(service, opt)` is the status line systemd shows once it serves.
template <class Options, class AddOptions, class LevelOf, class Start, class Ready>
int service_main(int argc, char** argv, const char* binary, const char* description, AddOptions add_options,
                 LevelOf level_of, Start start, Ready ready) {
    // Before any thread exists, so ZeroMQ's threads never take SIGTERM/SIGHUP; SignalWatcher takes them.
    SignalWatcher::block_signals();

    Options opt;
    CLI::App app{description};
    add_options(app, opt);
    app.set_version_flag("--version", version_line(binary));
    CLI11_PARSE(app, argc, argv);
    if (opt.check_config) {
        std::printf("%s: configuration is valid\n", binary);
        return 0;
    }

    std::string process(binary);
    if (process.starts_with("chatbus-")) process.erase(0, 8);
    setup_logging(level_of(opt), process);
    try {
        auto service = start(opt);
        SignalWatcher signals(
            [&service] {
                systemd::notify_stopping();
                service->stop();
            },
            [argc, argv, add_options, level_of] {
                reload_options<Options>(argc, argv, add_options,
                                        [&](const Options& o) -> const std::string& { return level_of(o); });
            });
        systemd::notify_ready(ready(*service, opt));
        service->run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
    return 0;
}

}  // namespace chatbus
