#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bench/report.hpp"

namespace bench {

struct Options {
    bool quick = false;  // tiny counts: correctness, not numbers
    int runs = 1;
    std::string broker;  // connect to this client endpoint instead of starting a broker in-process
    int workers = 2;     // in-process workers (the default deployment runs two)
    // How those workers reach the broker: "tcp" (separate chatbus::Worker threads over loopback TCP, as
    // separate processes would), "local" (the broker's local-workers, over inproc://) or "both".
    std::string link = "both";
    std::vector<std::string> links() const {
        if (link == "both") return {"tcp", "local"};
        return {link};
    }
    std::string system = "both";  // chatbus | zmq-raw | both: one side alone, for profiling
    int only_subs = 0;            // fanout: just this N (0: all), for profiling one case
    std::size_t only_size = 0;    // fanout: just this size (0: all)
    std::string only_request;     // rr: just WHO or SEND (empty: both)
    std::string only_mqtt_row;    // mqtt: just fanout, latency or idle (empty: all three)
    // mqtt fanout: messages the publisher may be ahead of the slowest subscriber (bench/mqtt.hpp, FanoutPlan)
    std::uint64_t mqtt_credit = 500;

    bool mqtt_row(const char* row) const { return only_mqtt_row.empty() || only_mqtt_row == row; }
    bool chatbus() const { return system != "zmq-raw"; }
    bool raw() const { return system != "chatbus"; }
};

// One file each; every one runs its chatbus measurements and the raw-libzmq baseline, and adds both.
void run_fanout(const Options& o, Report& rep);
void run_latency(const Options& o, Report& rep);
void run_rr(const Options& o, Report& rep);
void run_dm(const Options& o, Report& rep);
void run_scale(const Options& o, Report& rep);
void run_cli(const Options& o, Report& rep);
void run_mqtt(const Options& o, Report& rep);

// Hidden modes of this executable, started by the workloads as separate processes.
int scale_child_main(const std::string& plan_file);
// Binds ports of its own choosing and names them in `ready_file` (client=, events=).
int raw_scale_server_main(const std::string& ready_file);
int raw_cli_client_main(const std::string& endpoint);

}  // namespace bench
