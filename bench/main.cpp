// chatbus-bench: chatbus and a raw-libzmq baseline of each workload, side by side in one run
// (docs/benchmarks.md). Prints one `BENCH key=value ...` line per measurement.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "bench/options.hpp"
#include "common/version.hpp"

namespace {

std::string machine() {
    std::string model = "unknown";
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    return fmt::format("nproc {}, CPU {}, kernel {} {}", std::thread::hardware_concurrency(), model,
                       u.sysname, u.release);
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options o;
    std::string workload = "all", markdown, log_level = "error", scale_child, raw_cli;
    std::string raw_server;
    const std::vector<std::pair<std::string, void (*)(const bench::Options&, bench::Report&)>> workloads{
        {"fanout", bench::run_fanout}, {"latency", bench::run_latency}, {"rr", bench::run_rr},
        {"dm", bench::run_dm},         {"scale", bench::run_scale},     {"cli", bench::run_cli},
        {"mqtt", bench::run_mqtt}};

    CLI::App app{"chatbus-bench: chatbus against raw libzmq, workload by workload"};
    app.add_option("--workload", workload, "fanout, latency, rr, dm, scale, cli, mqtt or all")
        ->capture_default_str()
        ->check(CLI::IsMember({"all", "fanout", "latency", "rr", "dm", "scale", "cli", "mqtt"}));
    app.add_option("--markdown", markdown, "also write a Markdown table (median of runs, min–max) to FILE");
    app.add_option("--broker", o.broker,
                   "use the broker at this client endpoint instead of starting one in-process (scale always "
                   "starts its own)");
    app.add_flag("--quick", o.quick, "tiny counts: checks correctness, the numbers mean nothing");
    app.add_option("--runs", o.runs, "repeat every measurement N times")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    app.add_option("--workers", o.workers, "in-process workers")
        ->capture_default_str()
        ->check(CLI::Range(1, 16));
    app.add_option("--link", o.link,
                   "how the workers reach the broker: tcp (worker threads over loopback TCP), local (the "
                   "broker's local-workers over inproc://) or both")
        ->capture_default_str()
        ->check(CLI::IsMember({"tcp", "local", "both"}));
    app.add_option(
           "--system", o.system,
           "chatbus, zmq-raw or both (one side alone is for profiling; for mqtt, zmq-raw means the peers)")
        ->capture_default_str()
        ->check(CLI::IsMember({"chatbus", "zmq-raw", "both"}));
    app.add_option("--log-level", log_level, "diagnostics on stderr: trace … off")->capture_default_str();
    app.add_option("--fanout-subs", o.only_subs, "fanout, mqtt: only this number of subscribers")
        ->group("Profiling");
    app.add_option("--fanout-size", o.only_size, "fanout: only this text size")->group("Profiling");
    app.add_option("--mqtt-row", o.only_mqtt_row, "mqtt: only this row")
        ->check(CLI::IsMember({"fanout", "latency", "idle"}))
        ->group("Profiling");
    app.add_option("--mqtt-credit", o.mqtt_credit,
                   "mqtt fanout: messages the publisher may be ahead of the slowest subscriber")
        ->capture_default_str()
        ->check(CLI::Range(1, 900))
        ->group("Profiling");
    app.add_option("--rr-request", o.only_request, "rr: only this request")
        ->check(CLI::IsMember({"WHO", "SEND"}))
        ->group("Profiling");
    // Modes this executable is started in by the workloads themselves.
    app.add_option("--scale-child", scale_child)->group("");
    app.add_option("--raw-scale-server", raw_server)->group("");
    app.add_option("--raw-cli-client", raw_cli)->group("");
    app.set_version_flag("--version", chatbus::version_line("chatbus-bench"));
    CLI11_PARSE(app, argc, argv);
    spdlog::set_default_logger(spdlog::stderr_color_mt("bench"));
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (!scale_child.empty()) return bench::scale_child_main(scale_child);
    if (!raw_server.empty()) return bench::raw_scale_server_main(raw_server);
    if (!raw_cli.empty()) return bench::raw_cli_client_main(raw_cli);

    const std::string where = machine();
    spdlog::info("{}", where);
    bench::Report rep;
    try {
        for (const auto& [name, fn] : workloads) {
            if (workload != "all" && workload != name) continue;
            spdlog::info("workload {}", name);
            fn(o, rep);
        }
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
    if (!markdown.empty())
        rep.write_markdown(markdown,
                           fmt::format("Machine: {}. Runs: {}{}. Peer: raw libzmq, unless the case names "
                                       "another (`vs …`).",
                                       where, o.runs, o.quick ? " (quick)" : ""));
    return rep.any_lost() ? 3 : 0;
}
